"""Writing a session: a crash-safe journal sealed into Parquet, plus the offline bulk writer.

Layout (DESIGN §3) under a recordings root:

    sessions/<session_id>.json                        manifest (atomic replace on every change)
    journal/<session_id>/<nnnnn>.arrows               Arrow IPC stream, one batch per flush
    frames/date=YYYY-MM-DD/venue=<v>/<session_id>-<nnnnn>.parquet   segment n of venue v

`date` is the UTC date of the file's first frame; `venue` is also a column inside every file.

`append` only buffers; `tick` (call it every 20-100 ms) hands the buffer to a writer thread once
per flush interval, or sooner once CHUNK_BYTES of payload are buffered, which appends it to the
journal as one batch (write + OS flush; fsync once per interval), so `kill -9` loses at most the
interval being written. Every `rotation_s` the journal segment is closed and sealed on a
background thread so the receive path never waits for JSON parsing or compression; `close` seals
the rest and completes the manifest.
"""

from __future__ import annotations

import concurrent.futures
import io
import logging
import os
import threading
import time
from array import array
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from arbkit.errors import StorageError
from arbkit.store import manifest as mf
from arbkit.store._seal import (
    ROW_GROUP_ROWS,
    JournalRead,
    SegmentSealer,
    conform,
    journal_dir,
    read_journal,
    seal_batches,
    segment_path,
)
from arbkit.store.schema import FRAMES_SCHEMA

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no liveness lock, recovery trusts the caller
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger(__name__)

LOCK_NAME = ".lock"
ROWS_PER_FILE = 2_000_000
# String and binary columns have int32 offsets: a flush holding more payload than this, or more
# rows than the repeated strings of MAX_BATCH_ROWS rows fit (MAX_LABEL_BYTES each), becomes several batches.
MAX_BATCH_PAYLOAD = 2**31 - 1
# `tick` also flushes once this much payload is buffered: a busy session then cycles through a few
# small payload buffers that stay in cache, instead of filling a cold one for a whole interval.
CHUNK_BYTES = 2 * 2**20
MAX_BATCH_ROWS = 2**20
MAX_LABEL_BYTES = 1024
_RECYCLE_PAYLOAD_BYTES = 256 * 2**20


def lock_journal(directory: Path) -> int | None:
    """Take the exclusive liveness lock of a journal directory; return its fd, or None if held.

    The kernel releases the lock when the process dies (even on `kill -9`), which is how
    recovery tells a crashed session from one still being recorded.
    """
    fd = os.open(directory / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    if fcntl is None:
        return fd
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def _storage_error(what: str, exc: BaseException) -> StorageError:
    return StorageError(f"{what}: {exc}")


def _strings(values: list[bytes], counts: list[int]) -> pa.Array:
    """A string column holding `values[i]` `counts[i]` times in a row, built without per-row work."""
    rows = sum(counts)
    offsets = np.zeros(rows + 1, np.int32)
    if len(values) == 1:
        offsets[1:] = np.arange(1, rows + 1, dtype=np.int32) * len(values[0])
    else:
        offsets[1:] = np.cumsum(np.repeat(np.array([len(v) for v in values], np.int32), counts))
    data = b"".join(v * c for v, c in zip(values, counts, strict=True))
    return pa.Array.from_buffers(pa.string(), rows, [None, pa.py_buffer(offsets), pa.py_buffer(data)])


class _Pending:
    """One flush interval of frames as raw column buffers.

    `append` copies each frame into these (two int64 arrays, a length array and one growing
    payload buffer) and keeps no Python object per frame, so a flush wraps them as Arrow arrays
    without converting anything. Connection columns are stored as runs: consecutive rows from
    one (venue, conn_id, kind) share one entry.
    """

    __slots__ = ("lengths", "mono", "payload", "recv", "runs")

    def __init__(self, payload: io.BytesIO) -> None:
        self.recv: array[int] = array("q")
        self.mono: array[int] = array("q")
        self.lengths: array[int] = array("q")
        self.payload = payload
        self.runs: list[tuple[int, str, int, str]] = []


class SessionWriter:
    """Record one session's frames under a recordings root (see the module docstring).

    Not thread-safe: call `append`, `tick`, `flush` and `close` from one thread. Journal file
    writes and fsyncs run on a private writer thread (they release the GIL, so the receive path
    keeps running); `flush` waits for them, `tick` does not.
    """

    def __init__(
        self,
        root: str | os.PathLike[str],
        *,
        config: Mapping[str, Any],
        session_id: str | None = None,
        flush_interval_s: float = 1.0,
        rotation_s: float = 3600.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        # `clock` (seconds) times flushes, fsyncs and rotation; tests inject one they step.
        self._clock = clock
        self._root = Path(root)
        start_ns = time.time_ns()
        self.session_id = session_id or mf.new_session_id(start_ns)
        self._session_bytes = self.session_id.encode()
        if len(self._session_bytes) > MAX_LABEL_BYTES:
            raise ValueError(f"session ids are limited to {MAX_LABEL_BYTES} bytes")
        self._flush_interval = flush_interval_s
        self._rotation = rotation_s
        self._manifest = mf.new_manifest(self.session_id, start_ns, config)
        self._manifest_lock = threading.Lock()
        self._journal_dir = journal_dir(self._root, self.session_id)
        try:
            self._journal_dir.mkdir(parents=True, exist_ok=True)
            self._lock_fd = lock_journal(self._journal_dir)
        except OSError as exc:
            raise _storage_error(f"cannot create journal {self._journal_dir}", exc) from exc
        if self._lock_fd is None:
            raise StorageError(f"session {self.session_id} is already being recorded in {root}")
        try:
            mf.write_manifest(self._root, self._manifest)
        except StorageError:
            self._release_lock(remove=False)
            raise

        self._spare_payloads: list[io.BytesIO] = []
        self._repeats: dict[bytes, pa.Array] = {}
        self._use(_Pending(io.BytesIO()))
        self._flushed_seq = 0

        # Owned by the writer thread (the loop thread reads them only once it is idle).
        self._segment = 0
        self._journal: pa.NativeFile | None = None
        self._stream: pa.ipc.RecordBatchStreamWriter | None = None
        self._journal_bytes = 0
        self._unsynced = False
        now = self._clock()
        self._last_flush = now
        self._last_fsync = now
        self._segment_start = now

        self._io = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix=f"journal-{self.session_id}"
        )
        self._last_io: concurrent.futures.Future[None] | None = None
        self._sealer = concurrent.futures.ThreadPoolExecutor(
            max_workers=1, thread_name_prefix=f"seal-{self.session_id}"
        )
        self._unsealed_bytes: dict[int, int] = {}
        self._sealed_bytes = 0
        self._error: StorageError | None = None
        self._closed = False

    # -- receive path -------------------------------------------------------------------------

    def append(
        self, recv_ns: int, mono_ns: int, venue: str, conn_id: int, kind: str, payload: bytes
    ) -> int:
        """Buffer one frame or connection event; return its session-wide `ingest_seq`."""
        # Identity, not equality: the caller passes the same str objects row after row.
        if kind is not self._run_kind or venue is not self._run_venue or conn_id != self._run_conn:
            self._start_run(venue, conn_id, kind)
        try:
            self._add_recv(recv_ns)
            self._add_mono(mono_ns)
            self._add_length(self._write_payload(payload))
        except BaseException:
            self._drop_partial_row()
            raise
        return self._flushed_seq + self._buffered() - 1

    def row_writer(
        self,
        venue: str,
        conn_id: int,
        kind: str,
        recv_clock: Callable[[], int],
        mono_clock: Callable[[], int],
    ) -> Callable[[bytes], None]:
        """Return a function that buffers one `kind` row of a connection, stamped by the two clocks.

        `write(payload)` does what `append(recv_clock(), mono_clock(), venue, conn_id, kind,
        payload)` does, in one call and without returning the `ingest_seq`: a receive loop's path.
        """
        self._check_labels(venue, conn_id, kind)
        key = (venue, conn_id, kind)

        def write(payload: bytes) -> None:
            if self._run_key is not key:
                self._start_run(venue, conn_id, kind, key)
            try:
                self._add_recv(recv_clock())
                self._add_mono(mono_clock())
                self._add_length(self._write_payload(payload))
            except BaseException:
                self._drop_partial_row()
                raise

        return write

    def _use(self, pending: _Pending) -> None:
        self._pending = pending
        self._add_recv = pending.recv.append
        self._add_mono = pending.mono.append
        self._add_length = pending.lengths.append
        self._write_payload = pending.payload.write
        self._buffered = pending.lengths.__len__
        self._run_venue: str | None = None
        self._run_conn = 0
        self._run_kind: str | None = None
        self._run_key: tuple[str, int, str] | None = None

    @staticmethod
    def _check_labels(venue: str, conn_id: int, kind: str) -> None:
        if not (isinstance(venue, str) and isinstance(kind, str) and isinstance(conn_id, int)):
            raise TypeError(f"venue and kind must be str and conn_id int, not {venue!r}, {conn_id!r}, {kind!r}")
        if not -(2**31) <= conn_id < 2**31:
            raise ValueError(f"conn_id {conn_id} does not fit int32")
        if max(len(venue.encode()), len(kind.encode())) > MAX_LABEL_BYTES:
            raise ValueError(f"venue and kind are limited to {MAX_LABEL_BYTES} bytes")

    def _start_run(self, venue: str, conn_id: int, kind: str, key: tuple[str, int, str] | None = None) -> None:
        # `key` is the identity a row_writer checks; `append` checks the three labels instead.
        self._check_labels(venue, conn_id, kind)
        runs = self._pending.runs
        if not runs or runs[-1][1:] != (venue, conn_id, kind):
            runs.append((len(self._pending.lengths), venue, conn_id, kind))
        self._run_venue, self._run_conn, self._run_kind = venue, conn_id, kind
        self._run_key = key

    def _drop_partial_row(self) -> None:
        # A rejected frame (say, a payload that is not bytes) must not leave its columns ragged.
        pending = self._pending
        n = len(pending.lengths)
        del pending.recv[n:]
        del pending.mono[n:]
        pending.payload.seek(sum(pending.lengths))

    def tick(self) -> None:
        """Flush when the flush interval has passed (or CHUNK_BYTES are buffered); rotate when due."""
        if self._error is not None:
            raise self._error
        now = self._clock()
        if now - self._last_flush >= self._flush_interval or self._pending.payload.tell() >= CHUNK_BYTES:
            self._flush_soon()
        if now - self._segment_start >= self._rotation:
            self.rotate()

    def flush(self) -> None:
        """Write buffered frames to the journal and wait until the OS has them (fsync once per interval)."""
        self._flush_soon()
        self._wait_io()

    def _flush_soon(self) -> None:
        """Hand buffered frames to the writer thread; a later `tick`/`flush` reports its errors."""
        self._check_open()
        self._last_flush = self._clock()
        pending = self._pending
        n = len(pending.lengths)
        if n:
            spare = self._spare_payloads.pop() if self._spare_payloads else io.BytesIO()
            self._use(_Pending(spare))
            base = self._flushed_seq
            self._flushed_seq = base + n
            view = pending.payload.getbuffer()
            job = (self._batches(pending, view, base, n), pending.payload, view)
        else:
            job = ([], None, None)
        self._last_io = self._io.submit(self._write, *job)
        self._last_io.add_done_callback(self._background_done)

    def _batches(self, pending: _Pending, view: memoryview, base: int, n: int) -> list[pa.RecordBatch]:
        runs = pending.runs
        starts = [r[0] for r in runs]
        venues = [r[1].encode() for r in runs]
        conn_ids = np.array([r[2] for r in runs], np.int32)
        kinds = [r[3].encode() for r in runs]
        recv = pa.Array.from_buffers(pa.int64(), n, [None, pa.py_buffer(pending.recv)])
        mono = pa.Array.from_buffers(pa.int64(), n, [None, pa.py_buffer(pending.mono)])
        data = pa.py_buffer(view)
        ends = np.cumsum(np.frombuffer(pending.lengths, np.int64))
        total = int(ends[-1])
        batches = []
        start = 0
        while start < n:
            # Usually one batch; more when a flush holds more than int32 offsets can reach.
            first = int(ends[start - 1]) if start else 0
            stop = n
            if total - first > MAX_BATCH_PAYLOAD:
                stop = int(np.searchsorted(ends, first + MAX_BATCH_PAYLOAD, side="right"))
                if stop == start:
                    raise StorageError(f"a frame of {int(ends[start]) - first} bytes is too large to record")
            stop = min(stop, start + MAX_BATCH_ROWS)
            rows = stop - start
            counts = [max(0, min(end, stop) - max(begin, start)) for begin, end in zip(starts, [*starts[1:], n])]
            offsets = np.zeros(rows + 1, np.int32)
            offsets[1:] = ends[start:stop] - first
            runs_here = [i for i, count in enumerate(counts) if count]
            if len(runs_here) == 1:
                venue = self._repeated(venues[runs_here[0]], rows)
                kind = self._repeated(kinds[runs_here[0]], rows)
            else:
                venue, kind = _strings(venues, counts), _strings(kinds, counts)
            columns = [
                self._repeated(self._session_bytes, rows),
                pa.array(np.arange(base + start, base + stop, dtype=np.int64)),
                recv.slice(start, rows),
                mono.slice(start, rows),
                venue,
                pa.array(np.repeat(conn_ids, counts)),
                kind,
                pa.Array.from_buffers(
                    pa.binary(), rows, [None, pa.py_buffer(offsets), data.slice(first, int(ends[stop - 1]) - first)]
                ),
            ]
            batches.append(pa.RecordBatch.from_arrays(columns, schema=FRAMES_SCHEMA))
            start = stop
        return batches

    def _repeated(self, value: bytes, rows: int) -> pa.Array:
        # A slice of a kept column of `value`s: no new memory for the common one-label batch.
        column = self._repeats.get(value)
        if column is None or len(column) < rows:
            column = self._repeats[value] = _strings([value], [max(rows, 2 * len(column or ()))])
        return column.slice(0, rows)

    # -- writer thread ------------------------------------------------------------------------

    def _write(self, batches: list[pa.RecordBatch], payload: io.BytesIO | None, view: memoryview | None) -> None:
        try:
            if self._error is None:
                self._write_batches(batches)
        except StorageError as exc:
            # Nothing is written after a failed write: the journal stays readable up to the last good batch.
            self._error = exc
        finally:
            batches.clear()
            if payload is not None and view is not None:
                self._recycle(payload, view)

    def _write_batches(self, batches: list[pa.RecordBatch]) -> None:
        if batches:
            try:
                if self._stream is None:
                    self._open_journal()
                assert self._stream is not None and self._journal is not None
                for batch in batches:
                    self._stream.write_batch(batch)
                self._journal.flush()
                self._journal_bytes = self._journal.tell()
            except (OSError, pa.ArrowException) as exc:
                path = segment_path(self._root, self.session_id, self._segment)
                raise _storage_error(f"cannot write journal {path}", exc) from exc
            self._unsynced = True
        if self._unsynced and self._clock() - self._last_fsync >= self._flush_interval:
            self._fsync()

    def _recycle(self, payload: io.BytesIO, view: memoryview) -> None:
        # Reusing the payload buffer spares the page faults of a fresh one every flush. It is
        # only reused once Arrow holds no view of it; a very large one is let go.
        size = len(view)
        try:
            view.release()
        except BufferError:
            return
        if size <= _RECYCLE_PAYLOAD_BYTES:
            payload.seek(0)
            self._spare_payloads.append(payload)

    def _wait_io(self) -> None:
        if self._last_io is not None:
            self._last_io.result()
        if self._error is not None:
            raise self._error

    def _open_journal(self) -> None:
        path = segment_path(self._root, self.session_id, self._segment)
        self._journal = pa.OSFile(str(path), "w")
        self._stream = pa.ipc.new_stream(self._journal, FRAMES_SCHEMA)

    def _fsync(self) -> None:
        assert self._journal is not None
        try:
            os.fsync(self._journal.fileno())
        except OSError as exc:
            raise _storage_error("cannot fsync the journal", exc) from exc
        self._unsynced = False
        self._last_fsync = self._clock()

    # -- rotation and sealing -----------------------------------------------------------------

    def rotate(self) -> None:
        """Close the current journal segment, seal it in the background and start the next."""
        self.flush()
        self._segment_start = self._clock()
        if self._stream is None:
            return
        self._end_segment()

    def _end_segment(self) -> None:
        segment = self._segment
        self._io.submit(self._close_journal).result()
        self._segment += 1
        self._submit_seal(segment)

    def _close_journal(self) -> None:
        assert self._stream is not None and self._journal is not None
        try:
            self._stream.close()
            self._journal.flush()
            os.fsync(self._journal.fileno())
            self._journal.close()
        except (OSError, pa.ArrowException) as exc:
            self._error = _storage_error("cannot close the journal", exc)
            raise self._error from exc
        finally:
            self._stream = None
        size = segment_path(self._root, self.session_id, self._segment).stat().st_size
        with self._manifest_lock:
            self._unsealed_bytes[self._segment] = size
            self._journal_bytes = 0
        self._unsynced = False
        self._journal = None

    def _submit_seal(self, segment: int) -> None:
        self._sealer.submit(self._seal, segment).add_done_callback(self._background_done)

    def _background_done(self, future: concurrent.futures.Future[None]) -> None:
        # Writer-thread and sealing failures surface at the next `tick`, `flush` or `close`.
        exc = future.exception()
        if exc is not None and self._error is None:
            self._error = (
                exc if isinstance(exc, StorageError) else _storage_error("background storage work failed", exc)
            )

    def _seal(self, segment: int) -> None:
        try:
            self._seal_segment(segment)
        finally:
            # A seal allocates a segment's worth of Arrow buffers, and the memory pool (mimalloc)
            # keeps the freed pages for reuse: without this a long recording's RSS steps up and
            # down by ~70 MB per seal. The pool's pages are per thread, so the sealing thread
            # itself hands them back.
            pa.default_memory_pool().release_unused()

    def _seal_segment(self, segment: int) -> None:
        path = segment_path(self._root, self.session_id, segment)
        report = JournalRead()
        files = seal_batches(self._root, self.session_id, segment, read_journal(path, report))
        if report.error is not None:
            raise StorageError(f"journal {path} is unreadable after {report.rows} rows")
        with self._manifest_lock:
            mf.add_files(self._manifest, files)
            mf.write_manifest(self._root, self._manifest)
            self._sealed_bytes += sum(f["bytes"] for f in files)
            self._unsealed_bytes.pop(segment, None)
        try:
            path.unlink()
        except OSError as exc:
            raise _storage_error(f"cannot remove sealed journal {path}", exc) from exc
        log.info(
            "sealed segment %d of session %s: %d frames in %d file(s)",
            segment,
            self.session_id,
            report.rows,
            len(files),
        )

    # -- status and shutdown ------------------------------------------------------------------

    @property
    def frames(self) -> int:
        """Frames appended so far."""
        return self._flushed_seq + self._buffered()

    @property
    def bytes_on_disk(self) -> int:
        """Bytes this session occupies on disk: sealed files plus journal segments."""
        with self._manifest_lock:
            return self._sealed_bytes + sum(self._unsealed_bytes.values()) + self._journal_bytes

    def close(self) -> None:
        """Flush, seal everything, and mark the manifest complete; raise StorageError on failure.

        On failure the journal stays on disk for `recover` and sealed files are untouched.
        """
        if self._closed:
            return
        try:
            self.flush()
            if self._stream is not None:
                self._end_segment()
            self._sealer.shutdown(wait=True)
            if self._error is not None:
                raise self._error
            with self._manifest_lock:
                mf.finish(self._manifest, mf.STATUS_COMPLETE, time.time_ns())
                mf.write_manifest(self._root, self._manifest)
            self._release_lock(remove=True)
        finally:
            self._closed = True
            # Every way of appending (append, row writers) starts with this column: refuse there.
            self._add_recv = self._refuse_frame
            self._io.shutdown(wait=True)
            self._sealer.shutdown(wait=True)
            if self._journal is not None:
                try:
                    self._journal.close()
                except (OSError, pa.ArrowException):
                    pass  # already failing; the journal on disk is what recovery reads
            self._release_lock(remove=False)

    def _release_lock(self, *, remove: bool) -> None:
        if remove:
            # Leave nothing behind on a clean stop: the journal directory is empty but the lock.
            try:
                (self._journal_dir / LOCK_NAME).unlink(missing_ok=True)
                self._journal_dir.rmdir()
            except OSError as exc:
                log.warning("could not remove journal directory %s: %s", self._journal_dir, exc)
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def _refuse_frame(self, *_: object) -> None:
        raise StorageError(f"session {self.session_id} is closed; frame not recorded")

    def _check_open(self) -> None:
        if self._closed:
            raise StorageError(f"session {self.session_id} is closed")
        if self._error is not None:
            raise self._error

    def __enter__(self) -> SessionWriter:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def manifest(self) -> dict[str, Any]:
        """A copy of the session manifest as last written."""
        with self._manifest_lock:
            return dict(self._manifest)


def _checked(batches: Iterable[pa.RecordBatch], session_id: str) -> Iterator[pa.RecordBatch]:
    last = None
    for batch in batches:
        if batch.num_rows == 0:
            continue
        batch = conform(batch)
        seqs = batch.column("ingest_seq").to_numpy()
        if (last is not None and seqs[0] <= last) or (np.diff(seqs) <= 0).any():
            raise ValueError("write_session: ingest_seq must be strictly increasing")
        last = int(seqs[-1])
        sids = batch.column("session_id")
        if pc.any(pc.not_equal(sids, session_id)).as_py() or sids.null_count:
            batch = batch.set_column(0, "session_id", pa.repeat(session_id, batch.num_rows))
        yield batch


def write_session(
    root: str | os.PathLike[str],
    batches: Iterable[pa.RecordBatch],
    *,
    config: Mapping[str, Any],
    session_id: str | None = None,
    start_ns: int | None = None,
    rows_per_file: int = ROWS_PER_FILE,
) -> str:
    """Write frames straight to sealed Parquet plus a complete manifest; return the session id.

    For offline generation: `batches` are FRAMES_SCHEMA record batches in ingest order. Memory
    stays bounded (one row group per venue); a new segment starts every `rows_per_file` rows.
    The session id is `session_id`, else the first frame's, else a new one from the start time
    (`start_ns`, default the first frame's `recv_ns`); every row is written with it.
    """
    root = Path(root)
    iterator = iter(batches)
    first = next((b for b in iterator if b.num_rows), None)
    if start_ns is None:
        start_ns = first.column("recv_ns")[0].as_py() if first is not None else time.time_ns()
    if session_id is None and first is not None:
        session_id = first.column("session_id")[0].as_py() or None
    session_id = session_id or mf.new_session_id(start_ns)
    manifest = mf.new_manifest(session_id, start_ns, config)
    mf.write_manifest(root, manifest)

    def stream() -> Iterator[pa.RecordBatch]:
        if first is not None:
            yield first
        yield from iterator

    segment = 0
    sealer = SegmentSealer(root, session_id, segment)
    last_recv = start_ns
    try:
        for batch in _checked(stream(), session_id):
            offset = 0
            while offset < batch.num_rows:
                take = min(batch.num_rows - offset, rows_per_file - sealer.rows)
                sealer.add(batch.slice(offset, take))
                offset += take
                if sealer.rows >= rows_per_file:
                    mf.add_files(manifest, sealer.finish())
                    mf.write_manifest(root, manifest)
                    segment += 1
                    sealer = SegmentSealer(root, session_id, segment)
            last_recv = max(last_recv, pc.max(batch.column("recv_ns")).as_py())
        mf.add_files(manifest, sealer.finish())
    except (OSError, pa.ArrowException) as exc:
        sealer.abort()
        raise _storage_error(f"cannot write session {session_id} under {root}", exc) from exc
    mf.finish(manifest, mf.STATUS_COMPLETE, last_recv)
    mf.write_manifest(root, manifest)
    return session_id


__all__ = ["ROW_GROUP_ROWS", "SessionWriter", "write_session"]
