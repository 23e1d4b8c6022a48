"""`arbkit stats` and `arbkit query`."""

from __future__ import annotations

import click

from arbkit.cli._common import not_built


def register(cli: click.Group) -> None:
    @cli.command()
    def stats() -> None:
        """Recording health and run statistics as tables."""
        not_built("stats", "analytics issue")

    @cli.command()
    def query() -> None:
        """Ad-hoc read-only SQL over recordings and runs."""
        not_built("query", "analytics issue")
