"""Paper fills: approved trades become two IOC limit orders that fill against the books at arrival.

Units: prices are ticks of $0.0001 in the terms of the outcome bought or sold (a NO price is
1 − the YES price), sizes millionths of a contract, money int micro-dollars (`core.fees`).

Orders. An approved decision becomes one order per venue: buy YES on one venue and NO on the
other, size = the approved size, limit = the worst price level the sized trade needed on that
leg when it was approved. Each order arrives after its venue's latency (drawn Kalshi leg first,
then Polymarket, from the injected rng). The engine asks `due(now_ns)` before each frame and runs
`execute(order, books, order.arrival_ns)` for each due order, so an order sees the books as they
were before the first frame at or after its arrival.

Walking. A buy walks the outcome's asks up to the limit: YES asks are the book's asks; Kalshi NO
asks are the Kalshi book's YES bids at 1 − p; Polymarket NO asks come from the NO token's asks when
that book is the pair's NO source (`PairBooks.uses_no_book`), else from the YES token's bids at
1 − p — the same source the detector priced. A sell (unwind) walks the outcome's bids the same way
with no limit. Fills are taken in whole hundredths of a contract, the order granularity of both
venues, which also keeps every price × size a whole number of micro-dollars. Each level filled
pays the venue's taker fee on its own (Kalshi rounded up to the cent per level, Polymarket half-up
to $0.00001), from the pair's fee schedule at the fill time.

Consumed liquidity. Liquidity a paper order takes is withheld from later paper orders until the
level refreshes. Per (venue, market, book side, book price) we keep the amount consumed, the level's
size when it was first consumed, and the book's snapshot time then. The consumption is released
when the level's size in the book differs from that recorded size (the level was updated), or the
book has had a snapshot since. Paper orders never change the book itself, so the detector still
sees the full market.

Legging. When both legs of a trade have executed, the matched quantity is the smaller filled size.
The remainder of the longer leg carries its pro-rata share of that leg's cost (price and buy
fees), rounded down to the micro-dollar; the matched part keeps the rest. With `on_unmatched =
"unwind"` the remainder is sold at once into the bids of what was bought (best first, fees
charged); whatever the bids cannot absorb stays held. The legging P&L is the unwind proceeds minus
the unwind fees minus the cost of the part sold. With "hold" the whole remainder stays a naked
position for the portfolio to mark and settle.
"""

from __future__ import annotations

import heapq
import random
from collections.abc import Iterable
from typing import TYPE_CHECKING

from arbkit.core.events import ASK, BID, KALSHI, POLYMARKET, Level
from arbkit.core.fees import FINE_PER_MICRO, MICROS_PER_DOLLAR
from arbkit.core.fixedpoint import PRICE_ONE, SIZE_SCALE
from arbkit.core.pairs import BUY_KALSHI_YES_POLY_NO, PairBooks, PairSpec
from arbkit.core.rows import PaperFill, PaperOrder, TradeOutcome

if TYPE_CHECKING:
    from arbkit.core.book import Book, BookManager
    from arbkit.core.latency import LatencyModel
    from arbkit.core.rows import RiskDecision

YES = "yes"
NO = "no"
BUY = "buy"
SELL = "sell"
UNWIND = "unwind"
HOLD = "hold"

FILL_STEP = SIZE_SCALE // 100  # both venues take order sizes in hundredths of a contract


class _Leg:
    __slots__ = ("order", "executed", "filled", "notional", "fees")

    def __init__(self, order: PaperOrder) -> None:
        self.order = order
        self.executed = False
        self.filled = 0
        self.notional = 0
        self.fees = 0

    @property
    def cost(self) -> int:
        return self.notional + self.fees


class _Trade:
    __slots__ = ("decision", "kalshi", "polymarket")

    def __init__(self, decision: RiskDecision, kalshi: _Leg, polymarket: _Leg) -> None:
        self.decision = decision
        self.kalshi = kalshi
        self.polymarket = polymarket


def limit_for(ladder: list[Level], size: int) -> int | None:
    """Return the price of the worst level a buy of `size` needs on an ask ladder (best first).

    None when the ladder is empty; the last level's price when it is thinner than `size`.
    """
    worst = None
    left = size
    for price, avail in ladder:
        worst = price
        left -= avail
        if left <= 0:
            break
    return worst


class FillSimulator:
    """Turns approved decisions into paper orders and executes them when they arrive."""

    def __init__(
        self,
        pairs: Iterable[PairSpec],
        latency: LatencyModel,
        rng: random.Random,
        on_unmatched: str = UNWIND,
    ) -> None:
        if on_unmatched not in (UNWIND, HOLD):
            raise ValueError(f"on_unmatched must be 'unwind' or 'hold': {on_unmatched!r}")
        self.specs = {spec.name: spec for spec in pairs}
        self.latency = latency
        self.rng = rng
        self.on_unmatched = on_unmatched
        self._queue: list[tuple[int, int, PaperOrder]] = []
        self._seq = 0
        self._trades: dict[int, _Trade] = {}
        self._legs: dict[str, _Leg] = {}
        # (venue, market, book side, book price) -> [consumed, level size seen, book snapshot_ns]
        self._consumed: dict[tuple[str, str, int, int], list[int | None]] = {}

    # -- orders ----------------------------------------------------------------------------

    def submit(
        self, decision: RiskDecision, pair_books: PairBooks, now_ns: int
    ) -> list[PaperOrder]:
        """Turn an approved decision into its two orders (Kalshi leg first) and queue them."""
        if not decision.approved:  # an approval always has a size of at least min_size
            return []
        spec = pair_books.spec
        size = decision.approved_size
        k_ladder, p_ladder = pair_books.ladders(decision.direction)
        if decision.direction == BUY_KALSHI_YES_POLY_NO:
            k_outcome, p_outcome = YES, NO
        else:
            k_outcome, p_outcome = NO, YES
        if p_outcome == YES:
            p_market, p_complemented = spec.polymarket_yes_token, False
        elif pair_books.uses_no_book():
            p_market, p_complemented = spec.polymarket_no_token, False
        else:
            p_market, p_complemented = spec.polymarket_yes_token, True
        legs = (
            (KALSHI, spec.kalshi_ticker, k_outcome, k_outcome == NO, k_ladder),
            (POLYMARKET, p_market, p_outcome, p_complemented, p_ladder),
        )
        orders = []
        for venue, market, outcome, complemented, ladder in legs:
            limit = limit_for(ladder, size)
            order = PaperOrder(
                order_id=f"d{decision.decision_id}-{venue}",
                decision_id=decision.decision_id,
                opportunity_id=decision.opportunity_id,
                pair=spec.name,
                direction=decision.direction,
                venue=venue,
                market=market,
                outcome=outcome,
                complemented=complemented,
                limit_price=0 if limit is None else limit,
                size=size,
                submit_ns=now_ns,
                arrival_ns=now_ns + self.latency.sample(venue, self.rng),
            )
            orders.append(order)
            self._seq += 1
            heapq.heappush(self._queue, (order.arrival_ns, self._seq, order))
        kalshi, polymarket = _Leg(orders[0]), _Leg(orders[1])
        self._legs[orders[0].order_id] = kalshi
        self._legs[orders[1].order_id] = polymarket
        self._trades[decision.decision_id] = _Trade(decision, kalshi, polymarket)
        return orders

    def next_due_ns(self) -> int | None:
        """Arrival time of the next queued order, or None."""
        return self._queue[0][0] if self._queue else None

    def due(self, now_ns: int) -> list[PaperOrder]:
        """Remove and return the orders arriving at or before `now_ns`, in arrival order."""
        out = []
        queue = self._queue
        while queue and queue[0][0] <= now_ns:
            out.append(heapq.heappop(queue)[2])
        return out

    # -- execution -------------------------------------------------------------------------

    def execute(
        self, order: PaperOrder, books: BookManager, now_ns: int
    ) -> list[PaperFill | TradeOutcome]:
        """Fill `order` against the books as they are now; finish its trade if it was the last leg.

        Returns the order's fills, then (when this completes the trade) any unwind fills and the
        trade's outcome.
        """
        leg = self._legs.pop(order.order_id, None)
        if leg is None:  # executed already
            return []
        spec = self.specs[order.pair]
        fees = spec.fees.for_time(now_ns)
        fee_of = fees.kalshi if order.venue == KALSHI else fees.polymarket
        fills = self._walk(order, BUY, order.size, order.limit_price, books, fee_of, now_ns)
        leg.executed = True
        for fill in fills:
            leg.filled += fill.size
            leg.notional += fill.notional
            leg.fees += fill.fee
        rows: list[PaperFill | TradeOutcome] = list(fills)
        trade = self._trades[order.decision_id]
        if trade.kalshi.executed and trade.polymarket.executed:
            del self._trades[order.decision_id]
            rows.extend(self._finish(trade, books, now_ns))
        return rows

    def _walk(
        self,
        order: PaperOrder,
        action: str,
        size: int,
        limit: int | None,
        books: BookManager,
        fee_of,
        now_ns: int,
        order_id: str | None = None,
    ) -> list[PaperFill]:
        book = books.get(order.venue, order.market)
        if book is None or not book.valid:
            return []
        # Buying walks the outcome's asks, selling its bids; a complemented outcome is the
        # book's opposite side at 1 − p.
        if (action == BUY) != order.complemented:
            side, levels = ASK, book.ask_depth()
        else:
            side, levels = BID, book.bid_depth()
        fills = []
        left = size
        for book_price, book_size in levels:
            price = PRICE_ONE - book_price if order.complemented else book_price
            if limit is not None and price > limit:
                break
            take = min(left, self._available(book, side, book_price, book_size))
            take -= take % FILL_STEP
            if take <= 0:
                continue
            self._consume(book, side, book_price, book_size, take)
            notional = price * take // FINE_PER_MICRO  # exact: whole hundredths × ticks
            fills.append(
                PaperFill(
                    order_id=order_id or order.order_id,
                    decision_id=order.decision_id,
                    pair=order.pair,
                    venue=order.venue,
                    market=order.market,
                    outcome=order.outcome,
                    action=action,
                    price=price,
                    size=take,
                    notional=notional,
                    fee=fee_of(take, price),
                    ns=now_ns,
                )
            )
            left -= take
            if left < FILL_STEP:
                break
        return fills

    def _available(self, book: Book, side: int, price: int, size: int) -> int:
        key = (book.venue, book.market, side, price)
        entry = self._consumed.get(key)
        if entry is None:
            return size
        if entry[1] != size or entry[2] != book.snapshot_ns:
            del self._consumed[key]  # the level refreshed: our earlier take no longer applies
            return size
        return size - entry[0]  # type: ignore[operator]

    def _consume(self, book: Book, side: int, price: int, size: int, take: int) -> None:
        key = (book.venue, book.market, side, price)
        entry = self._consumed.get(key)
        if entry is None:
            self._consumed[key] = [take, size, book.snapshot_ns]
        else:
            entry[0] += take  # type: ignore[operator]

    def _finish(
        self, trade: _Trade, books: BookManager, now_ns: int
    ) -> list[PaperFill | TradeOutcome]:
        decision = trade.decision
        kalshi, poly = trade.kalshi, trade.polymarket
        matched = min(kalshi.filled, poly.filled)
        longer = kalshi if kalshi.filled > poly.filled else poly
        remainder = longer.filled - matched
        remainder_cost = longer.cost * remainder // longer.filled if remainder else 0
        k_matched_cost = kalshi.cost - (remainder_cost if longer is kalshi else 0)
        p_matched_cost = poly.cost - (remainder_cost if longer is poly else 0)
        rows: list[PaperFill | TradeOutcome] = []
        action = "none"
        unwound = proceeds = unwind_fees = 0
        legging: int | None = None
        held, held_cost = remainder, remainder_cost
        if remainder:
            action = self.on_unmatched
            if action == UNWIND:
                order = longer.order
                fees = self.specs[order.pair].fees.for_time(now_ns)
                fee_of = fees.kalshi if order.venue == KALSHI else fees.polymarket
                sells = self._walk(
                    order, SELL, remainder, None, books, fee_of, now_ns, f"{order.order_id}-unwind"
                )
                rows.extend(sells)
                for fill in sells:
                    unwound += fill.size
                    proceeds += fill.notional
                    unwind_fees += fill.fee
                if unwound:
                    sold_cost = remainder_cost * unwound // remainder
                    legging = proceeds - unwind_fees - sold_cost
                    held = remainder - unwound
                    held_cost = remainder_cost - sold_cost
        rows.append(
            TradeOutcome(
                decision_id=decision.decision_id,
                opportunity_id=decision.opportunity_id,
                pair=decision.pair,
                direction=decision.direction,
                ns=now_ns,
                kalshi_outcome=kalshi.order.outcome,
                kalshi_filled=kalshi.filled,
                kalshi_cost=kalshi.cost,
                kalshi_fees=kalshi.fees,
                polymarket_outcome=poly.order.outcome,
                polymarket_filled=poly.filled,
                polymarket_cost=poly.cost,
                polymarket_fees=poly.fees,
                matched_size=matched,
                kalshi_matched_cost=k_matched_cost,
                polymarket_matched_cost=p_matched_cost,
                # $1 per matched contract pair
                locked_in_pnl=matched * MICROS_PER_DOLLAR // SIZE_SCALE
                - k_matched_cost
                - p_matched_cost,
                remainder_venue=longer.order.venue if remainder else None,
                remainder_outcome=longer.order.outcome if remainder else None,
                remainder_size=remainder,
                remainder_cost=remainder_cost,
                action=action,
                unwound_size=unwound,
                unwind_proceeds=proceeds,
                unwind_fees=unwind_fees,
                held_size=held,
                held_cost=held_cost,
                legging_pnl=legging,
            )
        )
        return rows

    # -- exposure of trades still in flight (for risk) --------------------------------------

    def open_trades(self) -> int:
        """Number of trades with a leg not yet executed."""
        return len(self._trades)

    def open_size(self, pair: str) -> int:
        """Contracts (millionths) of the pair's trades still in flight."""
        trades = self._trades.values()
        return sum(t.decision.approved_size for t in trades if t.decision.pair == pair)

    def open_exposure(self) -> int:
        """Bound on the cost (micro-dollars) of trades in flight: executed legs at cost, pending
        legs at size × limit."""
        return sum(_leg_bound(t.kalshi) + _leg_bound(t.polymarket) for t in self._trades.values())

    def open_unhedged_exposure(self) -> int:
        """Bound on the naked cost (micro-dollars) trades in flight could leave: the dearer leg."""
        return sum(
            max(_leg_bound(t.kalshi), _leg_bound(t.polymarket)) for t in self._trades.values()
        )


def _leg_bound(leg: _Leg) -> int:
    if leg.executed:
        return leg.cost
    return leg.order.limit_price * leg.order.size // FINE_PER_MICRO  # exact: whole hundredths


__all__ = [
    "BUY",
    "FILL_STEP",
    "HOLD",
    "NO",
    "SELL",
    "UNWIND",
    "YES",
    "FillSimulator",
    "PaperFill",
    "PaperOrder",
    "TradeOutcome",
    "limit_for",
]
