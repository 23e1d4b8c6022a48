"""`arbkit report`."""

from __future__ import annotations

import click

from arbkit.cli._common import not_built


def register(cli: click.Group) -> None:
    not_built(cli, "report", "Write a self-contained HTML performance report.")
