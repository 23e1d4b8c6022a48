"""Determinism: the same replay in two processes gives byte-identical output files (DESIGN §4)."""

from __future__ import annotations

import os
import subprocess
import sys

import pyarrow.parquet as pq
import pytest

ARBKIT = [sys.executable, "-c", "from arbkit.cli import main; main()"]


@pytest.mark.e2e
def test_replays_in_processes_with_different_hash_seeds_write_byte_identical_files(
    generated, tmp_path
):
    # Arrange: seeded latency jitter on, so the runs also draw random numbers.
    config = tmp_path / "arbkit.toml"
    config.write_text(
        generated.config_path.read_text()
        + "\n[latency]\nseed = 11\nkalshi_ms = 20\npolymarket_ms = 60\njitter_ms = 40\n"
    )
    runs = {seed: tmp_path / f"run-hashseed-{seed}" for seed in ("1", "4242")}

    # Act: both processes at once, each with its own PYTHONHASHSEED.
    procs = [
        subprocess.Popen(
            [*ARBKIT, "replay", "--from", str(generated.root), "--config", str(config),
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
