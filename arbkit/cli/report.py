"""`arbkit report`."""

from __future__ import annotations

from pathlib import Path

import click

from arbkit.cli._common import parse_runs
from arbkit.errors import UserError


def register(cli: click.Group) -> None:
    @cli.command()
    @click.argument("path", required=False)
    @click.option("--run", "runs", multiple=True, metavar="RUN_DIR",
                  help="A run directory of this recording, or NAME=RUN_DIR; repeat to compare runs side by side.")
    @click.option("-o", "--out", type=click.Path(dir_okay=False, path_type=Path),
                  help="HTML file to write (default: reports/<name>-<UTC stamp>.html).")
    @click.option("--title", help="Title at the top of the report.")
    @click.option("--sweep", "sweep_dir", metavar="DIR",
                  help="An `arbkit sweep --out` directory: adds the Sensitivity section (capture curve, grid table); "
                  "without PATH the report is the sweep alone.")
    def report(path: str | None, runs: tuple[str, ...], out: Path | None, title: str | None,
               sweep_dir: str | None) -> None:
        """Write a self-contained HTML performance report of a recording, its runs and a sweep.

        PATH is anything `replay --from` accepts: a recordings root, a session or a glob. It may be
        left out with --sweep DIR, for a report of the sweep's results alone.
        """
        from arbkit.report import write_report

        if path is None and sweep_dir is None:
            raise UserError("give PATH (a recording), --sweep DIR (a sweep's results), or both")
        if path is None and runs:
            raise UserError("--run needs PATH, the recording the run replayed")
        written = write_report(path, parse_runs(runs), out=out, title=title, sweep=sweep_dir)
        click.echo(str(written))
