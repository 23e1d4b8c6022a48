"""`arbkit record` and `arbkit live`."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from arbkit.cli._common import print_summary
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
        from arbkit.runner.status import human_bytes, plural, short_error

        config = load_config(config_path)
        try:
            summary = run_record(
                config, out, duration_s=duration, status_stream=sys.stderr, on_forced_exit=_forced_exit
            )
        except StorageError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(2)
        if not any(summary.frames_in.values()):
            errors = "; ".join(f"{v}: {short_error(e)}" for v, e in summary.last_errors.items())
            click.echo(
                f"Error: no frame received from either venue during the whole run"
                f"{f' (last errors: {errors})' if errors else ''}; check the ws_url settings in {config_path}",
                err=True,
            )
            sys.exit(1)
        frames = ", ".join(f"{venue} {n:,}" for venue, n in summary.frames_in.items())
        reconnects = sum(summary.reconnects.values())
        click.echo(
            f"session {summary.session_id}: frames in {frames}; {plural(reconnects, 'reconnect')}; "
            f"disk {human_bytes(summary.bytes_on_disk)} ({plural(summary.bytes_on_disk, 'byte')}) "
            f"under {summary.root}"
        )

    @cli.command()
    @click.option("--paper", is_flag=True, required=True, help="Paper trading (the only mode: no order is ever sent).")
    @click.option("--config", "config_path", required=True, type=click.Path(path_type=Path), help="arbkit.toml with venues and pairs.")
    @click.option("--out", "out", required=True, type=click.Path(file_okay=False, path_type=Path), help="Run directory (the recording goes in its recording/ folder).")
    @click.option("--duration", type=click.FloatRange(min=0, min_open=True), default=None, help="Stop after S seconds.")
    def live(paper: bool, config_path: Path, out: Path, duration: float | None) -> None:
        """Record and run the engine live on paper (never sends an order)."""
        from rich.console import Console

        from arbkit.config import load_config
        from arbkit.runner.live import live_paper

        del paper  # required flag: there is no other mode
        config = load_config(config_path)
        console = Console(stderr=True) if sys.stderr.isatty() else None
        try:
            result = live_paper(config, out, duration_s=duration, console=console, status_stream=sys.stderr)
        except StorageError as exc:
            click.echo(f"Error: {exc}", err=True)
            sys.exit(2)
        click.echo(f"session {result.summary.session_id}: {result.frames:,} frames through the engine")
        print_summary(result.run_summary, "live --paper")
        click.echo(f"run written to {result.run_dir}")


def _forced_exit() -> None:
    click.echo(
        "\nError: interrupted twice: stopped without sealing; the next `arbkit record` into "
        "this directory recovers every flushed frame",
        err=True,
    )
