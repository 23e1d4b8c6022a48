"""The sweep relations of the `src` schema: one `arbkit sweep` result file, or none.

`register_sweep` creates, over `DIR/sweep.parquet` (arbkit.sweep):

- `src.sweep`: one row per task with the file's fixed columns (task id, session, the statistics,
  status, error) and `task_index`, the row's place in the file (the sweep's plan order). A column
  an older file lacks is NULL.
- `src.sweep_params`: one row per task and grid parameter (the file's other columns, in their
  order `position`): the value as exact text (`0.01`, `250`; NULL where the point leaves the
  parameter at the config's value), as a DOUBLE in `number` when the parameter is numeric.
- `src.sweep_sessions`: one row per session with the path it was read from (the file's metadata;
  NULL for a file written before arbkit recorded it).

All three are empty (typed) when no sweep is given, so the views over them always compile.
"""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from arbkit.errors import UserError
from arbkit.sweep import METADATA_KEY, RESULT_COLUMNS, RESULT_FILE

_KEYS = {"task_id": "VARCHAR", "session": "VARCHAR"}


def _sql_type(kind: pa.DataType) -> str:
    if pa.types.is_decimal(kind):
        return f"DECIMAL({kind.precision}, {kind.scale})"
    return {pa.int64(): "BIGINT", pa.float64(): "DOUBLE", pa.string(): "VARCHAR"}[kind]


_RESULTS = {name: _sql_type(kind) for name, kind in RESULT_COLUMNS}
_PARAM_TYPES = {"task_id": "VARCHAR", "position": "INTEGER", "parameter": "VARCHAR", "value": "VARCHAR",
                "number": "DOUBLE", "numeric": "BOOLEAN"}
_SESSION_TYPES = {"session": "VARCHAR", "source": "VARCHAR"}
# A decimal or float written as text loses the zeros that only its type's scale put there.
_EXACT_TEXT = ("CASE WHEN regexp_full_match({v}, '-?[0-9]+\\.[0-9]+') THEN rtrim(rtrim({v}, '0'), '.') "
               "ELSE {v} END")


def sweep_file(sweep: str | os.PathLike[str]) -> Path:
    """The result file of a sweep directory (or the file itself); UserError when there is none."""
    path = Path(os.fspath(sweep)).expanduser()
    file = path if path.suffix == ".parquet" and not path.is_dir() else path / RESULT_FILE
    if not file.is_file():
        where = "no such directory" if not path.exists() else f"no {RESULT_FILE}"
        raise UserError(f"not an arbkit sweep directory ({where}): {path}")
    return file.resolve()


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _empty(types: dict[str, str]) -> str:
    return "SELECT " + ", ".join(f"CAST(NULL AS {t}) AS {c}" for c, t in types.items()) + " WHERE false"


def _read(file: Path) -> pa.Schema:
    try:
        schema = pq.read_schema(file)
    except (OSError, pa.ArrowException) as exc:
        raise UserError(f"cannot read {file}: {' '.join(str(exc).split())}") from None
    missing = [c for c in (*_KEYS, "status") if c not in schema.names]
    if missing:
        raise UserError(f"{file} is not an arbkit sweep result: no column {missing[0]!r}")
    return schema


def _sources(schema: pa.Schema) -> pa.Table:
    try:
        meta = orjson.loads((schema.metadata or {}).get(METADATA_KEY, b"{}"))
    except orjson.JSONDecodeError:
        meta = {}
    sources = meta.get("sources") if isinstance(meta, dict) else None
    known = sorted(sources.items()) if isinstance(sources, dict) else []
    return pa.table({"session": [str(s) for s, _ in known], "source": [str(p) for _, p in known]},
                    schema=pa.schema([pa.field("session", pa.string()), pa.field("source", pa.string())]))


def register_sweep(con: duckdb.DuckDBPyConnection, sweep: str | os.PathLike[str] | None) -> list[Path]:
    """Create `src.sweep`, `src.sweep_params` and `src.sweep_sessions`; return the file read."""
    if sweep is None:
        con.execute(f"CREATE VIEW src.sweep AS {_empty({**_KEYS, **_RESULTS, 'task_index': 'BIGINT'})}")
        con.execute(f"CREATE VIEW src.sweep_params AS {_empty(_PARAM_TYPES)}")
        con.execute(f"CREATE VIEW src.sweep_sessions AS {_empty(_SESSION_TYPES)}")
        return []
    file = sweep_file(sweep)
    schema = _read(file)
    reader = f"read_parquet({_literal(str(file))}, file_row_number = true)"
    columns = [f"CAST({_ident(c)} AS {t}) AS {c}" if c in schema.names else f"CAST(NULL AS {t}) AS {c}"
               for c, t in {**_KEYS, **_RESULTS}.items()]
    con.execute(f"CREATE VIEW src.sweep AS SELECT {', '.join(columns)}, file_row_number AS task_index FROM {reader}")
    parts = []
    params = [f for f in schema if f.name not in _KEYS and f.name not in _RESULTS]
    for position, field in enumerate(params):
        kind = field.type
        numeric = pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind)
        text = f"CAST({_ident(field.name)} AS VARCHAR)"
        value = _EXACT_TEXT.format(v=text) if numeric else text
        number = f"CAST({_ident(field.name)} AS DOUBLE)" if numeric else "CAST(NULL AS DOUBLE)"
        parts.append(f"SELECT CAST(task_id AS VARCHAR) AS task_id, {position} AS position, "
                     f"{_literal(field.name)} AS parameter, {value} AS value, {number} AS number, "
                     f"{'true' if numeric else 'false'} AS numeric FROM {reader}")
    con.execute(f"CREATE VIEW src.sweep_params AS {' UNION ALL '.join(parts) if parts else _empty(_PARAM_TYPES)}")
    con.register("_sweep_sources", _sources(schema))
    con.execute(f"""CREATE VIEW src.sweep_sessions AS
        SELECT s.session, m.source
        FROM (SELECT DISTINCT CAST(session AS VARCHAR) AS session FROM {reader}) AS s
        LEFT JOIN _sweep_sources AS m USING (session)""")
    return [file]


__all__ = ["register_sweep", "sweep_file"]
