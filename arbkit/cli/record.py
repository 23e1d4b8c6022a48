"""`arbkit record` and `arbkit live`."""

from __future__ import annotations

import click

from arbkit.cli._common import not_built


def register(cli: click.Group) -> None:
    @cli.command()
    def record() -> None:
        """Record raw frames from both venues to crash-safe Parquet until stopped."""
        not_built("record", "recorder issue")

    @cli.command()
    def live() -> None:
        """Record and run the engine live on paper (never sends an order)."""
        not_built("live", "engine issue")
