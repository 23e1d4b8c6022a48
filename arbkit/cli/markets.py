"""`arbkit markets search|match|check`: find equivalent Kalshi and Polymarket markets."""

from __future__ import annotations

import datetime as dt
import sys
from pathlib import Path

import click

from arbkit.errors import UserError

_VENUES = ("kalshi", "polymarket", "both")


def _common(command):  # type: ignore[no-untyped-def]
    options = [
        click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path),
                     help="arbkit.toml whose [venues.*] rest_url to use (default: the real venues)."),
        click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path),
                     help="Response cache (default: $XDG_CACHE_HOME/arbkit/rest)."),
        click.option("--offline", is_flag=True, help="Use only cached responses; no network."),
        click.option("--timeout", default=15.0, show_default=True, type=click.FloatRange(min=0.01),
                     help="Seconds per request attempt."),
        click.option("--retries", default=3, show_default=True, type=click.IntRange(0, 20),
                     help="Retries after a timeout, connection error, 429 or 5xx."),
        click.option("--page-size", type=click.IntRange(1, 1000),
                     help="Results per listing request (default: each venue's maximum)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _venues(config_path, cache_dir, offline, timeout, retries, page_size):  # type: ignore[no-untyped-def]
    from arbkit.config import Config, load_config
    from arbkit.markets import RetryPolicy, connect

    config = load_config(config_path) if config_path else Config()
    policy = RetryPolicy(attempts=retries + 1, timeout_s=timeout)
    return connect(config, cache_dir=cache_dir, offline=offline, policy=policy, kalshi_page=page_size,
                   gamma_page=page_size)


def _console():  # type: ignore[no-untyped-def]
    from rich.console import Console

    return Console(width=None if sys.stdout.isatty() else 160, soft_wrap=False)


def _short(text: str, width: int = 70) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def _date(value: str | None) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise UserError(f"--date: not a YYYY-MM-DD date: {value!r}") from None


def register(cli: click.Group) -> None:
    @cli.group()
    def markets() -> None:
        """Find the Kalshi market and Polymarket tokens that are the same outcome (venue REST APIs)."""

    @markets.command()
    @click.argument("query")
    @click.option("--venue", type=click.Choice(_VENUES), default="both", show_default=True)
    @click.option("--series", multiple=True, help="Kalshi series ticker(s) to list (default: all open events).")
    @click.option("--limit", default=20, show_default=True, type=click.IntRange(min=1))
    @_common
    def search(query: str, venue: str, series: tuple[str, ...], limit: int, **common) -> None:  # type: ignore[no-untyped-def]
        """Search open markets on one or both venues by words of their titles."""
        from rich.table import Table

        from arbkit.markets import fetch
        from arbkit.markets import search as run_search

        from arbkit.markets.match import words

        if not words(query):
            raise UserError(f"search: {query!r} has no words to search for (only common words or numbers)")
        venues = _venues(**common)
        which = ("kalshi", "polymarket") if venue == "both" else (venue,)
        kalshi, poly = fetch(venues, series=series, which=which)
        hits = run_search(kalshi + poly, query, limit)
        table = Table("score", "venue", "id", "title", "outcomes / YES side", "closes (UTC)", "status")
        for score, m in hits:
            outcomes = m.subject if m.venue == "kalshi" else " / ".join(o.label for o in m.outcomes)
            table.add_row(f"{score:.2f}", m.venue, m.id, _short(m.title), _short(outcomes, 40),
                          m.close_time.strftime("%Y-%m-%d %H:%M") if m.close_time else "", m.venue_status)
        _console().print(table)
        click.echo(f"{len(hits)} of {len(kalshi) + len(poly)} open markets match {query!r}", err=True)

    @markets.command()
    @click.option("--series", multiple=True, help="Kalshi series ticker(s) to match (default: all open events).")
    @click.option("--date", "date_text", metavar="YYYY-MM-DD",
                  help="Only markets closing on this UTC day (widened by --close-tolerance).")
    @click.option("--min-score", default=None, type=click.FloatRange(0, 1),
                  help="Lowest score written as a pair (default 0.6).")
    @click.option("--limit", default=50, show_default=True, type=click.IntRange(min=1), help="Rows in the table.")
    @click.option("--candidates", default=1, show_default=True, type=click.IntRange(1, 20),
                  help="Candidates shown per Kalshi market.")
    @click.option("--close-tolerance", default=48.0, show_default=True, type=click.FloatRange(min=0),
                  help="Hours two close times may differ before the pair is flagged.")
    @click.option("--write", "write_path", type=click.Path(dir_okay=False, path_type=Path),
                  help="Write the chosen pairs as [[pairs]] tables with their evidence as comments.")
    @_common
    def match(series: tuple[str, ...], date_text: str | None, min_score: float | None, limit: int,
              candidates: int, close_tolerance: float, write_path: Path | None, **common) -> None:  # type: ignore[no-untyped-def]
        """Rank candidate pairs (score, titles, orientation, flags); --write a reviewable pairs file."""
        from rich.table import Table

        from arbkit.markets import DEFAULT_MIN_SCORE, fetch
        from arbkit.markets import match as run_match
        from arbkit.markets import pairsfile

        tolerance = dt.timedelta(hours=close_tolerance)
        min_score = DEFAULT_MIN_SCORE if min_score is None else min_score
        venues = _venues(**common)
        kalshi, poly = fetch(venues, series=series, date=_date(date_text), tolerance=tolerance)
        if not kalshi:
            raise UserError("no open Kalshi markets" + (f" in series {', '.join(series)}" if series else "")
                            + (f" closing on {date_text}" if date_text else ""))
        now = dt.datetime.now(dt.timezone.utc)
        result = run_match(kalshi, poly, now=now, min_score=min_score, tolerance=tolerance,
                           per_market=max(candidates, 1))
        chosen = {(c.kalshi.id, c.polymarket.id) for c in result.pairs}
        rows = sorted((c for cs in result.ranked.values() for c in cs[:candidates]),
                      key=lambda c: (-c.score, c.kalshi.id, c.rank))[:limit]
        table = Table("score", "", "Kalshi", "Polymarket", "Kalshi YES =", "flags")
        for c in rows:
            mark = "pair" if (c.kalshi.id, c.polymarket.id) in chosen else ""
            table.add_row(f"{c.score:.2f}", mark, f"{c.kalshi.id}\n{_short(c.kalshi.label)}",
                          f"{c.polymarket.id}\n{_short(c.polymarket.title)}",
                          repr(c.orientation.yes.label) if c.orientation else "?", ", ".join(c.flags))
        _console().print(table)
        click.echo(f"{len(kalshi)} Kalshi and {len(poly)} Polymarket open markets; {len(result.pairs)} pair(s) "
                   f"at min score {min_score:g}", err=True)
        if write_path is not None:
            text = pairsfile.render(result, written_at=now, sources=venues.sources(),
                                    tolerance_h=close_tolerance)
            pairsfile.write(write_path, text)
            click.echo(f"wrote {len(result.pairs)} pair(s) to {write_path}", err=True)

    @markets.command()
    @click.argument("pairs_path", metavar="PAIRS", type=click.Path(dir_okay=False, path_type=Path))
    @_common
    def check(pairs_path: Path, **common) -> None:  # type: ignore[no-untyped-def]
        """Re-fetch both sides of every pair; exit 1 if orientation, close time, status or fees changed."""
        from rich.table import Table

        from arbkit.markets import check as run_check

        venues = _venues(**common)
        results = run_check(venues, pairs_path, now=dt.datetime.now(dt.timezone.utc))
        table = Table("pair", "Kalshi", "result")
        for r in results:
            table.add_row(_short(r.pair.name, 60), r.pair.kalshi_ticker,
                          "\n".join(r.changes) if r.changes else "unchanged")
        _console().print(table)
        changed = sum(1 for r in results if r.changes)
        click.echo(f"{changed} of {len(results)} pair(s) changed since {pairs_path} was written", err=True)
        if changed:
            sys.exit(1)
