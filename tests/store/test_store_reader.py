"""Reading recordings in replay order (session start, ingest_seq)."""

from __future__ import annotations

import random
import shutil

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from store_frames import BASE_NS, frame_rows

from arbkit.errors import RecordingError
from arbkit.store import SessionWriter, iter_frame_batches, iter_frames, resolve, write_session
from arbkit.store.schema import FRAME_COLUMNS, FRAMES_SCHEMA


def frames_table(session_id: str, rows, first_seq: int = 0) -> pa.Table:
    return pa.Table.from_pylist(
        [dict(zip(FRAMES_SCHEMA.names, (session_id, first_seq + i, *r))) for i, r in enumerate(rows)],
        schema=FRAMES_SCHEMA,
    )


def shifted(rows, ns: int):
    return [(r[0] + ns, *r[1:]) for r in rows]


@pytest.fixture
def two_sessions(tmp_path):
    """Two sessions; the one written first starts an hour later."""
    late = write_session(
        tmp_path, frames_table("20260921T151320Z-aaaaaa", shifted(frame_rows(30, "kp"), 3600 * 10**9)).to_batches(), config={}
    )
    early = write_session(tmp_path, frames_table("20260921T141320Z-bbbbbb", frame_rows(20, "kkp")).to_batches(), config={})
    return tmp_path, early, late


def test_two_venues_of_one_session_merge_in_ingest_seq_order(tmp_path):
    rng = random.Random(7)
    pattern = "".join(rng.choice("kp") for _ in range(997))
    rows = frame_rows(2000, pattern)
    writer = SessionWriter(tmp_path, config={})
    for row in rows:
        writer.append(*row)
    writer.close()

    for batch_rows in (3, 64, 100_000):
        frames = list(iter_frames(tmp_path, batch_rows=batch_rows))
        assert [f.ingest_seq for f in frames] == list(range(2000)), batch_rows
        assert [(f.recv_ns, f.mono_ns, f.venue, f.conn_id, f.kind, f.payload) for f in frames] == rows
    seqs = [s for b in iter_frame_batches(tmp_path, batch_rows=13) for s in b["ingest_seq"].to_pylist()]
    assert seqs == list(range(2000))


def test_batches_have_exactly_the_frames_schema_by_default(tmp_path):
    write_session(tmp_path, frames_table("s1", frame_rows(10)).to_batches(), config={})

    batches = list(iter_frame_batches(tmp_path))

    assert all(b.schema.equals(FRAMES_SCHEMA) for b in batches)


def test_sessions_are_read_in_order_of_their_start(two_sessions):
    root, early, late = two_sessions

    sessions = resolve(root)
    frames = list(iter_frames(root))

    assert [s.session_id for s in sessions] == [early, late]
    assert [f.session_id for f in frames] == [early] * 20 + [late] * 30
    assert [f.ingest_seq for f in frames] == list(range(20)) + list(range(30))


def test_a_session_can_be_named_by_manifest_or_by_id_under_the_root(two_sessions):
    root, early, late = two_sessions

    by_manifest = {f.session_id for f in iter_frames(root / "sessions" / f"{late}.json")}
    by_id = {f.session_id for f in iter_frames(root / late)}
    by_sessions_id = [s.session_id for s in resolve(root / "sessions" / early)]

    assert by_manifest == by_id == {late}
    assert by_sessions_id == [early]


def test_files_without_manifests_are_grouped_by_their_session_id_column(two_sessions):
    root, early, late = two_sessions
    shutil.rmtree(root / "sessions")

    sessions = resolve(root / "frames")
    one_file = next((root / "frames").glob(f"*/venue=kalshi/{late}-*.parquet"))

    assert [s.session_id for s in sessions] == [early, late]
    assert [s.start_ns for s in sessions] == [BASE_NS, BASE_NS + 3600 * 10**9]
    assert {f.venue for f in iter_frames(one_file)} == {"kalshi"}


def test_a_glob_selects_files_and_they_still_merge_in_order(two_sessions):
    root, early, late = two_sessions

    frames = list(iter_frames(str(root / "frames" / "**" / f"{late}-*.parquet")))

    assert [f.ingest_seq for f in frames] == list(range(30))


def test_a_file_holding_two_sessions_is_split_between_them(tmp_path):
    table = pa.concat_tables(
        [frames_table("sess-b", shifted(frame_rows(5), 10**9)), frames_table("sess-a", frame_rows(4))]
    )
    pq.write_table(table, tmp_path / "mixed.parquet")

    frames = list(iter_frames(tmp_path))

    assert [(f.session_id, f.ingest_seq) for f in frames] == [("sess-a", i) for i in range(4)] + [
        ("sess-b", i) for i in range(5)
    ]


def test_time_and_venue_filters_select_rows(tmp_path):
    write_session(tmp_path, frames_table("s1", frame_rows(100, "kp")).to_batches(), config={})
    start, end = BASE_NS + 10 * 1_000_000, BASE_NS + 20 * 1_000_000

    frames = list(iter_frames(tmp_path, start_ns=start, end_ns=end, venues=["polymarket"]))

    assert [f.ingest_seq for f in frames] == [11, 13, 15, 17, 19]
    assert {f.venue for f in frames} == {"polymarket"}


def test_derived_columns_can_be_requested(tmp_path):
    write_session(tmp_path, frames_table("s1", frame_rows(6, "k")).to_batches(), config={})

    batch = pa.Table.from_batches(
        list(iter_frame_batches(tmp_path, columns=["ingest_seq", "msg_type", "venue_seq"]))
    )

    assert batch.column_names == ["ingest_seq", "msg_type", "venue_seq"]
    assert batch["msg_type"].to_pylist() == [None, "subscribe"] + ["orderbook_delta"] * 4
    assert batch["venue_seq"].to_pylist() == [None, None, 2, 3, 4, 5]


def test_foreign_files_with_other_string_types_and_no_derived_columns_are_read(tmp_path):
    table = frames_table("s1", frame_rows(8))
    foreign = table.cast(
        pa.schema([pa.field(f.name, pa.large_string() if f.type == pa.string() else f.type) for f in FRAMES_SCHEMA])
    ).append_column("extra", pa.array(range(8)))
    pq.write_table(foreign, tmp_path / "x.parquet")

    batches = list(iter_frame_batches(tmp_path / "x.parquet", columns=[*FRAME_COLUMNS, "market"]))

    assert batches[0].schema.field("venue").type == pa.string()
    assert batches[0]["market"].null_count == 8
    assert [f.payload for f in iter_frames(tmp_path)] == table["payload"].to_pylist()


@pytest.mark.parametrize("name", ["does-not-exist", "no-such-*.parquet"])
def test_a_missing_path_raises_recording_error_naming_it(tmp_path, name):
    with pytest.raises(RecordingError, match=name.replace("*", r"\*").replace(".", r"\.")):
        iter_frame_batches(tmp_path / name)


def test_a_directory_without_frames_raises_recording_error(tmp_path):
    (tmp_path / "sessions").mkdir()

    with pytest.raises(RecordingError, match="no frames"):
        iter_frames(tmp_path)


def test_an_unreadable_parquet_file_raises_recording_error_naming_it(tmp_path):
    (tmp_path / "broken.parquet").write_bytes(b"PAR1 this is not parquet")

    with pytest.raises(RecordingError, match="broken.parquet"):
        iter_frames(tmp_path)


def test_a_parquet_file_without_frames_columns_raises_recording_error(tmp_path):
    pq.write_table(pa.table({"a": [1]}), tmp_path / "other.parquet")

    with pytest.raises(RecordingError, match="other.parquet is not a frames file"):
        iter_frames(tmp_path / "other.parquet")
    with pytest.raises(RecordingError, match="no frames"):
        iter_frames(tmp_path)


def test_other_parquet_beside_the_frames_is_skipped(tmp_path):
    write_session(tmp_path, frames_table("s1", frame_rows(5)).to_batches(), config={})
    pq.write_table(pa.table({"dislocation": [1]}), tmp_path / "ground_truth.parquet")
    pq.write_table(pa.table({"pair": ["p"]}), tmp_path / "frames" / "notes.parquet")
    (tmp_path / "loose").mkdir()
    write_session(tmp_path / "loose", frames_table("s2", frame_rows(3)).to_batches(), config={})
    pq.write_table(pa.table({"x": [1]}), tmp_path / "loose" / "frames" / "x.parquet")

    from_root = [f.ingest_seq for f in iter_frames(tmp_path)]
    from_dir = [f.session_id for f in iter_frames(tmp_path / "loose" / "frames")]

    assert from_root == list(range(5))
    assert from_dir == ["s2"] * 3


def test_a_file_out_of_ingest_order_raises_recording_error(tmp_path):
    table = frames_table("s1", frame_rows(4))
    pq.write_table(table.take([0, 2, 1, 3]), tmp_path / "unsorted.parquet")

    with pytest.raises(RecordingError, match="not strictly increasing"):
        list(iter_frames(tmp_path))


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    venues=st.lists(st.sampled_from(["kalshi", "polymarket", "third"]), min_size=1, max_size=300),
    gaps=st.lists(st.integers(1, 5), min_size=300, max_size=300),
    rows_per_file=st.integers(1, 120),
    batch_rows=st.integers(1, 50),
)
def test_any_interleaving_of_venue_files_reads_back_in_ingest_seq_order(
    tmp_path_factory, venues, gaps, rows_per_file, batch_rows
):
    root = tmp_path_factory.mktemp("rec")
    seqs = [sum(gaps[: i + 1]) for i in range(len(venues))]
    table = pa.Table.from_pylist(
        [
            dict(zip(FRAMES_SCHEMA.names, ("s", seq, BASE_NS + seq, seq, venue, 0, "in", str(seq).encode())))
            for seq, venue in zip(seqs, venues)
        ],
        schema=FRAMES_SCHEMA,
    )
    write_session(root, table.to_batches(max_chunksize=37), config={}, rows_per_file=rows_per_file)

    frames = list(iter_frames(root, batch_rows=batch_rows))
    batches = list(iter_frame_batches(root, batch_rows=batch_rows))

    assert [(f.ingest_seq, f.venue, f.payload) for f in frames] == list(
        zip(seqs, venues, (str(s).encode() for s in seqs))
    )
    assert pa.Table.from_batches(batches)["ingest_seq"].to_pylist() == seqs


def test_a_file_corrupt_inside_its_data_raises_recording_error_while_reading(tmp_path):
    write_session(tmp_path, frames_table("s1", frame_rows(2000)).to_batches(), config={})
    victim = next((tmp_path / "frames").glob("*/venue=polymarket/*.parquet"))
    data = bytearray(victim.read_bytes())
    start = len(data) // 3  # inside the column data, far from the footer
    data[start : start + 64] = bytes(64)
    victim.write_bytes(bytes(data))

    frames = iter_frames(tmp_path)
    with pytest.raises(RecordingError, match=victim.name):
        list(frames)
