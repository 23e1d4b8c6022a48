"""Helpers shared by the command modules."""

from __future__ import annotations

import click


def not_built(command: str, issue: str) -> None:
    """Fail honestly for a command whose issue has not landed yet."""
    raise click.ClickException(f"`arbkit {command}` is not built yet ({issue})")
