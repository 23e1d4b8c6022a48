"""SessionWriter: journal, sealing, manifest, layout (DESIGN §3)."""

from __future__ import annotations

import json
import time
from pathlib import Path

import duckdb
import polars as pl
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from store_frames import BASE_NS, frame_rows

from arbkit.errors import StorageError
from arbkit.store import (
    SEALED_SCHEMA,
    SessionWriter,
    iter_frames,
    recover,
    write_session,
)
from arbkit.store.schema import FRAMES_SCHEMA

CONFIG = {
    "venues": {
        "kalshi": {"key_id": "KEY-ID-SECRET-123", "private_key_path": "k.pem", "use_yes_price": False},
        "polymarket": {"ws_url": "ws://127.0.0.1:9/ws"},
    },
    "pairs": [{"name": "p", "kalshi_ticker": "KXA", "key_id": "nested-secret"}],
}


def record(root: Path, rows, **kwargs) -> SessionWriter:
    writer = SessionWriter(root, config=CONFIG, **kwargs)
    for row in rows:
        writer.append(*row)
    writer.close()
    return writer


def sealed_files(root: Path) -> list[Path]:
    return sorted((root / "frames").glob("date=*/venue=*/*.parquet"))


def test_round_trip_keeps_every_frame_and_exact_column_types(tmp_path):
    rows = frame_rows(500, "kkpkp")

    writer = record(tmp_path, rows)

    files = sealed_files(tmp_path)
    assert len(files) == 2
    for f in files:
        schema = pq.read_schema(f)
        assert [(x.name, x.type) for x in schema] == [(x.name, x.type) for x in SEALED_SCHEMA]
    frames = list(iter_frames(tmp_path))
    assert [f.ingest_seq for f in frames] == list(range(500))
    assert [(f.recv_ns, f.mono_ns, f.venue, f.conn_id, f.kind, f.payload) for f in frames] == rows
    assert {f.session_id for f in frames} == {writer.session_id}


def test_append_returns_strictly_increasing_ingest_seq_from_zero(tmp_path):
    writer = SessionWriter(tmp_path, config={})

    seqs = [writer.append(*row) for row in frame_rows(50)]
    writer.close()

    assert seqs == list(range(50))


def test_sealed_files_follow_the_hive_layout_named_by_date_and_venue(tmp_path):
    writer = record(tmp_path, frame_rows(10))

    relative = [f.relative_to(tmp_path).as_posix() for f in sealed_files(tmp_path)]

    assert relative == [
        f"frames/date=2026-09-21/venue=kalshi/{writer.session_id}-00000.parquet",
        f"frames/date=2026-09-21/venue=polymarket/{writer.session_id}-00000.parquet",
    ]
    assert not (tmp_path / "journal" / writer.session_id).exists()


def test_manifest_is_complete_with_counts_and_files_and_no_secrets(tmp_path):
    writer = record(tmp_path, frame_rows(20))

    path = tmp_path / "sessions" / f"{writer.session_id}.json"
    text = path.read_text()
    manifest = json.loads(text)

    assert "key_id" not in text and "SECRET" not in text and "private_key" not in text
    assert manifest["status"] == "complete"
    assert manifest["config"]["venues"]["kalshi"] == {"use_yes_price": False}
    assert manifest["counts"] == {
        "kalshi": {"in": 8, "open": 1, "out": 1},
        "polymarket": {"in": 8, "open": 1, "out": 1},
    }
    assert manifest["frames"] == 20
    assert sorted(f["path"] for f in manifest["files"]) == [
        f.relative_to(tmp_path).as_posix() for f in sealed_files(tmp_path)
    ]
    assert manifest["start_ns"] <= manifest["end_ns"]
    assert manifest["host"] and manifest["arbkit_version"]


def test_manifest_says_recording_while_the_session_runs(tmp_path):
    writer = SessionWriter(tmp_path, config={})

    manifest = json.loads((tmp_path / "sessions" / f"{writer.session_id}.json").read_text())
    writer.close()

    assert manifest["status"] == "recording"


def test_rotation_produces_several_files_per_venue_that_read_back_in_order(tmp_path):
    rows = frame_rows(90, "kpp")
    writer = SessionWriter(tmp_path, config={}, rotation_s=0.0)

    for start in range(0, 90, 30):
        for row in rows[start : start + 30]:
            writer.append(*row)
        writer.tick()  # rotation_s=0: every tick seals a segment
    writer.close()

    names = sorted(f.name for f in sealed_files(tmp_path))
    assert names == sorted(
        f"{writer.session_id}-{n:05d}.parquet" for n in range(3) for _ in ("k", "p")
    )
    assert [f.ingest_seq for f in iter_frames(tmp_path)] == list(range(90))
    manifest = json.loads((tmp_path / "sessions" / f"{writer.session_id}.json").read_text())
    assert len(manifest["files"]) == 6


def test_flush_makes_frames_readable_in_the_journal_before_sealing(tmp_path):
    writer = SessionWriter(tmp_path, config={})
    for row in frame_rows(7):
        writer.append(*row)

    writer.flush()
    journal = tmp_path / "journal" / writer.session_id / "00000.arrows"
    with pa.OSFile(str(journal)) as f:
        table = pa.ipc.open_stream(f).read_all()
    writer.close()

    assert table.schema.equals(FRAMES_SCHEMA)
    assert table.column("ingest_seq").to_pylist() == list(range(7))


def test_duckdb_polars_and_pyarrow_dataset_read_the_sealed_layout(tmp_path):
    record(tmp_path, frame_rows(40, "kpp"))
    pattern = (tmp_path / "frames" / "**" / "*.parquet").as_posix()

    counts = duckdb.sql(
        f"SELECT venue, count(*) FROM read_parquet('{pattern}', hive_partitioning=true) "
        "GROUP BY venue ORDER BY venue"
    ).fetchall()
    dataset = ds.dataset(tmp_path / "frames", partitioning="hive").to_table()
    by_polars = (
        pl.scan_parquet(pattern, hive_partitioning=True).group_by("venue").len().sort("venue").collect()
    )

    assert counts == [("kalshi", 14), ("polymarket", 26)]
    assert by_polars.rows() == counts
    assert dataset.num_rows == 40
    assert dataset.schema.field("venue").type == pa.string()
    assert set(dataset.column("date").to_pylist()) == {"2026-09-21"}


def test_bytes_on_disk_counts_journal_then_sealed_files(tmp_path):
    writer = SessionWriter(tmp_path, config={})
    for row in frame_rows(100):
        writer.append(*row)
    writer.flush()
    journal_bytes = writer.bytes_on_disk
    journal_size = (tmp_path / "journal" / writer.session_id / "00000.arrows").stat().st_size

    writer.close()

    assert journal_bytes == journal_size > 0
    assert writer.bytes_on_disk == sum(f.stat().st_size for f in sealed_files(tmp_path))


def test_typical_frames_take_at_most_100_bytes_each_on_disk(tmp_path):
    record(tmp_path, frame_rows(5000))

    size = sum(f.stat().st_size for f in sealed_files(tmp_path))

    assert size / 5000 <= 100


def test_a_full_disk_during_flush_raises_storage_error(tmp_path):
    session_id = "20260921T141320Z-d15c00"
    journal = tmp_path / "journal" / session_id
    journal.mkdir(parents=True)
    (journal / "00000.arrows").symlink_to("/dev/full")  # every write fails with ENOSPC
    writer = SessionWriter(tmp_path, config={}, session_id=session_id)
    writer.append(*frame_rows(1)[0])

    with pytest.raises(StorageError, match="journal"):
        writer.flush()
    with pytest.raises(StorageError):
        writer.close()


def test_a_seal_that_cannot_write_keeps_the_journal_for_recovery(tmp_path):
    rows = frame_rows(30)
    (tmp_path / "frames").write_text("a file where the frames directory should be")
    writer = SessionWriter(tmp_path, config={})
    for row in rows:
        writer.append(*row)

    with pytest.raises(StorageError, match="cannot seal"):
        writer.close()

    (tmp_path / "frames").unlink()
    assert recover(tmp_path) == [writer.session_id]
    assert [f.ingest_seq for f in iter_frames(tmp_path)] == list(range(30))


def test_an_existing_sealed_file_is_never_overwritten(tmp_path):
    session_id = "20260921T141320Z-0ccu01"
    other = write_session(
        tmp_path / "other",
        [pa.RecordBatch.from_pylist(
            [dict(zip(FRAMES_SCHEMA.names, (session_id, 1000 + i, BASE_NS + i, i, "kalshi", 0, "in", b"x")))
             for i in range(3)],
            schema=FRAMES_SCHEMA,
        )],
        config={},
    )
    assert other == session_id
    target = tmp_path / "frames" / "date=2026-09-21" / "venue=kalshi" / f"{session_id}-00000.parquet"
    target.parent.mkdir(parents=True)
    original = (tmp_path / "other" / "frames" / "date=2026-09-21" / "venue=kalshi" / target.name).read_bytes()
    target.write_bytes(original)

    record(tmp_path, frame_rows(10), session_id=session_id)

    assert target.read_bytes() == original
    beside = target.with_name(f"{session_id}-00000.1.parquet")
    assert pq.read_table(beside).column("ingest_seq").to_pylist() == [0, 2, 4, 6, 8]


def test_write_session_rotates_files_and_completes_the_manifest(tmp_path):
    rows = frame_rows(2500, "kp")
    table = pa.table(
        {
            "session_id": ["ignored"] * 2500,
            "ingest_seq": list(range(2500)),
            "recv_ns": [r[0] for r in rows],
            "mono_ns": [r[1] for r in rows],
            "venue": [r[2] for r in rows],
            "conn_id": [r[3] for r in rows],
            "kind": [r[4] for r in rows],
            "payload": [r[5] for r in rows],
        },
        schema=FRAMES_SCHEMA,
    )

    session_id = write_session(
        tmp_path, table.to_batches(max_chunksize=333), config=CONFIG, session_id="20260921T141320Z-abcdef",
        rows_per_file=1000,
    )

    manifest = json.loads((tmp_path / "sessions" / f"{session_id}.json").read_text())
    assert session_id == "20260921T141320Z-abcdef"
    assert manifest["status"] == "complete" and manifest["frames"] == 2500
    assert "key_id" not in json.dumps(manifest)
    assert len(sealed_files(tmp_path)) == 6
    frames = list(iter_frames(tmp_path))
    assert [f.ingest_seq for f in frames] == list(range(2500))
    assert {f.session_id for f in frames} == {session_id}
    assert [f.payload for f in frames] == [r[5] for r in rows]


def test_write_session_rejects_ingest_seq_that_goes_backwards(tmp_path):
    batch = pa.RecordBatch.from_pylist(
        [dict(zip(FRAMES_SCHEMA.names, ("s", seq, BASE_NS, 0, "kalshi", 0, "in", b"x"))) for seq in (1, 3, 2)],
        schema=FRAMES_SCHEMA,
    )

    with pytest.raises(ValueError, match="strictly increasing"):
        write_session(tmp_path, [batch], config={})


def test_appending_after_close_raises_instead_of_dropping_the_frame(tmp_path):
    writer = record(tmp_path, frame_rows(3))

    with pytest.raises(StorageError, match="closed"):
        writer.append(*frame_rows(1)[0])


def test_a_root_that_cannot_be_created_raises_storage_error(tmp_path):
    (tmp_path / "file").write_text("not a directory")

    with pytest.raises(StorageError, match="journal"):
        SessionWriter(tmp_path / "file" / "recordings", config={})


def test_a_session_id_already_being_recorded_is_refused(tmp_path):
    first = SessionWriter(tmp_path, config={})

    with pytest.raises(StorageError, match="already being recorded"):
        SessionWriter(tmp_path, config={}, session_id=first.session_id)
    first.close()


def test_payload_buffers_reused_across_flushes_never_leak_an_earlier_flush_s_bytes(tmp_path):
    long_frames = [(BASE_NS + i, i, "kalshi", 1, "in", bytes([65 + i % 26]) * 900) for i in range(50)]
    short_frames = [(BASE_NS + 50 + i, 50 + i, "kalshi", 1, "in", b"%d" % i) for i in range(50)]
    writer = SessionWriter(tmp_path, config={})

    for batch in (long_frames, short_frames, long_frames[:3], short_frames[:7], [], short_frames):
        for row in batch:
            writer.append(*row)
        writer.flush()
    writer.close()

    expected = long_frames + short_frames + long_frames[:3] + short_frames[:7] + short_frames
    frames = list(iter_frames(tmp_path))
    assert [f.payload for f in frames] == [row[5] for row in expected]
    assert [f.ingest_seq for f in frames] == list(range(len(expected)))


def test_connection_columns_follow_every_change_of_venue_connection_and_kind(tmp_path):
    # Equal strings that are not the same object must read back like the same label.
    rows = [
        (BASE_NS + i, i, "KALSHI".lower() if i % 3 else "kalshi", i // 4, ("in", "out")[i % 5 == 0], b"x%d" % i)
        for i in range(40)
    ] + [(BASE_NS + 40 + i, 40 + i, ("kalshi", "polymarket")[i % 2], 7, "in", b"y%d" % i) for i in range(40)]

    record(tmp_path, rows)

    frames = list(iter_frames(tmp_path))
    assert [(f.recv_ns, f.mono_ns, f.venue, f.conn_id, f.kind, f.payload) for f in frames] == rows


def test_a_rejected_frame_leaves_no_trace_and_takes_no_ingest_seq(tmp_path):
    rows = frame_rows(6)
    writer = SessionWriter(tmp_path, config={})
    seqs = [writer.append(*row) for row in rows[:3]]

    with pytest.raises(TypeError):
        writer.append(BASE_NS, 1, "kalshi", 0, "in", "text, not bytes")
    with pytest.raises(TypeError):
        writer.append(BASE_NS, None, "kalshi", 0, "in", b"no monotonic time")
    with pytest.raises(ValueError, match="int32"):
        writer.append(BASE_NS, 1, "kalshi", 2**40, "in", b"conn id too large")
    seqs += [writer.append(*row) for row in rows[3:]]
    writer.close()

    assert seqs == list(range(6))
    frames = list(iter_frames(tmp_path))
    assert [(f.recv_ns, f.mono_ns, f.venue, f.conn_id, f.kind, f.payload) for f in frames] == rows


def test_a_flush_beyond_the_batch_limits_is_split_into_batches_that_read_back_whole(tmp_path, monkeypatch):
    monkeypatch.setattr("arbkit.store.session.MAX_BATCH_PAYLOAD", 5_000)
    monkeypatch.setattr("arbkit.store.session.MAX_BATCH_ROWS", 40)
    rows = frame_rows(300, "kpp")
    writer = SessionWriter(tmp_path, config={})
    for row in rows:
        writer.append(*row)

    writer.flush()
    journal = tmp_path / "journal" / writer.session_id / "00000.arrows"
    with pa.OSFile(str(journal)) as f:
        batches = list(pa.ipc.open_stream(f))
    writer.close()

    assert len(batches) > 300 // 40
    assert all(b.num_rows <= 40 and len(b.column("payload").buffers()[2]) <= 5_000 for b in batches)
    frames = list(iter_frames(tmp_path))
    assert [f.ingest_seq for f in frames] == list(range(300))
    assert [(f.recv_ns, f.mono_ns, f.venue, f.conn_id, f.kind, f.payload) for f in frames] == rows


class SteppedClock:
    """A monotonic clock that moves only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_tick_writes_the_journal_in_the_background_at_every_flush_interval(tmp_path):
    clock = SteppedClock()
    # Binary fractions of a second, so that the clock's steps add up exactly.
    writer = SessionWriter(tmp_path, config={}, flush_interval_s=0.5, clock=clock)
    journal = tmp_path / "journal" / writer.session_id / "00000.arrows"
    rows = frame_rows(200)

    for i, row in enumerate(rows):
        writer.append(*row)
        if i % 50 == 24:
            writer.tick()  # the interval has not passed yet: nothing to flush
        elif i % 50 == 49:
            clock.now += 0.5
            writer.tick()
    deadline = time.monotonic() + 5  # the background writer's pace, not what is tested
    while time.monotonic() < deadline and _journal_rows(journal) < 200:
        time.sleep(0.01)
    batches = _journal_batches(journal)
    writer.close()

    # One flush per interval: four batches of 50 (a flush at a tick before the interval passed
    # would have cut batches of 25).
    assert [b.num_rows for b in batches] == [50, 50, 50, 50]
    assert [f.ingest_seq for f in iter_frames(tmp_path)] == list(range(200))


def _journal_batches(journal: Path) -> list[pa.RecordBatch]:
    with pa.OSFile(str(journal)) as f:
        return list(pa.ipc.open_stream(f))


def _journal_rows(journal: Path) -> int:
    try:
        with pa.OSFile(str(journal)) as f:
            return sum(b.num_rows for b in pa.ipc.open_stream(f))
    except (OSError, pa.ArrowInvalid):
        return 0


def test_a_background_write_error_surfaces_at_a_later_tick(tmp_path):
    session_id = "20260921T141320Z-d15c01"
    journal = tmp_path / "journal" / session_id
    journal.mkdir(parents=True)
    (journal / "00000.arrows").symlink_to("/dev/full")
    writer = SessionWriter(tmp_path, config={}, session_id=session_id, flush_interval_s=0.0)
    writer.append(*frame_rows(1)[0])

    deadline = time.monotonic() + 5
    with pytest.raises(StorageError, match="journal"):  # the error comes from a later tick
        while time.monotonic() < deadline:
            writer.tick()
            time.sleep(0.01)
    with pytest.raises(StorageError):
        writer.close()


def test_tick_cuts_a_journal_batch_once_chunk_bytes_of_payload_are_buffered(tmp_path, monkeypatch):
    monkeypatch.setattr("arbkit.store.session.CHUNK_BYTES", 2_000)
    # The clock never moves: only the buffered bytes can make a tick flush.
    writer = SessionWriter(tmp_path, config={}, flush_interval_s=3600.0, clock=SteppedClock())
    journal = tmp_path / "journal" / writer.session_id / "00000.arrows"

    for row in frame_rows(5):  # well under 2000 bytes of payload
        writer.append(*row)
    writer.tick()
    for row in frame_rows(60)[5:]:
        writer.append(*row)
    writer.tick()
    deadline = time.monotonic() + 5  # the background writer's pace, not what is tested
    while _journal_rows(journal) < 60 and time.monotonic() < deadline:
        time.sleep(0.01)
    batches = _journal_batches(journal)
    writer.close()

    # Had the first tick flushed its 5 small rows, they would be a batch of their own.
    assert batches[0].num_rows > 5
    assert sum(b.num_rows for b in batches) == 60


def test_row_writers_and_append_interleave_into_one_ingest_order(tmp_path):
    clock = iter(range(BASE_NS, BASE_NS + 1000))
    mono = iter(range(1000))
    writer = SessionWriter(tmp_path, config={})
    kalshi_in = writer.row_writer("kalshi", 1, "in", clock.__next__, mono.__next__)
    poly_in = writer.row_writer("polymarket", 2, "in", clock.__next__, mono.__next__)

    kalshi_in(b"k0")
    seq = writer.append(next(clock), next(mono), "kalshi", 1, "out", b"k-out")
    kalshi_in(b"k1")
    poly_in(b"p0")
    kalshi_in(b"k2")
    writer.flush()
    poly_in(b"p1")
    frames_before_close = writer.frames
    writer.close()

    assert seq == 1 and frames_before_close == 6
    frames = list(iter_frames(tmp_path))
    assert [(f.ingest_seq, f.recv_ns - BASE_NS, f.mono_ns, f.venue, f.conn_id, f.kind, f.payload) for f in frames] == [
        (0, 0, 0, "kalshi", 1, "in", b"k0"),
        (1, 1, 1, "kalshi", 1, "out", b"k-out"),
        (2, 2, 2, "kalshi", 1, "in", b"k1"),
        (3, 3, 3, "polymarket", 2, "in", b"p0"),
        (4, 4, 4, "kalshi", 1, "in", b"k2"),
        (5, 5, 5, "polymarket", 2, "in", b"p1"),
    ]
    with pytest.raises(StorageError, match="closed"):
        kalshi_in(b"too late")
