"""iter_frame_lists: the replay hot path's view of a recording (column lists, no Frame objects)."""

from __future__ import annotations

import random

from msgspec.structs import astuple
from store_frames import frame_rows

from arbkit.store import SessionWriter, iter_frames
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
