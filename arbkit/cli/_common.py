"""Helpers shared by the command modules."""

from __future__ import annotations

import sys

import click

from arbkit.runner.summary import RunSummary, describe_errors

NOT_BUILT = "(not built yet)"


def not_built(group: click.Group, name: str, summary: str) -> None:
    """Register a command that is not built yet: its help line says so, and running it (with
    any arguments) prints one line and exits 2."""

    @group.command(
        name,
        help=f"{summary} {NOT_BUILT}",
        short_help=f"{NOT_BUILT} {summary}",
        context_settings={"ignore_unknown_options": True, "allow_extra_args": True},
    )
    @click.pass_context
    def command(ctx: click.Context) -> None:
        path = ctx.command_path.replace(ctx.find_root().info_name or "", "arbkit", 1)
        click.echo(f"Error: `{path}` is not built yet in this version of arbkit", err=True)
        sys.exit(2)


def print_summary(summary: RunSummary, title: str) -> None:
    """Print a run's summary as a short two-column table on stdout."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column(justify="right")
    for venue, n in summary.frames_by_venue.items():
        table.add_row(f"frames {venue}", f"{n:,}")
    table.add_row("decode errors", describe_errors(summary.decode_errors))
    table.add_row("windows opened", f"{summary.windows:,}")
    table.add_row("approved", f"{summary.approved:,}")
    table.add_row("filled", f"{summary.filled:,}")
    table.add_row("matched size", f"{summary.matched_size:f} contracts")
    table.add_row("fees", f"${summary.fees:f}")
    table.add_row("P&L", f"${summary.pnl:f}")
    Console(soft_wrap=False, highlight=False).print(table)
