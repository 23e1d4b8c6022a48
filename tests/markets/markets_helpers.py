"""Helpers for the markets tests: fixture listings as `Market`s, and scoring a match."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

from arbkit.markets import gamma, kalshi
from arbkit.markets.match import MatchResult
from arbkit.markets.model import Market

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "markets"
FETCHED = dt.datetime(2026, 12, 1, tzinfo=dt.timezone.utc)


def _read(name: str) -> object:
    return json.loads((FIXTURES / name).read_text(encoding="utf-8"), parse_float=Decimal)


def kalshi_markets(events: list[dict], series: dict[str, dict]) -> list[Market]:
    """Markets of Kalshi /events objects (with nested markets), fees from their series."""
    return [kalshi.parse_market(m, e, kalshi.series_fees(series[e["series_ticker"]]), FETCHED)
            for e in events for m in e["markets"]]


def gamma_markets(events: list[dict]) -> list[Market]:
    """Markets of Gamma /events objects."""
    return [gamma.parse_market(m, e, FETCHED) for e in events for m in e["markets"]]


def fixture_set() -> tuple[list[Market], list[Market], dict[str, tuple[str, str]]]:
    """The hand-written fixture: Kalshi markets, Gamma markets, true pairs {ticker: (yes, no)}."""
    series = {s["ticker"]: s for s in _read("kalshi_series.json")["series"]}
    k = kalshi_markets(_read("kalshi_events.json")["events"], series)
    p = gamma_markets(_read("gamma_events.json"))
    truth = {t["kalshi_ticker"]: (t["polymarket_yes_token"], t["polymarket_no_token"])
             for t in _read("true_pairs.json")}
    return k, p, truth


def precision_recall(result: MatchResult, truth: dict[str, tuple[str, str]]) -> tuple[float, float]:
    """Of the pairs written, the share that are true (with their orientation); of the true, the share written."""
    written = {c.kalshi.id: (c.orientation.yes.token, c.orientation.no.token) for c in result.pairs}
    right = sum(1 for ticker, tokens in written.items() if truth.get(ticker) == tokens)
    return (right / len(written) if written else 0.0), right / len(truth)


def wrong_first_ranks(result: MatchResult, truth: dict[str, tuple[str, str]]) -> list[str]:
    """True pairs whose Kalshi market's best candidate is not the true one, correctly oriented."""
    wrong = []
    for ticker, tokens in truth.items():
        best = (result.ranked.get(ticker) or [None])[0]
        got = (best.orientation.yes.token, best.orientation.no.token) if best and best.orientation else None
        if got != tokens:
            wrong.append(f"{ticker}: best is {best.polymarket.title if best else None!r} "
                         f"({best.score if best else '-'}, {best.flags if best else '-'})")
    return wrong
