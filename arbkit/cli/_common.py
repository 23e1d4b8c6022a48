"""Helpers shared by the command modules."""

from __future__ import annotations

from pathlib import Path

from arbkit.errors import UserError
from arbkit.runner.summary import RunSummary, describe_errors


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


def parse_runs(values: tuple[str, ...]) -> dict[str, Path] | None:
    """Parse `--run DIR` / `--run NAME=DIR` options into {name: dir}."""
    if not values:
        return None
    runs: dict[str, Path] = {}
    for value in values:
        name, sep, path = value.partition("=")
        if not sep or Path(value).exists():
            path, name = value, Path(value).resolve().name
        if not name:
            raise UserError(f"--run {value!r}: empty run name")
        if name in runs:
            raise UserError(f"--run: two runs named {name!r}; name them with --run NAME=DIR")
        runs[name] = Path(path)
    return runs
