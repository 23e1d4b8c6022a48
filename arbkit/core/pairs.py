"""Pairs: one Kalshi market against one Polymarket YES/NO token pair, and their ask ladders.

A pair settles $1 per matched contract pair, so each direction buys one side on each venue:

- `buy_kalshi_yes_poly_no`: Kalshi YES asks (the Kalshi book's asks) + Polymarket NO asks.
- `buy_poly_yes_kalshi_no`: Polymarket YES asks (the YES token's asks) + Kalshi NO asks (the Kalshi
  book's YES bids at 1 − p, same sizes: PROTOCOLS §1.10).

Polymarket NO asks come from exactly one source (the two token books mirror each other, so using
both would count the same liquidity twice): the NO token's own book once it has had a snapshot,
otherwise the YES token's bids at 1 − p. Once the NO book has been seeded it stays the source, so an
invalid NO book makes that direction invalid instead of silently switching sources.

Ladders are lists of (price ticks, size millionths), best (lowest) price first. Ladders taken
straight from a book are the book's own cached depth lists (no copy); derived ladders are built
once per change of the book side they come from.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from arbkit.core.book import Book, BookManager
from arbkit.core.events import KALSHI, POLYMARKET, Level
from arbkit.core.fees import FeeSchedule
from arbkit.core.fixedpoint import PRICE_ONE, SIZE_SCALE

if TYPE_CHECKING:
    from arbkit.config import Pair

BUY_KALSHI_YES_POLY_NO: Final = "buy_kalshi_yes_poly_no"
BUY_POLY_YES_KALSHI_NO: Final = "buy_poly_yes_kalshi_no"
DIRECTIONS = (BUY_KALSHI_YES_POLY_NO, BUY_POLY_YES_KALSHI_NO)

NO_SOURCE_NO_BOOK: Final = "no_book"
NO_SOURCE_YES_BIDS: Final = "yes_bids"

_KALSHI_STEP: Final = SIZE_SCALE // 100  # Kalshi counts carry at most 2 decimals


class PairSpec:
    """A configured pair: names, markets, fee schedule and the order size granularity.

    `size_step` (millionths) is the granularity of the sizes the detector considers: one whole
    contract by default, since Kalshi markets trade integer contracts unless they are fractional
    (then 0.01 contract, 10_000). It must be a multiple of 0.01 contract, which also keeps every
    price × size product a whole number of micro-dollars.
    """

    __slots__ = (
        "name",
        "kalshi_ticker",
        "polymarket_yes_token",
        "polymarket_no_token",
        "fees",
        "size_step",
    )

    def __init__(
        self,
        name: str,
        kalshi_ticker: str,
        polymarket_yes_token: str,
        polymarket_no_token: str,
        fees: FeeSchedule,
        size_step: int = SIZE_SCALE,
    ) -> None:
        if size_step <= 0 or size_step % _KALSHI_STEP:
            raise ValueError(f"size_step must be a positive multiple of 0.01 contract: {size_step}")
        self.name = name
        self.kalshi_ticker = kalshi_ticker
        self.polymarket_yes_token = polymarket_yes_token
        self.polymarket_no_token = polymarket_no_token
        self.fees = fees
        self.size_step = size_step

    @classmethod
    def from_config(cls, pair: Pair, size_step: int = SIZE_SCALE) -> PairSpec:
        """Build a spec from an `arbkit.config.Pair`."""
        return cls(
            pair.name,
            pair.kalshi_ticker,
            pair.polymarket_yes_token,
            pair.polymarket_no_token,
            FeeSchedule.from_pair(pair),
            size_step,
        )

    def markets(self) -> tuple[tuple[str, str], ...]:
        """The (venue, market) keys of the books this pair reads."""
        return (
            (KALSHI, self.kalshi_ticker),
            (POLYMARKET, self.polymarket_yes_token),
            (POLYMARKET, self.polymarket_no_token),
        )

    def __repr__(self) -> str:
        return f"PairSpec({self.name!r}, kalshi={self.kalshi_ticker!r})"


def complement_ladder(bids: list[Level]) -> list[Level]:
    """Turn YES bids (best first) into NO asks at 1 − p (best first), same sizes."""
    return [(PRICE_ONE - price, size) for price, size in bids]


class PairBooks:
    """A pair's books in one BookManager and the ask ladders each direction walks.

    Books are looked up lazily (a market's book appears with its first event; the lookup is
    repeated only when the manager has gained books) and then held, since a BookManager never
    replaces a Book object.
    """

    __slots__ = (
        "spec",
        "manager",
        "kalshi",
        "poly_yes",
        "poly_no",
        "_seen",
        "_kno_src",
        "_kno",
        "_pno_src",
        "_pno",
    )

    def __init__(self, spec: PairSpec, manager: BookManager) -> None:
        self.spec = spec
        self.manager = manager
        self.kalshi: Book | None = None
        self.poly_yes: Book | None = None
        self.poly_no: Book | None = None
        self._seen: int | None = -1  # manager size at the last lookup; None once all found
        self._kno_src: list[Level] | None = None
        self._kno: list[Level] = []
        self._pno_src: list[Level] | None = None
        self._pno: list[Level] = []

    def refresh(self) -> None:
        """Pick up books of this pair that appeared in the manager since the last call."""
        if self._seen is None or len(self.manager.books) == self._seen:
            return
        get = self.manager.get
        spec = self.spec
        if self.kalshi is None:
            self.kalshi = get(KALSHI, spec.kalshi_ticker)
        if self.poly_yes is None:
            self.poly_yes = get(POLYMARKET, spec.polymarket_yes_token)
        if self.poly_no is None:
            self.poly_no = get(POLYMARKET, spec.polymarket_no_token)
        complete = self.kalshi is not None and self.poly_yes is not None and self.poly_no is not None
        self._seen = None if complete else len(self.manager.books)

    def uses_no_book(self) -> bool:
        """True when Polymarket NO asks come from the NO token's book (it has had a snapshot)."""
        self.refresh()
        no = self.poly_no
        return no is not None and no.snapshots > 0

    def legs(self, direction: str) -> tuple[Book | None, Book | None]:
        """Return (Kalshi book, Polymarket book) that `direction` reads; None where not seen yet."""
        self.refresh()
        if direction == BUY_KALSHI_YES_POLY_NO:
            no = self.poly_no
            return self.kalshi, no if no is not None and no.snapshots > 0 else self.poly_yes
        return self.kalshi, self.poly_yes

    def kalshi_yes_asks(self) -> list[Level]:
        """Kalshi YES asks: the Kalshi book's asks."""
        self.refresh()
        return self.kalshi.ask_depth() if self.kalshi is not None else []

    def kalshi_no_asks(self) -> list[Level]:
        """Kalshi NO asks: the Kalshi book's YES bids at 1 − p."""
        self.refresh()
        return self._kalshi_no(self.kalshi) if self.kalshi is not None else []

    def poly_yes_asks(self) -> list[Level]:
        """Polymarket YES asks: the YES token book's asks."""
        self.refresh()
        return self.poly_yes.ask_depth() if self.poly_yes is not None else []

    def poly_no_asks(self) -> list[Level]:
        """Polymarket NO asks: the NO token book's asks if seeded, else YES bids at 1 − p."""
        self.refresh()
        no = self.poly_no
        if no is not None and no.snapshots > 0:
            return no.ask_depth()
        return self._yes_complement(self.poly_yes) if self.poly_yes is not None else []

    def ladders(self, direction: str) -> tuple[list[Level], list[Level]]:
        """Return (Kalshi asks, Polymarket asks) for `direction`, best first."""
        if direction == BUY_KALSHI_YES_POLY_NO:
            return self.kalshi_yes_asks(), self.poly_no_asks()
        return self.kalshi_no_asks(), self.poly_yes_asks()

    def legs_ladders(self, d: int, kalshi: Book, poly: Book) -> tuple[list[Level], list[Level]]:
        """`ladders` of `DIRECTIONS[d]` read from its legs as `legs` returned them (no lookup)."""
        if d == 0:
            if poly is self.poly_no:
                return kalshi.ask_depth(), poly.ask_depth()
            return kalshi.ask_depth(), self._yes_complement(poly)
        return self._kalshi_no(kalshi), poly.ask_depth()

    def _kalshi_no(self, kalshi: Book) -> list[Level]:
        bids = kalshi.bid_depth()
        if bids is not self._kno_src:
            self._kno_src = bids
            self._kno = complement_ladder(bids)
        return self._kno

    def _yes_complement(self, yes: Book) -> list[Level]:
        bids = yes.bid_depth()
        if bids is not self._pno_src:
            self._pno_src = bids
            self._pno = complement_ladder(bids)
        return self._pno
