"""`arbkit replay`."""

from __future__ import annotations

import click

from arbkit.cli._common import not_built


def register(cli: click.Group) -> None:
    @cli.command()
    def replay() -> None:
        """Deterministic backtest over a recording."""
        not_built("replay", "engine issue")
