"""Every recording view against answers worked out by hand on `analytics_recordings.hand_rows()`."""

from __future__ import annotations

import pytest
from analytics_recordings import (
    CONDITION,
    KALSHI,
    MS,
    NO,
    POLYMARKET,
    SESSION,
    T0,
    TICKER,
    YES,
    gap_stats,
    hand_rows,
    rows,
    write_bare,
    write_sealed,
)

from arbkit.analytics import connect

RECORDING_VIEWS = ("connections", "reconnects", "message_rates", "feed_latency", "book_updates",
                   "book_staleness", "venue_staleness", "seq_gaps", "stalls")


@pytest.fixture(scope="module")
def sealed(tmp_path_factory):
    return write_sealed(tmp_path_factory.mktemp("sealed") / "recordings", hand_rows())


@pytest.fixture(scope="module")
def con(sealed):
    con = connect(sealed)
    yield con
    con.close()


def at(ms):
    return T0 + ms * MS


def test_frames_has_every_row_with_hive_date_payload_text_and_condition_id(con):
    frames = rows(con, "SELECT * FROM frames ORDER BY ingest_seq")

    assert len(frames) == len(hand_rows().rows)
    assert {str(f["date"]) for f in frames} == {"2026-09-21"}
    assert frames[0]["payload_text"] == '{"url":"ws://127.0.0.1/kalshi"}'
    assert {f["condition_id"] for f in frames if f["venue"] == POLYMARKET and f["kind"] == "in"} == {CONDITION, None}
    assert all(f["condition_id"] is None for f in frames if f["venue"] == KALSHI)


def test_connections_are_one_row_each_with_open_close_uptime_and_counts(con):
    got = rows(con, """SELECT venue, conn_id, url, open_ns, close_ns, close_code, close_reason, close_cause,
                              uptime_s, frames_in, frames_out, first_snapshot_ns
                       FROM connections ORDER BY venue, conn_id""")

    assert got == [
        {"venue": KALSHI, "conn_id": 1, "url": "ws://127.0.0.1/kalshi", "open_ns": at(0), "close_ns": at(100),
         "close_code": 1006, "close_reason": "", "close_cause": None, "uptime_s": 0.1,
         "frames_in": 7, "frames_out": 1, "first_snapshot_ns": at(10)},
        {"venue": KALSHI, "conn_id": 2, "url": "ws://127.0.0.1/kalshi", "open_ns": at(350), "close_ns": at(61_000),
         "close_code": 1000, "close_reason": "recorder stopping", "close_cause": "recorder stopping",
         "uptime_s": 60.65, "frames_in": 2, "frames_out": 0, "first_snapshot_ns": at(360)},
        {"venue": POLYMARKET, "conn_id": 1, "url": "ws://127.0.0.1/polymarket", "open_ns": at(3),
         "close_ns": at(2200), "close_code": 1001, "close_reason": "going away", "close_cause": None,
         "uptime_s": 2.197, "frames_in": 4, "frames_out": 1, "first_snapshot_ns": at(5)},
        {"venue": POLYMARKET, "conn_id": 2, "url": "ws://127.0.0.1/polymarket", "open_ns": at(2700),
         "close_ns": at(61_000), "close_code": 1000, "close_reason": "recorder stopping",
         "close_cause": "recorder stopping", "uptime_s": 58.3, "frames_in": 1, "frames_out": 0,
         "first_snapshot_ns": at(2710)},
    ]


def test_bytes_in_is_the_payload_bytes_received(con):
    expected = {}
    for _, venue, conn, kind, payload in hand_rows().rows:
        if kind == "in":
            expected[(venue, conn)] = expected.get((venue, conn), 0) + len(payload)

    got = {(r["venue"], r["conn_id"]): r["bytes_in"] for r in rows(con, "SELECT * FROM connections")}

    assert got == expected


def test_reconnects_are_one_row_per_comeback_with_known_downtime_and_cause(con):
    got = rows(con, "SELECT venue, conn_id, prev_conn_id, down_ns, up_ns, downtime_ms, cause FROM reconnects ORDER BY venue")

    assert got == [
        {"venue": KALSHI, "conn_id": 2, "prev_conn_id": 1, "down_ns": at(100), "up_ns": at(350),
         "downtime_ms": 250.0, "cause": "abrupt disconnect (1006)"},
        {"venue": POLYMARKET, "conn_id": 2, "prev_conn_id": 1, "down_ns": at(2200), "up_ns": at(2700),
         "downtime_ms": 500.0, "cause": "closed by venue (1001: going away)"},
    ]


def test_coverage_counts_connected_time_and_downtime_over_the_session_span(con):
    got = {r["venue"]: r for r in rows(con, "SELECT * FROM coverage")}

    assert got[KALSHI]["span_s"] == 61.0
    # Kalshi: connected 0-100 and 350-61000 ms; down from 100 to 350.
    assert got[KALSHI]["connected_s"] == pytest.approx(60.75)
    assert got[KALSHI]["downtime_s"] == pytest.approx(0.25)
    assert got[KALSHI]["uptime_fraction"] == pytest.approx(60.75 / 61)
    # Polymarket: opened at 3 ms, so 3 ms before it plus the 500 ms gap are down.
    assert got[POLYMARKET]["downtime_s"] == pytest.approx(0.503)
    assert (got[POLYMARKET]["connections"], got[POLYMARKET]["reconnects"]) == (2, 1)


def test_message_rates_count_received_frames_and_bytes_per_minute_and_type(con):
    got = {(r["venue"], r["minute"].minute, r["msg_type"]): (r["frames"], r["bytes"])
           for r in rows(con, "SELECT * FROM message_rates")}
    sizes = {}
    for t, venue, _, kind, payload in hand_rows().rows:
        if kind == "in":
            sizes.setdefault((venue, (t - T0) // (60_000 * MS)), []).append(len(payload))

    assert {k: v[0] for k, v in got.items()} == {
        (KALSHI, 13, "subscribed"): 1,
        (KALSHI, 13, "orderbook_snapshot"): 2,
        (KALSHI, 13, "orderbook_delta"): 4,
        (KALSHI, 13, "text"): 1,
        (KALSHI, 14, "orderbook_delta"): 1,
        (POLYMARKET, 13, "array"): 2,
        (POLYMARKET, 13, "price_change"): 2,
        (POLYMARKET, 13, "text"): 1,
    }
    assert got[(POLYMARKET, 13, "text")][1] == len(b"PONG")
    assert got[(KALSHI, 14, "orderbook_delta")][1] == sizes[(KALSHI, 1)][0]
    assert sum(v[1] for k, v in got.items() if k[1] == 13) == sum(sizes[(KALSHI, 0)] + sizes[(POLYMARKET, 0)])


def test_feed_latency_is_receive_time_minus_the_venues_own_timestamp(con):
    got = rows(con, "SELECT venue, msg_type, market, latency_ms FROM feed_latency ORDER BY ingest_seq")

    kalshi = [(r["msg_type"], r["latency_ms"]) for r in got if r["venue"] == KALSHI]
    # Snapshots carry only sending_ts_ms (5 ms old); deltas use msg.ts_ms (2 ms), not sending_ts_ms.
    assert kalshi == [("orderbook_snapshot", 5.0)] + [("orderbook_delta", 2.0)] * 4 + [
        ("orderbook_snapshot", 5.0), ("orderbook_delta", 2.0)]
    poly = [r["latency_ms"] for r in got if r["venue"] == POLYMARKET]
    assert poly == [7.0] * 4
    assert {r["market"] for r in got if r["venue"] == KALSHI} == {TICKER}


def test_book_staleness_is_the_time_between_updates_of_each_book(con):
    got = {(r["venue"], r["market"]): r for r in rows(con, "SELECT * FROM book_staleness")}
    # Kalshi updates at 10, 20, 30, 50, 60, 360, 60500 ms; the malformed frame at 40 is none.
    kalshi = gap_stats([10, 10, 20, 10, 300, 60_140])
    # The YES token: book 5, price_change 105 and 2105 (both tokens), book 2710; NO: 105, 2105.
    yes = gap_stats([100, 2000, 605])
    no = gap_stats([2000])

    assert set(got) == {(KALSHI, TICKER), (POLYMARKET, YES), (POLYMARKET, NO)}
    assert (got[(KALSHI, TICKER)]["updates"], got[(POLYMARKET, YES)]["updates"], got[(POLYMARKET, NO)]["updates"]) == (7, 4, 2)
    for key, expected in (((KALSHI, TICKER), kalshi), ((POLYMARKET, YES), yes), ((POLYMARKET, NO), no)):
        for column, value in expected.items():
            assert got[key][column] == pytest.approx(value), (key, column)


def test_venue_staleness_pools_every_book_of_the_venue(con):
    got = {r["venue"]: r for r in rows(con, "SELECT * FROM venue_staleness")}

    assert got[POLYMARKET]["books"] == 2
    assert got[POLYMARKET]["p50_ms"] == pytest.approx(gap_stats([100, 2000, 605, 2000])["p50_ms"])
    assert got[KALSHI]["max_ms"] == 60_140.0


def test_gaps_are_the_same_when_updates_are_far_apart_in_ingest_seq(con, tmp_path):
    # book_gaps lists receive times per block of ingest_seq; 40,000 apart, most consecutive
    # updates of a book sit in different blocks.
    spread = connect(write_sealed(tmp_path / "recordings", hand_rows(), seq_step=40_000))
    try:
        for view in ("book_staleness", "venue_staleness", "seq_gaps"):
            columns = "* EXCLUDE (ingest_seq)" if view == "seq_gaps" else "*"
            sql = f"SELECT {columns} FROM {view} ORDER BY ALL"
            assert rows(spread, sql) == rows(con, sql), view
        (split,) = spread.execute("SELECT count(*) > 2 * count(DISTINCT (venue, market)) FROM book_gaps").fetchone()
        assert split
    finally:
        spread.close()


def test_a_kalshi_seq_gap_is_one_row_and_a_new_connection_snapshot_is_none(con):
    got = rows(con, "SELECT session_id, venue, conn_id, sid, expected_seq, got_seq, recv_ns FROM seq_gaps")

    assert got == [{"session_id": SESSION, "venue": KALSHI, "conn_id": 1, "sid": 1, "expected_seq": 4,
                    "got_seq": 5, "recv_ns": at(50)}]


def test_stalls_use_the_sessions_stale_after_s_by_default(con):
    got = rows(con, "SELECT venue, conn_id, from_ns, to_ns, duration_ms, ended_by, threshold_s FROM stalls ORDER BY venue, conn_id")

    assert got == [
        {"venue": KALSHI, "conn_id": 2, "from_ns": at(360), "to_ns": at(60_500), "duration_ms": 60_140.0,
         "ended_by": "data", "threshold_s": 1.0},
        {"venue": POLYMARKET, "conn_id": 1, "from_ns": at(105), "to_ns": at(2105), "duration_ms": 2000.0,
         "ended_by": "data", "threshold_s": 1.0},
        {"venue": POLYMARKET, "conn_id": 2, "from_ns": at(2710), "to_ns": at(61_000), "duration_ms": 58_290.0,
         "ended_by": "close", "threshold_s": 1.0},
    ]


def test_a_stall_threshold_given_to_connect_overrides_the_sessions(sealed):
    con = connect(sealed, stall_s=10)
    try:
        got = rows(con, "SELECT venue, duration_ms FROM stalls ORDER BY venue")
    finally:
        con.close()

    assert got == [{"venue": KALSHI, "duration_ms": 60_140.0}, {"venue": POLYMARKET, "duration_ms": 58_290.0}]


def test_sessions_say_a_clean_stop_with_manifest_details(con):
    (session,) = rows(con, "SELECT * FROM sessions")

    assert session["session_id"] == SESSION
    assert (session["status"], session["clean_stop"], session["crashed"], session["recovered"]) == ("complete", True, False, False)
    assert (session["start_ns"], session["end_ns"], session["span_s"]) == (T0, at(61_000), 61.0)
    assert session["pairs"] == ["Analytics test pair"]
    assert session["frames"] == len(hand_rows().rows)
    assert session["has_manifest"] and session["stale_after_s"] == 1.0


def test_a_recording_of_frames_files_only_answers_every_view_like_the_sealed_one(sealed, tmp_path):
    bare = write_bare(tmp_path / "elsewhere", hand_rows())
    # No manifest: the stall threshold must be given (the default would be 60 s).
    with_manifest, without = connect(sealed), connect(bare, stall_s=1.0)
    try:
        for view in RECORDING_VIEWS:
            expected = with_manifest.sql(f"SELECT * FROM {view}").pl()
            got = without.sql(f"SELECT * FROM {view}").pl()
            assert got.sort(got.columns).equals(expected.sort(expected.columns)), view
        frames = "SELECT * EXCLUDE (payload_text) FROM frames ORDER BY ingest_seq"
        assert without.sql(frames).pl().equals(with_manifest.sql(frames).pl())
        (session,) = rows(without, "SELECT status, has_manifest, start_ns, end_ns FROM sessions")
        assert session == {"status": "unknown", "has_manifest": False, "start_ns": at(0), "end_ns": at(61_000)}
    finally:
        with_manifest.close()
        without.close()


def test_the_decode_pass_finds_the_malformed_frame_with_its_reason(sealed):
    con = connect(sealed, decode=True)
    try:
        got = rows(con, "SELECT venue, conn_id, recv_ns, errors, reason FROM decode_errors")
        (summary,) = rows(con, "SELECT decode_errors FROM recording_summary")
    finally:
        con.close()

    assert [(r["venue"], r["conn_id"], r["recv_ns"], r["errors"]) for r in got] == [(KALSHI, 1, at(40), 1)]
    assert "JSON" in got[0]["reason"]
    assert summary["decode_errors"] == 1


def test_without_a_decode_pass_decode_errors_are_unknown_not_zero(con):
    assert rows(con, "SELECT count(*) AS n FROM decode_errors") == [{"n": 0}]
    assert rows(con, "SELECT decode_errors FROM recording_summary") == [{"decode_errors": None}]


def test_run_views_exist_and_are_empty_without_a_run(con):
    for view in ("opportunities", "risk_decisions", "orders", "fills", "trades", "positions", "pnl",
                 "book_health", "funnel", "capture", "legging", "fee_drag", "runs", "run_summary"):
        assert rows(con, f"SELECT count(*) AS n FROM {view}") == [{"n": 0}], view
    assert "run" in [d[0] for d in con.execute("SELECT * FROM opportunities").description]


def test_mirrored_price_changes_update_both_tokens_whether_their_condition_is_known_or_not(tmp_path):
    import orjson
    from analytics_recordings import Rows

    other_yes, other_no, other_condition = "111", "222", "0xother"
    dump = [{"event_type": "book", "asset_id": asset, "market": CONDITION, "bids": [], "asks": [], "timestamp": "1"}
            for asset in (YES, NO)]
    r = Rows()
    r.open(0, POLYMARKET, 1)
    r.add(1, POLYMARKET, 1, "in", orjson.dumps(dump))  # the initial dump names both tokens of CONDITION
    for t in (10, 30, 60):
        r.poly_change(t, 1)  # YES + NO of CONDITION: looked up by condition
    for t in (20, 50):
        # A condition never seen in a dump: its assets come from the frame itself.
        r.add(t, POLYMARKET, 1, "in", orjson.dumps({"event_type": "price_change", "market": other_condition,
              "price_changes": [{"asset_id": other_yes}, {"asset_id": other_no}], "timestamp": "1"}))
    con = connect(write_sealed(tmp_path / "recordings", r))
    try:
        got = {m: (n, g) for m, n, g in con.execute(
            "SELECT market, count(*), list(gap_ms ORDER BY ingest_seq) FROM book_updates GROUP BY market").fetchall()}
    finally:
        con.close()

    assert got == {YES: (4, [None, 9.0, 20.0, 30.0]), NO: (4, [None, 9.0, 20.0, 30.0]),
                   other_yes: (2, [None, 30.0]), other_no: (2, [None, 30.0])}
