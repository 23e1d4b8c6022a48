"""Run outputs (DESIGN §8): the engine's rows written as Parquet tables plus `run.json`.

Money, prices and sizes are exact Parquet decimals: dollars as decimal(18, 6) (the engine's
micro-dollars), prices as decimal(10, 4) (ticks of $0.0001), sizes as decimal(18, 6) (millionths
of a contract). Files are written with fixed settings and no timestamps, so the same rows give
byte-identical files in any process. Tables are streamed in row groups of ROW_GROUP_ROWS rows
while the run goes, so a run's memory does not grow with its length.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import os
import subprocess
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import msgspec
import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from arbkit import __version__
from arbkit.core.fills import PaperFill, PaperOrder, TradeOutcome
from arbkit.core.portfolio import PnlRow, PositionRow
from arbkit.core.risk import RiskDecision
from arbkit.errors import StorageError
from arbkit.runner.summary import RunTally

MONEY = pa.decimal128(18, 6)
PRICE = pa.decimal128(10, 4)
SIZE = pa.decimal128(18, 6)

# Rows per row group of a run table: the most a table holds (on disk) before writing them, and
# so the most it reads back into memory at once (~20 MB of opportunities). Tables below it are
# one row group, as a single `pq.write_table` writes them: a sandbox run's tables have tens to
# thousands of rows, a 5M-frame replay of 200 pairs ~50,000 in its largest.
ROW_GROUP_ROWS = 65_536
# Rows kept as dicts before they become one Arrow batch (a dict row takes ~1 KB, ~5x its
# columns).
_BATCH_ROWS = 1_024


def _schema(*fields: tuple[str, pa.DataType]) -> pa.Schema:
    return pa.schema([pa.field(name, kind) for name, kind in fields])


SCHEMAS: dict[str, pa.Schema] = {
    "opportunities": _schema(
        ("opportunity_id", pa.string()),
        ("pair", pa.string()),
        ("direction", pa.string()),
        ("open_ns", pa.int64()),
        ("close_ns", pa.int64()),
        ("duration_ns", pa.int64()),
        ("open_ingest_seq", pa.int64()),
        ("close_ingest_seq", pa.int64()),
        ("close_reason", pa.string()),
        ("open_edge_at_min_size", MONEY),
        ("open_size", SIZE),
        ("open_profit", MONEY),
        ("peak_ns", pa.int64()),
        ("peak_ingest_seq", pa.int64()),
        ("peak_size", SIZE),
        ("peak_profit", MONEY),
        ("peak_edge", MONEY),
        ("kalshi_staleness_ns", pa.int64()),
        ("polymarket_staleness_ns", pa.int64()),
        ("polymarket_book", pa.string()),
    ),
    "book_health": _schema(
        ("venue", pa.string()),
        ("market", pa.string()),
        ("updates", pa.int64()),
        ("snapshots", pa.int64()),
        ("ignored_updates", pa.int64()),
        ("seq_gaps", pa.int64()),
        ("invalidations", pa.int64()),
        ("invalid_reasons", pa.string()),
        ("staleness_samples", pa.int64()),
        ("staleness_p50_ns", pa.int64()),
        ("staleness_p90_ns", pa.int64()),
        ("staleness_p99_ns", pa.int64()),
        ("staleness_max_ns", pa.int64()),
        ("valid_at_end", pa.bool_()),
    ),
}

_PRICE_FIELDS = frozenset({"price", "limit_price", "mark_price"})
_SIZE_SUFFIXES = ("size", "_filled")
_INT_FIELDS = frozenset({"decision_id", "ns"})


def _field_type(name: str, annotation: Any) -> pa.DataType:
    """The Parquet type of a core row field: exact decimals for prices, sizes and money."""
    base = msgspec.inspect.type_info(annotation)
    if isinstance(base, msgspec.inspect.UnionType):
        base = next(t for t in base.types if not isinstance(t, msgspec.inspect.NoneType))
    if isinstance(base, msgspec.inspect.BoolType):
        return pa.bool_()
    if isinstance(base, msgspec.inspect.StrType):
        return pa.string()
    if name in _INT_FIELDS or name.endswith(("_ns", "_seq")):
        return pa.int64()
    if name in _PRICE_FIELDS:
        return PRICE
    if name.endswith(_SIZE_SUFFIXES):
        return SIZE
    return MONEY  # every other integer of a core row is micro-dollars


def schema_of(row_type: type) -> pa.Schema:
    """Derive a run table's schema from the msgspec Struct its rows are."""
    hints = msgspec.structs.fields(row_type)
    return pa.schema([pa.field(f.name, _field_type(f.name, f.type)) for f in hints])


def register_rows(*row_types: type) -> None:
    """Register the tables of core row Structs (each has a `table` class attribute)."""
    for row_type in row_types:
        SCHEMAS[row_type.table] = schema_of(row_type)  # type: ignore[attr-defined]


def _column(values: list[Any], kind: pa.DataType) -> pa.Array:
    if pa.types.is_decimal(kind):
        # Engine integers are the decimals' unscaled values (micro-dollars and size millionths
        # at scale 6, ticks at 4): as whole decimals they have the same bits, read at the
        # column's scale (exact, no Decimal per value). Arrow casts int64 to 19 digits only; the
        # last cast narrows to the column's precision and fails, as a Decimal would, on overflow.
        whole = pa.array(values, type=pa.int64()).cast(pa.decimal128(19, 0))
        return whole.view(pa.decimal128(19, kind.scale)).cast(kind)
    return pa.array(values, type=kind)


def _batch(rows: list[dict[str, Any]], schema: pa.Schema) -> pa.RecordBatch:
    columns = [_column([row.get(f.name) for row in rows], f.type) for f in schema]
    return pa.RecordBatch.from_arrays(columns, schema=schema)


class _TableStream:
    """One run table on its way to `path`, its memory bounded whatever the run's length.

    Rows become an Arrow batch every `_BATCH_ROWS`, held in a hidden file beside the table
    (Arrow IPC) until a row group's worth is there, which then goes to
    `<path>.tmp`; `close` writes the rest and renames the file into place, so a table that looks
    complete is complete. A table below `row_group_rows` rows is one row group, written in
    `close`: the layout, and the bytes, of one `pq.write_table` of its rows.

    Held on disk rather than in memory, so that a long run's rows cost it no memory: held in
    compressed in-memory buffers, a 5M-frame replay's (3.4 MB) still raised its peak RSS by
    ~10 MB. Not compressed: zstd takes and frees a workspace for every buffer it compresses,
    and on a 5M-frame replay that alone kept peak RSS ~10 MB above the 1M-frame figure.
    """

    def __init__(self, path: Path, schema: pa.Schema, row_group_rows: int) -> None:
        self.path = path
        self.tmp = path.with_suffix(".parquet.tmp")
        self.held = path.with_name(f".{path.stem}.rows.tmp")
        self.schema = schema
        self.group_rows = row_group_rows
        self.batch_rows = min(_BATCH_ROWS, row_group_rows)
        self.rows: list[dict[str, Any]] = []
        self.count = 0
        self._held_file: pa.NativeFile | None = None
        self._held_writer: pa.ipc.RecordBatchStreamWriter | None = None
        self._held_rows = 0
        self._writer: pq.ParquetWriter | None = None

    def append(self, row: dict[str, Any]) -> None:
        """Add a row at the end of the table."""
        rows = self.rows
        rows.append(row)
        self.count += 1
        if len(rows) >= self.batch_rows:
            self._hold(_batch(rows, self.schema))
            self.rows = []
            if self._held_rows >= self.group_rows:
                self._write_groups(final=False)

    def close(self) -> None:
        """Write the rows not yet written and move the file into place."""
        self._write_groups(final=True)
        assert self._writer is not None
        self._writer.close()
        self._writer = None
        os.replace(self.tmp, self.path)

    def discard(self) -> None:
        """Drop the rows and the partial file."""
        self.rows = []
        with contextlib.suppress(OSError, pa.ArrowException):
            self._close_held()
        self.held.unlink(missing_ok=True)
        if self._writer is not None:
            with contextlib.suppress(OSError, pa.ArrowException):
                self._writer.close()
            self._writer = None
            self.tmp.unlink(missing_ok=True)

    def _hold(self, batch: pa.RecordBatch) -> None:
        if self._held_writer is None:
            self.held.parent.mkdir(parents=True, exist_ok=True)
            self._held_file = pa.OSFile(str(self.held), "wb")
            self._held_writer = pa.ipc.new_stream(self._held_file, self.schema)
        self._held_writer.write_batch(batch)
        self._held_rows += batch.num_rows

    def _close_held(self) -> None:
        try:
            if self._held_writer is not None:
                self._held_writer.close()
        finally:
            if self._held_file is not None:
                self._held_file.close()
            self._held_writer = self._held_file = None
            self._held_rows = 0

    def _take_held(self) -> pa.Table:
        """The held rows as one table; nothing is held afterwards."""
        if self._held_writer is None:
            return self.schema.empty_table()
        self._close_held()
        with pa.OSFile(str(self.held)) as source:
            table = pa.ipc.open_stream(source).read_all()
        self.held.unlink()
        return table

    def _write_groups(self, final: bool) -> None:
        """Write the full row groups held, and with `final` the rest as the last one (an empty
        table gets one empty row group, as `pq.write_table` writes it)."""
        table = self._take_held()
        if self.rows:  # the last rows, fewer than a batch
            batches = [*table.to_batches(), _batch(self.rows, self.schema)]
            table = pa.Table.from_batches(batches, schema=self.schema)
            self.rows = []
        size = self.group_rows
        cut = table.num_rows if final else table.num_rows // size * size
        if self._writer is None:
            self.tmp.parent.mkdir(parents=True, exist_ok=True)
            self._writer = pq.ParquetWriter(
                self.tmp, self.schema, compression="zstd", write_statistics=True
            )
            if cut == 0 and final:
                self._writer.write_table(table)
        # The held batches go as they are: Parquet bytes do not depend on a column's chunks.
        for start in range(0, cut, size):
            self._writer.write_table(table.slice(start, min(size, cut - start)))
        for batch in table.slice(cut).to_batches():
            self._hold(batch)


def write_table(
    path: Path, table: str, rows: Iterable[dict[str, Any]], *, row_group_rows: int = ROW_GROUP_ROWS
) -> None:
    """Write rows of a run table to Parquet with its fixed schema, as a run writes it."""
    stream = _TableStream(path, SCHEMAS[table], row_group_rows)
    try:
        for row in rows:
            stream.append(row)
        stream.close()
    except OSError as exc:
        stream.discard()
        raise StorageError(f"cannot write {path}: {exc}") from exc


@functools.cache
def code_version() -> dict[str, Any]:
    """The code a run ran: arbkit's version and, from a git checkout, the commit and whether
    tracked files differed from it (None outside a checkout or without git)."""
    checkout = Path(__file__).resolve().parent.parent.parent

    def git(*args: str) -> str | None:
        try:
            done = subprocess.run(
                ["git", "-C", str(checkout), *args],
                capture_output=True, text=True, timeout=5, check=False,
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    commit = git("rev-parse", "HEAD") if (checkout / ".git").exists() else None
    status = git("status", "--porcelain", "--untracked-files=no") if commit else None
    return {
        "arbkit": __version__,
        "git_commit": commit,
        "git_dirty": None if status is None else bool(status),
    }


class RunOutputs:
    """Streams a run's output rows into the tables of its run directory as they arrive, and
    tallies the figures of its summary: memory holds at most `_BATCH_ROWS` rows per table, and
    a row group's worth while it is written.

    Nothing counts as written before `write` renames the tables into place and writes
    run.json; used as a context manager, an exception discards the partial files.
    """

    def __init__(self, run_dir: Path, *, row_group_rows: int = ROW_GROUP_ROWS) -> None:
        self.run_dir = run_dir
        self._streams = {
            table: _TableStream(run_dir / f"{table}.parquet", schema, row_group_rows)
            for table, schema in sorted(SCHEMAS.items())
        }
        self.tally = RunTally()

    def __enter__(self) -> RunOutputs:
        return self

    def __exit__(self, kind: type[BaseException] | None, *_: object) -> None:
        if kind is not None:
            self.discard()

    def add(self, outputs: Iterable[tuple[str, dict[str, Any]]]) -> None:
        """Append engine outputs to their tables."""
        streams = self._streams
        tally = self.tally.add
        try:
            for table, row in outputs:
                streams[table].append(row)
                tally(table, row)
        except OSError as exc:
            raise StorageError(f"cannot write the run tables into {self.run_dir}: {exc}") from exc

    @property
    def counts(self) -> dict[str, int]:
        """Rows per table so far."""
        return {table: stream.count for table, stream in self._streams.items()}

    def write(self, meta: dict[str, Any]) -> dict[str, str]:
        """Finish every table and write run.json; return {table: sha256 of its file}."""
        run_dir = self.run_dir
        try:
            run_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot create run directory {run_dir}: {exc}") from exc
        hashes: dict[str, str] = {}
        for table, stream in self._streams.items():
            try:
                stream.close()
                with open(stream.path, "rb") as file:
                    hashes[table] = hashlib.file_digest(file, "sha256").hexdigest()
            except OSError as exc:
                self.discard()
                raise StorageError(f"cannot write {stream.path}: {exc}") from exc
        document = {
            "arbkit_version": __version__,
            "code_version": code_version(),
            **meta,
            "outputs": hashes,
        }
        tmp = run_dir / "run.json.tmp"
        tmp.write_bytes(orjson.dumps(document, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS))
        os.replace(tmp, run_dir / "run.json")
        return hashes

    def discard(self) -> None:
        """Drop every table not yet written, with its partial file."""
        for stream in self._streams.values():
            stream.discard()


register_rows(RiskDecision, PaperOrder, PaperFill, TradeOutcome, PositionRow, PnlRow)
