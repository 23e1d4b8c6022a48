"""iter_frame_lists: the replay hot path's view of a recording (column lists, no Frame objects)."""

from __future__ import annotations

import random
import sys

from msgspec.structs import astuple
from store_frames import frame_rows

from arbkit.store import SessionWriter, iter_frame_batches, iter_frames
from arbkit.store.reader import iter_frame_lists

ROW_COLUMNS = ("session_id", "ingest_seq", "recv_ns", "venue", "conn_id", "kind", "payload")


def test_column_lists_hold_the_same_rows_in_the_same_order_as_frames(tmp_path):
    rng = random.Random(3)
    rows = frame_rows(500, "".join(rng.choice("kp") for _ in range(97)))
    writer = SessionWriter(tmp_path, config={})
    for row in rows:
        writer.append(*row)
    writer.close()
    expected = [
        (f.session_id, f.ingest_seq, f.recv_ns, f.venue, f.conn_id, f.kind, f.payload)
        for f in iter_frames(tmp_path)
    ]

    for batch_rows in (1, 7, 4096):
        batches = list(iter_frame_lists(tmp_path, columns=ROW_COLUMNS, batch_rows=batch_rows))
        got = [row for batch in batches for row in zip(*batch)]

        assert all(len(batch) == len(ROW_COLUMNS) for batch in batches)
        assert got == expected, batch_rows
    assert [r[1] for r in expected] == list(range(500))


def test_column_lists_default_to_the_eight_frames_columns_with_time_filters(tmp_path):
    rows = frame_rows(100, "kp")
    writer = SessionWriter(tmp_path, config={})
    for row in rows:
        writer.append(*row)
    writer.close()
    start, end = rows[10][0], rows[60][0]

    batches = list(iter_frame_lists(tmp_path, start_ns=start, end_ns=end, batch_rows=16))
    got = [row for batch in batches for row in zip(*batch)]

    assert [astuple(f) for f in iter_frames(tmp_path, start_ns=start, end_ns=end)] == got
    assert [r[2] for r in got] == [r[0] for r in rows[10:60]]


def _mixed_session(tmp_path, n=300, seed=5):
    rng = random.Random(seed)
    writer = SessionWriter(tmp_path, config={})
    for row in frame_rows(n, "".join(rng.choice("kp") for _ in range(89))):
        writer.append(*row)
    writer.close()


def test_derived_columns_with_nulls_come_out_as_the_arrow_batches_hold_them(tmp_path):
    _mixed_session(tmp_path)
    columns = ("ingest_seq", "venue", "msg_type", "market", "venue_seq", "venue_ts_ms", "payload")
    expected = [
        tuple(row[c] for c in columns)
        for batch in iter_frame_batches(tmp_path, columns=columns)
        for row in batch.to_pylist()
    ]

    got = [row for batch in iter_frame_lists(tmp_path, columns=columns, batch_rows=5) for row in zip(*batch)]

    assert got == expected
    assert any(row[4] is None for row in got) and any(row[4] is not None for row in got)
    assert all(type(row[0]) is int and type(row[6]) is bytes for row in got)


def test_each_distinct_string_is_one_interned_object_across_batches_and_files(tmp_path):
    _mixed_session(tmp_path)

    batches = list(iter_frame_lists(tmp_path, columns=ROW_COLUMNS, batch_rows=4))

    assert len(batches) > 10
    for index, column in ((0, "session_id"), (3, "venue"), (5, "kind")):
        values = [value for batch in batches for value in batch[index]]
        assert len({id(v) for v in values}) == len(set(values)), column
        assert all(v is sys.intern(v) for v in set(values)), column
    assert {v for batch in batches for v in batch[3]} == {"kalshi", "polymarket"}


def test_sealed_polymarket_frames_carry_their_condition_id_and_older_files_read_as_null(tmp_path):
    import pyarrow.parquet as pq
    from store_frames import CONDITION

    _mixed_session(tmp_path / "new")
    _mixed_session(tmp_path / "old")
    for path in (tmp_path / "old").rglob("*.parquet"):  # a file sealed before the column existed
        table = pq.read_table(path, partitioning=None)
        pq.write_table(table.drop_columns(["condition_id"]), path)
    columns = ("venue", "kind", "condition_id")

    new = [r for b in iter_frame_batches(tmp_path / "new", columns=columns) for r in b.to_pylist()]
    old = [r for b in iter_frame_batches(tmp_path / "old", columns=columns) for r in b.to_pylist()]

    assert {r["condition_id"] for r in new if r["venue"] == "polymarket" and r["kind"] == "in"} == {CONDITION}
    assert {r["condition_id"] for r in new if r["venue"] == "kalshi" or r["kind"] != "in"} == {None}
    assert len(old) == len(new) and {r["condition_id"] for r in old} == {None}
