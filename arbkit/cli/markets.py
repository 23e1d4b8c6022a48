"""`arbkit markets`."""

from __future__ import annotations

import click

from arbkit.cli._common import NOT_BUILT, not_built


def register(cli: click.Group) -> None:
    @cli.group(short_help=f"{NOT_BUILT} Discover candidate pairs from both venues' REST APIs.")
    def markets() -> None:
        """Discover candidate pairs from both venues' REST APIs (not built yet)."""

    not_built(markets, "discover", "Search both venues for matching markets and write pair config.")
