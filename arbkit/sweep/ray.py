"""Running a sweep's tasks on Ray: `--ray local` starts a Ray on this machine for trying it,
`--ray auto` or `--ray ADDRESS` submits to an existing cluster.

Ray is an optional extra (`pip install 'arbkit[ray]'`). On a cluster every node needs arbkit
installed and the recording at a path all of them reach (a shared filesystem, or `s3://`);
results come back to this process, which records them as the pool's do. `--keep-runs` writes
each run under OUT/runs on the node that ran it, so it needs OUT on a shared filesystem.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

from arbkit.errors import UserError
from arbkit.sweep import Executor, failed_row
from arbkit.sweep.tasks import Task, run_task

# A local Ray for trying it out: no dashboard, and a small object store (rows are tiny).
LOCAL_OBJECT_STORE_BYTES = 100 * 1024 * 1024


def ray_executor(address: str, num_cpus: int | None = None) -> Executor:
    """Run tasks on Ray at `address` ("local", "auto" or a cluster address), one CPU each."""

    def run(tasks: list[Task]) -> Iterator[dict[str, Any]]:
        try:
            import ray
        except ImportError:
            raise UserError("--ray needs Ray: pip install 'arbkit[ray]'") from None
        if ray.is_initialized():
            raise UserError("Ray is already initialised in this process")
        try:
            if address == "local":
                ray.init(
                    num_cpus=num_cpus or os.cpu_count() or 1,
                    object_store_memory=LOCAL_OBJECT_STORE_BYTES,
                    include_dashboard=False,
                    log_to_driver=False,
                    configure_logging=False,
                )
            else:
                ray.init(address=address, log_to_driver=False, configure_logging=False)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise UserError(f"--ray {address}: cannot start or reach Ray: {' '.join(str(exc).split())}") from None
        try:
            remote_task = ray.remote(num_cpus=1, max_retries=0)(run_task)
            refs = {remote_task.remote(task): task for task in tasks}
            pending = list(refs)
            while pending:
                done, pending = ray.wait(pending, num_returns=1)
                for ref in done:
                    try:
                        yield ray.get(ref)
                    except ray.exceptions.RayError as exc:  # the worker died or was lost
                        yield failed_row(refs[ref], f"{type(exc).__name__}: {' '.join(str(exc).split())}")
        finally:
            ray.shutdown()

    return run
