"""Shared builders for the core tests: units, names and hand-built books.

Units: prices in ticks of $0.0001, sizes in millionths of a contract, money in micro-dollars.
"""

from __future__ import annotations

from decimal import Decimal

from arbkit.core.book import BookManager
from arbkit.core.events import KALSHI, POLYMARKET, BookSnapshot
from arbkit.core.fees import FeeSchedule
from arbkit.core.fixedpoint import SIZE_SCALE, parse_price
from arbkit.core.pairs import PairSpec

C = SIZE_SCALE  # one contract
MS = 1_000_000  # one millisecond in ns
T0 = 1_790_000_000 * 10**9
KT = "KX-A"
YT = "tok-yes"
NT = "tok-no"


def p(text: str) -> int:
    """A dollar price string as ticks."""
    return parse_price(text)


def usd(text: str) -> int:
    """A dollar amount string as micro-dollars."""
    return int(Decimal(text) * 1_000_000)


def spec(multiplier: str = "1", rate: str = "0.03") -> PairSpec:
    """The test pair: Kalshi KT against Polymarket YT/NT with these fee parameters."""
    return PairSpec("pair-a", KT, YT, NT, FeeSchedule(Decimal(multiplier), Decimal(rate)))


def snap(books: BookManager, venue: str, market: str, bids, asks, ns: int) -> None:
    """Seed a book from (price string, whole contracts) levels."""
    books.apply(
        [
            BookSnapshot(
                venue,
                ns,
                market,
                [(p(pr), n * C) for pr, n in bids],
                [(p(pr), n * C) for pr, n in asks],
            )
        ]
    )


def standard_books(ns: int = T0) -> BookManager:
    """Kalshi YES 0.38 bid / 0.40 ask; Polymarket YES 0.55 bid / 0.57 ask (NO via YES bids)."""
    books = BookManager()
    snap(books, KALSHI, KT, [("0.38", 10)], [("0.40", 10)], ns)
    snap(books, POLYMARKET, YT, [("0.55", 10)], [("0.57", 10)], ns)
    return books
