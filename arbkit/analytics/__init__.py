"""Analytics: every statistic of a recording and its runs, as DuckDB views (DESIGN §8).

    con = connect("recordings/", runs={"r1": "runs/r1"})   # a DuckDB connection
    con.sql("SELECT * FROM reconnects").pl()                # Polars
    stats("recordings/", "runs/r1")                         # the `arbkit stats` document

The views are SQL files in `arbkit/analytics/views/` (one view per file; see each file's header
for what one row is). The helpers below return Polars DataFrames, each a SELECT over one view.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import polars as pl

from arbkit.analytics.connection import connect, view_order, view_sql
from arbkit.analytics.stats import stats, stats_document

Recording = str | os.PathLike[str]
Runs = str | os.PathLike[str] | Mapping[str, Any] | None


def _view(view: str, recording: Recording, runs: Runs = None, **options: Any) -> pl.DataFrame:
    con = connect(recording, runs, **options)
    try:
        return con.sql(f'SELECT * FROM "{view}"').pl()
    finally:
        con.close()


def recording_health(recording: Recording, **options: Any) -> pl.DataFrame:
    """Return per-venue health of a recording (the `venue_summary` view)."""
    return _view("venue_summary", recording, **options)


def sessions(recording: Recording) -> pl.DataFrame:
    """Return one row per session of a recording (the `sessions` view)."""
    return _view("sessions", recording)


def connections(recording: Recording) -> pl.DataFrame:
    """Return one row per connection (the `connections` view)."""
    return _view("connections", recording)


def reconnects(recording: Recording) -> pl.DataFrame:
    """Return one row per reconnect with its downtime and cause (the `reconnects` view)."""
    return _view("reconnects", recording)


def book_staleness(recording: Recording) -> pl.DataFrame:
    """Return per-book update-gap percentiles (the `book_staleness` view)."""
    return _view("book_staleness", recording)


def opportunity_summary(recording: Recording, runs: Runs) -> pl.DataFrame:
    """Return opportunities per run, pair and direction (the `opportunity_summary` view)."""
    return _view("opportunity_summary", recording, runs)


def funnel(recording: Recording, runs: Runs) -> pl.DataFrame:
    """Return the detected -> approved -> sent -> filled -> profitable funnel (the `funnel` view)."""
    return _view("funnel", recording, runs)


def run_summary(recording: Recording, runs: Runs) -> pl.DataFrame:
    """Return one row of headline figures per run (the `run_summary` view)."""
    return _view("run_summary", recording, runs)


__all__ = [
    "book_staleness",
    "connect",
    "connections",
    "funnel",
    "opportunity_summary",
    "reconnects",
    "recording_health",
    "run_summary",
    "sessions",
    "stats",
    "stats_document",
    "view_order",
    "view_sql",
]
