"""The paper portfolio: positions, fees, locked-in and realised P&L, marks, settlement (DESIGN §7).

Units: sizes are millionths of a contract, prices ticks of $0.0001, money int micro-dollars.

What it holds. Per (pair, venue, outcome) two lots: *hedged* contracts (legs of matched pairs)
and *naked* contracts (unmatched remainders held, or left over when an unwind found no bids),
each with its quantity and cost (notional plus buy fees). Positions change only through
`TradeOutcome` rows (a trade is booked when both its legs have executed) and resolutions;
`PaperFill` rows feed the fees paid per venue.

P&L. A matched pair pays $1 at settlement whichever way the market goes, so its P&L is *locked
in* when the trade completes: $1 × matched − the matched cost of both legs; it is reported as
`locked_in` and becomes *realised* at settlement. A naked position is marked to market at the best
bid of the side held (Kalshi NO: 1 − the YES best ask; Polymarket NO: the NO token's best bid when
that book is the pair's NO source, else 1 − the YES token's best ask); a missing bid marks it at
0, an invalid book keeps the last mark (initially the cost). Realised P&L is the legging P&L of
unwinds, on the UTC day of the unwind, plus settlement (payout − cost) on the UTC day of the
resolution; the risk manager's daily loss limit reads it per UTC day. All figures are net of
fees; `fees` is the cumulative amount paid, for reporting.

Settlement. The markets of a pair describe the same outcome, so a Resolution of any of its
markets settles every position of the pair on both venues: YES pays $1, NO nothing. Kalshi
tickers and Polymarket YES tokens resolve "yes"/"no" for YES; a NO token resolving "yes" means NO
won. Other outcomes (void, unknown) settle nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any


from arbkit.core.events import KALSHI, POLYMARKET, Resolution
from arbkit.core.fees import MICROS_PER_DOLLAR
from arbkit.core.fills import NO, YES, PaperFill, TradeOutcome
from arbkit.core.fixedpoint import PRICE_ONE, SIZE_SCALE
from arbkit.core.pairs import BUY_KALSHI_YES_POLY_NO, BUY_POLY_YES_KALSHI_NO, PairBooks, PairSpec
from arbkit.core.rows import PnlRow, PositionRow

if TYPE_CHECKING:
    from arbkit.core.book import Book, BookManager

NS_PER_DAY = 86_400 * 1_000_000_000


def utc_day(ns: int) -> int:
    """Return the UTC day number (days since the epoch) of a UTC ns timestamp."""
    return ns // NS_PER_DAY


def value_micros(size: int, price: int) -> int:
    """Value in micro-dollars of `size` millionths at `price` ticks, rounded down."""
    return size * price * MICROS_PER_DOLLAR // (SIZE_SCALE * PRICE_ONE)


class _Lot:
    __slots__ = ("size", "cost")

    def __init__(self) -> None:
        self.size = 0
        self.cost = 0


class _Naked(_Lot):
    __slots__ = ("mark",)

    def __init__(self) -> None:
        super().__init__()
        self.mark: int | None = None


class Portfolio:
    """Positions and P&L of the paper trades of a run."""

    def __init__(self, pairs: Iterable[PairSpec]) -> None:
        self.specs = {spec.name: spec for spec in pairs}
        self._resolves: dict[tuple[str, str], tuple[str, str | None]] = {}
        for spec in self.specs.values():
            self._resolves[(KALSHI, spec.kalshi_ticker)] = (spec.name, None)
            self._resolves[(POLYMARKET, spec.polymarket_yes_token)] = (spec.name, None)
            self._resolves[(POLYMARKET, spec.polymarket_no_token)] = (spec.name, NO)
        self.hedged: dict[tuple[str, str, str], _Lot] = {}
        self.naked: dict[tuple[str, str, str], _Naked] = {}
        # The costs of the lots above, kept as they change: risk reads them on every decision.
        self._hedged_cost = 0
        self._naked_cost = 0
        self.locked_in: dict[str, int] = {}
        self.fees: dict[str, int] = {KALSHI: 0, POLYMARKET: 0}
        self.realised = 0
        self._realised_by_day: dict[int, int] = {}
        self._manager: BookManager | None = None
        self._views: dict[str, PairBooks] = {}
        # Snapshots repeat every held position after each trade, and most are as they were: the
        # output row of each (pair, venue, outcome) is kept, but for its `ns`, until its lots or
        # its naked mark change; the held keys are kept sorted until one comes or goes.
        self._rows: dict[tuple[str, str, str], dict[str, Any]] = {}
        self._keys: list[tuple[str, str, str]] | None = None

    # -- bookings ----------------------------------------------------------------------------

    def apply(self, rows: Iterable[object]) -> None:
        """Book the fills and trade outcomes among `rows`; other rows are ignored."""
        for row in rows:
            if isinstance(row, PaperFill):
                self.fees[row.venue] += row.fee
            elif isinstance(row, TradeOutcome):
                self._book_trade(row)

    def _book_trade(self, t: TradeOutcome) -> None:
        if t.matched_size:
            for venue, outcome, cost in (
                (KALSHI, t.kalshi_outcome, t.kalshi_matched_cost),
                (POLYMARKET, t.polymarket_outcome, t.polymarket_matched_cost),
            ):
                key = (t.pair, venue, outcome)
                lot = self.hedged.get(key)
                if lot is None:
                    lot = self.hedged[key] = _Lot()
                    self._keys = None
                self._rows.pop(key, None)
                lot.size += t.matched_size
                lot.cost += cost
                self._hedged_cost += cost
            self.locked_in[t.pair] = self.locked_in.get(t.pair, 0) + t.locked_in_pnl
        if t.held_size:
            held_venue, held_outcome = t.remainder_venue, t.remainder_outcome
            # A held remainder always names its leg (`fills` sets both with held_size).
            assert held_venue is not None and held_outcome is not None
            key = (t.pair, held_venue, held_outcome)
            naked = self.naked.get(key)
            if naked is None:
                naked = self.naked[key] = _Naked()
                self._keys = None
            self._rows.pop(key, None)
            naked.size += t.held_size
            naked.cost += t.held_cost
            self._naked_cost += t.held_cost
        if t.legging_pnl is not None:
            self._realise(t.legging_pnl, t.ns)

    def _realise(self, amount: int, ns: int) -> None:
        self.realised += amount
        day = utc_day(ns)
        self._realised_by_day[day] = self._realised_by_day.get(day, 0) + amount

    def on_resolution(self, event: Resolution) -> int:
        """Settle the pair whose market resolved; return the P&L realised (micro-dollars)."""
        found = self._resolves.get((event.venue, event.market))
        if found is None or event.outcome not in (YES, NO):
            return 0
        pair, token_side = found
        winner = event.outcome
        if token_side == NO:  # the NO token resolving "yes" means NO won
            winner = NO if event.outcome == YES else YES
        pnl = 0
        for lots in (self.hedged, self.naked):
            for key in [k for k in lots if k[0] == pair]:
                lot = lots.pop(key)
                self._rows.pop(key, None)
                self._keys = None
                payout = lot.size * MICROS_PER_DOLLAR // SIZE_SCALE if key[2] == winner else 0
                pnl += payout - lot.cost
                if lots is self.hedged:
                    self._hedged_cost -= lot.cost
                else:
                    self._naked_cost -= lot.cost
        self.locked_in.pop(pair, None)
        if pnl:
            self._realise(pnl, event.recv_ns)
        return pnl

    # -- marks -----------------------------------------------------------------------------

    def mark(self, books: BookManager) -> None:
        """Refresh the mark of every naked position from the books' best bids."""
        if books is not self._manager:
            self._manager = books
            self._views = {name: PairBooks(spec, books) for name, spec in self.specs.items()}
        for key, lot in self.naked.items():
            price = _best_bid(self._views[key[0]], key[1], key[2])
            if price is not _INVALID and price != lot.mark:
                lot.mark = price  # type: ignore[assignment]
                self._rows.pop(key, None)

    def naked_mtm(self) -> int:
        """Mark-to-market P&L of the naked positions (value at mark − cost)."""
        return sum(self._naked_value(lot) - lot.cost for lot in self.naked.values())

    @staticmethod
    def _naked_value(lot: _Naked) -> int:
        if lot.mark is None:
            return lot.cost
        return value_micros(lot.size, lot.mark)

    # -- figures for risk ------------------------------------------------------------------

    def realised_on_day(self, day: int) -> int:
        """Realised P&L (micro-dollars) booked on UTC day `day`."""
        return self._realised_by_day.get(day, 0)

    def pair_position(self, pair: str) -> int:
        """Contracts (millionths) held on the pair's larger side (YES or NO, both venues)."""
        sides = {YES: 0, NO: 0}
        # Lots are keyed (pair, venue, outcome): look up the pair's four, not every lot.
        for lots in (self.hedged, self.naked):
            for venue in (KALSHI, POLYMARKET):
                for outcome in (YES, NO):
                    lot = lots.get((pair, venue, outcome))
                    if lot is not None:
                        sides[outcome] += lot.size
        return max(sides.values())

    def total_exposure(self) -> int:
        """Cost (micro-dollars) of every open position."""
        return self._hedged_cost + self._naked_cost

    def unhedged_exposure(self) -> int:
        """Cost (micro-dollars) of the naked positions."""
        return self._naked_cost

    # -- snapshots -------------------------------------------------------------------------

    def snapshot(
        self, now_ns: int, books: BookManager | None = None
    ) -> tuple[list[PositionRow], PnlRow]:
        """Return position rows (sorted by pair, venue, outcome) and the P&L row at `now_ns`.

        With `books`, naked marks are refreshed first.
        """
        positions, pnl = self.snapshot_outputs(now_ns, books)
        return [PositionRow(**row) for row in positions], PnlRow(**pnl)

    def snapshot_outputs(
        self, now_ns: int, books: BookManager | None = None
    ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
        """`snapshot` as output rows: the dicts `msgspec.structs.asdict` makes of its rows."""
        if books is not None:
            self.mark(books)
        keys = self._keys
        if keys is None:
            keys = self._keys = sorted(self.hedged.keys() | self.naked.keys())
        known = self._rows
        positions = []
        for key in keys:
            row = known.get(key)
            if row is None:
                row = known[key] = self._position(key)
            row = row.copy()
            row["ns"] = now_ns
            positions.append(row)
        locked_in = sum(self.locked_in.values())
        mtm = self.naked_mtm()
        unrealised = locked_in + mtm
        fees = self.fees
        pnl = {
            "ns": now_ns,
            "realised": self.realised,
            "realised_today": self.realised_on_day(utc_day(now_ns)),
            "locked_in": locked_in,
            "naked_mtm": mtm,
            "unrealised": unrealised,
            "total": self.realised + unrealised,
            "fees": sum(fees.values()),
            "kalshi_fees": fees[KALSHI],
            "polymarket_fees": fees[POLYMARKET],
            "total_exposure": self.total_exposure(),
            "unhedged_exposure": self.unhedged_exposure(),
        }
        return positions, pnl

    def _position(self, key: tuple[str, str, str]) -> dict[str, Any]:
        """The positions row of `key` as it stands, but for `ns` (0), in PositionRow's field order."""
        hedged = self.hedged.get(key) or _Lot()
        naked = self.naked.get(key) or _Naked()
        return {
            "ns": 0,
            "pair": key[0],
            "venue": key[1],
            "outcome": key[2],
            "size": hedged.size + naked.size,
            "cost": hedged.cost + naked.cost,
            "hedged_size": hedged.size,
            "hedged_cost": hedged.cost,
            "naked_size": naked.size,
            "naked_cost": naked.cost,
            "mark_price": naked.mark,
            "naked_value": self._naked_value(naked),
        }


_INVALID = object()


def _best_bid(view: PairBooks, venue: str, outcome: str) -> int | object:
    """Best bid of `outcome` on `venue` in outcome terms (0 if none); _INVALID if no valid book."""
    book: Book | None
    if venue == KALSHI:
        book, _ = view.legs(BUY_KALSHI_YES_POLY_NO)
        complemented = outcome == NO
    elif outcome == YES:
        _, book = view.legs(BUY_POLY_YES_KALSHI_NO)
        complemented = False
    else:
        # The pair's NO source: the NO token's book once seeded, else the YES token's book.
        _, book = view.legs(BUY_KALSHI_YES_POLY_NO)
        complemented = book is not None and book.market != view.spec.polymarket_no_token
    if book is None or not book.valid:
        return _INVALID
    if complemented:
        return 0 if book.best_ask is None else PRICE_ONE - book.best_ask
    return 0 if book.best_bid is None else book.best_bid


__all__ = ["NS_PER_DAY", "PnlRow", "Portfolio", "PositionRow", "utc_day", "value_micros"]
