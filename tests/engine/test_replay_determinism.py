"""Determinism: the same replay in two processes gives byte-identical output files (DESIGN §4)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from arbkit.sandbox.workloads import generate_workload

ARBKIT = [sys.executable, "-c", "from arbkit.cli import main; main()"]


@pytest.fixture(scope="module")
def near_parity(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A small near-parity recording: many windows open at once, fees deciding most frames."""
    root = tmp_path_factory.mktemp("near-parity")
    return root, generate_workload(root, "near-parity", frames=4_000, seed=5)


@pytest.mark.e2e
@pytest.mark.parametrize("which", ["sandbox", "near-parity"])
def test_replays_in_processes_with_different_hash_seeds_write_byte_identical_files(
    which, request, tmp_path
):
    # Arrange: seeded latency jitter on, so the runs also draw random numbers.
    if which == "sandbox":
        generated = request.getfixturevalue("generated")
        root, config_path = generated.root, generated.config_path
    else:
        root, config_path = request.getfixturevalue("near_parity")
    config = tmp_path / "arbkit.toml"
    config.write_text(
        config_path.read_text()
        + "\n[latency]\nseed = 11\nkalshi_ms = 20\npolymarket_ms = 60\njitter_ms = 40\n"
    )
    runs = {seed: tmp_path / f"run-hashseed-{seed}" for seed in ("1", "4242")}

    # Act: both processes at once, each with its own PYTHONHASHSEED.
    procs = [
        subprocess.Popen(
            [*ARBKIT, "replay", "--from", str(root), "--config", str(config),
             "--out", str(out)],
            env={**os.environ, "PYTHONHASHSEED": seed},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        for seed, out in runs.items()
    ]
    errors = [p.communicate(timeout=120)[1].decode() for p in procs]

    # Assert
    assert [p.returncode for p in procs] == [0, 0], errors
    first, second = runs.values()
    names = sorted(p.name for p in first.iterdir())
    assert names == sorted(p.name for p in second.iterdir())
    assert {"run.json", "opportunities.parquet", "orders.parquet", "fills.parquet"} <= set(names)
    different = [n for n in names if (first / n).read_bytes() != (second / n).read_bytes()]
    assert different == []
    arrivals = pq.read_table(first / "orders.parquet").to_pylist()
    assert len({o["arrival_ns"] - o["submit_ns"] for o in arrivals}) > 2, "jitter was drawn"
