"""Market discovery: find the Kalshi market and Polymarket tokens that are the same outcome.

    http.py      RestClient: the one place for retries, backoff, 429 Retry-After, timeouts and
                 the on-disk response cache (per query, with its fetch time; `offline` reads it)
    kalshi.py    Kalshi /series, /events, /markets (cursor pagination) -> Market
    gamma.py     Polymarket Gamma /events, /markets (offset pagination, JSON-string fields) -> Market
    match.py     scoring, orientation from outcome labels, trap flags, one-to-one pairs
    pairsfile.py the reviewable pairs file (evidence as TOML comments) and `check`
    discover.py  fetch listings for a config's `rest_url`s; search; check a pairs file
"""

from arbkit.markets.discover import Venues, check, connect, fetch, search
from arbkit.markets.http import RestClient, RetryPolicy, VenueError
from arbkit.markets.match import (
    BLOCKING, DEFAULT_CLOSE_TOLERANCE, DEFAULT_MIN_SCORE, Candidate, MatchResult, Orientation, match, orient,
)
from arbkit.markets.model import Fees, Market, Outcome
from arbkit.markets.pairsfile import PairCheck, render

__all__ = [
    "BLOCKING",
    "DEFAULT_CLOSE_TOLERANCE",
    "DEFAULT_MIN_SCORE",
    "Candidate",
    "Fees",
    "Market",
    "MatchResult",
    "Orientation",
    "Outcome",
    "PairCheck",
    "RestClient",
    "RetryPolicy",
    "VenueError",
    "Venues",
    "check",
    "connect",
    "fetch",
    "match",
    "orient",
    "render",
    "search",
]
