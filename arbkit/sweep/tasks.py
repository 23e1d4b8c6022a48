"""Sweep tasks: one session of a recording x one grid point, replayed deterministically.

A task's id is a content hash of what decides its outputs: the session's sealed files (name,
size and the Parquet footer, which holds every column chunk's offsets and statistics; sealed
files are immutable), the config with the point applied, the point itself and arbkit's version.
The same task therefore gets the same id on any machine and after the recording is copied.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
import orjson

from arbkit import __version__
from arbkit.config import Config, config_to_dict
from arbkit.errors import ArbkitError, UserError
from arbkit.store import reader
from arbkit.sweep.grid import Point

FOOTER_BYTES = 65_536

# The per-task statistics, read from the run's own tables (one SQL statement, DuckDB).
STATS_SQL = """
WITH
  o AS (SELECT count(*) AS n, sum(peak_profit) AS available FROM read_parquet($opportunities)),
  d AS (SELECT count(*) FILTER (WHERE approved) AS n FROM read_parquet($risk_decisions)),
  t AS (
    SELECT count(*) FILTER (WHERE matched_size > 0) AS fills,
           coalesce(sum(matched_size), 0) AS matched_size,
           coalesce(-sum(legging_pnl) FILTER (WHERE legging_pnl < 0), 0) AS legging_loss
    FROM read_parquet($trades)
  ),
  f AS (
    SELECT coalesce(sum(fee) FILTER (WHERE venue = 'kalshi'), 0) AS kalshi,
           coalesce(sum(fee) FILTER (WHERE venue = 'polymarket'), 0) AS polymarket
    FROM read_parquet($fills)
  ),
  p AS (SELECT coalesce(last(total ORDER BY ns), 0) AS pnl FROM read_parquet($pnl))
SELECT o.n AS opportunities, d.n AS approvals, t.fills, t.matched_size, t.legging_loss,
       f.kalshi AS fees_kalshi, f.polymarket AS fees_polymarket, p.pnl, coalesce(o.available, 0) AS available,
       CASE WHEN o.available > 0 THEN p.pnl::DOUBLE / o.available::DOUBLE END AS capture_rate
FROM o, d, t, f, p
"""
STAT_TABLES = ("opportunities", "risk_decisions", "trades", "fills", "pnl")


@dataclass(frozen=True)
class Task:
    """Everything a worker needs to run one task (small and picklable)."""

    task_id: str
    session_id: str
    source: str  # a path replay resolves to exactly this session
    config: dict[str, Any]  # msgspec builtins of the Config, base_dir included
    point: Point
    run_dir: str | None  # where to keep the run's tables, None to discard them


def session_sources(recording: str) -> list[tuple[str, str]]:
    """(session id, a path naming only that session) for each session of a recording."""
    sessions = reader.resolve(recording)
    if len(sessions) == 1:
        return [(sessions[0].session_id, recording)]
    sources = []
    for session in sessions:
        if session.source is None:
            raise UserError(
                f"{recording}: session {session.session_id} has no manifest, so a sweep cannot "
                "replay it alone (give each session's files as their own recording)"
            )
        sources.append((session.session_id, session.source))
    return sources


def files_digest(source: str) -> str:
    """Hash the identity of a session's sealed files: name, size and Parquet footer."""
    from pyarrow import fs

    digest = hashlib.sha256()
    for session in reader.resolve(source):
        for info in session.files:
            filesystem = info.filesystem or fs.LocalFileSystem()
            path = str(info.path)
            with filesystem.open_input_file(path) as f:
                size = f.size()
                tail = f.read_at(min(size, FOOTER_BYTES), max(size - FOOTER_BYTES, 0))
            digest.update(f"{path.rpartition('/')[2]}\0{size}\0".encode())
            digest.update(hashlib.sha256(tail).digest())
    return digest.hexdigest()


def task_id(files: str, config: Config, point: Point) -> str:
    """The content hash naming a task (24 hex digits)."""
    document = {
        "files": files,
        "config": config_to_dict(config),
        "point": {k: str(v) for k, v in point.items()},
        "arbkit": __version__,
    }
    return hashlib.sha256(orjson.dumps(document, option=orjson.OPT_SORT_KEYS)).hexdigest()[:24]


def run_task(task: Task) -> dict[str, Any]:
    """Replay one task and return its result row (`status` "done" or "failed" with `error`)."""
    from arbkit.runner.replay import replay

    started = time.perf_counter()
    row: dict[str, Any] = {"task_id": task.task_id, "session": task.session_id, **task.point}
    keep = Path(task.run_dir) if task.run_dir is not None else None
    scratch = Path(tempfile.mkdtemp(prefix=f".{task.task_id}-", dir=keep.parent if keep else None))
    try:
        config = msgspec.convert(task.config, Config)
        replay(task.source, config, scratch)
        row.update(run_stats(scratch))
        if keep is not None:
            shutil.rmtree(keep, ignore_errors=True)  # a half-kept run of a killed sweep
            scratch.rename(keep)
        row["status"] = "done"
        row["error"] = None
    except (ArbkitError, OSError, ValueError, MemoryError) as exc:
        row["status"] = "failed"
        row["error"] = f"{type(exc).__name__}: {' '.join(str(exc).split())}"
    except Exception as exc:  # a bug in one task must not end the sweep: keep its trace
        row["status"] = "failed"
        row["error"] = f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}"
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    row["run_s"] = round(time.perf_counter() - started, 3)
    return row


def run_stats(run_dir: Path) -> dict[str, Any]:
    """A run's funnel and money from its tables (exact decimals for money)."""
    import duckdb

    con = duckdb.connect()
    try:
        params = {t: str(run_dir / f"{t}.parquet") for t in STAT_TABLES}
        cursor = con.execute(STATS_SQL, params)
        names = [d[0] for d in cursor.description]
        values = cursor.fetchone()
    finally:
        con.close()
    assert values is not None
    return dict(zip(names, values))
