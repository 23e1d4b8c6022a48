"""Recovery of journals left by a crashed writer (DESIGN §3 crash safety)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pytest
from store_frames import frame_rows

from arbkit.store import SessionWriter, iter_frames, recover
from arbkit.store import manifest as mf
from arbkit.store.schema import FRAMES_SCHEMA

SESSION = "20260921T141320Z-c4a5h0"
HERE = Path(__file__).resolve().parent


def frames_batch(rows, first_seq: int) -> pa.RecordBatch:
    return pa.RecordBatch.from_pylist(
        [
            dict(zip(FRAMES_SCHEMA.names, (SESSION, first_seq + i, *row)))
            for i, row in enumerate(rows)
        ],
        schema=FRAMES_SCHEMA,
    )


def crashed_session(root: Path, batches: list[pa.RecordBatch], cut_bytes: int = 0) -> Path:
    """Leave what a killed writer leaves: a 'recording' manifest and a journal segment."""
    mf.write_manifest(root, mf.new_manifest(SESSION, batches[0]["recv_ns"][0].as_py(), {}))
    journal = root / "journal" / SESSION / "00000.arrows"
    journal.parent.mkdir(parents=True)
    with pa.OSFile(str(journal), "w") as sink:
        writer = pa.ipc.new_stream(sink, FRAMES_SCHEMA)
        for batch in batches:
            writer.write_batch(batch)
    if cut_bytes:
        os.truncate(journal, journal.stat().st_size - cut_bytes)
    return journal


def manifest_of(root: Path, session_id: str = SESSION) -> dict:
    return json.loads((root / "sessions" / f"{session_id}.json").read_text())


def test_recover_seals_a_crashed_journal_and_marks_the_manifest_recovered(tmp_path):
    rows = frame_rows(60)
    journal = crashed_session(tmp_path, [frames_batch(rows[:30], 0), frames_batch(rows[30:], 30)])

    recovered = recover(tmp_path)

    assert recovered == [SESSION]
    assert not journal.exists() and not journal.parent.exists()
    assert [f.ingest_seq for f in iter_frames(tmp_path)] == list(range(60))
    manifest = manifest_of(tmp_path)
    assert manifest["status"] == "recovered"
    assert manifest["frames"] == 60
    assert manifest["end_ns"] == rows[-1][0]


def test_a_journal_cut_mid_batch_recovers_its_complete_prefix(tmp_path):
    rows = frame_rows(90)
    crashed_session(
        tmp_path,
        [frames_batch(rows[:30], 0), frames_batch(rows[30:60], 30), frames_batch(rows[60:], 60)],
        cut_bytes=100,  # the last batch's body is torn
    )

    recover(tmp_path)

    frames = list(iter_frames(tmp_path))
    assert [f.ingest_seq for f in frames] == list(range(60))
    assert [f.payload for f in frames] == [r[5] for r in rows[:60]]


def test_a_journal_with_only_a_torn_schema_recovers_nothing_and_is_removed(tmp_path):
    journal = crashed_session(tmp_path, [frames_batch(frame_rows(3), 0)])
    os.truncate(journal, 10)

    assert recover(tmp_path) == [SESSION]

    assert not journal.exists()
    assert manifest_of(tmp_path)["status"] == "recovered"
    assert manifest_of(tmp_path)["frames"] == 0


def test_recover_twice_is_idempotent_and_never_rewrites_sealed_files(tmp_path):
    crashed_session(tmp_path, [frames_batch(frame_rows(40), 0)])
    recover(tmp_path)
    sealed = sorted((tmp_path / "frames").glob("*/*/*.parquet"))
    before = {p: (p.stat().st_ino, p.stat().st_mtime_ns, p.read_bytes()) for p in sealed}

    assert recover(tmp_path) == []

    assert {p: (p.stat().st_ino, p.stat().st_mtime_ns, p.read_bytes()) for p in sealed} == before


def test_a_crash_between_sealing_and_deleting_the_journal_does_not_duplicate_frames(tmp_path):
    batches = [frames_batch(frame_rows(40), 0)]
    crashed_session(tmp_path, batches)
    recover(tmp_path)
    sealed = sorted((tmp_path / "frames").glob("*/*/*.parquet"))
    inodes = [p.stat().st_ino for p in sealed]
    # The process died after publishing the files, before updating the manifest and
    # deleting the journal: the same journal and a 'recording' manifest are still there.
    crashed_session(tmp_path, batches)

    recover(tmp_path)

    assert sorted((tmp_path / "frames").glob("*/*/*.parquet")) == sealed
    assert [p.stat().st_ino for p in sealed] == inodes
    assert [f.ingest_seq for f in iter_frames(tmp_path)] == list(range(40))
    assert len(manifest_of(tmp_path)["files"]) == 2


def test_recover_leaves_the_journal_of_a_running_writer_alone(tmp_path):
    writer = SessionWriter(tmp_path, config={})
    for row in frame_rows(5):
        writer.append(*row)
    writer.flush()

    recovered = recover(tmp_path)
    journal_exists = (tmp_path / "journal" / writer.session_id / "00000.arrows").exists()
    writer.close()

    assert recovered == []
    assert journal_exists
    assert [f.ingest_seq for f in iter_frames(tmp_path)] == list(range(5))


def test_recover_on_a_root_without_journals_does_nothing(tmp_path):
    assert recover(tmp_path) == []


CHILD = """
import sys
import time
sys.path.insert(0, sys.argv[3])
from store_frames import frame_rows
from arbkit.store import SessionWriter

rows = frame_rows(200_000)
writer = SessionWriter(sys.argv[1], config={}, session_id=sys.argv[2], flush_interval_s=0.0)
seq = -1
for start in range(0, len(rows), 997):
    for row in rows[start:start + 997]:
        seq = writer.append(*row)
    writer.flush()
    print(seq, flush=True)
"""


@pytest.mark.e2e
@pytest.mark.timeout(60)
def test_kill_9_loses_nothing_up_to_the_last_flush(tmp_path):
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(tmp_path), SESSION, str(HERE)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    flushed = [int(child.stdout.readline()) for _ in range(8)]
    os.kill(child.pid, signal.SIGKILL)
    child.wait()

    assert recover(tmp_path) == [SESSION]

    frames = list(iter_frames(tmp_path))
    rows = frame_rows(len(frames))
    assert len(frames) >= flushed[-1] + 1
    assert [f.ingest_seq for f in frames] == list(range(len(frames)))
    assert [(f.recv_ns, f.mono_ns, f.venue, f.conn_id, f.kind, f.payload) for f in frames] == rows
    assert manifest_of(tmp_path)["status"] == "recovered"


TICKING_CHILD = """
import sys, time
sys.path.insert(0, sys.argv[3])
from store_frames import frame_rows
from arbkit.store import SessionWriter

rows = frame_rows(200_000)
writer = SessionWriter(sys.argv[1], config={}, session_id=sys.argv[2], flush_interval_s=0.02)
while True:
    for start in range(0, len(rows), 500):
        for row in rows[start:start + 500]:
            writer.append(*row)
        writer.tick()
        time.sleep(0.005)
"""


def _complete_batches(journal: Path) -> list[pa.RecordBatch]:
    batches = []
    try:
        with pa.OSFile(str(journal)) as source:
            reader = pa.ipc.open_stream(source)
            while True:
                batches.append(reader.read_next_batch())
    except (StopIteration, OSError, pa.ArrowInvalid):
        pass  # the end, a missing file or a torn tail: only complete batches count
    return batches


@pytest.mark.e2e
@pytest.mark.timeout(60)
def test_kill_9_during_background_flushes_recovers_every_complete_batch(tmp_path):
    journal = tmp_path / "journal" / SESSION / "00000.arrows"
    child = subprocess.Popen([sys.executable, "-c", TICKING_CHILD, str(tmp_path), SESSION, str(HERE)])
    try:
        deadline = time.monotonic() + 30
        while len(_complete_batches(journal)) < 5 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        os.kill(child.pid, signal.SIGKILL)
        child.wait()
    flushed = sum(b.num_rows for b in _complete_batches(journal))
    assert flushed > 0

    assert recover(tmp_path) == [SESSION]

    frames = list(iter_frames(tmp_path))
    rows = frame_rows(len(frames))
    assert len(frames) == flushed
    assert [f.ingest_seq for f in frames] == list(range(len(frames)))
    assert [(f.recv_ns, f.mono_ns, f.venue, f.conn_id, f.kind, f.payload) for f in frames] == rows
