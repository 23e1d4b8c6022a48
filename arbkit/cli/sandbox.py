"""`arbkit sandbox serve|generate`."""

from __future__ import annotations

import click

from arbkit.cli._common import not_built


def register(cli: click.Group) -> None:
    @cli.group()
    def sandbox() -> None:
        """Local Kalshi- and Polymarket-compatible venues driven by a seeded scenario."""

    @sandbox.command()
    def serve() -> None:
        """Serve both sandbox venues on loopback and write a ready config."""
        not_built("sandbox serve", "sandbox issue")

    @sandbox.command()
    def generate() -> None:
        """Write a synthetic recording without sockets."""
        not_built("sandbox generate", "sandbox issue")
