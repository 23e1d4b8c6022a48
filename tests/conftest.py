"""Shared test fixtures."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_SAMPLES = REPO.parent / "shared" / "samples"


@pytest.fixture
def shared_samples() -> Path:
    """The venue sample frames beside the checkout; skip when absent (a user's checkout)."""
    if not SHARED_SAMPLES.is_dir():
        pytest.skip("../shared/samples is not present")
    return SHARED_SAMPLES


SweepRow = dict[str, Any]


def write_sweep(out: Path, rows: list[SweepRow]) -> Path:
    """Write `out/sweep.parquet` as `arbkit sweep` does, from hand-made rows (no replay).

    Each row holds `session`, its grid point (dotted config keys) and its statistics; a row with
    an `error` is a failed task. Task ids are `t00`, `t01`, ... in row order.
    """
    from arbkit.sweep import write_results
    from arbkit.sweep.tasks import Task

    tasks, results = [], []
    for index, row in enumerate(rows):
        point = {key: value for key, value in row.items() if "." in key}
        stats = {key: value for key, value in row.items() if "." not in key and key != "session"}
        task = Task(f"t{index:02d}", row["session"], f"/recordings/{row['session']}", {}, point, None)
        tasks.append(task)
        results.append({"task_id": task.task_id, "session": task.session_id, **point,
                        "status": "failed" if stats.get("error") else "done", "error": None, **stats})
    out.mkdir(parents=True, exist_ok=True)
    write_results(out / "sweep.parquet", tasks, results)
    return out


@pytest.fixture
def hand_sweep() -> Callable[[Path, list[SweepRow]], Path]:
    """`write_sweep`: a sweep directory written from hand-made rows."""
    return write_sweep
