"""Normalized events: what a venue decoder turns one raw frame into.

Every event carries two timestamps (STYLE §2): `recv_ns`, our receive time of the frame it came
from (the engine's clock), and `venue_ts_ms`, the venue's own timestamp where the frame has one.

Books are kept per (venue, market) in that market's own terms: a Kalshi ticker's book is in YES
terms (NO bids already turned into YES asks by the decoder); a Polymarket book is one token's
book. Prices are integer ticks of $0.0001 and sizes integer millionths (`core.fixedpoint`).
"""

from __future__ import annotations

import msgspec

KALSHI = "kalshi"
POLYMARKET = "polymarket"
VENUES = (KALSHI, POLYMARKET)

BID = 0
ASK = 1

# Reasons a book stops quoting until a snapshot re-seeds it.
INVALID_SEQ_GAP = "seq_gap"
INVALID_CROSSED = "crossed"
INVALID_NEGATIVE_SIZE = "negative_size"
INVALID_DISCONNECT = "disconnect"
INVALID_TICK_SIZE_CHANGE = "tick_size_change"
INVALID_SUBSCRIPTION_ERROR = "subscription_error"

Level = tuple[int, int]  # (price ticks, size millionths)


class Event(msgspec.Struct, frozen=True, gc=False):
    """Base of all normalized events."""

    venue: str
    recv_ns: int


class BookSnapshot(Event, frozen=True, gc=False):
    """Full L2 book for one market; replaces whatever was there. Levels in any order."""

    market: str
    bids: list[Level]
    asks: list[Level]
    venue_ts_ms: int | None = None
    tick: int | None = None


class LevelDelta(Event, frozen=True, gc=False):
    """Signed change of the resting size at one price (Kalshi `orderbook_delta`)."""

    market: str
    side: int
    price: int
    delta: int
    venue_ts_ms: int | None = None
    sid: int | None = None


class LevelSet(Event, frozen=True, gc=False):
    """New absolute size at one price, 0 removes it (Polymarket `price_change`).

    `best_bid`/`best_ask` are the venue's own top of book after the change, where it says.
    """

    market: str
    side: int
    price: int
    size: int
    venue_ts_ms: int | None = None
    best_bid: int | None = None
    best_ask: int | None = None


class Trade(Event, frozen=True, gc=False):
    """A public trade print. `taker_side` is "yes"/"no" (Kalshi) or "buy"/"sell" (Polymarket)."""

    market: str
    price: int
    size: int
    taker_side: str | None = None
    venue_ts_ms: int | None = None


class TopOfBook(Event, frozen=True, gc=False):
    """The venue's own best bid/ask (Kalshi `ticker`, Polymarket `best_bid_ask`)."""

    market: str
    bid: int | None
    ask: int | None
    bid_size: int | None = None
    ask_size: int | None = None
    venue_ts_ms: int | None = None


class TickSizeChange(Event, frozen=True, gc=False):
    """The market's price grid changed; the book is invalid until the next snapshot."""

    market: str
    old_tick: int | None
    new_tick: int
    venue_ts_ms: int | None = None


class Resolution(Event, frozen=True, gc=False):
    """The market is decided. `outcome` is "yes" when this market/token pays $1, "no" when it
    pays 0, anything else (e.g. "void") otherwise."""

    market: str
    outcome: str
    venue_ts_ms: int | None = None


class MarketStatus(Event, frozen=True, gc=False):
    """A lifecycle change that does not decide the market (opened, paused, closed, ...)."""

    market: str
    status: str
    venue_ts_ms: int | None = None


class SubscriptionAck(Event, frozen=True, gc=False):
    """A command succeeded (Kalshi `subscribed`/`ok`/`unsubscribed`)."""

    req_id: int | None
    kind: str
    channel: str | None = None
    sid: int | None = None
    markets: tuple[str, ...] | None = None


class SubscriptionError(Event, frozen=True, gc=False):
    """A command failed (Kalshi `error`); `code` is the venue's error code."""

    req_id: int | None
    code: int | None
    message: str
    market: str | None = None


class SeqGap(Event, frozen=True, gc=False):
    """A Kalshi `sid` skipped sequence numbers; every market on it is now invalid."""

    sid: int
    expected: int
    got: int
    markets: tuple[str, ...]


class BookInvalid(Event, frozen=True, gc=False):
    """The market's book must not be quoted until a snapshot re-seeds it."""

    market: str
    reason: str


class Notice(Event, frozen=True, gc=False):
    """A non-JSON text frame or informational message (`PONG`, `INVALID OPERATION`)."""

    text: str


class DecodeError(Event, frozen=True, gc=False):
    """A frame (or one element of a batch) that could not be decoded; counted, never fatal."""

    reason: str
