"""`arbkit demo`."""

from __future__ import annotations

import click

from arbkit.cli._common import not_built


def register(cli: click.Group) -> None:
    @cli.command()
    def demo() -> None:
        """Run the sandbox venues, record ~60 s, replay it and write an HTML report."""
        not_built("demo", "demo not built yet: the demo issue has not landed")
