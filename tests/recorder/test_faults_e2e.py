"""Recording through the sandbox's default fault schedule: every fault visible, zero loss."""

from __future__ import annotations

import asyncio
import json
from collections import Counter, defaultdict

import msgspec
import pytest

from arbkit.config import load_config
from arbkit.core.events import KALSHI, POLYMARKET
from arbkit.runner.record import Recorder
from arbkit.sandbox.kalshi import MALFORMED as KALSHI_MALFORMED
from arbkit.sandbox.polymarket import MALFORMED as POLY_MALFORMED
from arbkit.sandbox.server import FaultPlan, SandboxThread
from arbkit.store.reader import iter_frames

RECORD_S = 35.0
# One 35 s recording serves every test here: keep them on one xdist worker (`--dist loadgroup`).
pytestmark = pytest.mark.xdist_group("recorder_faults")


@pytest.fixture(scope="module")
def faulty_recording(tmp_path_factory):
    """Record 35 s from a sandbox firing every default fault; return frames, sent stats, faults."""
    tmp = tmp_path_factory.mktemp("faults")
    root = tmp / "recordings"
    with SandboxThread(tmp / "sandbox", pairs=3, seed=5, rate=300.0, faults="default") as sandbox:
        config = load_config(sandbox.config_path)
        # Faster watchdog and keep-alive than the defaults so a 35 s run sees them act.
        recorder_cfg = msgspec.structs.replace(config.recorder, stale_after_s=2.0, ping_interval_s=2.0)
        config = msgspec.structs.replace(config, recorder=recorder_cfg)
        summary = asyncio.run(Recorder(config, root, duration_s=RECORD_S).run())
    frames = list(iter_frames(root))
    return {
        "summary": summary,
        "frames": frames,
        "sent": sandbox.connection_stats(),
        "faults": sandbox.fault_log(),
    }


def _rows(frames, venue, kind=None):
    return [f for f in frames if f.venue == venue and (kind is None or f.kind == kind)]


def _lifecycle(frames, venue, kind):
    return [(f.conn_id, json.loads(f.payload)) for f in _rows(frames, venue, kind)]


@pytest.mark.e2e
def test_every_default_fault_fired_during_the_recording(faulty_recording):
    fired = defaultdict(set)
    for fault in faulty_recording["faults"]:
        fired[fault["venue"]].add(fault["fault"])

    assert fired[KALSHI] == set(FaultPlan().kalshi)
    assert fired[POLYMARKET] == set(FaultPlan().polymarket)


@pytest.mark.e2e
def test_recorded_in_frames_per_connection_equal_frames_the_sandbox_sent(faulty_recording):
    frames = faulty_recording["frames"]
    for venue in (KALSHI, POLYMARKET):
        opened = [conn for conn, _ in _lifecycle(frames, venue, "open")]
        received = Counter(f.conn_id for f in _rows(frames, venue, "in"))
        sent = sorted((s for s in faulty_recording["sent"] if s["venue"] == venue), key=lambda s: s["conn"])
        # The sandbox numbers connections in accept order, as the recorder numbers its opens.
        assert len(opened) == len(sent), venue
        assert [received[conn] for conn in opened] == [s["frames_sent"] for s in sent], venue
        assert sum(s["frames_sent"] for s in sent) > 1000


@pytest.mark.e2e
def test_both_venues_reconnected_with_increasing_conn_ids(faulty_recording):
    frames = faulty_recording["frames"]
    for venue in (KALSHI, POLYMARKET):
        opened = [conn for conn, _ in _lifecycle(frames, venue, "open")]
        assert opened == sorted(opened) and len(set(opened)) == len(opened)
        assert max(opened) > 1, venue
        assert faulty_recording["summary"].reconnects[venue] >= 1


@pytest.mark.e2e
def test_clean_close_abrupt_disconnect_and_stall_end_with_close_rows_then_reopen(faulty_recording):
    frames = faulty_recording["frames"]
    plan = FaultPlan()
    for venue in (KALSHI, POLYMARKET):
        closes = _lifecycle(frames, venue, "close")
        opened = {conn for conn, _ in _lifecycle(frames, venue, "open")}
        clean = [c for c, info in closes if info["code"] == plan.close_code and info["close_frame_received"]]
        abrupt = [c for c, info in closes if not info["close_frame_received"] and info["code"] == 1006]
        assert clean and abrupt, venue
        # Each dropped connection is followed by a new one.
        assert all(conn + 1 in opened or any(o > conn for o in opened) for conn in clean + abrupt)
    stale = [info for _, info in _lifecycle(frames, POLYMARKET, "close") if (info["cause"] or "").startswith("stale")]
    assert stale


@pytest.mark.e2e
def test_seq_gap_is_answered_with_a_get_snapshot_and_fresh_snapshots(faulty_recording):
    frames = _rows(faulty_recording["frames"], KALSHI)
    asks = [f for f in frames if f.kind == "out" and b'"get_snapshot"' in f.payload]

    assert asks
    first = asks[0].ingest_seq
    assert any(f.kind == "in" and b'"orderbook_snapshot"' in f.payload and f.ingest_seq > first for f in frames)


@pytest.mark.e2e
def test_error_25_is_answered_with_a_new_subscription(faulty_recording):
    frames = _rows(faulty_recording["frames"], KALSHI)
    overflow = [f for f in frames if f.kind == "in" and b'"code":25' in f.payload]

    assert overflow
    after = [
        f for f in frames
        if f.kind == "out" and b'"subscribe"' in f.payload and f.ingest_seq > overflow[0].ingest_seq
        and f.conn_id == overflow[0].conn_id
    ]
    assert after
    assert b'"orderbook_delta"' in after[0].payload


@pytest.mark.e2e
def test_malformed_frames_are_recorded_byte_for_byte(faulty_recording):
    frames = faulty_recording["frames"]

    assert any(f.payload == KALSHI_MALFORMED for f in _rows(frames, KALSHI, "in"))
    assert any(f.payload == POLY_MALFORMED for f in _rows(frames, POLYMARKET, "in"))


@pytest.mark.e2e
def test_subscriptions_and_pings_are_recorded_as_out_rows(faulty_recording):
    frames = faulty_recording["frames"]
    poly_out = _rows(frames, POLYMARKET, "out")
    kalshi_out = _rows(frames, KALSHI, "out")

    assert any(f.payload.startswith(b'{"type":"market"') and b'"initial_dump":true' in f.payload for f in poly_out)
    assert any(f.payload == b"PING" for f in poly_out)
    assert any(f.payload == b"PONG" for f in _rows(frames, POLYMARKET, "in"))
    first_sub = next(f for f in kalshi_out if b'"subscribe"' in f.payload)
    assert b'"use_yes_price":false' in first_sub.payload


@pytest.mark.e2e
def test_ingest_seq_is_strictly_increasing_and_rows_are_stamped(faulty_recording):
    frames = faulty_recording["frames"]
    seqs = [f.ingest_seq for f in frames]

    assert seqs == sorted(set(seqs))
    assert all(f.recv_ns > 0 and f.mono_ns > 0 for f in frames)
    assert {f.session_id for f in frames} == {faulty_recording["summary"].session_id}


@pytest.mark.e2e
def test_default_faults_keep_firing_after_the_first_round_for_the_whole_run(faulty_recording):
    # Every type fires once in the first ~20 s; the default schedule then carries on, so the
    # last third of a 35 s run still sees faults (a later `live` run would see them too).
    start = faulty_recording["frames"][0].recv_ns
    late = [f for f in faulty_recording["faults"] if f["time_ns"] - start >= RECORD_S * 2 / 3 * 1e9]

    assert late, [(f["venue"], f["fault"], (f["time_ns"] - start) / 1e9) for f in faulty_recording["faults"]]
