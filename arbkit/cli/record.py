"""`arbkit record` and `arbkit live`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from arbkit.cli._common import not_built
from arbkit.errors import StorageError


def register(cli: click.Group) -> None:
    @cli.command()
    @click.option("--config", "config_path", required=True, type=click.Path(path_type=Path), help="arbkit.toml to record.")
    @click.option("--out", "out", required=True, type=click.Path(path_type=Path), help="Recordings root directory.")
    @click.option("--duration", type=click.FloatRange(min=0, min_open=True), default=None, help="Stop after S seconds.")
    def record(config_path: Path, out: Path, duration: float | None) -> None:
        """Record raw frames from both venues to crash-safe Parquet until stopped."""
        from arbkit.config import load_config
        from arbkit.runner.record import record as run_record

        config = load_config(config_path)
        try:
            summary = run_record(config, out, duration_s=duration, status_stream=sys.stderr)
        except StorageError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(2)
        frames = ", ".join(f"{venue} {n:,}" for venue, n in summary.frames_in.items())
        reconnects = sum(summary.reconnects.values())
        click.echo(
            f"session {summary.session_id}: frames in {frames}; {reconnects} reconnects; "
            f"{summary.bytes_on_disk:,} bytes on disk under {summary.root}"
        )

    @cli.command()
    def live() -> None:
        """Record and run the engine live on paper (never sends an order)."""
        not_built("live", "engine issue")
