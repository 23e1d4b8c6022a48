"""`arbkit replay`: deterministic backtest over a recording, or `--verify` of a finished run."""

from __future__ import annotations

import contextlib
import shutil
import datetime as dt
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import click

from arbkit.cli._common import print_summary
from arbkit.config import load_config
from arbkit.errors import ConfigError, UserError


def parse_time(text: str | None, option: str) -> int | None:
    """Parse an ISO-8601 time (UTC if no zone) or integer epoch nanoseconds."""
    if text is None:
        return None
    if text.isdigit():
        return int(text)
    try:
        when = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UserError(f"{option}: not an ISO-8601 time or epoch nanoseconds: {text!r}") from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    delta = when - dt.datetime(1970, 1, 1, tzinfo=dt.timezone.utc)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000


@contextlib.contextmanager
def _progress(source: str) -> Iterator[Callable[[int], None] | None]:
    """A progress bar on a terminal: yield its update callback (None without a terminal)."""
    if not sys.stderr.isatty():
        yield None  # rich costs ~50 ms of start-up, and there is nothing to draw on a pipe
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeRemainingColumn

    from arbkit.runner.replay import count_frames

    _, total = count_frames(source)
    columns = ("[progress.description]{task.description}", BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeRemainingColumn(), transient=True) as bar:
        task = bar.add_task("replay", total=total)
        yield lambda n: bar.update(task, completed=n)


def register(cli: click.Group) -> None:
    @cli.command()
    @click.option("--from", "source", metavar="PATH", help="Recordings root, session, directory or glob of frames Parquet.")
    @click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), help="arbkit.toml")
    @click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), help="Run directory to write.")
    @click.option("--start", help="Decide only from this time on; earlier frames still warm books, connections, "
                  "risk and positions, so decisions equal the full replay's (ISO-8601, UTC by default, or epoch ns).")
    @click.option("--end", help="Stop at this time, as if the recording ended there (ISO-8601 or epoch ns).")
    @click.option("--pairs", multiple=True, help="Pair names to replay (repeat or comma-separate); default all.")
    @click.option("--verify", "verify_dir", type=click.Path(file_okay=False, path_type=Path), help="Re-derive this run and compare its decisions.")
    def replay(source, config_path, out_dir, start, end, pairs, verify_dir) -> None:  # type: ignore[no-untyped-def]
        """Deterministic backtest over a recording; writes the run tables of DESIGN §8."""
        from arbkit.runner import replay as runner

        if verify_dir is not None:
            difference = runner.verify(verify_dir)
            if difference is None:
                click.echo(f"verified: {verify_dir} re-derives byte-identical decisions")
                return
            click.echo(f"DIFFERENT: {difference.table} row {difference.index}", err=True)
            click.echo(f"  recorded:   {difference.expected}", err=True)
            click.echo(f"  re-derived: {difference.actual}", err=True)
            for frame in difference.frames:
                click.echo(f"  frame: {frame}", err=True)
            sys.exit(1)
        if not source or not config_path or not out_dir:
            raise UserError("replay needs --from PATH, --config FILE and --out RUN_DIR (or --verify RUN_DIR)")
        config = load_config(config_path)
        known = {p.name for p in config.pairs}
        # A name that itself holds a comma ("Fed: hold, no change") is taken whole.
        names = [
            n.strip()
            for item in pairs
            for n in ([item] if item in known else item.split(","))
            if n.strip()
        ]
        config = runner.select_pairs(config, names)
        if not config.pairs:
            raise ConfigError(f"{config_path}: no [[pairs]] to replay")
        start_ns, end_ns = parse_time(start, "--start"), parse_time(end, "--end")
        if start_ns is not None and end_ns is not None and start_ns >= end_ns:
            raise UserError(f"--start ({start}) must be before --end ({end})")
        created = not out_dir.exists()
        try:  # before the replay, so a bad --out costs no replay and is one line, not a traceback
            out_dir.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise UserError(f"--out: cannot create run directory {out_dir}: {exc.strerror}") from None
        try:
            with _progress(source) as progress:
                result = runner.replay(
                    source, config, out_dir, start_ns=start_ns, end_ns=end_ns, progress=progress
                )
        except BaseException:
            if created:
                shutil.rmtree(out_dir, ignore_errors=True)  # a failed replay leaves no run dir
            raise
        warmup = f" after {result.warmup_frames:,} warm-up frames" if result.warmup_frames else ""
        click.echo(f"replayed {result.frames:,} frames from {len(result.sessions)} session(s){warmup}")
        print_summary(result.summary, "replay")
        click.echo(f"run written to {result.run_dir}")
