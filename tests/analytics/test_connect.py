"""`connect`: view files and their order, derived columns for files without them, sessions."""

from __future__ import annotations

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from analytics_recordings import CONDITION, NO, SESSION, T0, YES, Rows, hand_rows, write_bare, write_sealed

from arbkit.analytics import connect, stats, view_order, view_sql
from arbkit.errors import RecordingError
from arbkit.store import manifest as mf
from arbkit.store import recover
from arbkit.store.derive import derive_row
from arbkit.store.schema import FRAMES_SCHEMA


def test_every_view_file_is_registered_after_the_views_it_reads(tmp_path):
    views = view_sql()
    order = view_order(views)
    con = connect(write_sealed(tmp_path, hand_rows()))
    try:
        registered = {name for (name,) in con.execute(
            "SELECT view_name FROM duckdb_views() WHERE schema_name = 'main' AND NOT internal").fetchall()}
    finally:
        con.close()

    assert set(views) <= registered
    assert order.index("frames") < order.index("book_frames") < order.index("book_update_rows") < order.index("book_updates")
    assert order.index("book_update_rows") < order.index("book_gaps") < order.index("book_staleness")
    assert order.index("connections") < order.index("reconnects") < order.index("coverage")


def test_view_order_follows_names_not_file_order_and_rejects_a_cycle():
    assert view_order({"a": "SELECT * FROM b", "b": "SELECT * FROM c -- not a", "c": "SELECT 'a' AS x"}) == ["c", "b", "a"]
    with pytest.raises(ValueError, match="cycle"):
        view_order({"a": "SELECT * FROM b", "b": "SELECT * FROM a"})


# Shapes the SQL derivation must agree with arbkit/store/derive.py on.
SHAPES = [
    ("kalshi", "in", b'{"type":"orderbook_delta","sid":7,"seq":2,"msg":{"market_ticker":"KXA","ts_ms":17}}'),
    ("kalshi", "in", b'{"type":"orderbook_snapshot","sid":7,"seq":1,"sending_ts_ms":12,"msg":{"market_ticker":"KXA"}}'),
    ("kalshi", "in", b'{"id":6,"type":"ok","msg":[{"channel":"orderbook_delta","sid":7}]}'),
    ("kalshi", "in", b'{"type":"error","id":3,"msg":{"code":6,"msg":"Already subscribed"}}'),
    ("kalshi", "out", b'{"id":1,"cmd":"subscribe","params":{"channels":["orderbook_delta"]}}'),
    ("kalshi", "in", b'[1,2]'),
    ("kalshi", "in", b'{"type":"orderbook_delta","sid":1,"seq":'),
    ("kalshi", "in", b'{"type":"orderbook_delta","seq":"3"}'),
    ("kalshi", "in", b'{"type":"orderbook_delta","sid":99999999999999999999,"seq":3}'),
    ("kalshi", "in", b'{"type":"orderbook_delta","sid":"4","seq":3,"msg":{"sid":5}}'),
    ("polymarket", "in", orjson.dumps({"event_type": "book", "asset_id": YES, "market": CONDITION, "timestamp": "123"})),
    ("polymarket", "in", orjson.dumps({"event_type": "price_change", "market": CONDITION, "timestamp": "99",
                                       "price_changes": [{"asset_id": YES}, {"asset_id": NO}]})),
    ("polymarket", "in", orjson.dumps({"event_type": "price_change", "market": CONDITION, "timestamp": "99",
                                       "price_changes": [{"asset_id": NO}]})),
    ("polymarket", "in", orjson.dumps([{"event_type": "book", "asset_id": YES, "market": CONDITION, "timestamp": "5"},
                                       {"event_type": "book", "asset_id": NO, "market": CONDITION, "timestamp": "9"}])),
    ("polymarket", "in", orjson.dumps([{"event_type": "book", "asset_id": YES, "timestamp": "5"}])),
    ("polymarket", "in", b"PONG"),
    ("polymarket", "in", b"INVALID OPERATION"),
    ("polymarket", "in", b'{"event_type":"book","asset_id":'),
    ("polymarket", "in", b"\xff\xfe not utf-8"),
    ("polymarket", "out", orjson.dumps({"type": "market", "assets_ids": [YES, NO]})),
    ("polymarket", "out", orjson.dumps({"operation": "subscribe", "assets_ids": [YES]})),
    ("polymarket", "out", b"PING"),
    ("polymarket", "open", b'{"url":"ws://x"}'),
    ("kalshi", "close", b'{"code":1000}'),
]


def test_derived_columns_computed_in_sql_equal_the_stores_for_files_without_them(tmp_path):
    r = Rows()
    for i, (venue, kind, payload) in enumerate(SHAPES):
        r.add(i, venue, 1, kind, payload)
    con = connect(write_bare(tmp_path, r))
    try:
        got = con.execute(
            "SELECT msg_type, market, venue_seq, venue_ts_ms, condition_id, sid, bytes FROM frames ORDER BY ingest_seq"
        ).fetchall()
    finally:
        con.close()

    assert got == [(*derive_row(venue, kind, payload), len(payload)) for venue, kind, payload in SHAPES]
    conditions = [row[4] for row in got]
    assert conditions == [None] * 10 + [CONDITION] * 4 + [None] * 10
    assert [row[5] for row in got] == [7, 7] + [None] * 22


def test_a_condition_id_column_in_the_files_is_used_as_it_is(tmp_path):
    batch = hand_rows().batch()
    table = pa.Table.from_batches([batch]).append_column(
        "condition_id", pa.array(["from-the-file"] * batch.num_rows, pa.string()))
    tmp_path.joinpath("f").mkdir()
    pq.write_table(table, tmp_path / "f" / "frames.parquet")
    con = connect(tmp_path / "f")
    try:
        assert con.execute("SELECT DISTINCT condition_id FROM frames").fetchall() == [("from-the-file",)]
    finally:
        con.close()


def test_a_crashed_and_recovered_session_says_so_in_sessions_and_stats(tmp_path):
    root = tmp_path / "recordings"
    write_sealed(root, hand_rows())
    crashed = "20260921T141500Z-c4a5h0"
    mf.write_manifest(root, mf.new_manifest(crashed, T0 + 120 * 10**9, {}))
    journal = root / "journal" / crashed / "00000.arrows"
    journal.parent.mkdir(parents=True)
    rows = Rows()
    rows.open(120_000, "kalshi", 1)
    rows.kalshi(120_010, 1, "orderbook_snapshot", 1)
    with pa.OSFile(str(journal), "w") as sink, pa.ipc.new_stream(sink, FRAMES_SCHEMA) as writer:
        writer.write_batch(rows.batch(crashed))
    assert recover(root) == [crashed]

    con = connect(root)
    try:
        got = con.execute("SELECT session_id, status, clean_stop, crashed, recovered FROM sessions ORDER BY start_ns").fetchall()
    finally:
        con.close()
    doc = stats(root)

    assert got == [(SESSION, "complete", True, False, False), (crashed, "recovered", False, True, True)]
    assert (doc["recording"]["sessions"], doc["recording"]["clean_sessions"], doc["recording"]["recovered_sessions"]) == (2, 1, 1)
    assert [s["status"] for s in doc["recording"]["session_list"]] == ["complete", "recovered"]


def test_one_session_of_a_root_can_be_analysed_alone(tmp_path):
    root = tmp_path / "recordings"
    write_sealed(root, hand_rows())
    write_sealed(root, hand_rows(), session_id="20260921T142000Z-b1b1b1")

    con = connect(root / "sessions" / f"{SESSION}.json")
    try:
        assert con.execute("SELECT DISTINCT session_id FROM frames").fetchall() == [(SESSION,)]
    finally:
        con.close()
    assert stats(root)["recording"]["sessions"] == 2


def test_a_path_that_is_not_a_recording_is_a_recording_error(tmp_path):
    with pytest.raises(RecordingError, match="recording not found"):
        connect(tmp_path / "nothing-here")
    tmp_path.joinpath("empty").mkdir()
    with pytest.raises(RecordingError, match="no frames"):
        connect(tmp_path / "empty")
