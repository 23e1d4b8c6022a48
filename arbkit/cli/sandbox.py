"""`arbkit sandbox serve|generate`."""

from __future__ import annotations

from pathlib import Path

import click


_FAULT_KEYS = ("venue", "conn", "fault", "time_ns")


def _fidelity_options(f):
    """The scenario fidelity options shared by `serve` and `generate`."""
    options = [
        click.option("--subpenny", type=click.IntRange(min=0), default=None,
                     help="Pairs (the first N) quoting on a $0.001 grid on both venues."),
        click.option("--fractional", type=click.IntRange(min=0), default=None,
                     help="Pairs (the first N) whose Kalshi sizes carry hundredths of a contract."),
        click.option("--tick-change-at", type=click.FloatRange(min=0), default=None,
                     help="Seconds in: the last pair's Polymarket tick goes from 0.01 to 0.001."),
        click.option("--new-market-every", type=click.FloatRange(min=0.001), default=None,
                     help="Mean seconds between Polymarket new_market announcements."),
    ]
    for option in reversed(options):
        f = option(f)
    return f


def _scenario(fidelity_on: bool, duration_s: float | None, kalshi_era: str, **options):
    """The ScenarioConfig for the CLI options: the fidelity preset, then each explicit option."""
    from arbkit.errors import UserError
    from arbkit.sandbox.kalshi import check_era
    from arbkit.sandbox.scenario import ScenarioConfig, check_options, fidelity, with_options

    config = ScenarioConfig(pairs=options.pop("pairs"))
    if fidelity_on:
        config = fidelity(config, duration_s, kalshi_era)
    config = with_options(config, **options)
    try:
        check_era(config, kalshi_era)
        check_options(config)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    return config


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
    @click.option("--fidelity/--no-fidelity", "fidelity_on", default=None,
                  help="Every option below at once, timed for --duration (default: on with "
                       "--faults default). Explicit options override it.")
    @_fidelity_options
    @click.option("--resolve-at", type=click.FloatRange(min=0), default=None,
                  help="Seconds in: the first half of the pairs resolve (Kalshi determined/settled, "
                       "Polymarket market_resolved), one by one.")
    def serve(workdir: Path, pairs: int, seed: int, rate: float, faults: str,
              duration: float | None, kalshi_era: str, fidelity_on: bool | None, subpenny: int | None,
              fractional: int | None, tick_change_at: float | None, new_market_every: float | None,
              resolve_at: float | None) -> None:
        """Serve both sandbox venues on loopback and write a ready config."""
        import asyncio
        import signal

        from arbkit.sandbox import run_sandbox

        scenario = _scenario(faults == "default" if fidelity_on is None else fidelity_on, duration,
                             kalshi_era, pairs=pairs, subpenny_pairs=subpenny,
                             fractional_pairs=fractional, tick_change_at_s=tick_change_at,
                             new_market_every_s=new_market_every, resolve_at_s=resolve_at)

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
                                     on_ready=ready, on_fault=fault, scenario_config=scenario,
                                     with_fidelity=False)

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
    @click.option("--fidelity", "fidelity_on", is_flag=True,
                  help="Every option below at once, timed for the recording's length. Explicit "
                       "options override it.")
    @_fidelity_options
    @click.option("--resolve/--no-resolve", default=None,
                  help="The first half of the pairs resolve near the end of the recording.")
    def generate(out: Path, frames: int, pairs: int, seed: int, rate: float, fidelity_on: bool,
                 subpenny: int | None, fractional: int | None, tick_change_at: float | None,
                 new_market_every: float | None, resolve: bool | None) -> None:
        """Write a synthetic recording without sockets."""
        from dataclasses import replace

        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

        from arbkit.errors import UserError
        from arbkit.sandbox.generate import generate_recording, simulated_seconds
        from arbkit.sandbox.scenario import resolving_pairs

        # Resolutions are timed from the frame budget by the generator, not from a clock.
        scenario = _scenario(fidelity_on, simulated_seconds(frames, rate), "c", pairs=pairs,
                             subpenny_pairs=subpenny, fractional_pairs=fractional,
                             tick_change_at_s=tick_change_at, new_market_every_s=new_market_every)
        scenario = replace(scenario, resolve_at_s=None)
        if resolve is None:
            resolve = fidelity_on and resolving_pairs(pairs) > 0
        if resolve and resolving_pairs(pairs) == 0:
            raise UserError("--resolve needs at least 2 pairs (the last pair never resolves, so "
                            "the feed goes on)")

        with Progress("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn(),
                      TimeRemainingColumn(), transient=True) as bar:
            task = bar.add_task("generating frames", total=frames)
            result = generate_recording(out, frames=frames, pairs=pairs, seed=seed, rate=rate,
                                        scenario_config=scenario, resolve=resolve,
                                        progress=lambda done: bar.update(task, completed=done))
        rate_out = result.frames / result.seconds if result.seconds else 0.0
        click.echo(f"session {result.session_id}: {result.frames} frames, {result.dislocations} "
                   f"dislocations in {result.seconds:.1f} s ({rate_out:,.0f} frames/s)")
        click.echo(f"config       {result.config_path}")
        click.echo(f"ground truth {result.ground_truth_path}")
