"""`arbkit sweep`: every session of a recording x every point of a parameter grid."""

from __future__ import annotations

import contextlib
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import click

from arbkit.config import load_config
from arbkit.errors import ConfigError, UserError


@contextlib.contextmanager
def _progress(total: int) -> Iterator[Callable[[dict[str, Any]], None] | None]:
    """A progress bar (done, failed, time left) on a terminal; yield its per-result callback."""
    if not sys.stderr.isatty():
        yield None
        return
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    columns = (
        "[progress.description]{task.description}",
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[failed]} failed"),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        task = bar.add_task("sweep", total=total, failed=0)
        failed = 0

        def update(row: dict[str, Any]) -> None:
            nonlocal failed
            failed += row["status"] != "done"
            bar.update(task, advance=1, failed=failed)

        yield update


def register(cli: click.Group) -> None:
    @cli.command()
    @click.option("--from", "source", required=True, metavar="PATH", help="Recording to sweep (every session of it).")
    @click.option("--config", "config_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
                  help="Base arbkit.toml; grid points override its keys.")
    @click.option("--grid", "grid_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
                  help="grid.toml: lists of values per config key (cartesian product) or [[points]].")
    @click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False, path_type=Path),
                  help="Sweep directory: sweep.parquet, task records, kept runs; re-running resumes.")
    @click.option("--workers", type=click.IntRange(min=1), default=None,
                  help="Local worker processes (default: the core count).")
    @click.option("--ray", "ray_address", metavar="local|auto|ADDRESS",
                  help="Run on Ray instead: `local` starts one here, `auto` or an address joins a cluster "
                  "(pip install 'arbkit[ray]').")
    @click.option("--keep-runs", is_flag=True, help="Keep each task's run tables in OUT/runs/<task id>/.")
    def sweep(source: str, config_path: Path, grid_path: Path, out_dir: Path, workers: int | None,
              ray_address: str | None, keep_runs: bool) -> None:
        """Replay every session x grid point on a process pool or Ray; one row per task in sweep.parquet."""
        from arbkit import sweep as sw
        from arbkit.sweep.grid import load_grid

        if ray_address is not None and workers is not None:
            raise UserError("give --workers (local pool) or --ray, not both")
        config = load_config(config_path)
        if not config.pairs:
            raise ConfigError(f"{config_path}: no [[pairs]] to replay")
        points = load_grid(grid_path)
        tasks = sw.plan(source, config, points, out_dir, keep_runs)
        if ray_address is not None:
            from arbkit.sweep.ray import ray_executor

            executor = ray_executor(ray_address)
        else:
            executor = sw.pool_executor(workers or os.cpu_count() or 1)
        with _progress(len(tasks)) as progress:
            result = sw.sweep(tasks, out_dir, executor, on_result=progress)
        click.echo(
            f"{result.tasks} tasks: {result.ran} ran, {result.skipped} already done, {result.failed} failed"
        )
        click.echo(f"results written to {result.path}")
        if result.failed:
            click.echo(f"Error: {result.failed} task(s) failed; their errors are in {result.path}", err=True)
            sys.exit(1)
