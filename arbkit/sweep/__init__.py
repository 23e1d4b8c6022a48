"""`arbkit sweep`: replays of every session of a recording x every point of a parameter grid.

The driver plans the tasks, skips those a previous sweep into the same directory finished,
runs the rest on an executor (a local process pool, or Ray) and writes each result as soon as
it arrives into `DIR/tasks/<task id>.json`, so a killed sweep resumes where it stopped. Failed
tasks are recorded with their error and run again by the next sweep. `DIR/sweep.parquet`, one
row per task of the current grid, is rewritten from those records at the end.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import msgspec
import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from arbkit import __version__
from arbkit.config import Config
from arbkit.errors import StorageError, UserError
from arbkit.sweep.grid import Point, apply_point, config_keys
from arbkit.sweep.tasks import Task, files_digest, run_task, session_sources, task_id

MONEY = pa.decimal128(18, 6)
RESULT_COLUMNS: list[tuple[str, pa.DataType]] = [
    ("opportunities", pa.int64()),
    ("approvals", pa.int64()),
    ("fills", pa.int64()),
    ("matched_size", MONEY),
    ("legging_loss", MONEY),
    ("fees_kalshi", MONEY),
    ("fees_polymarket", MONEY),
    ("pnl", MONEY),
    ("available", MONEY),
    ("capture_rate", pa.float64()),
    ("run_s", pa.float64()),
    ("status", pa.string()),
    ("error", pa.string()),
]
TASKS_DIR = "tasks"
RUNS_DIR = "runs"
RESULT_FILE = "sweep.parquet"
# Schema metadata key of sweep.parquet: JSON {"sources": {session id: the path it was read from},
# "arbkit": version}, so a report of the sweep alone can say what was swept.
METADATA_KEY = b"arbkit.sweep"

Executor = Callable[[list[Task]], Iterator[dict[str, Any]]]


@dataclass
class SweepResult:
    """What a sweep did: the result file, its task count, and how many ran, were skipped, failed."""

    path: Path
    tasks: int
    ran: int
    skipped: int
    failed: int


def plan(recording: str, config: Config, points: list[Point], out_dir: Path, keep_runs: bool) -> list[Task]:
    """Every task of the sweep in (session, grid point) order."""
    configs = [apply_point(config, p) for p in points]  # a bad value fails before any replay
    tasks = []
    for session_id, source in session_sources(recording):
        digest = files_digest(source)
        for point, point_config in zip(points, configs):
            tid = task_id(digest, point_config, point)
            run_dir = str(out_dir / RUNS_DIR / tid) if keep_runs else None
            tasks.append(Task(tid, session_id, source, msgspec.to_builtins(point_config), point, run_dir))
    return tasks


def pool_executor(workers: int) -> Executor:
    """Run tasks on a local process pool of `workers` processes, yielding rows as they finish."""

    def run(tasks: list[Task]) -> Iterator[dict[str, Any]]:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor, as_completed

        # spawn: the driver runs a progress thread, and forking a threaded process is unsafe.
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
            futures = {pool.submit(run_task, t): t for t in tasks}
            for future in as_completed(futures):
                task = futures[future]
                try:
                    yield future.result()
                except Exception as exc:  # the worker process itself died
                    yield failed_row(task, f"{type(exc).__name__}: {exc}")

    return run


def failed_row(task: Task, error: str) -> dict[str, Any]:
    """The row of a task whose worker died before it could report."""
    return {"task_id": task.task_id, "session": task.session_id, **task.point, "status": "failed", "error": error}


def _record_path(out_dir: Path, tid: str) -> Path:
    return out_dir / TASKS_DIR / f"{tid}.json"


def _read_record(path: Path) -> dict[str, Any] | None:
    try:
        return orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None  # not there, or cut short by a kill: run the task again


def _write_record(out_dir: Path, row: dict[str, Any]) -> None:
    path = _record_path(out_dir, row["task_id"])
    tmp = path.with_suffix(".json.tmp")
    try:
        tmp.write_bytes(orjson.dumps(row, default=str, option=orjson.OPT_SORT_KEYS))
        os.replace(tmp, path)
    except OSError as exc:
        raise StorageError(f"cannot write {path}: {exc}") from exc


def sweep(
    tasks: list[Task],
    out_dir: Path,
    executor: Executor,
    *,
    on_result: Callable[[dict[str, Any]], None] | None = None,
) -> SweepResult:
    """Run the tasks not finished yet, record each result, and write `out_dir/sweep.parquet`."""
    try:
        (out_dir / TASKS_DIR).mkdir(parents=True, exist_ok=True)
        if any(t.run_dir is not None for t in tasks):
            (out_dir / RUNS_DIR).mkdir(exist_ok=True)
    except OSError as exc:
        raise UserError(f"--out: cannot create {out_dir}: {exc.strerror}") from None
    if len({t.task_id for t in tasks}) != len(tasks):
        raise UserError("the grid repeats a point: every task must differ")
    rows: dict[str, dict[str, Any]] = {}
    pending = []
    for task in tasks:
        record = _read_record(_record_path(out_dir, task.task_id))
        if record is not None and record.get("status") == "done":
            rows[task.task_id] = record
        else:
            pending.append(task)
    failed = 0
    for row in executor(pending) if pending else ():
        _write_record(out_dir, row)
        rows[row["task_id"]] = row
        failed += row["status"] != "done"
        if on_result is not None:
            on_result(row)
    path = out_dir / RESULT_FILE
    write_results(path, tasks, [rows[t.task_id] for t in tasks])
    return SweepResult(path, len(tasks), len(pending), len(tasks) - len(pending), failed)


def _grid_type(key: str, kinds: dict[str, Any], values: Iterable[Any]) -> pa.DataType:
    kind = kinds[key]
    if isinstance(kind, msgspec.inspect.DecimalType):
        scale = max((-Decimal(str(v)).as_tuple().exponent for v in values if v is not None), default=0)
        return pa.decimal128(38, max(int(scale), 0))
    if isinstance(kind, msgspec.inspect.FloatType):
        return pa.float64()
    if isinstance(kind, msgspec.inspect.IntType):
        return pa.int64()
    if isinstance(kind, msgspec.inspect.BoolType):
        return pa.bool_()
    return pa.string()


def _convert(value: Any, kind: pa.DataType) -> Any:
    if value is None:
        return None
    if pa.types.is_decimal(kind):
        return Decimal(str(value))
    if pa.types.is_floating(kind):
        return float(value)
    if pa.types.is_string(kind):
        return str(value)
    return value


def _absolute(source: str) -> str:
    return source if "://" in source else str(Path(source).absolute())


def write_results(path: Path, tasks: list[Task], rows: list[dict[str, Any]]) -> None:
    """Write the result rows (one per task) as `sweep.parquet`, money as exact decimals, and
    where each session was read from in the file's metadata."""
    keys = list(dict.fromkeys(k for t in tasks for k in t.point))
    kinds = config_keys()
    columns: list[tuple[str, pa.DataType]] = [("task_id", pa.string()), ("session", pa.string())]
    columns += [(k, _grid_type(k, kinds, (t.point.get(k) for t in tasks))) for k in keys]
    columns += RESULT_COLUMNS
    sources = {t.session_id: _absolute(t.source) for t in tasks}
    metadata = {METADATA_KEY: orjson.dumps({"sources": sources, "arbkit": __version__}, option=orjson.OPT_SORT_KEYS)}
    schema = pa.schema([pa.field(name, kind) for name, kind in columns], metadata=metadata)
    arrays = [pa.array([_convert(r.get(name), kind) for r in rows], type=kind) for name, kind in columns]
    tmp = path.with_suffix(".parquet.tmp")
    try:
        pq.write_table(pa.Table.from_arrays(arrays, schema=schema), tmp, compression="zstd")
        os.replace(tmp, path)
    except OSError as exc:
        raise StorageError(f"cannot write {path}: {exc}") from exc
