"""Reading recordings back in replay order `(session start, ingest_seq)` with bounded memory.

A path may be a recordings root (has `sessions/` or `frames/`), a session manifest, a session
id under a root (`root/<id>` or `root/sessions/<id>`), a directory of Parquet files, one Parquet
file, or a glob. Files need no manifest: they are grouped by their `session_id` column. The same
forms but the glob work on S3-compatible object storage as `s3://bucket/prefix` (arbkit.store.remote).

Within a session each venue's frames live in their own files, each sorted by `ingest_seq`.
Files whose `ingest_seq` ranges overlap are merged batch-wise: everything up to the smallest
"last buffered seq" among them is cut from each buffer, concatenated and put in order with one
numpy argsort, so the cost is per batch rather than per row. Memory holds a few batches of
BATCH_ROWS rows per open file, independent of file and recording size.
"""

from __future__ import annotations

import glob
import logging
import os
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from arbkit.core.frame import Frame
from arbkit.errors import RecordingError
from arbkit.store import manifest as mf
from arbkit.store import remote
from arbkit.store._seal import META_SESSION
from arbkit.store.schema import FRAME_COLUMNS, SEALED_SCHEMA

# Rows decoded per file at a time. Peak RSS grows with it (a 1M-frame merge of two venues
# peaked at ~155 MB with 4096, ~230 MB with 16384, ~430 MB with 65536) while throughput does not
# improve above a few thousand rows.
BATCH_ROWS = 4096
_GLOB_CHARS = frozenset("*?[")

log = logging.getLogger(__name__)


@dataclass
class FileInfo:
    """What a Parquet file's footer says about the frames in it (`filesystem`: None for a local
    file, else the filesystem `path` is on)."""

    path: Path | str
    rows: int
    session_ids: tuple[str, ...]
    min_seq: int
    max_seq: int
    min_recv: int | None
    max_recv: int | None
    venues: tuple[str, ...] | None
    names: tuple[str, ...]
    row_group_recv: list[tuple[int | None, int | None]] = field(default_factory=list)
    filesystem: Any = None


@dataclass
class SessionFiles:
    """One session of a resolved recording: its id, start time and Parquet files; `manifest` its
    manifest file (an `s3://` URL on object storage), if it has one; `source` is a path naming
    this session alone, when it has a manifest to be named by."""

    session_id: str
    start_ns: int
    files: list[FileInfo]
    manifest: Path | str | None = None
    source: str | None = None

    @property
    def paths(self) -> list[Path | str]:
        """The session's Parquet files in `ingest_seq` order of their first frame."""
        return [f.path for f in self.files]


def _stat_range(meta: pq.FileMetaData, index: int) -> tuple[Any, Any, list[tuple[Any, Any]]]:
    lo = hi = None
    per_group = []
    for i in range(meta.num_row_groups):
        stats = meta.row_group(i).column(index).statistics
        if stats is None or not stats.has_min_max:
            return None, None, []
        per_group.append((stats.min, stats.max))
        lo = stats.min if lo is None else min(lo, stats.min)
        hi = stats.max if hi is None else max(hi, stats.max)
    return lo, hi, per_group


def _distinct(pf: pq.ParquetFile, column: str) -> tuple[str, ...]:
    import pyarrow.compute as pc

    values = pc.unique(pf.read(columns=[column]).column(column)).to_pylist()
    return tuple(sorted(str(v) for v in values if v is not None))


class NotFramesError(RecordingError):
    """A readable Parquet file without the frames columns."""


def inspect_file(path: Path | str, filesystem: Any = None) -> FileInfo:
    """Read a Parquet file's footer; raise RecordingError if it is not a frames file."""
    try:
        pf = pq.ParquetFile(path, filesystem=filesystem)
        meta = pf.metadata
        names = tuple(pf.schema_arrow.names)
        missing = [c for c in FRAME_COLUMNS if c not in names]
        if missing:
            raise NotFramesError(f"{path} is not a frames file: no column {missing[0]!r}")
        sessions: tuple[str, ...] | None = None
        kv = meta.metadata or {}
        if META_SESSION in kv:
            sessions = (kv[META_SESSION].decode(),)
        index = {name: names.index(name) for name in ("session_id", "ingest_seq", "recv_ns")}
        if sessions is None:
            lo, hi, _ = _stat_range(meta, index["session_id"])
            sessions = (lo,) if lo is not None and lo == hi else _distinct(pf, "session_id")
        seq_lo, seq_hi, _ = _stat_range(meta, index["ingest_seq"])
        if seq_lo is None and meta.num_rows:
            import pyarrow.compute as pc

            seqs = pf.read(columns=["ingest_seq"]).column(0)
            seq_lo, seq_hi = pc.min(seqs).as_py(), pc.max(seqs).as_py()
        recv_lo, recv_hi, recv_groups = _stat_range(meta, index["recv_ns"])
        venue_lo, venue_hi, _ = _stat_range(meta, names.index("venue"))
        venues = (venue_lo,) if venue_lo is not None and venue_lo == venue_hi else None
    except RecordingError:
        raise
    except (OSError, pa.ArrowException, ValueError) as exc:
        raise RecordingError(f"cannot read {path}: {exc}") from exc
    return FileInfo(
        path=path,
        rows=meta.num_rows,
        session_ids=sessions,
        min_seq=seq_lo if seq_lo is not None else 0,
        max_seq=seq_hi if seq_hi is not None else -1,
        min_recv=recv_lo,
        max_recv=recv_hi,
        venues=venues,
        names=names,
        row_group_recv=recv_groups,
        filesystem=filesystem,
    )


def _is_glob(text: str) -> bool:
    return any(c in _GLOB_CHARS for c in text)


def _parquet_under(directory: Path) -> list[Path]:
    return sorted(
        p
        for p in directory.rglob("*.parquet")
        if p.is_file() and not any(part.startswith((".", "_")) for part in p.parts[-1:])
    )


def _recordings_root(path: Path) -> Path | None:
    """Return the recordings root a Parquet file sits in (the parent of `frames/`), if any."""
    for parent in path.parents:
        if parent.name == mf.FRAMES_DIR:
            return parent.parent
    return None


def _session_target(path: Path) -> tuple[Path, str] | None:
    """Map `root/<id>`, `root/sessions/<id>` or `root/sessions/<id>.json` to (root, id)."""
    candidates = []
    if path.suffix == ".json" and path.parent.name == mf.SESSIONS_DIR:
        candidates.append((path.parent.parent, path.stem))
    candidates.append((path.parent, path.name))
    if path.parent.name == mf.SESSIONS_DIR:
        candidates.append((path.parent.parent, path.name))
    for root, session_id in candidates:
        if mf.manifest_path(root, session_id).is_file():
            return root, session_id
    return None


def _files_for(path: Path, text: str) -> tuple[list[Path], str | None]:
    """Find the Parquet files a path names, and the single session it names, if it does."""
    if path.is_dir():
        # A recordings root keeps other Parquet beside frames/ (ground truth, runs): skip it.
        if (path / mf.FRAMES_DIR).is_dir() or (path / mf.SESSIONS_DIR).is_dir():
            frames = path / mf.FRAMES_DIR
            return (_parquet_under(frames) if frames.is_dir() else []), None
        return _parquet_under(path), None
    if path.is_file():
        if path.suffix == ".parquet":
            return [path], None
        target = _session_target(path)
        if target is None:
            raise RecordingError(f"{path} is neither a Parquet file nor a session manifest")
    elif _is_glob(text):
        matches = sorted(glob.glob(text, recursive=True))
        files: list[Path] = []
        for match in map(Path, matches):
            if match.is_dir():
                files.extend(_parquet_under(match))
            elif match.suffix == ".parquet":
                files.append(match)
        if not files:
            raise RecordingError(f"no Parquet files match {text}")
        return files, None
    else:
        target = _session_target(path)
        if target is None:
            raise RecordingError(f"recording not found: {path}")
    root, session_id = target
    found = set((root / mf.FRAMES_DIR).glob(f"date=*/venue=*/{session_id}-*.parquet"))
    try:
        manifest = mf.read_manifest(mf.manifest_path(root, session_id))
        for entry in manifest.get("files", []):
            file = root / entry["path"]
            if file.is_file():
                found.add(file)
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise RecordingError(f"cannot read manifest of session {session_id}: {exc}") from exc
    return sorted(found), session_id


def _manifest_start(file: Path, session_id: str, cache: dict[Path, int | None]) -> int | None:
    root = _recordings_root(file)
    if root is None:
        return None
    path = mf.manifest_path(root, session_id)
    if path not in cache:
        try:
            start = mf.read_manifest(path).get("start_ns")
            cache[path] = start if isinstance(start, int) else None
        except (OSError, ValueError):
            cache[path] = None
    return cache[path]


def _remote_files(url: str) -> tuple[list[str], str | None, bool]:
    """The objects an `s3://` path names, the single session it names (if it does), and
    whether it named one Parquet object (as _files_for does for local paths)."""
    path = remote.split(url)
    objects = remote.list_files(path)
    if len(objects) == 1 and objects[0][0] == path:
        if not path.endswith(".parquet"):
            raise RecordingError(f"{url} is not a Parquet file")
        return [path], None, True
    if objects:
        frames = f"{path}/{mf.FRAMES_DIR}/"
        if any(name.startswith((frames, f"{path}/{mf.SESSIONS_DIR}/")) for name, _ in objects):
            objects = [o for o in objects if o[0].startswith(frames)]
        return [name for name, _ in objects if _is_frames_object(name)], None, False
    root, _, session_id = path.rpartition("/")
    session_id = session_id.removesuffix(".json")
    if root.endswith(f"/{mf.SESSIONS_DIR}"):
        root = root[: -len(mf.SESSIONS_DIR) - 1]
    if not root or not remote.list_files(f"{root}/{mf.SESSIONS_DIR}/{session_id}.json"):
        raise RecordingError(f"recording not found: {url}")
    names = {
        name
        for name, _ in remote.list_files(f"{root}/{mf.FRAMES_DIR}")
        if name.rpartition("/")[2].startswith(f"{session_id}-") and _is_frames_object(name)
    }
    return sorted(names), session_id, False


def _is_frames_object(name: str) -> bool:
    base = name.rpartition("/")[2]
    return base.endswith(".parquet") and not base.startswith((".", "_"))


def _remote_manifest(file: str, session_id: str, cache: dict[str, dict[str, Any] | None]) -> tuple[str, dict[str, Any]] | None:
    """The recordings root on object storage a file sits in, and its session's manifest."""
    marker = f"/{mf.FRAMES_DIR}/"
    if marker not in file:
        return None
    root = file[: file.index(marker)]
    path = f"{root}/{mf.SESSIONS_DIR}/{session_id}.json"
    if path not in cache:
        try:
            import orjson

            manifest = orjson.loads(remote.read_bytes(path)) if remote.list_files(path) else None
            cache[path] = manifest if isinstance(manifest, dict) else None
        except (RecordingError, ValueError):
            cache[path] = None
    manifest = cache[path]
    return None if manifest is None else (root, manifest)


def resolve(path: str | os.PathLike[str]) -> list[SessionFiles]:
    """List the sessions a recording path holds, ordered by session start.

    Raise RecordingError (one line naming the path) when the path does not exist, holds no
    frames, or a Parquet file in it cannot be read.
    """
    text = os.fspath(path)
    if remote.is_remote(text):
        return _resolve_remote(text)
    p = Path(text).expanduser()
    files, only = _files_for(p, text)
    infos = _inspect_all(files, None, p.is_file())
    by_session = _by_session(infos, only, text)
    cache: dict[Path, int | None] = {}
    sessions = []
    for session_id, session_files in by_session.items():
        start = _manifest_start(session_files[0].path, session_id, cache)  # type: ignore[arg-type]
        manifest = source = None
        root = _recordings_root(session_files[0].path)  # type: ignore[arg-type]
        if root is not None and mf.manifest_path(root, session_id).is_file():
            manifest = mf.manifest_path(root, session_id)
            source = str(root / session_id)
        if start is None:
            start = _first_recv(session_files)
        sessions.append(SessionFiles(session_id, start, session_files, manifest, source))
    sessions.sort(key=lambda s: (s.start_ns, s.session_id))
    return sessions


def _resolve_remote(url: str) -> list[SessionFiles]:
    files, only, named_file = _remote_files(url)
    infos = _inspect_all(files, remote.filesystem(), named_file)
    cache: dict[str, dict[str, Any] | None] = {}
    sessions = []
    for session_id, session_files in _by_session(infos, only, url).items():
        found = _remote_manifest(str(session_files[0].path), session_id, cache)
        start = found[1].get("start_ns") if found is not None else None
        if not isinstance(start, int):
            start = _first_recv(session_files)
        source = manifest = None
        if found is not None:
            source = f"{remote.SCHEME}{found[0]}/{session_id}"
            manifest = f"{remote.SCHEME}{found[0]}/{mf.SESSIONS_DIR}/{session_id}.json"
        sessions.append(SessionFiles(session_id, start, session_files, manifest, source))
    sessions.sort(key=lambda s: (s.start_ns, s.session_id))
    return sessions


def _inspect_all(files: Sequence[Path | str], filesystem: Any, named_file: bool) -> list[FileInfo]:
    infos = []
    for f in files:
        try:
            infos.append(inspect_file(f, filesystem))
        except NotFramesError:
            if named_file:
                raise  # named explicitly: say why it cannot be replayed
            log.info("skipping %s: not a frames file", f)
    return infos


def _first_recv(files: list[FileInfo]) -> int:
    recvs = [f.min_recv for f in files if f.min_recv is not None]
    return min(recvs) if recvs else 0


def _by_session(infos: list[FileInfo], only: str | None, text: str) -> dict[str, list[FileInfo]]:
    """Group files by session (those of `only`, if given), each in ingest_seq order."""
    by_session: dict[str, list[FileInfo]] = {}
    for info in infos:
        if info.rows == 0:
            continue
        for session_id in info.session_ids:
            if only is None or session_id == only:
                by_session.setdefault(session_id, []).append(info)
    if not by_session:
        raise RecordingError(f"no frames in {text}")
    for session_files in by_session.values():
        session_files.sort(key=lambda f: (f.min_seq, f.max_seq, str(f.path)))
    return by_session


class _Columns:
    """A batch as one numpy array per column (Python objects for strings and payloads)."""

    __slots__ = ("arrays", "num_rows")

    def __init__(self, arrays: list[np.ndarray], num_rows: int) -> None:
        self.arrays = arrays
        self.num_rows = num_rows

    def slice(self, offset: int, length: int | None = None) -> _Columns:
        end = self.num_rows if length is None else min(self.num_rows, offset + length)
        return _Columns([a[offset:end] for a in self.arrays], max(end - offset, 0))


_Buffer = Any  # pa.RecordBatch or _Columns: both have num_rows and slice(offset, length)


class _Cursor:
    """Filtered, type-checked batches of one file for one session, with a look-ahead buffer.

    `convert`, if given, turns each batch into the form the merge moves (e.g. _Columns).
    """

    def __init__(
        self,
        batches: Iterator[pa.RecordBatch],
        path: Path,
        convert: Callable[[pa.RecordBatch], _Buffer] | None = None,
    ) -> None:
        self._batches = batches
        self._path = path
        self._convert = convert
        self._last: int | None = None
        self.batch: _Buffer | None = None
        self.seq: np.ndarray = np.empty(0, np.int64)

    def fill(self) -> bool:
        """Make sure the buffer holds rows; return False once the file is exhausted."""
        while self.batch is None or self.batch.num_rows == 0:
            try:
                batch = next(self._batches)
            except StopIteration:
                self.batch = None
                return False
            seq = batch.column("ingest_seq").to_numpy()
            if len(seq) and (
                (self._last is not None and seq[0] <= self._last) or (seq[1:] <= seq[:-1]).any()
            ):
                raise RecordingError(f"{self._path}: ingest_seq is not strictly increasing")
            if len(seq):
                self._last = int(seq[-1])
            self.batch = batch if self._convert is None else self._convert(batch)
            self.seq = seq
        return True

    def take(self, end: int) -> tuple[_Buffer, np.ndarray]:
        """Remove and return the first `end` buffered rows."""
        assert self.batch is not None
        if end >= self.batch.num_rows:
            head, seq = self.batch, self.seq
            self.batch, self.seq = None, self.seq[:0]
            return head, seq
        head, seq = self.batch.slice(0, end), self.seq[:end]
        self.batch, self.seq = self.batch.slice(end), self.seq[end:]
        return head, seq


@dataclass
class _Plan:
    columns: list[str]
    read_columns: list[str]
    schema: pa.Schema
    start_ns: int | None
    end_ns: int | None
    venues: frozenset[str] | None
    dictionary: bool
    batch_rows: int


def _file_batches(info: FileInfo, session_id: str, plan: _Plan) -> Iterator[pa.RecordBatch]:
    groups = list(range(_num_row_groups(info)))
    if (plan.start_ns is not None or plan.end_ns is not None) and info.row_group_recv:
        groups = [
            i
            for i, (lo, hi) in enumerate(info.row_group_recv)
            if (plan.start_ns is None or hi >= plan.start_ns)
            and (plan.end_ns is None or lo < plan.end_ns)
        ]
    if not groups:
        return
    mixed_session = len(info.session_ids) > 1
    venue_filter = plan.venues is not None and (
        info.venues is None or not set(info.venues) <= plan.venues
    )
    read = [c for c in plan.read_columns if c in info.names]
    if mixed_session and "session_id" not in read:
        read.append("session_id")
    if venue_filter and "venue" not in read:
        read.append("venue")
    try:
        # pre_buffer would cache every selected row group's bytes up front: memory grows with
        # the file. Threads buy little on two shared cores.
        pf = pq.ParquetFile(
            info.path,
            filesystem=info.filesystem,
            pre_buffer=False,
            read_dictionary=[c for c in _DICTIONARY_STRINGS if c in read] if plan.dictionary else None,
        )
        batches = pf.iter_batches(
            batch_size=plan.batch_rows, row_groups=groups, columns=read, use_threads=False
        )
        keep = None
        if mixed_session or venue_filter or plan.start_ns is not None or plan.end_ns is not None:
            keep = _row_mask(plan, session_id if mixed_session else None, venue_filter)
        for batch in batches:
            if keep is not None:
                batch = batch.filter(keep(batch))
            if batch.num_rows:
                yield _conform(batch, plan)
    except (OSError, pa.ArrowException) as exc:
        raise RecordingError(f"cannot read {info.path}: {exc}") from exc


def _row_mask(
    plan: _Plan, session_id: str | None, venue_filter: bool
) -> Callable[[pa.RecordBatch], pa.Array]:
    """A function giving the mask of a batch's rows that pass the plan's filters."""
    import pyarrow.compute as pc  # only filtering needs it (~40 ms to import)

    venues = pa.array(sorted(plan.venues)) if venue_filter and plan.venues is not None else None

    def mask(batch: pa.RecordBatch) -> pa.Array:
        keep = None
        if session_id is not None:
            keep = pc.equal(batch.column("session_id"), session_id)
        if plan.start_ns is not None:
            m = pc.greater_equal(batch.column("recv_ns"), plan.start_ns)
            keep = m if keep is None else pc.and_(keep, m)
        if plan.end_ns is not None:
            m = pc.less(batch.column("recv_ns"), plan.end_ns)
            keep = m if keep is None else pc.and_(keep, m)
        if venues is not None:
            m = pc.is_in(batch.column("venue"), venues)
            keep = m if keep is None else pc.and_(keep, m)
        return keep

    return mask


def _num_row_groups(info: FileInfo) -> int:
    if info.row_group_recv:
        return len(info.row_group_recv)
    try:
        return pq.ParquetFile(info.path, filesystem=info.filesystem).metadata.num_row_groups
    except (OSError, pa.ArrowException) as exc:
        raise RecordingError(f"cannot read {info.path}: {exc}") from exc


def _conform(batch: pa.RecordBatch, plan: _Plan) -> pa.RecordBatch:
    columns = []
    for f in plan.schema:
        index = batch.schema.get_field_index(f.name)
        if index < 0:
            columns.append(pa.nulls(batch.num_rows, f.type))
            continue
        column = batch.column(index)
        if column.type != f.type:
            column = column.cast(f.type)
        columns.append(column)
    return pa.RecordBatch.from_arrays(columns, schema=plan.schema)


_Parts = tuple[list[_Buffer], "np.ndarray | None"]


def _merge(cursors: list[_Cursor], session_id: str) -> Iterator[_Parts]:
    """Yield `(parts, order)`: taking rows of the concatenated parts in `order` (None: as they
    are) continues the session's ingest_seq order."""
    active = [c for c in cursors if c.fill()]
    while len(active) > 1:
        # Every buffered row up to the smallest "last buffered seq" can go out now: no file
        # can still produce a smaller one.
        bound = min(int(c.seq[-1]) for c in active)
        parts, seqs = [], []
        for c in active:
            end = int(np.searchsorted(c.seq, bound, side="right"))
            if end:
                part, seq = c.take(end)
                parts.append(part)
                seqs.append(seq)
        if len(parts) == 1:
            yield parts, None
        else:
            seq = np.concatenate(seqs)
            order = np.argsort(seq, kind="stable")
            ordered = seq[order]
            if (ordered[1:] == ordered[:-1]).any():
                raise RecordingError(
                    f"session {session_id}: the same ingest_seq appears in two files"
                )
            yield parts, order
        active = [c for c in active if c.fill()]
    for c in active:
        while c.fill():
            assert c.batch is not None
            batch, c.batch = c.batch, None
            yield [batch], None


def _overlap_groups(files: Sequence[FileInfo]) -> Iterator[list[FileInfo]]:
    group: list[FileInfo] = []
    group_max = None
    for f in files:
        if group and group_max is not None and f.min_seq > group_max:
            yield group
            group, group_max = [], None
        group.append(f)
        group_max = f.max_seq if group_max is None else max(group_max, f.max_seq)
    if group:
        yield group


def _session_parts(
    session: SessionFiles,
    plan: _Plan,
    convert: Callable[[pa.RecordBatch], _Buffer] | None = None,
) -> Iterator[_Parts]:
    files = [
        f
        for f in session.files
        if (plan.venues is None or f.venues is None or set(f.venues) & plan.venues)
        and (plan.start_ns is None or f.max_recv is None or f.max_recv >= plan.start_ns)
        and (plan.end_ns is None or f.min_recv is None or f.min_recv < plan.end_ns)
    ]
    for group in _overlap_groups(files):
        cursors = [
            _Cursor(_file_batches(f, session.session_id, plan), f.path, convert) for f in group
        ]
        yield from _merge(cursors, session.session_id)


_DICTIONARY_STRINGS = ("session_id", "venue", "kind")
_DICT_TYPE = pa.dictionary(pa.int32(), pa.string())


def _plan(
    columns: Sequence[str] | None,
    start_ns: int | None,
    end_ns: int | None,
    venues: Iterable[str] | None,
    batch_rows: int,
    dictionary: bool = False,
) -> _Plan:
    wanted = list(columns) if columns is not None else list(FRAME_COLUMNS)
    unknown = [c for c in wanted if c not in SEALED_SCHEMA.names]
    if unknown:
        raise ValueError(f"unknown frames column {unknown[0]!r}")
    read = list(wanted)
    needed = ["ingest_seq"] if start_ns is None and end_ns is None else ["ingest_seq", "recv_ns"]
    read += [c for c in needed if c not in read]
    fields = []
    for name in read:
        f = SEALED_SCHEMA.field(name)
        fields.append(f.with_type(_DICT_TYPE) if dictionary and name in _DICTIONARY_STRINGS else f)
    return _Plan(
        columns=wanted,
        read_columns=read,
        schema=pa.schema(fields),
        start_ns=start_ns,
        end_ns=end_ns,
        venues=frozenset(venues) if venues is not None else None,
        dictionary=dictionary,
        batch_rows=batch_rows,
    )


def iter_frame_batches(
    path: str | os.PathLike[str],
    start_ns: int | None = None,
    end_ns: int | None = None,
    venues: Iterable[str] | None = None,
    columns: Sequence[str] | None = None,
    *,
    batch_rows: int = BATCH_ROWS,
) -> Iterator[pa.RecordBatch]:
    """Yield a recording's frames as RecordBatches in `(session start, ingest_seq)` order.

    Keep rows with `start_ns <= recv_ns < end_ns` and a venue in `venues` (each if given).
    `columns` defaults to the eight frames columns (FRAMES_SCHEMA types); derived columns may
    be asked for too (null where a file lacks them). The path is resolved now, so a bad path
    raises RecordingError here rather than on the first `next()`. `batch_rows` caps the rows
    read from a file at a time (merged batches can be larger).
    """
    plan = _plan(columns, start_ns, end_ns, venues, batch_rows)
    return _batches(resolve(path), plan)


def _batches(sessions: list[SessionFiles], plan: _Plan) -> Iterator[pa.RecordBatch]:
    drop = len(plan.read_columns) != len(plan.columns)
    for session in sessions:
        for parts, order in _session_parts(session, plan):
            batch = parts[0] if order is None else pa.concat_batches(parts).take(order)
            yield batch.select(plan.columns) if drop else batch


def iter_frames(
    path: str | os.PathLike[str],
    start_ns: int | None = None,
    end_ns: int | None = None,
    venues: Iterable[str] | None = None,
    *,
    batch_rows: int = BATCH_ROWS,
) -> Iterator[Frame]:
    """Yield a recording's frames as `Frame` objects in replay order (see iter_frame_batches)."""
    plan = _plan(FRAME_COLUMNS, start_ns, end_ns, venues, batch_rows, dictionary=True)
    return _frames(resolve(path), plan)


class _ToColumns:
    """Turn batches into _Columns of the first `width` columns but `skip`, one str per value.

    Dictionary-encoded strings become object arrays repeating one `sys.intern`ed str per
    distinct value: the same object across batches and files and as equal literals in code
    (`"in"`, `"kalshi"`), so the engine's comparisons and dict lookups end on identity.
    Integers stay numpy; payloads and other strings become object arrays of bytes/str.
    """

    def __init__(self, width: int, skip: int | None = None) -> None:
        self._width = width
        self._skip = skip
        self._values: dict[tuple[Any, ...], np.ndarray] = {}

    def _dictionary(self, column: pa.DictionaryArray) -> np.ndarray:
        words = tuple(column.dictionary.to_pylist())
        values = self._values.get(words)
        if values is None:
            values = np.empty(len(words), dtype=object)
            values[:] = [w if w is None else sys.intern(w) for w in words]
            self._values[words] = values
        return values[column.indices.to_numpy()]

    def __call__(self, batch: pa.RecordBatch) -> _Columns:
        arrays = []
        for index, column in enumerate(batch.columns[: self._width]):
            kind = column.type
            if index == self._skip:
                continue
            if column.null_count == 0 and pa.types.is_dictionary(kind):
                arrays.append(self._dictionary(column))
            elif column.null_count == 0 and (pa.types.is_integer(kind) or pa.types.is_boolean(kind)):
                arrays.append(column.to_numpy(zero_copy_only=False))
            elif pa.types.is_binary(kind) or pa.types.is_string(kind):
                arrays.append(column.to_numpy(zero_copy_only=False))
            else:
                values = np.empty(len(column), dtype=object)
                values[:] = column.to_pylist()
                arrays.append(values)
        return _Columns(arrays, batch.num_rows)


def iter_frame_lists(
    path: str | os.PathLike[str],
    start_ns: int | None = None,
    end_ns: int | None = None,
    venues: Iterable[str] | None = None,
    columns: Sequence[str] | None = None,
    *,
    batch_rows: int = BATCH_ROWS,
) -> Iterator[list[Sequence[Any]]]:
    """Yield a recording's frames in replay order as batches of Python column lists.

    Each batch is one list per column of `columns` (default: the eight frames columns), rows
    aligned, for driving a per-row loop without building `Frame` objects; strings repeat one
    `str` object per distinct value. Filters and order as in iter_frame_batches.
    """
    plan = _plan(columns, start_ns, end_ns, venues, batch_rows, dictionary=True)
    return _lists(resolve(path), plan)


def _lists(sessions: list[SessionFiles], plan: _Plan) -> Iterator[list[Sequence[Any]]]:
    # Every row of a session's parts has that session's id (files of several sessions are
    # filtered to it), so that column is one repeated str, never converted row by row.
    skip = plan.columns.index("session_id") if "session_id" in plan.columns else None
    convert = _ToColumns(len(plan.columns), skip)
    for session in sessions:
        session_id = sys.intern(session.session_id)
        for parts, order in _session_parts(session, plan, convert):
            if order is None:
                columns = [a.tolist() for a in parts[0].arrays]
            else:
                # Put small columns and payload references in order in numpy, before any
                # Python object per row is made for the ints.
                columns = [
                    np.concatenate(arrays)[order].tolist()
                    for arrays in zip(*(p.arrays for p in parts))
                ]
            if skip is not None:
                columns.insert(skip, [session_id] * sum(p.num_rows for p in parts))
            yield columns


def _frames(sessions: list[SessionFiles], plan: _Plan) -> Iterator[Frame]:
    for columns in _lists(sessions, plan):
        yield from map(Frame, *columns)
