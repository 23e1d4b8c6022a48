"""Journal segments (Arrow IPC streams) and sealing them into per-venue Parquet files."""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from arbkit.errors import StorageError
from arbkit.store.derive import derive_batch
from arbkit.store.manifest import FRAMES_DIR, JOURNAL_DIR
from arbkit.store.schema import (
    DELTA_COLUMNS,
    DICTIONARY_COLUMNS,
    FRAMES_SCHEMA,
    SEALED_SCHEMA,
)

log = logging.getLogger(__name__)

# Readers stream one row group at a time per file: 64k frames is ~20 MB of payload in memory.
ROW_GROUP_ROWS = 65_536
JOURNAL_SUFFIX = ".arrows"
_SAFE_VENUE = re.compile(r"[^A-Za-z0-9_.-]")
META_SESSION = b"arbkit.session_id"
META_SEGMENT = b"arbkit.segment"


def journal_dir(root: Path, session_id: str) -> Path:
    """Return the journal directory of a session."""
    return root / JOURNAL_DIR / session_id


def segment_path(root: Path, session_id: str, segment: int) -> Path:
    """Return the journal file of segment `segment`."""
    return journal_dir(root, session_id) / f"{segment:05d}{JOURNAL_SUFFIX}"


def journal_segments(directory: Path) -> list[tuple[int, Path]]:
    """List `(segment number, path)` of the journal files in a session's journal directory."""
    found = []
    for path in directory.glob(f"*{JOURNAL_SUFFIX}"):
        if path.stem.isdigit():
            found.append((int(path.stem), path))
    return sorted(found)


@dataclass
class JournalRead:
    """What reading a journal segment found: complete batches and the bytes left over."""

    rows: int = 0
    batches: int = 0
    dropped_bytes: int = 0
    error: str | None = None


def read_journal(path: Path, report: JournalRead) -> Iterator[pa.RecordBatch]:
    """Yield every complete record batch of a journal segment, stopping at a torn tail.

    A process killed mid-write leaves a partial last message; everything before it is intact.
    `report` receives the counts and what was dropped.
    """
    size = path.stat().st_size
    with pa.OSFile(str(path), "r") as source:
        try:
            reader = pa.ipc.open_stream(source)
        except (pa.ArrowInvalid, OSError) as exc:
            report.dropped_bytes = size
            report.error = str(exc)
            return
        good_end = source.tell()
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                break
            except (pa.ArrowInvalid, OSError) as exc:
                report.error = str(exc)
                break
            good_end = source.tell()
            report.rows += batch.num_rows
            report.batches += 1
            yield batch
        report.dropped_bytes = size - good_end


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return  # not supported on this platform/filesystem; the rename itself is still atomic
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _file_identity(path: Path) -> tuple[Any, ...] | None:
    """Return what identifies a sealed file's contents, or None if it is not readable as one."""
    try:
        meta = pq.ParquetFile(path).metadata
    except (OSError, pa.ArrowException):
        return None
    kv = meta.metadata or {}
    seq_index = meta.schema.to_arrow_schema().get_field_index("ingest_seq")
    if seq_index < 0:
        return None
    lo = hi = None
    for i in range(meta.num_row_groups):
        stats = meta.row_group(i).column(seq_index).statistics
        if stats is None or not stats.has_min_max:
            return None
        lo = stats.min if lo is None else min(lo, stats.min)
        hi = stats.max if hi is None else max(hi, stats.max)
    session = kv.get(META_SESSION)
    segment = kv.get(META_SEGMENT)
    return (
        session.decode() if session else None,
        segment.decode() if segment else None,
        meta.num_rows,
        lo,
        hi,
    )


def publish(tmp: Path, final: Path) -> Path:
    """Move a finished temp file to `final` without ever replacing an existing sealed file.

    If `final` already holds the same frames (a seal that completed before a crash), the temp
    file is dropped and `final` kept. A different file under that name is left alone and the
    new one is published beside it under the next free `.<k>` name.
    """
    candidate = final
    k = 0
    while True:
        try:
            os.link(tmp, candidate)
        except FileExistsError:
            existing = _file_identity(candidate)
            if existing is not None and existing == _file_identity(tmp):
                log.info("%s is already sealed with the same frames; keeping it", candidate)
                os.unlink(tmp)
                return candidate
            k += 1
            candidate = final.with_name(f"{final.stem}.{k}{final.suffix}")
            log.warning("%s exists with other frames; sealing into %s", final, candidate.name)
            continue
        except OSError:
            # No hard links on this filesystem: check-then-rename (a tiny race, single writer).
            if candidate.exists():
                existing = _file_identity(candidate)
                if existing is not None and existing == _file_identity(tmp):
                    os.unlink(tmp)
                    return candidate
                k += 1
                candidate = final.with_name(f"{final.stem}.{k}{final.suffix}")
                continue
            os.rename(tmp, candidate)
            _fsync_dir(candidate.parent)
            return candidate
        os.unlink(tmp)
        _fsync_dir(candidate.parent)
        return candidate


def _utc_date(ns: int) -> str:
    return datetime.fromtimestamp(ns // 1_000_000_000, tz=UTC).strftime("%Y-%m-%d")


@dataclass
class _VenueFile:
    root: Path
    session_id: str
    segment: int
    venue: str
    final: Path | None = None
    tmp: Path | None = None
    writer: pq.ParquetWriter | None = None
    pending: list[pa.RecordBatch] = field(default_factory=list)
    pending_rows: int = 0
    rows: int = 0
    first_seq: int | None = None
    last_seq: int | None = None
    min_recv: int | None = None
    max_recv: int | None = None
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, batch: pa.RecordBatch) -> None:
        import pyarrow.compute as pc  # only when sealing: replay imports this module to read

        if self.writer is None:
            self._open(batch.column("recv_ns")[0].as_py())
        seqs = batch.column("ingest_seq")
        if self.first_seq is None:
            self.first_seq = seqs[0].as_py()
        self.last_seq = seqs[-1].as_py()
        lo, hi = pc.min_max(batch.column("recv_ns")).values()
        lo, hi = lo.as_py(), hi.as_py()
        self.min_recv = lo if self.min_recv is None else min(self.min_recv, lo)
        self.max_recv = hi if self.max_recv is None else max(self.max_recv, hi)
        for item in pc.value_counts(batch.column("kind")).to_pylist():
            self.counts[item["values"]] = self.counts.get(item["values"], 0) + item["counts"]
        self.rows += batch.num_rows
        self.pending.append(batch)
        self.pending_rows += batch.num_rows
        if self.pending_rows >= ROW_GROUP_ROWS:
            self._write(final=False)

    def _open(self, first_recv_ns: int) -> None:
        venue_dir = _SAFE_VENUE.sub("_", self.venue) or "_"
        directory = (
            self.root / FRAMES_DIR / f"date={_utc_date(first_recv_ns)}" / f"venue={venue_dir}"
        )
        directory.mkdir(parents=True, exist_ok=True)
        name = f"{self.session_id}-{self.segment:05d}.parquet"
        self.final = directory / name
        # Hidden and not ending in .parquet, so no reader or glob ever picks up a partial file.
        self.tmp = directory / f".{name}.{os.getpid()}.tmp"
        schema = SEALED_SCHEMA.with_metadata(
            {META_SESSION: self.session_id.encode(), META_SEGMENT: str(self.segment).encode()}
        )
        self.writer = pq.ParquetWriter(
            str(self.tmp),
            schema,
            compression="zstd",
            compression_level=1,
            use_dictionary=DICTIONARY_COLUMNS,
            column_encoding={c: "DELTA_BINARY_PACKED" for c in DELTA_COLUMNS},
            write_statistics=True,
        )

    def _write(self, final: bool) -> None:
        table = pa.Table.from_batches(self.pending, schema=SEALED_SCHEMA)
        full = (table.num_rows // ROW_GROUP_ROWS) * ROW_GROUP_ROWS
        cut = table.num_rows if final else full
        if cut:
            assert self.writer is not None
            self.writer.write_table(table.slice(0, cut), row_group_size=ROW_GROUP_ROWS)
        rest = table.slice(cut)
        self.pending = rest.to_batches() if rest.num_rows else []
        self.pending_rows = rest.num_rows

    def finish(self) -> dict[str, Any]:
        assert self.writer is not None and self.tmp is not None and self.final is not None
        self._write(final=True)
        self.writer.close()
        self.writer = None
        with open(self.tmp, "rb") as f:
            os.fsync(f.fileno())
        path = publish(self.tmp, self.final)
        return {
            "path": path.relative_to(self.root).as_posix(),
            "venue": self.venue,
            "segment": self.segment,
            "rows": self.rows,
            "first_ingest_seq": self.first_seq,
            "last_ingest_seq": self.last_seq,
            "min_recv_ns": self.min_recv,
            "max_recv_ns": self.max_recv,
            "bytes": path.stat().st_size,
            "counts": dict(sorted(self.counts.items())),
        }

    def abort(self) -> None:
        if self.writer is not None:
            try:
                self.writer.close()
            except (OSError, pa.ArrowException):
                pass
            self.writer = None
        if self.tmp is not None:
            try:
                self.tmp.unlink()
            except OSError:
                pass


class SegmentSealer:
    """Turn one segment's frames (FRAMES_SCHEMA batches in ingest order) into sealed files.

    Adds the derived columns, splits rows by venue (one file per venue), writes row groups of
    ROW_GROUP_ROWS through a hidden temp file and publishes each file atomically on `finish`.
    """

    def __init__(self, root: Path, session_id: str, segment: int) -> None:
        self._root = root
        self._session_id = session_id
        self._segment = segment
        self._files: dict[str, _VenueFile] = {}
        self.rows = 0

    def add(self, batch: pa.RecordBatch) -> None:
        import pyarrow.compute as pc  # only when sealing: replay imports this module to read

        """Add a batch of frames."""
        if batch.num_rows == 0:
            return
        sealed = derive_batch(batch)
        venues = sealed.column("venue")
        distinct = pc.unique(venues).to_pylist()
        if len(distinct) == 1:
            self._file(distinct[0]).add(sealed)
        else:
            for venue in distinct:
                self._file(venue).add(sealed.filter(pc.equal(venues, venue)))
        self.rows += batch.num_rows

    def _file(self, venue: str) -> _VenueFile:
        f = self._files.get(venue)
        if f is None:
            f = self._files[venue] = _VenueFile(
                self._root, self._session_id, self._segment, venue
            )
        return f

    def finish(self) -> list[dict[str, Any]]:
        """Close and publish every venue's file; return their manifest entries."""
        try:
            return [f.finish() for f in self._files.values()]
        except BaseException:
            self.abort()
            raise

    def abort(self) -> None:
        """Drop unpublished temp files (published ones stay)."""
        for f in self._files.values():
            f.abort()


def seal_batches(
    root: Path, session_id: str, segment: int, batches: Iterable[pa.RecordBatch]
) -> list[dict[str, Any]]:
    """Seal one segment's batches; raise StorageError (temp files removed) on a write error."""
    sealer = SegmentSealer(root, session_id, segment)
    try:
        for batch in batches:
            sealer.add(batch)
        return sealer.finish()
    except (OSError, pa.ArrowException) as exc:
        sealer.abort()
        raise StorageError(
            f"cannot seal segment {segment} of session {session_id} under {root}: {exc}"
        ) from exc


def conform(batch: pa.RecordBatch) -> pa.RecordBatch:
    """Return `batch` with exactly the FRAMES_SCHEMA columns, in order and with exact types."""
    if batch.schema.equals(FRAMES_SCHEMA):
        return batch
    columns = []
    for f in FRAMES_SCHEMA:
        column = batch.column(f.name)
        if column.type != f.type:
            column = column.cast(f.type)
        columns.append(column)
    return pa.RecordBatch.from_arrays(columns, schema=FRAMES_SCHEMA)
