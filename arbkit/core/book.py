"""Exact L2 order books and the manager that keeps one per (venue, market).

A book holds bids and asks as {price ticks: size millionths} with the best price of each side
kept incrementally, so top-of-book is an attribute read. It is *valid* only between a snapshot
and the next invalidating event (sequence gap, crossed book, negative size, disconnect,
tick-size change); an invalid book refuses to quote and ignores level updates until a snapshot
re-seeds it (STYLE §5: integrity is data, not an exception).
"""

from __future__ import annotations

from collections.abc import Iterable

from arbkit.core.events import (
    BID,
    INVALID_CROSSED,
    INVALID_NEGATIVE_SIZE,
    INVALID_TICK_SIZE_CHANGE,
    BookInvalid,
    BookSnapshot,
    Event,
    Level,
    LevelDelta,
    LevelSet,
    TickSizeChange,
)

NO_SNAPSHOT = "no_snapshot"


class Book:
    """One market's L2 book on one venue."""

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

    def apply_snapshot(
        self, bids: Iterable[Level], asks: Iterable[Level], recv_ns: int, tick: int | None = None
    ) -> str | None:
        """Replace the whole book; return an invalid reason if the snapshot itself is bad."""
        self.bids = {}
        self.asks = {}
        for levels, source in ((self.bids, bids), (self.asks, asks)):
            for price, size in source:
                if size < 0:
                    return self._reseed_failed(INVALID_NEGATIVE_SIZE, recv_ns)
                if size:
                    levels[price] = size
                else:
                    levels.pop(price, None)
        self.best_bid = max(self.bids) if self.bids else None
        self.best_ask = min(self.asks) if self.asks else None
        self._bid_depth = self._ask_depth = None
        if tick is not None:
            self.tick = tick
        self.last_update_ns = self.snapshot_ns = recv_ns
        self.snapshots += 1
        self.updates += 1
        if self.is_crossed():
            return self._reseed_failed(INVALID_CROSSED, recv_ns)
        self.valid = True
        self.invalid_reason = None
        return None

    def _reseed_failed(self, reason: str, recv_ns: int) -> str:
        self.last_update_ns = recv_ns
        self.invalidate(reason)
        return reason

    def set_level(self, side: int, price: int, size: int, recv_ns: int) -> str | None:
        """Set the absolute size at a price (0 removes it); return an invalid reason or None."""
        if not self.valid:
            self.ignored += 1
            return None
        if size < 0:
            self.last_update_ns = recv_ns
            self.invalidate(INVALID_NEGATIVE_SIZE)
            return INVALID_NEGATIVE_SIZE
        self._store(side, price, size)
        self.last_update_ns = recv_ns
        self.updates += 1
        return None

    def add_level(self, side: int, price: int, delta: int, recv_ns: int) -> str | None:
        """Change the size at a price by a signed delta; return an invalid reason or None."""
        if not self.valid:
            self.ignored += 1
            return None
        levels = self.bids if side == BID else self.asks
        size = levels.get(price, 0) + delta
        if size < 0:
            self.last_update_ns = recv_ns
            self.invalidate(INVALID_NEGATIVE_SIZE)
            return INVALID_NEGATIVE_SIZE
        self._store(side, price, size)
        self.last_update_ns = recv_ns
        self.updates += 1
        return None

    def _store(self, side: int, price: int, size: int) -> None:
        if side == BID:
            levels = self.bids
            self._bid_depth = None
            if size:
                levels[price] = size
                if self.best_bid is None or price > self.best_bid:
                    self.best_bid = price
            elif levels.pop(price, None) is not None and price == self.best_bid:
                self.best_bid = max(levels) if levels else None
        else:
            levels = self.asks
            self._ask_depth = None
            if size:
                levels[price] = size
                if self.best_ask is None or price < self.best_ask:
                    self.best_ask = price
            elif levels.pop(price, None) is not None and price == self.best_ask:
                self.best_ask = min(levels) if levels else None

    def invalidate(self, reason: str) -> bool:
        """Stop quoting until the next snapshot; return False if it was already invalid."""
        if not self.valid:
            return False
        self.valid = False
        self.invalid_reason = reason
        self.invalidations += 1
        return True

    def is_crossed(self) -> bool:
        """True when the best bid is at or above the best ask."""
        return (
            self.best_bid is not None and self.best_ask is not None and self.best_bid >= self.best_ask
        )

    @property
    def best_bid_size(self) -> int:
        return self.bids[self.best_bid] if self.best_bid is not None else 0

    @property
    def best_ask_size(self) -> int:
        return self.asks[self.best_ask] if self.best_ask is not None else 0

    def bid_depth(self) -> list[Level]:
        """Bid levels best (highest) first."""
        if self._bid_depth is None:
            self._bid_depth = sorted(self.bids.items(), reverse=True)
        return self._bid_depth

    def ask_depth(self) -> list[Level]:
        """Ask levels best (lowest) first."""
        if self._ask_depth is None:
            self._ask_depth = sorted(self.asks.items())
        return self._ask_depth

    def staleness_ns(self, now_ns: int) -> int | None:
        """Time since the last update, or None if the book never had one."""
        return None if self.last_update_ns is None else now_ns - self.last_update_ns


class BookManager:
    """Keeps one `Book` per (venue, market) and applies decoded events to them."""

    def __init__(self) -> None:
        self.books: dict[tuple[str, str], Book] = {}

    def book(self, venue: str, market: str) -> Book:
        """Return the book for (venue, market), creating an empty invalid one if needed."""
        key = (venue, market)
        book = self.books.get(key)
        if book is None:
            book = self.books[key] = Book(venue, market)
        return book

    def get(self, venue: str, market: str) -> Book | None:
        return self.books.get((venue, market))

    def apply(self, events: list[Event]) -> list[BookInvalid]:
        """Apply one frame's events; return the invalidations they caused (new ones only).

        A crossed book is judged after the whole frame, since a batch may pass through a
        transiently crossed state between two of its own changes.
        """
        invalid: list[BookInvalid] = []
        touched: list[Book] = []
        for event in events:
            cls = event.__class__
            if cls is LevelSet or cls is LevelDelta:
                book = self.books.get((event.venue, event.market))  # type: ignore[attr-defined]
                if book is None:
                    book = self.book(event.venue, event.market)  # type: ignore[attr-defined]
                if cls is LevelSet:
                    reason = book.set_level(event.side, event.price, event.size, event.recv_ns)  # type: ignore[attr-defined]
                else:
                    reason = book.add_level(event.side, event.price, event.delta, event.recv_ns)  # type: ignore[attr-defined]
                if reason is not None:
                    invalid.append(BookInvalid(event.venue, event.recv_ns, book.market, reason))
                elif book.valid:
                    touched.append(book)
            elif cls is BookSnapshot:
                book = self.book(event.venue, event.market)  # type: ignore[attr-defined]
                was_valid = book.valid
                reason = book.apply_snapshot(event.bids, event.asks, event.recv_ns, event.tick)  # type: ignore[attr-defined]
                if reason is not None and was_valid:
                    invalid.append(BookInvalid(event.venue, event.recv_ns, book.market, reason))
            elif cls is BookInvalid:
                book = self.book(event.venue, event.market)  # type: ignore[attr-defined]
                if book.invalidate(event.reason):  # type: ignore[attr-defined]
                    invalid.append(event)  # type: ignore[arg-type]
            elif cls is TickSizeChange:
                book = self.book(event.venue, event.market)  # type: ignore[attr-defined]
                book.tick = event.new_tick  # type: ignore[attr-defined]
                if book.invalidate(INVALID_TICK_SIZE_CHANGE):
                    invalid.append(
                        BookInvalid(event.venue, event.recv_ns, book.market, INVALID_TICK_SIZE_CHANGE)
                    )
        for book in touched:
            if book.valid and book.is_crossed():
                book.invalidate(INVALID_CROSSED)
                invalid.append(
                    BookInvalid(book.venue, book.last_update_ns or 0, book.market, INVALID_CROSSED)
                )
        return invalid

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
