"""`arbkit markets`."""

from __future__ import annotations

import click

from arbkit.cli._common import not_built


def register(cli: click.Group) -> None:
    @cli.group()
    def markets() -> None:
        """Discover candidate pairs from both venues' REST APIs."""

    @markets.command("discover")
    def discover() -> None:
        """Search both venues for matching markets and write pair config."""
        not_built("markets discover", "markets issue")
