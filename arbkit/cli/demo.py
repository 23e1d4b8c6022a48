"""`arbkit demo`: the first five minutes, with no credentials and no network."""

from __future__ import annotations

import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from arbkit.runner.demo import DemoResult

DEFAULT_OUT = "demo"


def _q(path: Path | str) -> str:
    return shlex.quote(str(path))


def _by_venue(values: dict[str, Any], fmt: str = "{:,}") -> str:
    return "  ".join(f"{venue} {fmt.format(value)}" for venue, value in sorted(values.items()))


def register(cli: click.Group) -> None:
    @cli.command()
    @click.option("--duration", default=60.0, show_default=True, type=click.FloatRange(min=1),
                  help="Seconds of live paper trading on the sandbox venues.")
    @click.option("--pairs", default=4, show_default=True, type=click.IntRange(1, 100),
                  help="Market pairs the sandbox lists.")
    @click.option("--seed", default=0, show_default=True, type=int, help="Sandbox scenario seed.")
    @click.option("--out", default=Path(DEFAULT_OUT), show_default=True,
                  type=click.Path(file_okay=False, path_type=Path),
                  help="Folder for the demo's outputs: a new <UTC stamp>/ inside it each time, "
                       "and latest/ pointing at the newest.")
    def demo(duration: float, pairs: int, seed: int, out: Path) -> None:
        """Run the sandbox venues, paper-trade them live, replay, verify and write a report.

        Needs no credentials and no network: the venues are local servers on loopback that
        speak the real protocols and fire the default faults (disconnects, sequence gaps,
        stalls, malformed frames). Ctrl-C stops early and keeps a sealed recording.
        """
        from rich.console import Console

        from arbkit.errors import StorageError
        from arbkit.runner.demo import run_demo

        interactive = sys.stderr.isatty()

        def on_step(step: str, message: str) -> None:
            click.echo(f"{step:<8} {message}")

        click.echo("arbkit demo: local sandbox venues, no credentials, no network "
                   "(Ctrl-C stops early and keeps the recording)")
        try:
            result = run_demo(
                out, duration_s=duration, pairs=pairs, seed=seed,
                console=Console(stderr=True) if interactive else None,
                status_stream=sys.stderr, on_step=on_step,
            )
        except KeyboardInterrupt:
            click.echo("interrupted: the demo stopped; no sandbox or recorder is left running", err=True)
            sys.exit(130)
        except StorageError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(2)
        paths = result.paths
        if result.interrupted:
            click.echo("interrupted: the live run stopped early and its recording is sealed", err=True)
            click.echo(f"recording  {paths.recording}")
            click.echo("replay it with:")
            click.echo(f"  arbkit replay --from {_q(paths.recording)} --config {_q(paths.config)} "
                       f"--out {_q(paths.replay)}")
            sys.exit(130)
        if result.difference is not None:
            diff = result.difference
            click.echo(f"  live:       {diff.expected}", err=True)
            click.echo(f"  re-derived: {diff.actual}", err=True)
            for frame in diff.frames:
                click.echo(f"  frame: {frame}", err=True)
        _summary(result)
        if result.difference is not None:
            sys.exit(1)


def _summary(result: DemoResult) -> None:
    paths = result.paths
    rec = result.stats["recording"]
    run = result.stats["runs"][result.run_name]
    venues = rec["venues"]
    click.echo("")
    click.echo("summary (the numbers `arbkit stats` gives)")
    click.echo(f"  frames          {_by_venue({v: d['frames'] for v, d in venues.items()})}")
    click.echo(f"  reconnects      {_by_venue({v: d['reconnects'] for v, d in venues.items()})}")
    click.echo(f"  staleness p99   {_by_venue(rec['staleness_p99_ms'], '{:,.0f} ms')}")
    click.echo(f"  opportunities   {run['opportunities']:,} windows")
    click.echo(f"  fills           {run['fills']:,}")
    click.echo(f"  paper P&L       ${run['pnl']}")
    click.echo("")
    click.echo(f"report: {result.report}")
    click.echo("")
    click.echo("next, try:")
    click.echo(f"  arbkit stats {_q(paths.recording)} --run {_q(paths.replay)}")
    click.echo(f"  arbkit query {_q(paths.recording)} "
               "\"SELECT venue, msg_type, count(*) AS frames FROM frames GROUP BY ALL ORDER BY frames DESC\"")
    notebooks = "make notebooks"
    if paths.root.parent.resolve() != Path(DEFAULT_OUT).resolve():  # make's default is ./demo/latest
        notebooks = (f"ARBKIT_RECORDING={_q(paths.recording.resolve())} ARBKIT_RUN={_q(paths.replay.resolve())} "
                     f"ARBKIT_CONFIG={_q(paths.config.resolve())} make notebooks")
    click.echo(f"  {notebooks}    # runs notebooks/*.ipynb on this demo into reports/*.html")
