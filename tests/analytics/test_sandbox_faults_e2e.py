"""The views against the sandbox's own fault log, on a recording of its default faults.

The sandbox runs the default fault schedule three times faster (FaultPlan.compressed), so ten
seconds of recording see every fault of both venues once: Kalshi seq gap, malformed frame,
error 25, burst, clean close, abrupt disconnect; Polymarket malformed frame, silent stall,
burst, clean close, abrupt disconnect. The recording is then replayed so the run's figures can
be held against its tables.
"""

from __future__ import annotations

import asyncio

import pyarrow.parquet as pq
import pytest

from arbkit.analytics import connect, stats
from arbkit.config import load_config
from arbkit.runner.record import Recorder
from arbkit.runner.replay import replay
from arbkit.sandbox.server import FaultPlan, SandboxThread

RECORD_S = 10.0
PLAN = FaultPlan().compressed(3.0)
DISCONNECTS = {"clean_close": 1001, "abrupt_disconnect": 1006}
pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.xdist_group("analytics_faults")]


@pytest.fixture(scope="module")
def recorded(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("analytics-faults")
    root = tmp / "recordings"
    with SandboxThread(tmp / "sandbox", pairs=2, seed=3, rate=200.0, faults=PLAN) as sandbox:
        config = load_config(sandbox.config_path)
        asyncio.run(Recorder(config, root, duration_s=RECORD_S).run())
    replay(root, config, tmp / "run")
    return {"root": root, "run": tmp / "run", "faults": sandbox.fault_log()}


@pytest.fixture(scope="module")
def con(recorded):
    con = connect(recorded["root"], recorded["run"], stall_s=1.0, decode=True)
    yield con
    con.close()


def faults(recorded, *names):
    return [f for f in recorded["faults"] if f["fault"] in names]


def test_every_default_fault_fired(recorded):
    fired = {(f["venue"], f["fault"]) for f in recorded["faults"]}

    assert {("kalshi", f) for f in PLAN.kalshi} | {("polymarket", f) for f in PLAN.polymarket} <= fired


def test_every_scripted_disconnect_is_one_reconnect_row(con, recorded):
    scripted = sorted((f["venue"], f["conn"], DISCONNECTS[f["fault"]])
                      for f in faults(recorded, *DISCONNECTS))
    got = sorted(con.execute("SELECT venue, prev_conn_id, close_code FROM reconnects").fetchall())

    # The sandbox numbers connections in accept order, as the recorder numbers its opens.
    assert got == scripted
    assert len(scripted) == 4


def test_every_scripted_gap_is_one_seq_gaps_row(con, recorded):
    scripted = sorted((f["conn"], f["sid"]) for f in faults(recorded, "seq_gap"))
    got = sorted(con.execute("SELECT conn_id, sid FROM seq_gaps").fetchall())

    assert got == scripted and len(got) >= 1
    assert con.execute("SELECT DISTINCT missed FROM seq_gaps").fetchall() == [(1,)]


def test_the_silent_stall_is_a_stalls_row_on_its_connection(con, recorded):
    (stall,) = faults(recorded, "stall")
    got = con.execute("SELECT conn_id, from_ns, duration_ms FROM stalls WHERE venue = 'polymarket'").fetchall()

    assert [(conn, round(ms / 1000, 1) >= PLAN.stall_s * 0.9) for conn, _, ms in got] == [(stall["conn"], True)]
    assert abs(got[0][1] - stall["time_ns"]) < 500_000_000


def test_every_malformed_frame_is_a_decode_error_as_the_run_counted(con, recorded):
    malformed = sorted((f["venue"], f["conn"]) for f in faults(recorded, "malformed"))
    got = sorted(con.execute("SELECT venue, conn_id FROM decode_errors").fetchall())
    (run_count,) = con.execute("SELECT decode_errors FROM runs").fetchone()

    assert got == malformed
    assert run_count == len(got)


def test_stats_equal_the_run_tables_and_the_recording(recorded):
    doc = stats(recorded["root"], recorded["run"])
    run = doc["runs"]["run"]
    tables = {name: pq.read_table(recorded["run"] / f"{name}.parquet") for name in ("opportunities", "fills", "pnl")}

    assert run["opportunities"] == tables["opportunities"].num_rows > 0
    assert run["fills"] == tables["fills"].num_rows
    pnl = tables["pnl"].to_pylist()
    assert run["pnl"] == str(pnl[-1]["total"]) if pnl else run["pnl"] == "0"
    assert run["funnel"]["detected"] == run["opportunities"]
    rec = doc["recording"]
    assert rec["reconnects"] == 4 and rec["sessions"] == 1 and rec["clean_sessions"] == 1
    assert rec["frames"] == sum(v["frames"] for v in rec["venues"].values()) == run["frames"]
