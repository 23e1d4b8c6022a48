"""`arbkit demo`."""

from __future__ import annotations

import click

from arbkit.cli._common import not_built


def register(cli: click.Group) -> None:
    not_built(cli, "demo", "Run the sandbox venues, record ~60 s, replay it and write an HTML report.")
