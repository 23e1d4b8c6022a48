"""`arbkit report`."""

from __future__ import annotations

from pathlib import Path

import click

from arbkit.cli._common import parse_runs


def register(cli: click.Group) -> None:
    @cli.command()
    @click.argument("path")
    @click.option("--run", "runs", multiple=True, metavar="RUN_DIR",
                  help="A run directory of this recording, or NAME=RUN_DIR; repeat to compare runs side by side.")
    @click.option("-o", "--out", type=click.Path(dir_okay=False, path_type=Path),
                  help="HTML file to write (default: reports/<name>-<UTC stamp>.html).")
    @click.option("--title", help="Title at the top of the report.")
    def report(path: str, runs: tuple[str, ...], out: Path | None, title: str | None) -> None:
        """Write a self-contained HTML performance report of a recording and its runs.

        PATH is anything `replay --from` accepts: a recordings root, a session or a glob.
        """
        from arbkit.report import write_report

        written = write_report(path, parse_runs(runs), out=out, title=title)
        click.echo(str(written))
