"""Fetch both venues' listings for matching, searching and re-checking a pairs file."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from arbkit.config import Config
from arbkit.markets.gamma import PAGE, GammaRest
from arbkit.markets.http import ResponseCache, RestClient, RetryPolicy, default_cache_dir
from arbkit.markets.kalshi import EVENTS_PAGE, MARKETS_PAGE, KalshiRest
from arbkit.markets.match import Idf, cosine, words
from arbkit.markets.model import KALSHI, POLYMARKET, Market
from arbkit.markets.pairsfile import PairCheck, check_pair, load, tokens_of


@dataclass
class Venues:
    """REST access to both venues, sharing one cache and retry policy."""

    kalshi: KalshiRest
    gamma: GammaRest

    def sources(self) -> dict[str, str]:
        """Each venue's base URL and when its data was fetched (for the pairs file header)."""
        out = {}
        for name, client in ((KALSHI, self.kalshi.client), (POLYMARKET, self.gamma.client)):
            mode = "from the offline cache" if client.offline else f"{client.requests} request(s)"
            out[name] = f"{client.base_url} ({mode})"
        return out


def connect(config: Config, *, cache_dir: Path | None = None, offline: bool = False,
            policy: RetryPolicy | None = None, kalshi_page: int | None = None,
            gamma_page: int | None = None) -> Venues:
    """REST clients for the venues of a config (its `rest_url`s), caching under `cache_dir`."""
    cache = ResponseCache(cache_dir or default_cache_dir())
    policy = policy or RetryPolicy()
    kalshi = RestClient(KALSHI, config.venues.kalshi.rest_url, cache, offline, policy)
    gamma = RestClient(POLYMARKET, config.venues.polymarket.rest_url, cache, offline, policy)
    return Venues(
        KalshiRest(kalshi, events_page=min(kalshi_page or EVENTS_PAGE, EVENTS_PAGE),
                   markets_page=min(kalshi_page or MARKETS_PAGE, MARKETS_PAGE)),
        GammaRest(gamma, page=min(gamma_page or PAGE, PAGE)))


def window(date: dt.date | None, tolerance: dt.timedelta) -> tuple[dt.datetime | None, dt.datetime | None]:
    """The close-time window for markets of a day: the UTC day widened by the tolerance."""
    if date is None:
        return None, None
    start = dt.datetime(date.year, date.month, date.day, tzinfo=dt.timezone.utc)
    return start - tolerance, start + dt.timedelta(days=1) + tolerance


def fetch(venues: Venues, *, series: Sequence[str] = (), date: dt.date | None = None,
          tolerance: dt.timedelta = dt.timedelta(hours=48),
          which: Iterable[str] = (KALSHI, POLYMARKET)) -> tuple[list[Market], list[Market]]:
    """Open markets on both venues (Kalshi limited to `series`, both to `date` when given)."""
    low, high = window(date, tolerance)
    which = set(which)
    kalshi = venues.kalshi.open_markets(series, min_close=low, max_close=high) if KALSHI in which else []
    poly = venues.gamma.open_markets(end_min=low, end_max=high) if POLYMARKET in which else []
    if low is not None and high is not None:
        kalshi = [m for m in kalshi if _within(m, low, high)]
        poly = [m for m in poly if _within(m, low, high)]
    return kalshi, poly


def _within(market: Market, low: dt.datetime, high: dt.datetime) -> bool:
    times = [t for t in (market.close_time, *market.other_times) if t is not None]
    return not times or any(low <= t <= high for t in times)


def search(markets: Sequence[Market], query: str, limit: int = 20) -> list[tuple[float, Market]]:
    """Markets whose title, subject or event mention the query's words, best first."""
    wanted = words(query)
    if not wanted:
        return []
    docs = [words(" ".join((m.title, m.subject, m.event_title))) for m in markets]
    idf = Idf(list(docs) + [wanted])
    q = idf.vector(wanted)
    hits = []
    for market, doc in zip(markets, docs):
        present = set(wanted) & set(doc)
        if present:
            coverage = sum(idf.weight(w) for w in present) / sum(idf.weight(w) for w in set(wanted))
            hits.append((round(0.7 * coverage + 0.3 * cosine(q, idf.vector(doc)), 4), market))
    hits.sort(key=lambda h: (-h[0], h[1].venue, h[1].id))
    return hits[:limit]


def check(venues: Venues, path: Path, *, now: dt.datetime) -> list[PairCheck]:
    """Re-fetch both sides of every pair in a pairs file and report what changed."""
    pairs, states = load(path)
    kalshi = venues.kalshi.markets_by_ticker(p.kalshi_ticker for p in pairs)
    poly = venues.gamma.markets_by_token(tokens_of(pairs))
    return [check_pair(p, states.get(p.kalshi_ticker), kalshi.get(p.kalshi_ticker),
                       poly.get(p.polymarket_yes_token), poly.get(p.polymarket_no_token), now)
            for p in pairs]
