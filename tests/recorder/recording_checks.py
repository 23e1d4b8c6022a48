"""What a recording left on disk, for the disk-full and signal tests: the journal's flushed rows,
the sealed files with their bytes, and the frames a reader gets back."""

from __future__ import annotations

import hashlib
import itertools
from pathlib import Path

import pyarrow.parquet as pq

from arbkit.store._seal import JournalRead, journal_segments, read_journal
from arbkit.store.reader import iter_frames


def flushed_rows(root: Path) -> dict[str, list[tuple[int, bytes]]]:
    """Per session, (ingest_seq, payload) of every complete batch left in its journal."""
    rows: dict[str, list[tuple[int, bytes]]] = {}
    for directory in sorted((root / "journal").glob("*")):
        found = rows.setdefault(directory.name, [])
        for _, path in journal_segments(directory):
            for batch in read_journal(path, JournalRead()):
                found.extend(zip(batch["ingest_seq"].to_pylist(), batch["payload"].to_pylist()))
    return rows


def sealed_files(root: Path) -> dict[Path, str]:
    """Every sealed Parquet file under `root` and the SHA-256 of its bytes; each must read."""
    files = {}
    for path in sorted((root / "frames").rglob("*.parquet")):
        pq.read_table(path, partitioning=None)  # intact: readable from footer to last row
        files[path] = hashlib.sha256(path.read_bytes()).hexdigest()
    return files


def stray_temp_files(root: Path) -> list[Path]:
    """Half-written seal outputs (`.<name>.tmp`) still under frames/."""
    return sorted((root / "frames").rglob(".*.tmp"))


def frames_by_session(root: Path) -> dict[str, list[tuple[int, bytes]]]:
    """Per session, (ingest_seq, payload) of every sealed frame, checked strictly increasing."""
    out: dict[str, list[tuple[int, bytes]]] = {}
    for frame in iter_frames(root):
        out.setdefault(frame.session_id, []).append((frame.ingest_seq, frame.payload))
    for rows in out.values():
        assert all(b[0] > a[0] for a, b in itertools.pairwise(rows))
    return out


def assert_the_next_start_recovers(run_arbkit, config: Path, root: Path) -> list[tuple[int, bytes]]:
    """Restart the recorder into `root` for 2 s after a session that did not seal, and check it
    sealed every frame that session's journal had flushed, rewrote no sealed file and left no
    temp file. Return that session's flushed rows."""
    before = sealed_files(root)
    [(session, flushed)] = [(s, rows) for s, rows in flushed_rows(root).items() if rows]

    again = run_arbkit("record", "--config", str(config), "--out", str(root), "--duration", "2")

    assert again.returncode == 0, again.stderr.decode()
    assert not (root / "journal" / session).exists()
    assert stray_temp_files(root) == []
    after = sealed_files(root)
    assert {path: after[path] for path in before} == before  # nothing sealed was rewritten
    recorded = frames_by_session(root)
    assert session in recorded and len(recorded) == 2  # the recovered one and the new one
    sealed = dict(recorded[session])
    assert all(sealed.get(seq) == payload for seq, payload in flushed)
    # Its frames run from 0 with no hole: those sealed before, plus those recovered now.
    assert [seq for seq, _ in recorded[session]] == list(range(len(recorded[session])))
    return flushed
