"""Read-only access for `arbkit query`: the recording's and runs' files, nothing else.

Two locks, each enough for what it covers:
- DuckDB itself: `allowed_paths` is set to the exact files the views read, then
  `enable_external_access = false` (no other file, URL, extension install or attach) and
  `lock_configuration = true` (no statement can turn it back on).
- Statement kinds: only SELECT-like statements run (`SELECT`, `EXPLAIN`); DDL, DML, COPY,
  ATTACH, INSTALL/LOAD, EXPORT, SET, PRAGMA, transactions... are refused before execution.
"""

from __future__ import annotations

from pathlib import Path

import duckdb

from arbkit.errors import UserError

_ALLOWED = frozenset({duckdb.StatementType.SELECT, duckdb.StatementType.EXPLAIN})


def lock_down(con: duckdb.DuckDBPyConnection, files: list[Path]) -> None:
    """Let `con` read only `files` (absolute paths) and lock its configuration."""
    con.execute("SET allowed_paths = $paths", {"paths": [str(Path(f).resolve()) for f in files]})
    con.execute("SET enable_external_access = false")
    con.execute("SET lock_configuration = true")


def check_query(con: duckdb.DuckDBPyConnection, sql: str) -> None:
    """Raise UserError unless `sql` is one or more read-only statements."""
    try:
        statements = con.extract_statements(sql)
    except duckdb.Error as exc:
        raise UserError(f"bad SQL: {one_line(exc)}") from None
    if not statements:
        raise UserError("no SQL statement given")
    for statement in statements:
        kind = statement.type
        if kind not in _ALLOWED:
            name = kind.name if hasattr(kind, "name") else str(kind)
            raise UserError(
                f"query is read-only: {name.replace('_STATEMENT', '')} statements are refused"
            )


def one_line(exc: BaseException) -> str:
    """A DuckDB error message on one line."""
    return " ".join(str(exc).split())
