"""`connect`: a DuckDB connection with every view of `arbkit/analytics/views` registered.

Each `views/<name>.sql` file holds the SELECT of view `<name>` under a header comment saying
what one row is and its units. Views may read each other and the `src` schema
(arbkit.analytics.sources); the order they are created in is worked out from the names each
file mentions, so adding a view is adding a file.
"""

from __future__ import annotations

import os
import re
import tempfile
import uuid
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any

import duckdb

from arbkit.analytics.sources import register_sources
from arbkit.errors import UserError

# `stats` of a 10M-frame recording peaks at ~860 MB of process memory with 700 MB, ~970 MB
# with 800 MB and over 1.1 GB with 900 MB (each a little faster: less is evicted to disk).
MEMORY_LIMIT = "700MB"
_COMMENT = re.compile(r"--[^\n]*|/\*.*?\*/", re.S)
_STRING = re.compile(r"'(?:[^']|'')*'")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _threads() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def view_sql() -> dict[str, str]:
    """Return {view name: SQL text} of every view file shipped in the package."""
    folder = resources.files("arbkit.analytics") / "views"
    return {
        entry.name[: -len(".sql")]: entry.read_text(encoding="utf-8")
        for entry in sorted(folder.iterdir(), key=lambda e: e.name)
        if entry.name.endswith(".sql")
    }


def _references(sql: str, names: set[str]) -> set[str]:
    code = _STRING.sub("''", _COMMENT.sub(" ", sql))
    # `src.frames` names a source, not the view `frames`.
    code = re.sub(r"\bsrc\s*\.\s*[A-Za-z_][A-Za-z0-9_]*", " ", code)
    return {w.lower() for w in _WORD.findall(code)} & names


def view_order(views: Mapping[str, str]) -> list[str]:
    """Order view names so that every view comes after the views it reads."""
    names = set(views)
    needs = {name: _references(sql, names) - {name} for name, sql in views.items()}
    order: list[str] = []
    done: set[str] = set()
    visiting: list[str] = []

    def visit(name: str) -> None:
        if name in done:
            return
        if name in visiting:
            cycle = " -> ".join(visiting[visiting.index(name):] + [name])
            raise ValueError(f"analytics views read each other in a cycle: {cycle}")
        visiting.append(name)
        for dep in sorted(needs[name]):
            visit(dep)
        visiting.pop()
        done.add(name)
        order.append(name)

    for name in sorted(views):
        visit(name)
    return order


def connect(
    recording: str | os.PathLike[str] | None,
    runs: str | os.PathLike[str] | Mapping[str, Any] | None = None,
    *,
    stall_s: float | None = None,
    decode: bool = False,
    read_only: bool = False,
    sweep: str | os.PathLike[str] | None = None,
) -> duckdb.DuckDBPyConnection:
    """Open an in-memory DuckDB connection with every analytics view over a recording and runs.

    `recording` is anything `replay --from` accepts; `runs` is None, one run directory (the run
    is named by the directory's name) or {name: run directory}. `stall_s` overrides the stall
    threshold; `decode=True` runs the decode pass that fills `decode_errors`. With
    `read_only=True` the connection can read nothing but these files and its settings are
    locked (what `arbkit query` uses; see arbkit.analytics.readonly). `sweep` is an
    `arbkit sweep --out` directory (its `sweep.parquet`) for the `sweep_*` views; `recording` may
    be None to read a sweep (or runs) without the frames.
    """
    if stall_s is not None and not stall_s > 0:
        raise UserError(f"stall threshold must be a positive number of seconds, not {stall_s}")
    errors = None
    if decode and recording is not None:
        from arbkit.analytics.decode import decode_errors

        errors = decode_errors(recording)
    con = duckdb.connect(":memory:")
    try:
        # What does not fit in memory spills to a private directory DuckDB removes on close
        # (never the caller's working directory); results keep no insertion order (views that
        # promise an order say ORDER BY), which lets big windows and joins stream. The library
        # draws no progress bars.
        spill = Path(tempfile.gettempdir()) / f"arbkit-duckdb-{uuid.uuid4().hex}"
        con.execute("SET temp_directory = $dir", {"dir": str(spill)})
        con.execute("SET preserve_insertion_order = false")
        # A ceiling DuckDB's buffers stay under (the rest spills), so a 10M-frame recording is
        # analysed in under 1 GB of process memory whatever the machine has; one thread per core
        # (DuckDB's default counts every core the host has, not those this process may use).
        con.execute(f"SET memory_limit = '{MEMORY_LIMIT}'")
        con.execute(f"SET threads = {_threads()}")
        try:
            con.execute("SET enable_progress_bar = false")
        except duckdb.InvalidInputException:
            pass  # in Jupyter without ipywidgets DuckDB refuses any change here; it draws none there
        sources = register_sources(con, recording, runs, stall_s=stall_s, decode_errors=errors,
                                   sweep=sweep)
        views = view_sql()
        for name in view_order(views):
            try:
                con.execute(f'CREATE VIEW "{name}" AS {views[name]}')
            except duckdb.Error as exc:
                raise RuntimeError(f"analytics view {name}.sql does not compile: {exc}") from exc
        if read_only:
            from arbkit.analytics.readonly import lock_down

            lock_down(con, sources.files)
    except BaseException:
        con.close()
        raise
    return con
