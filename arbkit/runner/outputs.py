"""Run outputs (DESIGN §8): the engine's rows written as Parquet tables plus `run.json`.

Money, prices and sizes are exact Parquet decimals: dollars as decimal(18, 6) (the engine's
micro-dollars), prices as decimal(10, 4) (ticks of $0.0001), sizes as decimal(18, 6) (millionths
of a contract). Files are written with fixed settings and no timestamps, so the same rows give
byte-identical files in any process.
"""

from __future__ import annotations

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

MONEY = pa.decimal128(18, 6)
PRICE = pa.decimal128(10, 4)
SIZE = pa.decimal128(18, 6)



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


def write_table(path: Path, table: str, rows: list[dict[str, Any]]) -> None:
    """Write rows of a run table to Parquet with its fixed schema."""
    schema = SCHEMAS[table]
    columns = [_column([row.get(f.name) for row in rows], f.type) for f in schema]
    data = pa.Table.from_arrays(columns, schema=schema)
    tmp = path.with_suffix(".parquet.tmp")
    try:
        pq.write_table(data, tmp, compression="zstd", write_statistics=True)
        os.replace(tmp, path)
    except OSError as exc:
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
    """Collects output rows per table and writes them into a run directory."""

    def __init__(self, tables: Iterable[str] | None = None) -> None:
        self.rows: dict[str, list[dict[str, Any]]] = {t: [] for t in (tables or SCHEMAS)}

    def add(self, outputs: Iterable[tuple[str, dict[str, Any]]]) -> None:
        """Append engine outputs to their tables."""
        rows = self.rows
        for table, row in outputs:
            rows[table].append(row)

    def write(self, run_dir: Path, meta: dict[str, Any]) -> dict[str, str]:
        """Write every table and run.json; return {table: sha256 of its file}."""
        try:
            run_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StorageError(f"cannot create run directory {run_dir}: {exc}") from exc
        hashes: dict[str, str] = {}
        for table in sorted(self.rows):
            path = run_dir / f"{table}.parquet"
            write_table(path, table, self.rows[table])
            hashes[table] = hashlib.sha256(path.read_bytes()).hexdigest()
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


register_rows(RiskDecision, PaperOrder, PaperFill, TradeOutcome, PositionRow, PnlRow)
