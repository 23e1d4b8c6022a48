"""`arbkit sweep --ray local` gives the process pool's rows (a local Ray of 2 CPUs, 6 tasks)."""

from __future__ import annotations

import subprocess
import sys

import pyarrow.parquet as pq
import pytest

pytestmark = pytest.mark.slow

GRID = "detector.min_edge = [0.005, 0.02, 0.05]\n"


def _sweep(*args: str) -> subprocess.CompletedProcess:
    # A process of its own: Ray's start-up and shutdown leave nothing in the test process.
    return subprocess.run(
        [sys.executable, "-c", "from arbkit.cli import main; main()", "sweep", *args],
        capture_output=True, text=True, timeout=280,
    )


def test_ray_local_and_the_pool_give_identical_rows(tmp_path, two_sessions):
    grid = tmp_path / "grid.toml"
    grid.write_text(GRID)
    common = ["--from", str(two_sessions.root), "--config", str(two_sessions.config_path), "--grid", str(grid)]
    rows = {}
    for name, how in (("pool", ["--workers", "2"]), ("ray", ["--ray", "local"])):
        done = _sweep(*common, "--out", str(tmp_path / name), *how)
        assert done.returncode == 0, done.stderr
        assert "6 tasks: 6 ran, 0 already done, 0 failed" in done.stdout
        table = pq.read_table(tmp_path / name / "sweep.parquet").drop_columns(["run_s"])
        rows[name] = sorted(table.to_pylist(), key=lambda r: r["task_id"])
    assert rows["ray"] == rows["pool"]
    assert len(rows["ray"]) == 6 and all(r["status"] == "done" for r in rows["ray"])


def test_ray_and_workers_together_are_one_line_error(tmp_path, two_sessions):
    grid = tmp_path / "grid.toml"
    grid.write_text(GRID)
    done = _sweep("--from", str(two_sessions.root), "--config", str(two_sessions.config_path), "--grid", str(grid),
                  "--out", str(tmp_path / "x"), "--workers", "2", "--ray", "local")
    assert done.returncode == 2
    assert done.stderr == "Error: give --workers (local pool) or --ray, not both\n"
