"""The `arbkit` command line: a thin shell over the library (STYLE §8).

Each command group lives in its own module; library `UserError`s become one line and exit 2.
"""

from __future__ import annotations

import logging
import sys

import click

from arbkit import __version__
from arbkit.cli import demo, markets, query, record, replay, report, sandbox, sweep
from arbkit.errors import UserError


class _Group(click.Group):
    def invoke(self, ctx: click.Context):  # type: ignore[no-untyped-def]
        try:
            return super().invoke(ctx)
        except UserError as exc:
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(2)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="arbkit")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
def cli(verbose: int) -> None:
    """Record, replay and analyse Kalshi x Polymarket cross-venue arbitrage."""
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, stream=sys.stderr, format="%(asctime)s %(name)s %(message)s")


for _module in (demo, record, replay, query, report, sandbox, markets, sweep):
    _module.register(cli)


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="arbkit")
