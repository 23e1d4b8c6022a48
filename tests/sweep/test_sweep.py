"""`arbkit sweep` on the local process pool: rows, byte-identical runs, resume, failures."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from arbkit.cli import cli
from arbkit.config import load_config
from arbkit.errors import ConfigError
from arbkit.runner.replay import replay
from arbkit.sweep.grid import apply_point, parse_grid

GRID = "detector.min_edge = [0.005, 0.02, 0.05]\nlatency.kalshi_ms = [0, 250]\n"


def _sweep(*args: str) -> subprocess.CompletedProcess | object:
    return CliRunner().invoke(cli, ["sweep", *args])


def _grid(tmp_path: Path, text: str = GRID) -> Path:
    path = tmp_path / "grid.toml"
    path.write_text(text)
    return path


def test_grid_is_a_cartesian_product_with_exact_decimals():
    points = parse_grid(GRID)
    assert len(points) == 6
    assert points[0] == {"detector.min_edge": Decimal("0.005"), "latency.kalshi_ms": 0}
    assert points[-1] == {"detector.min_edge": Decimal("0.05"), "latency.kalshi_ms": 250}


def test_grid_explicit_points_keep_their_order_and_set_the_config():
    points = parse_grid(
        "[[points]]\nlatency.kalshi_ms = 500\n\n[[points]]\ndetector.min_edge = 0.03\nrisk.cooldown_ms = 0\n"
    )
    assert points == [
        {"latency.kalshi_ms": 500},
        {"detector.min_edge": Decimal("0.03"), "risk.cooldown_ms": 0},
    ]
    config = apply_point(load_config_text(), points[1])
    assert config.detector.min_edge == Decimal("0.03") and config.risk.cooldown_ms == 0
    assert apply_point(load_config_text(), points[0]).latency.kalshi_ms == 500.0


def load_config_text():
    from arbkit.config import parse_config

    return parse_config('[[pairs]]\nname = "a"\nkalshi_ticker = "K"\npolymarket_yes_token = "1"\n'
                        'polymarket_no_token = "2"\n')


@pytest.mark.parametrize(
    "text, message",
    [
        ("detector.min_edgee = [0.01]", "unknown config key 'detector.min_edgee'; did you mean detector.min_edge?"),
        ("nope = [1]", "unknown config key 'nope'"),
        ("detector.min_edge = 0.01", "detector.min_edge: give a non-empty list of values"),
        ("[[points]]\nlatency.kalshi_ms = [1, 2]", "latency.kalshi_ms: a point takes one value, not a list"),
    ],
)
def test_a_bad_grid_is_a_one_line_error(tmp_path, two_sessions, text, message):
    result = _sweep("--from", str(two_sessions.root), "--config", str(two_sessions.config_path),
                    "--grid", str(_grid(tmp_path, text)), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2
    assert result.output.startswith("Error: ") and result.output.count("\n") == 1
    assert message in result.output
    with pytest.raises(ConfigError):
        parse_grid(text)


def test_a_bad_value_fails_before_any_replay(tmp_path, two_sessions):
    result = _sweep("--from", str(two_sessions.root), "--config", str(two_sessions.config_path),
                    "--grid", str(_grid(tmp_path, 'latency.kalshi_ms = ["fast"]')), "--out", str(tmp_path / "out"))
    assert result.exit_code == 2 and "latency.kalshi_ms=fast" in result.output
    assert not (tmp_path / "out" / "tasks").exists()


@pytest.mark.slow
def test_each_task_equals_a_plain_replay_byte_for_byte(tmp_path, two_sessions):
    out = tmp_path / "sweep"
    result = _sweep("--from", str(two_sessions.root), "--config", str(two_sessions.config_path),
                    "--grid", str(_grid(tmp_path)), "--out", str(out), "--workers", "2", "--keep-runs")
    assert result.exit_code == 0, result.output
    assert "12 tasks: 12 ran, 0 already done, 0 failed" in result.output
    table = pq.read_table(out / "sweep.parquet")
    assert str(table.schema.field("pnl").type) == "decimal128(18, 6)"
    assert str(table.schema.field("detector.min_edge").type) == "decimal128(38, 3)"
    rows = table.to_pylist()
    assert len(rows) == 12 and {r["status"] for r in rows} == {"done"}
    assert {r["session"] for r in rows} == set(two_sessions.session_ids)
    assert len({r["task_id"] for r in rows}) == 12
    assert sum(r["fills"] for r in rows) > 0, "the grid should trade somewhere"
    base = two_sessions.config_path.read_text()
    for row in rows:
        config_path = tmp_path / f"{row['task_id']}.toml"
        config_path.write_text(
            f"{base}\n[detector]\nmin_edge = {row['detector.min_edge']}\n\n"
            f"[latency]\nkalshi_ms = {row['latency.kalshi_ms']}\n"
        )
        plain = tmp_path / f"plain-{row['task_id']}"
        source = str(two_sessions.root / row["session"])
        done = CliRunner().invoke(cli, ["replay", "--from", source, "--config", str(config_path), "--out", str(plain)])
        assert done.exit_code == 0, done.output
        kept = out / "runs" / row["task_id"]
        names = sorted(p.name for p in plain.iterdir())
        assert names == sorted(p.name for p in kept.iterdir())
        for name in names:
            assert (kept / name).read_bytes() == (plain / name).read_bytes(), (row["task_id"], name)
        # The row's SQL statistics agree with the engine's own summary of the same run.
        summary = replay(source, load_config(config_path), tmp_path / "again").summary
        assert (row["opportunities"], row["approvals"], row["fills"]) == (
            summary.windows, summary.approved, summary.filled)
        assert row["pnl"] == summary.pnl and row["matched_size"] == summary.matched_size
        assert row["fees_kalshi"] + row["fees_polymarket"] == summary.fees

    again = _sweep("--from", str(two_sessions.root), "--config", str(two_sessions.config_path),
                   "--grid", str(_grid(tmp_path)), "--out", str(out), "--workers", "2")
    assert "12 tasks: 0 ran, 12 already done, 0 failed" in again.output
    assert pq.read_table(out / "sweep.parquet").to_pylist() == rows


@pytest.mark.slow
def test_a_killed_sweep_resumes_and_runs_every_task_once(tmp_path, two_sessions):
    out = tmp_path / "sweep"
    args = ["--from", str(two_sessions.root), "--config", str(two_sessions.config_path),
            "--grid", str(_grid(tmp_path)), "--out", str(out), "--workers", "1"]
    process = subprocess.Popen(
        [sys.executable, "-c", "from arbkit.cli import main; main()", "sweep", *args],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            done = list((out / "tasks").glob("*.json")) if (out / "tasks").exists() else []
            if len(done) >= 2 or process.poll() is not None:
                break
            time.sleep(0.01)
    finally:
        os.killpg(process.pid, signal.SIGKILL)  # the driver and its pool, as a kill -9 would
        process.wait(timeout=30)
    before = {p.name: p.read_bytes() for p in (out / "tasks").glob("*.json")}
    assert 2 <= len(before) < 12, "the kill must land mid-way"
    assert not (out / "sweep.parquet").exists()

    result = _sweep(*args)
    assert result.exit_code == 0, result.output
    assert f"12 tasks: {12 - len(before)} ran, {len(before)} already done, 0 failed" in result.output
    for name, data in before.items():
        assert (out / "tasks" / name).read_bytes() == data, "a finished task ran again"
    rows = pq.read_table(out / "sweep.parquet").to_pylist()
    assert len(rows) == 12 and len({r["task_id"] for r in rows}) == 12
    assert all(r["status"] == "done" for r in rows)


@pytest.mark.slow
def test_a_failing_task_is_recorded_and_the_sweep_goes_on(tmp_path, two_sessions):
    grid = _grid(tmp_path, (
        '[[points]]\nlatency.model = "constant"\n\n'
        f'[[points]]\nlatency.model = "empirical"\nlatency.samples_from = "{tmp_path / "missing"}"\n'
    ))
    out = tmp_path / "sweep"
    result = _sweep("--from", str(two_sessions.root), "--config", str(two_sessions.config_path),
                    "--grid", str(grid), "--out", str(out), "--workers", "2")
    assert result.exit_code == 1
    assert "4 tasks: 4 ran, 0 already done, 2 failed" in result.output
    rows = pq.read_table(out / "sweep.parquet").to_pylist()
    failed = [r for r in rows if r["status"] == "failed"]
    assert [r["latency.model"] for r in failed] == ["empirical", "empirical"]
    assert all("recording not found" in r["error"] and r["pnl"] is None for r in failed)
    assert all(r["error"] is None and r["opportunities"] is not None for r in rows if r["status"] == "done")
    # A re-run tries the failed tasks again and keeps the finished ones.
    again = _sweep("--from", str(two_sessions.root), "--config", str(two_sessions.config_path),
                   "--grid", str(grid), "--out", str(out), "--workers", "2")
    assert "4 tasks: 2 ran, 2 already done, 2 failed" in again.output
