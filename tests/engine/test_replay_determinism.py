"""Determinism: the same replay in two processes gives byte-identical output files (DESIGN §4)."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

ARBKIT = [sys.executable, "-c", "from arbkit.cli import main; main()"]


@pytest.mark.e2e
def test_replays_in_processes_with_different_hash_seeds_write_byte_identical_files(
    generated, tmp_path
):
    # Arrange
    runs = {seed: tmp_path / f"run-hashseed-{seed}" for seed in ("1", "4242")}

    # Act: both processes at once, each with its own PYTHONHASHSEED.
    procs = [
        subprocess.Popen(
            [*ARBKIT, "replay", "--from", str(generated.root), "--config",
             str(generated.config_path), "--out", str(out)],
            env={**os.environ, "PYTHONHASHSEED": seed},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        for seed, out in runs.items()
    ]
    results = [(p.wait(timeout=120), p.stderr.read().decode()) for p in procs]  # type: ignore[union-attr]
    for p in procs:
        p.stdout.close()  # type: ignore[union-attr]
        p.stderr.close()  # type: ignore[union-attr]

    # Assert
    assert results == [(0, ""), (0, "")]
    first, second = runs.values()
    names = sorted(p.name for p in first.iterdir())
    assert "run.json" in names and "opportunities.parquet" in names
    assert names == sorted(p.name for p in second.iterdir())
    different = [n for n in names if (first / n).read_bytes() != (second / n).read_bytes()]
    assert different == []
    # The session fixture replayed the same recording through the library in this process.
    tables = sorted(p.name for p in generated.run_dir.glob("*.parquet"))
    assert [(first / n).read_bytes() == (generated.run_dir / n).read_bytes() for n in tables] == [
        True
    ] * len(tables)

