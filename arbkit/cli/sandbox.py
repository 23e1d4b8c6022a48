"""`arbkit sandbox serve|generate`."""

from __future__ import annotations

from pathlib import Path

import click


_FAULT_KEYS = ("venue", "conn", "fault", "time_ns")


def register(cli: click.Group) -> None:
    @cli.group()
    def sandbox() -> None:
        """Local Kalshi- and Polymarket-compatible venues driven by a seeded scenario."""

    @sandbox.command()
    @click.option("--workdir", required=True, type=click.Path(file_okay=False, path_type=Path),
                  help="Folder for the key, arbkit.toml, ground truth and logs.")
    @click.option("--pairs", default=4, show_default=True, type=click.IntRange(1, 10_000))
    @click.option("--seed", default=0, show_default=True, type=int)
    @click.option("--rate", default=200.0, show_default=True, type=click.FloatRange(min=0.001),
                  help="Book update frames per second per venue.")
    @click.option("--faults", default="none", show_default=True, type=click.Choice(["none", "default"]))
    @click.option("--duration", default=None, type=click.FloatRange(min=0),
                  help="Stop after this many seconds (default: until SIGINT/SIGTERM).")
    @click.option("--kalshi-era", default="c", show_default=True, type=click.Choice(["a", "b", "c"]),
                  help="Kalshi field era: a (integer cents), b (cents + dollars), c (current).")
    def serve(workdir: Path, pairs: int, seed: int, rate: float, faults: str,
              duration: float | None, kalshi_era: str) -> None:
        """Serve both sandbox venues on loopback and write a ready config."""
        import asyncio
        import signal

        from arbkit.sandbox import run_sandbox

        def ready(sb) -> None:
            click.echo(f"kalshi      {sb.kalshi_url}")
            click.echo(f"polymarket  {sb.polymarket_url}")
            click.echo(f"config      {sb.config_path}")
            click.echo(f"ground truth {sb.ground_truth_path}")
            click.echo(f"rest        {sb.kalshi_rest_url} {sb.polymarket_rest_url}")
            click.echo("serving; Ctrl-C to stop", err=True)

        def fault(row: dict) -> None:
            detail = ", ".join(f"{k} {v}" for k, v in row.items() if k not in _FAULT_KEYS)
            click.echo(f"fault       {row['venue']} connection {row['conn']}: {row['fault']}"
                       + (f" ({detail})" if detail else ""))

        async def main() -> list[dict]:
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(sig, stop.set)
            return await run_sandbox(workdir, pairs=pairs, seed=seed, rate=rate, faults=faults,
                                     duration=duration, kalshi_era=kalshi_era, stop=stop,
                                     on_ready=ready, on_fault=fault)

        stats = asyncio.run(main())
        click.echo(f"stopped; {len(stats)} connection(s), "
                   f"{sum(s['frames_sent'] for s in stats)} frames sent")

    @sandbox.command()
    @click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path),
                  help="Recordings root to write the session, arbkit.toml and ground truth into.")
    @click.option("--frames", required=True, type=click.IntRange(min=1), help="Rows to write.")
    @click.option("--pairs", default=4, show_default=True, type=click.IntRange(1, 10_000))
    @click.option("--seed", default=0, show_default=True, type=int)
    @click.option("--rate", default=2000.0, show_default=True, type=click.FloatRange(min=0.001),
                  help="Book update frames per simulated second per venue.")
    def generate(out: Path, frames: int, pairs: int, seed: int, rate: float) -> None:
        """Write a synthetic recording without sockets."""
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

        from arbkit.sandbox.generate import generate_recording

        with Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                      TimeRemainingColumn(), transient=True) as bar:
            task = bar.add_task("generating frames", total=frames)
            result = generate_recording(out, frames=frames, pairs=pairs, seed=seed, rate=rate,
                                        progress=lambda done: bar.update(task, completed=done))
        rate_out = result.frames / result.seconds if result.seconds else 0.0
        click.echo(f"session {result.session_id}: {result.frames} frames, {result.dislocations} "
                   f"dislocations in {result.seconds:.1f} s ({rate_out:,.0f} frames/s)")
        click.echo(f"config       {result.config_path}")
        click.echo(f"ground truth {result.ground_truth_path}")
