"""`arbkit stats` and `arbkit query`."""

from __future__ import annotations

import click

from arbkit.cli._common import not_built


def register(cli: click.Group) -> None:
    not_built(cli, "stats", "Recording health and run statistics as tables.")
    not_built(cli, "query", "Ad-hoc read-only SQL over recordings and runs.")
