"""`arbkit live --paper` against the faulty sandbox, then `replay --verify` proves parity (DESIGN §4)."""

from __future__ import annotations

import subprocess
import sys

import duckdb
import orjson
import pyarrow.parquet as pq
import pytest

from arbkit.sandbox.server import SandboxThread

ARBKIT = [sys.executable, "-c", "from arbkit.cli import main; main()"]
LIVE_S = 32

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def live_run(tmp_path_factory) -> dict:
    """Run `arbkit live --paper` for 32 s against a sandbox firing every default fault."""
    tmp = tmp_path_factory.mktemp("live")
    run_dir = tmp / "run"
    with SandboxThread(tmp / "sandbox", pairs=3, seed=21, rate=300.0, faults="default") as sandbox:
        done = subprocess.run(
            [*ARBKIT, "live", "--paper", "--config", str(sandbox.config_path), "--out", str(run_dir),
             "--duration", str(LIVE_S)],
            capture_output=True, timeout=LIVE_S + 60, check=False,
        )
        faults = sandbox.fault_log()
    return {"run_dir": run_dir, "done": done, "faults": faults}


def test_live_paper_run_writes_the_run_tables_and_names_its_session(live_run):
    done, run_dir = live_run["done"], live_run["run_dir"]
    assert done.returncode == 0, done.stderr.decode()
    meta = orjson.loads((run_dir / "run.json").read_bytes())
    assert meta["mode"] == "live_paper"
    assert meta["recording"] == f"recording/{meta['sessions'][0]}"
    assert meta["frames"] > 1000
    for table in ("opportunities", "risk_decisions", "orders", "fills", "trades", "positions", "pnl", "book_health"):
        assert (run_dir / f"{table}.parquet").exists(), table
        assert meta["outputs"][table]


def test_live_run_saw_faults_and_reconnects(live_run):
    kinds = {f["fault"] for f in live_run["faults"]}
    assert len(kinds) >= 5, kinds
    recording = live_run["run_dir"] / "recording"
    reopened = duckdb.sql(
        f"select venue, max(conn_id) from read_parquet('{recording}/frames/**/*.parquet', hive_partitioning=false) "
        "where kind = 'open' group by venue"
    ).fetchall()
    assert dict(reopened).get("kalshi", 0) > 1 and dict(reopened).get("polymarket", 0) > 1


def test_live_run_found_opportunities_and_traded_on_paper(live_run):
    run_dir = live_run["run_dir"]
    assert pq.read_table(run_dir / "opportunities.parquet").num_rows > 0
    decisions = pq.read_table(run_dir / "risk_decisions.parquet").to_pylist()
    assert decisions and all(d["reason"] for d in decisions)
    # Trades really happened, not only denials: approved decisions whose orders filled, and
    # completed trades with matched contract pairs (what parity is then proved over).
    approved = {d["decision_id"] for d in decisions if d["approved"]}
    assert approved
    orders = pq.read_table(run_dir / "orders.parquet").to_pylist()
    assert {o["decision_id"] for o in orders} == approved
    fills = pq.read_table(run_dir / "fills.parquet").to_pylist()
    bought = {f["decision_id"] for f in fills if f["action"] == "buy" and f["size"] > 0}
    assert bought and bought <= approved
    trades = pq.read_table(run_dir / "trades.parquet").to_pylist()
    assert {t["decision_id"] for t in trades} == approved
    assert any(t["matched_size"] > 0 for t in trades)


def test_replay_verify_of_the_live_run_reproduces_every_decision(live_run):
    run_dir = live_run["run_dir"]
    verified = subprocess.run([*ARBKIT, "replay", "--verify", str(run_dir)], capture_output=True, timeout=120, check=False)
    assert verified.returncode == 0, verified.stderr.decode()
    assert b"byte-identical" in verified.stdout


def test_verify_fails_and_shows_the_difference_when_a_decision_is_altered(live_run, tmp_path):
    # Arrange: a copy of the run whose first opportunity claims another close reason.
    import shutil

    copy = tmp_path / "run"
    shutil.copytree(live_run["run_dir"], copy)
    table = pq.read_table(copy / "opportunities.parquet")
    reasons = table.column("close_reason").to_pylist()
    reasons[0] = "tampered"
    import pyarrow as pa

    table = table.set_column(table.schema.get_field_index("close_reason"), "close_reason", pa.array(reasons))
    pq.write_table(table, copy / "opportunities.parquet")
    # Act
    verified = subprocess.run([*ARBKIT, "replay", "--verify", str(copy)], capture_output=True, timeout=120, check=False)
    # Assert
    assert verified.returncode == 1
    err = verified.stderr.decode()
    assert "opportunities row 0" in err and "tampered" in err and "frame:" in err


def test_a_window_replay_of_the_faulty_recording_decides_inside_it_as_the_full_replay(live_run, tmp_path):
    # Arrange: the live session (disconnects, sequence gaps, stalls, malformed frames), replayed
    # in full and from a --start well after the first faults, so the books, connections,
    # sequence state, risk limits and positions of the window all come from the warm-up.
    from window_check import assert_window_matches_full, first_frame_at_or_after

    from arbkit.runner.replay import load_run, replay

    run_dir = live_run["run_dir"]
    meta, config = load_run(run_dir)
    recording = run_dir / meta["recording"]
    times = duckdb.sql(
        f"select recv_ns from read_parquet('{recording.parent}/frames/**/*.parquet', hive_partitioning=false) "
        "order by ingest_seq"
    ).fetchall()
    times = [t for (t,) in times]
    start_ns = times[0] + (times[-1] - times[0]) * 2 // 5
    end_ns = times[0] + (times[-1] - times[0]) * 9 // 10
    replay(recording, config, tmp_path / "full")

    # Act
    replay(recording, config, tmp_path / "window", start_ns=start_ns, end_ns=end_ns)

    # Assert
    counts = assert_window_matches_full(
        tmp_path / "full", tmp_path / "window", first_frame_at_or_after(times, start_ns), end_ns, start_ns
    )
    assert counts["decisions"] > 0, counts
    before = [f for f in live_run["faults"] if f["time_ns"] < start_ns]
    assert len({f["fault"] for f in before}) >= 3, before


def test_live_ends_with_a_summary_table_of_frames_errors_funnel_and_money(live_run):
    done, run_dir = live_run["done"], live_run["run_dir"]
    out = done.stdout.decode()
    trades = pq.read_table(run_dir / "trades.parquet").to_pylist()
    pnl = pq.read_table(run_dir / "pnl.parquet").to_pylist()[-1]
    for label in ("frames kalshi", "frames polymarket", "decode errors", "windows opened", "approved",
                  "filled", "matched size", "fees", "P&L"):
        assert label in out, (label, out)
    # The sandbox's malformed-frame fault fired on both venues: the summary says what they were.
    assert "malformed frame" in out and "(kalshi)" in out and "(polymarket)" in out, out
    assert f"${pnl['total']:f}" in out and f"{sum(t['matched_size'] for t in trades).normalize():f} contracts" in out
    assert f"run written to {run_dir}" in out
