"""`arbkit report`."""

from __future__ import annotations

import click

from arbkit.cli._common import not_built


def register(cli: click.Group) -> None:
    @cli.command()
    def report() -> None:
        """Write a self-contained HTML performance report."""
        not_built("report", "report issue")
