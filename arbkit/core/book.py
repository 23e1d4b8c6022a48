"""Exact L2 order books and the manager that keeps one per (venue, market).

A book holds bids and asks as {price ticks: size millionths} with the best price of each side
kept incrementally, so top-of-book is an attribute read. Each side's depth list (best first) is
sorted when asked for after the side changed; the last one built stays readable as `ask_built` /
`bid_built` with the best price changed since (`ask_lo` / `bid_hi`), so a reader holding that
list knows which of its levels are still the book's without sorting again.

A book is *valid* only between a snapshot and the next invalidating event (sequence gap, crossed
book, negative size, disconnect, tick-size change); an invalid book refuses to quote and ignores
level updates until a snapshot re-seeds it (STYLE §5: integrity is data, not an exception).

Transient cross (the venue's top of book wins). Around a Polymarket trade, the `price_change`
for the taker's order arrives before the removals of the maker levels it took: several messages
share one venue timestamp, the first of them already says the post-trade `best_bid`/`best_ask`,
and the levels the trade emptied are removed by the later ones (a `book` with the trade's hash
follows). Applied one message at a time, the book is crossed by levels the venue itself says are
gone. So a book left crossed by a frame is judged against the venue's own top of book when the
frame states it (the `best_bid`/`best_ask` of its last level update for that book) and that top
is not crossed: the bids above the venue's best bid and the asks below its best ask are removed,
as the removals on their way will do, and the book stays valid. Only a cross that the venue's own
top does not explain (or a frame that states no top, as every Kalshi frame) invalidates the book
as crossed, and open windows on it close. The rule reads the frame only, so it is the same in
live and replay; books not crossed are never touched by it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Final

import msgspec

from arbkit.core.events import (
    BID,
    INVALID_CROSSED,
    INVALID_NEGATIVE_SIZE,
    INVALID_SEQ_GAP,
    INVALID_TICK_SIZE_CHANGE,
    BookInvalid,
    BookSnapshot,
    Event,
    Level,
    LevelDelta,
    LevelSet,
    SeqGap,
    TickSizeChange,
)

NO_SNAPSHOT = "no_snapshot"

# Final: compiled, these are C statics rather than a module-dict lookup at every use.
_COMPILED: Final = not __file__.endswith(".py")
_BID: Final = BID
_LEVEL_DELTA: Final = LevelDelta
_LEVEL_SET: Final = LevelSet
_FIELDS: Final = msgspec.structs.astuple
_NO_SIZE: Final[Any] = 0  # an untyped 0 keeps `levels.get(price, 0) + delta` on Python ints

# `ask_lo` / `bid_hi` while no level of the side changed since its depth list was built.
NO_ASK_CHANGE: Final = 2**60
NO_BID_CHANGE: Final = -(2**60)


class Book:
    """One market's L2 book on one venue.

    Level updates made directly on a Book do not judge crossing (a frame may pass through a
    transiently crossed state); `BookManager.apply` judges it after each frame.
    """

    __slots__ = (
        "venue",
        "market",
        "bids",
        "asks",
        "best_bid",
        "best_ask",
        "valid",
        "invalid_reason",
        "last_update_ns",
        "snapshot_ns",
        "tick",
        "updates",
        "snapshots",
        "invalidations",
        "ignored",
        "_bid_depth",
        "_ask_depth",
        "bid_built",
        "ask_built",
        "bid_hi",
        "ask_lo",
    )

    def __init__(self, venue: str, market: str) -> None:
        self.venue = venue
        self.market = market
        self.bids: dict[int, int] = {}
        self.asks: dict[int, int] = {}
        self.best_bid: int | None = None
        self.best_ask: int | None = None
        self.valid = False
        self.invalid_reason: str | None = NO_SNAPSHOT
        self.last_update_ns: int | None = None
        self.snapshot_ns: int | None = None
        self.tick: int | None = None
        self.updates = 0
        self.snapshots = 0
        self.invalidations = 0
        self.ignored = 0
        self._bid_depth: list[Level] | None = None
        self._ask_depth: list[Level] | None = None
        # The last depth list each side built (kept after the side changes, until a snapshot or
        # a drop replaces the side wholesale), and the best price changed since it was built:
        # a reader holding that list knows its levels better than that price are still the
        # book's (the detector reuses answers that read no further).
        self.bid_built: list[Level] | None = None
        self.ask_built: list[Level] | None = None
        self.bid_hi: Any = NO_BID_CHANGE
        self.ask_lo: Any = NO_ASK_CHANGE

    def apply_snapshot(
        self, bids: Iterable[Level], asks: Iterable[Level], recv_ns: int, tick: int | None = None
    ) -> str | None:
        """Replace the whole book; return an invalid reason if the snapshot itself is bad.

        A bad snapshot (a negative size, or crossed) leaves the book empty and invalid with that
        reason, whatever it was invalid for before.
        """
        reason: str | None = None
        plain = False
        # Each side's best price, -1 while unknown (None once known empty).
        best_bid: int | None = -1
        best_ask: int | None = -1
        if bids.__class__ is list and asks.__class__ is list:
            # Decoders hand over lists of distinct, non-negative prices with positive sizes:
            # build the dicts in C, read the best prices in one native pass over each list, and
            # take the level-by-level reading below only when that is not so.
            new_bids = dict(bids)
            new_asks = dict(asks)
            bid_list: list[Level] = bids  # type: ignore[assignment]
            ask_list: list[Level] = asks  # type: ignore[assignment]
            if len(new_bids) == len(bid_list) and len(new_asks) == len(ask_list):
                if _COMPILED:
                    best_bid = _plain_best(bid_list, True) if bid_list else None
                    best_ask = _plain_best(ask_list, False) if ask_list else None
                    plain = best_bid != -1 and best_ask != -1
                else:
                    # Interpreted, the builtins' C loops beat a Python one.
                    plain = (not new_bids or min(new_bids.values()) > 0) and (
                        not new_asks or min(new_asks.values()) > 0
                    )
                    if plain:
                        best_bid = max(new_bids) if new_bids else None
                        best_ask = min(new_asks) if new_asks else None
        if not plain:
            new_bids, new_asks = {}, {}
            for levels, source in ((new_bids, bids), (new_asks, asks)):
                for price, size in source:
                    if size > 0:
                        levels[price] = size
                    elif size == 0:
                        # Duplicate prices: the last one listed wins, as a venue's own dict would.
                        levels.pop(price, None)
                    else:
                        reason = INVALID_NEGATIVE_SIZE
        if tick is not None:
            self.tick = tick
        self.last_update_ns = self.snapshot_ns = recv_ns
        self.snapshots += 1
        self.updates += 1
        self._bid_depth = self._ask_depth = self.bid_built = self.ask_built = None
        if not plain:
            best_bid = max(new_bids) if new_bids else None
            best_ask = min(new_asks) if new_asks else None
        if reason is None and best_bid is not None and best_ask is not None and best_bid >= best_ask:
            reason = INVALID_CROSSED
        if reason is not None:
            self.bids, self.asks, self.best_bid, self.best_ask = {}, {}, None, None
            if self.valid:
                self.valid = False
                self.invalidations += 1
            self.invalid_reason = reason
            return reason
        self.bids, self.asks, self.best_bid, self.best_ask = new_bids, new_asks, best_bid, best_ask
        self.valid = True
        self.invalid_reason = None
        return None

    def set_level(self, side: int, price: int, size: int, recv_ns: int) -> str | None:
        """Set the absolute size at a price (0 removes it); return an invalid reason or None."""
        if not self.valid:
            self.ignored += 1
            return None
        return self._set(side, price, size, recv_ns)

    def add_level(self, side: int, price: int, delta: int, recv_ns: int) -> str | None:
        """Change the size at a price by a signed delta; return an invalid reason or None."""
        if not self.valid:
            self.ignored += 1
            return None
        levels = self.bids if side == BID else self.asks
        return self._set(side, price, levels.get(price, 0) + delta, recv_ns)

    def _set(self, side: int, price: int, size: int, recv_ns: int) -> str | None:
        # Keep in step with the inlined copy in BookManager.update_level (the hot path).
        self.last_update_ns = recv_ns
        if size < 0:
            self.invalidate(INVALID_NEGATIVE_SIZE)
            return INVALID_NEGATIVE_SIZE
        self.updates += 1
        if side == BID:
            self._bid_depth = None
            if price > self.bid_hi:
                self.bid_hi = price
            levels = self.bids
            if size:
                levels[price] = size
                if self.best_bid is None or price > self.best_bid:
                    self.best_bid = price
            elif levels.pop(price, None) is not None and price == self.best_bid:
                self.best_bid = max(levels) if levels else None
        else:
            self._ask_depth = None
            if price < self.ask_lo:
                self.ask_lo = price
            levels = self.asks
            if size:
                levels[price] = size
                if self.best_ask is None or price < self.best_ask:
                    self.best_ask = price
            elif levels.pop(price, None) is not None and price == self.best_ask:
                self.best_ask = min(levels) if levels else None
        return None

    def drop_beyond(self, bid: int, ask: int) -> None:
        """Remove the bids above `bid` and the asks below `ask` (levels the venue says are gone)."""
        self.bids = {p: s for p, s in self.bids.items() if p <= bid}
        self.asks = {p: s for p, s in self.asks.items() if p >= ask}
        self.best_bid = max(self.bids) if self.bids else None
        self.best_ask = min(self.asks) if self.asks else None
        self._bid_depth = self._ask_depth = self.bid_built = self.ask_built = None

    def invalidate(self, reason: str) -> bool:
        """Stop quoting until the next snapshot; return False if it was already invalid.

        An already-invalid book keeps its first reason: that is the cause worth reporting.
        """
        if not self.valid:
            return False
        self.valid = False
        self.invalid_reason = reason
        self.invalidations += 1
        return True

    def is_crossed(self) -> bool:
        """Return True when the best bid is at or above the best ask."""
        bid = self.best_bid
        ask = self.best_ask
        return bid is not None and ask is not None and bid >= ask

    @property
    def best_bid_size(self) -> int:
        """Size at the best bid (0 when the side is empty)."""
        return self.bids[self.best_bid] if self.best_bid is not None else 0

    @property
    def best_ask_size(self) -> int:
        """Size at the best ask (0 when the side is empty)."""
        return self.asks[self.best_ask] if self.best_ask is not None else 0

    def bid_depth(self) -> list[Level]:
        """Return bid levels best (highest) first; cached until the bid side changes."""
        depth = self._bid_depth
        if depth is None:
            depth = self._bid_depth = self.bid_built = sorted(self.bids.items(), reverse=True)
            self.bid_hi = NO_BID_CHANGE
        return depth

    def ask_depth(self) -> list[Level]:
        """Return ask levels best (lowest) first; cached until the ask side changes."""
        depth = self._ask_depth
        if depth is None:
            depth = self._ask_depth = self.ask_built = sorted(self.asks.items())
            self.ask_lo = NO_ASK_CHANGE
        return depth

    def staleness_ns(self, now_ns: int) -> int | None:
        """Return the time since the last update, or None if the book never had one."""
        return None if self.last_update_ns is None else now_ns - self.last_update_ns


def _plain_best(levels: list[Level], highest: bool) -> int:
    """The best price of a non-empty ladder of non-negative prices and positive sizes (as decoders
    make them): its highest when `highest`, else its lowest; -1 when the ladder is not such."""
    best = -1
    for price, size in levels:
        if size <= 0 or price < 0:
            return -1
        if best < 0 or (price > best if highest else price < best):
            best = price
    return best


class BookManager:
    """Keeps one `Book` per (venue, market) and applies decoded events to them."""

    def __init__(self) -> None:
        self.books: dict[tuple[str, str], Book] = {}
        # The same books by venue then market: two string lookups beat building a tuple key.
        self._by_venue: dict[str, dict[str, Book]] = {}

    def book(self, venue: str, market: str) -> Book:
        """Return the book for (venue, market), creating an empty invalid one if needed."""
        key = (venue, market)
        book = self.books.get(key)
        if book is None:
            book = self.books[key] = Book(venue, market)
            self._by_venue.setdefault(venue, {})[market] = book
        return book

    def get(self, venue: str, market: str) -> Book | None:
        """Return the book for (venue, market) if one exists."""
        return self.books.get((venue, market))

    def apply(self, events: list[Event]) -> list[BookInvalid]:
        """Apply one frame's events; return the invalidations they caused (new ones only).

        A crossed book is judged after the whole frame, since a batch may pass through a
        transiently crossed state between two of its own changes. A snapshot that is itself bad
        (crossed, negative size) is always reported, even on a book that was already invalid.
        """
        invalid: list[BookInvalid] = []
        maybe_crossed: list[Book] = []
        touched: list[Book] = []
        # Dispatch is on the exact class (cheaper than isinstance), which mypy cannot narrow.
        event: Any
        if events:
            # Mostly a decoder's frame of level updates (one venue, one time): one run.
            head: Any = events[0]
            venue, recv_ns = head.venue, head.recv_ns
            for event in events:
                cls = type(event)
                if (
                    (cls is not _LEVEL_DELTA and cls is not _LEVEL_SET)
                    or event.recv_ns != recv_ns
                    or event.venue != venue
                ):
                    break
            else:
                self._apply_run(venue, recv_ns, events, touched, invalid, maybe_crossed)
                if maybe_crossed:
                    _judge_crossed(maybe_crossed, invalid, events)
                return invalid
        for event in events:
            cls = type(event)
            if cls is _LEVEL_DELTA or cls is _LEVEL_SET:
                self._apply_run(event.venue, event.recv_ns, [event], touched, invalid, maybe_crossed)
            elif cls is BookSnapshot:
                book = self.book(event.venue, event.market)
                reason = book.apply_snapshot(event.bids, event.asks, event.recv_ns, event.tick)
                if reason is not None:
                    invalid.append(BookInvalid(event.venue, event.recv_ns, book.market, reason))
            elif cls is BookInvalid:
                if self.book(event.venue, event.market).invalidate(event.reason):
                    invalid.append(event)
            elif cls is SeqGap:
                invalid += self.invalidate_markets(
                    event.venue, event.markets, INVALID_SEQ_GAP, event.recv_ns
                )
            elif cls is TickSizeChange:
                book = self.book(event.venue, event.market)
                book.tick = event.new_tick
                if book.invalidate(INVALID_TICK_SIZE_CHANGE):
                    invalid.append(
                        BookInvalid(event.venue, event.recv_ns, book.market, INVALID_TICK_SIZE_CHANGE)
                    )
        if maybe_crossed:
            _judge_crossed(maybe_crossed, invalid, events)
        return invalid

    def apply_levels(
        self, venue: str, recv_ns: Any, events: list[Event], touched: list[Book]
    ) -> list[BookInvalid] | None:
        """`apply` for a frame of level updates only (`LevelDelta`/`LevelSet`), the hot path.

        Every event must be of `venue` and received at `recv_ns`, as one frame's events from a
        decoder are. Append to `touched` each book an event reached (a book reached by several
        events in a row once). Return the invalidations, or None, having applied nothing, when
        some event is of another class (then use `apply`).
        """
        # Decide before changing anything, so that the caller can take the general path.
        for item in events:
            cls = type(item)
            if cls is not _LEVEL_SET and cls is not _LEVEL_DELTA:
                return None
        invalid: list[BookInvalid] = []
        maybe_crossed: list[Book] = []
        self._apply_run(venue, recv_ns, events, touched, invalid, maybe_crossed)
        if maybe_crossed:
            _judge_crossed(maybe_crossed, invalid, events)
        return invalid

    def _apply_run(
        self,
        venue: str,
        recv_ns: Any,
        events: list[Event],
        touched: list[Book],
        invalid: list[BookInvalid],
        maybe_crossed: list[Book],
    ) -> None:
        """Apply level updates of `venue` received at `recv_ns`; note books that may be crossed."""
        event: Any
        fields: tuple[Any, ...]
        for event in events:
            # Both level classes lead with (venue, recv_ns, market, side, price, size or delta).
            # One tuple of the fields costs less than four attribute loads on a msgspec Struct
            # (compiled, each is a generic lookup; interpreted, about the same).
            fields = _FIELDS(event)
            crossed = self.update_level(
                venue,
                recv_ns,
                fields[2],
                fields[3],
                fields[4],
                fields[5],
                type(event) is _LEVEL_DELTA,
                touched,
                invalid,
            )
            if crossed is not None:
                maybe_crossed.append(crossed)

    def update_level(
        self,
        venue: str,
        recv_ns: Any,
        market: str,
        side: int,
        price: Any,
        amount: Any,
        delta: bool,
        touched: list[Book],
        invalid: list[BookInvalid],
    ) -> Book | None:
        """Apply one level update of a frame: the new size at `price`, or a signed change of it
        when `delta`; append the book to `touched` unless it is its last entry and its
        invalidation, if any, to `invalid`. Return the book when a new best price reached the
        other side, so that it may be crossed: judge such books with `judge_crossed` once the
        frame's updates are all applied.

        `apply_levels` for decoders that apply a frame's level updates as they read them (no
        event built). Book._set inlined (level updates are ~90% of traffic). `recv_ns`, prices
        and sizes are Any: compiled, an int would be unboxed and boxed anew, a new object, for
        every dict operation and every book storing it.
        """
        by_market = self._by_venue.get(venue)
        book = by_market.get(market) if by_market is not None else None
        if book is None:
            book = self.book(venue, market)
        if not touched or touched[-1] is not book:
            touched.append(book)
        if not book.valid:
            book.ignored += 1
            return None
        book.last_update_ns = recv_ns
        crossed: Book | None = None
        size: Any
        levels: dict[Any, Any]
        # Native copies for the comparisons (generic ones cost several times more); the dicts
        # keep the Python ints as they came.
        tick: int = price
        best: int
        if side == _BID:
            levels = book.bids
            size = levels.get(price, _NO_SIZE) + amount if delta else amount
            new_size: int = size
            if new_size > 0:
                levels[price] = size
                top = book.best_bid
                if top is None or tick > top:
                    book.best_bid = price
                    # Only a new best price can cross the book.
                    other = book.best_ask
                    if other is not None and tick >= other:
                        crossed = book
            elif new_size == 0:
                if price in levels:
                    del levels[price]
                    if price == book.best_bid:
                        book.best_bid = max(levels) if levels else None
            else:
                book.invalidate(INVALID_NEGATIVE_SIZE)
                invalid.append(BookInvalid(venue, recv_ns, market, INVALID_NEGATIVE_SIZE))
                return None
            book._bid_depth = None
            best = book.bid_hi
            if tick > best:
                book.bid_hi = price
        else:
            levels = book.asks
            size = levels.get(price, _NO_SIZE) + amount if delta else amount
            new_size = size
            if new_size > 0:
                levels[price] = size
                top = book.best_ask
                if top is None or tick < top:
                    book.best_ask = price
                    other = book.best_bid
                    if other is not None and tick <= other:
                        crossed = book
            elif new_size == 0:
                if price in levels:
                    del levels[price]
                    if price == book.best_ask:
                        book.best_ask = min(levels) if levels else None
            else:
                book.invalidate(INVALID_NEGATIVE_SIZE)
                invalid.append(BookInvalid(venue, recv_ns, market, INVALID_NEGATIVE_SIZE))
                return None
            book._ask_depth = None
            best = book.ask_lo
            if tick < best:
                book.ask_lo = price
        book.updates += 1
        return crossed

    def judge_crossed(
        self, books: list[Book], invalid: list[BookInvalid], events: list[Event]
    ) -> None:
        """Judge the books `update_level` returned, once the frame is applied: a cross the
        frame's own top of book explains is transient (module docstring), any other invalidates
        the book. `events` are the frame's level updates (only `LevelSet` states a top)."""
        _judge_crossed(books, invalid, events)

    def invalidate_markets(
        self, venue: str, markets: Iterable[str] | None, reason: str, recv_ns: int
    ) -> list[BookInvalid]:
        """Invalidate the named markets of a venue (all of them when `markets` is None)."""
        if markets is None:
            books = [b for (v, _), b in self.books.items() if v == venue]
        else:
            books = [self.book(venue, m) for m in markets]
        return [
            BookInvalid(venue, recv_ns, book.market, reason)
            for book in books
            if book.invalidate(reason)
        ]


def _judge_crossed(books: list[Book], invalid: list[BookInvalid], events: list[Event]) -> None:
    """Judge the books left crossed at the end of a frame (each new best was a suspect).

    A cross the frame's own top of book explains is transient (see the module docstring).
    """
    for book in books:
        if book.valid and book.is_crossed():
            top = _venue_top(book, events)
            if top is not None:
                book.drop_beyond(*top)
                continue
            book.invalidate(INVALID_CROSSED)
            invalid.append(BookInvalid(book.venue, book.last_update_ns or 0, book.market, INVALID_CROSSED))


def _venue_top(book: Book, events: list[Event]) -> tuple[int, int] | None:
    """The uncrossed (best bid, best ask) the frame's last level update for `book` states."""
    event: Any
    for event in reversed(events):
        if type(event) is _LEVEL_SET and event.market == book.market and event.venue == book.venue:
            bid, ask = event.best_bid, event.best_ask
            if bid is not None and ask is not None and bid < ask:
                return bid, ask
            return None
    return None
