"""An independent reference for taker fees, paper fills, legging and the portfolio.

Written from the documented rules only (DESIGN §6-§7, PROTOCOLS §2/§4.4 and the docstrings of
`core/fees.py`, `core/fills.py` and `core/portfolio.py`), in `Decimal` dollars and contracts, and
sharing no code with `arbkit.core`: it keeps its own books, its own order queue, its own consumed
liquidity and its own lots. The product works in integer ticks, millionths and micro-dollars; a test
feeds both the same events and compares every row in dollars, so any disagreement is a difference
of at least a micro-dollar (or a tick, or a millionth of a contract).

The rules, as documented:
- Kalshi taker fee: ceil_to_cent(M × 0.07 × C × P × (1 − P)) per price level filled; Polymarket:
  C × rate × p × (1 − p) rounded half-up to $0.00001 per level; the parameters in force at the fill
  time (base values, then every dated override whose `since` has come, each keeping what it leaves
  out).
- An order is an IOC limit buy of the approved size at the worst ask level the size needed when it
  was approved; it walks the outcome's asks at arrival in whole hundredths of a contract up to the
  limit. Kalshi NO asks are the Kalshi YES bids at 1 − p; Polymarket NO asks the NO token's asks once
  that book has had a snapshot, else the YES token's bids at 1 − p.
- Liquidity a paper order takes is withheld from later paper orders until the level's size differs
  from the size it had when first consumed, or the book has had a snapshot since.
- When both legs have executed: matched = the smaller fill; the longer leg's remainder carries its
  pro-rata share of that leg's cost, rounded down to the micro-dollar. Unwind sells the remainder into
  the bids of what was bought, best first, fees charged; what the bids cannot absorb stays held.
  Legging P&L = proceeds − unwind fees − the sold part's share of the remainder's cost (rounded
  down). Hold keeps the whole remainder naked.
- Portfolio: hedged and naked lots per (pair, venue, outcome); locked-in = $1 × matched − matched
  costs; a naked lot is marked at the held side's best bid (Kalshi NO: 1 − YES best ask; Polymarket
  NO: the NO token's best bid when that book is the NO source, else 1 − the YES token's best ask),
  0 without a bid, unchanged on an invalid book; value rounded down to the micro-dollar. A resolution
  of any market of a pair settles that pair only, on both venues; realised P&L per UTC day.
"""

from __future__ import annotations

import heapq
from collections import Counter
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_HALF_UP, Decimal, localcontext

ONE = Decimal(1)
ZERO = Decimal(0)
CENT = Decimal("0.01")
POLY_FEE_UNIT = Decimal("0.00001")
MICRO = Decimal("0.000001")
LOT = Decimal("0.01")  # both venues take orders in hundredths of a contract
KALSHI_RATE = Decimal("0.07")
DAY_NS = 86_400 * 10**9

KALSHI = "kalshi"
POLYMARKET = "polymarket"
YES, NO = "yes", "no"
BID, ASK = "bid", "ask"
K_YES = "buy_kalshi_yes_poly_no"
P_YES = "buy_poly_yes_kalshi_no"


# 60 significant digits make every product here exact, and keep a quotient far closer to its true
# value than the 1e-16 by which a pro-rata share that is not a whole micro-dollar misses one.
def _mul(*factors: Decimal) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = 60
        out = ONE
        for f in factors:
            out *= f
        return out


def _share(amount: Decimal, part: Decimal, whole: Decimal) -> Decimal:
    """amount × part / whole, rounded down to the micro-dollar."""
    with localcontext() as ctx:
        ctx.prec = 60
        return floor_micro(amount * part / whole)


def kalshi_fee(multiplier: Decimal, count: Decimal, price: Decimal) -> Decimal:
    """ceil_to_cent(M × 0.07 × C × P × (1 − P))."""
    return _mul(multiplier, KALSHI_RATE, count, price, ONE - price).quantize(CENT, ROUND_CEILING)


def polymarket_fee(rate: Decimal, count: Decimal, price: Decimal) -> Decimal:
    """C × rate × p × (1 − p), half-up to $0.00001."""
    return _mul(count, rate, price, ONE - price).quantize(POLY_FEE_UNIT, ROUND_HALF_UP)


def floor_micro(value: Decimal) -> Decimal:
    return value.quantize(MICRO, ROUND_DOWN) if value >= 0 else -(-value).quantize(MICRO, ROUND_CEILING)


def ceil_micro(value: Decimal) -> Decimal:
    return value.quantize(MICRO, ROUND_CEILING) if value >= 0 else -(-value).quantize(MICRO, ROUND_DOWN)


@dataclass
class Schedule:
    """Base fee parameters and dated overrides (since_ns, multiplier or None, rate or None)."""

    multiplier: Decimal
    rate: Decimal
    overrides: list[tuple[int, Decimal | None, Decimal | None]] = field(default_factory=list)

    def at(self, ns: int) -> tuple[Decimal, Decimal]:
        multiplier, rate = self.multiplier, self.rate
        for since, m, r in sorted(self.overrides, key=lambda o: o[0]):
            if since <= ns:
                multiplier = multiplier if m is None else m
                rate = rate if r is None else r
        return multiplier, rate

    def fee(self, venue: str, ns: int, count: Decimal, price: Decimal) -> Decimal:
        multiplier, rate = self.at(ns)
        if venue == KALSHI:
            return kalshi_fee(multiplier, count, price)
        return polymarket_fee(rate, count, price)


@dataclass
class Pair:
    name: str
    kalshi: str
    yes: str
    no: str
    schedule: Schedule


class Book:
    """One market's L2 book in its own terms: valid from a snapshot until invalidated or crossed."""

    def __init__(self) -> None:
        self.levels: dict[str, dict[Decimal, Decimal]] = {BID: {}, ASK: {}}
        self.valid = False
        self.snapshots = 0

    def snapshot(self, bids: list[tuple[Decimal, Decimal]], asks: list[tuple[Decimal, Decimal]]) -> None:
        self.snapshots += 1
        self.levels = {BID: dict(bids), ASK: dict(asks)}
        self.valid = True
        if self._crossed():
            self.levels = {BID: {}, ASK: {}}
            self.valid = False

    def set(self, side: str, price: Decimal, size: Decimal) -> None:
        if not self.valid:
            return
        if size:
            self.levels[side][price] = size
        else:
            self.levels[side].pop(price, None)
        if self._crossed():
            self.valid = False

    def invalidate(self) -> None:
        self.valid = False

    def _crossed(self) -> bool:
        bids, asks = self.levels[BID], self.levels[ASK]
        return bool(bids) and bool(asks) and max(bids) >= min(asks)

    def side(self, side: str) -> list[tuple[Decimal, Decimal]]:
        """Levels best first: bids highest first, asks lowest first."""
        return sorted(self.levels[side].items(), reverse=side == BID)

    def best(self, side: str) -> Decimal | None:
        levels = self.side(side)
        return levels[0][0] if levels else None


@dataclass
class Order:
    order_id: str
    decision_id: int
    opportunity_id: str
    pair: str
    direction: str
    venue: str
    market: str
    outcome: str
    complemented: bool
    limit: Decimal
    size: Decimal
    submit_ns: int
    arrival_ns: int
    executed: bool = False
    filled: Decimal = ZERO
    notional: Decimal = ZERO
    fees: Decimal = ZERO

    @property
    def cost(self) -> Decimal:
        return self.notional + self.fees


@dataclass(frozen=True)
class Fill:
    order_id: str
    decision_id: int
    pair: str
    venue: str
    market: str
    outcome: str
    action: str
    price: Decimal
    size: Decimal
    notional: Decimal
    fee: Decimal
    ns: int


class Market:
    """Books, paper orders and consumed liquidity of the reference."""

    def __init__(self, pairs: list[Pair], on_unmatched: str) -> None:
        self.pairs = {p.name: p for p in pairs}
        self.on_unmatched = on_unmatched
        self.books: dict[tuple[str, str], Book] = {}
        self.queue: list[tuple[int, int, Order]] = []
        self.seq = 0
        self.trades: dict[int, tuple[Order, Order]] = {}
        # (venue, market, side, price) -> (taken, level size then, book's snapshot count then)
        self.consumed: dict[tuple[str, str, str, Decimal], tuple[Decimal, Decimal, int]] = {}
        self.seen: Counter[str] = Counter()  # situations reached (tests check the coverage)

    def book(self, venue: str, market: str) -> Book:
        return self.books.setdefault((venue, market), Book())

    # -- where each leg trades -------------------------------------------------------------

    def no_book_is_source(self, pair: Pair) -> bool:
        book = self.books.get((POLYMARKET, pair.no))
        return book is not None and book.snapshots > 0

    def leg_books(self, pair: Pair, direction: str) -> tuple[Book | None, Book | None]:
        """The (Kalshi, Polymarket) books a direction reads."""
        kalshi = self.books.get((KALSHI, pair.kalshi))
        if direction == K_YES and self.no_book_is_source(pair):
            return kalshi, self.books.get((POLYMARKET, pair.no))
        return kalshi, self.books.get((POLYMARKET, pair.yes))

    def _legs(self, pair: Pair, direction: str) -> list[tuple[str, str, str, bool]]:
        """(venue, market, outcome, complemented) of each leg, Kalshi first."""
        if direction == K_YES:
            poly = (POLYMARKET, pair.no, NO, False) if self.no_book_is_source(pair) else (
                POLYMARKET, pair.yes, NO, True
            )
            return [(KALSHI, pair.kalshi, YES, False), poly]
        return [(KALSHI, pair.kalshi, NO, True), (POLYMARKET, pair.yes, YES, False)]

    @staticmethod
    def _ladder(book: Book, action: str, complemented: bool) -> list[tuple[str, Decimal, Decimal, Decimal]]:
        """(book side, book price, outcome price, size) to walk, best first."""
        if (action == "buy") != complemented:
            side = ASK
        else:
            side = BID
        return [
            (side, price, ONE - price if complemented else price, size)
            for price, size in book.side(side)
        ]

    # -- orders ----------------------------------------------------------------------------

    def submit(
        self,
        decision_id: int,
        pair_name: str,
        direction: str,
        size: Decimal,
        now_ns: int,
        latency_ns: dict[str, int],
    ) -> list[Order]:
        pair = self.pairs[pair_name]
        orders = []
        for venue, market, outcome, complemented in self._legs(pair, direction):
            ladder = self._ladder(self.book(venue, market), "buy", complemented)
            limit, left = ZERO, size
            for _side, _book_price, price, avail in ladder:
                limit = price
                left -= avail
                if left <= 0:
                    break
            order = Order(
                order_id=f"d{decision_id}-{venue}",
                decision_id=decision_id,
                opportunity_id=f"opp{decision_id}",
                pair=pair_name,
                direction=direction,
                venue=venue,
                market=market,
                outcome=outcome,
                complemented=complemented,
                limit=limit,
                size=size,
                submit_ns=now_ns,
                arrival_ns=now_ns + latency_ns[venue],
            )
            self.seq += 1
            heapq.heappush(self.queue, (order.arrival_ns, self.seq, order))
            orders.append(order)
        self.trades[decision_id] = (orders[0], orders[1])
        return orders

    def due(self, now_ns: int) -> list[Order]:
        out = []
        while self.queue and self.queue[0][0] <= now_ns:
            out.append(heapq.heappop(self.queue)[2])
        return out

    def execute(self, order: Order, now_ns: int) -> list[Fill | dict]:
        """Fill an arrived order; when it completes its trade, also the unwind and the trade row."""
        fills = self._walk(order, "buy", order.size, order.limit, now_ns, order.order_id)
        order.executed = True
        for f in fills:
            order.filled += f.size
            order.notional += f.notional
            order.fees += f.fee
        rows: list[Fill | dict] = list(fills)
        kalshi, poly = self.trades[order.decision_id]
        if kalshi.executed and poly.executed:
            del self.trades[order.decision_id]
            rows.extend(self._finish(kalshi, poly, now_ns))
        return rows

    def _walk(
        self, order: Order, action: str, size: Decimal, limit: Decimal | None, now_ns: int, order_id: str
    ) -> list[Fill]:
        book = self.books.get((order.venue, order.market))
        if book is None or not book.valid:
            return []
        schedule = self.pairs[order.pair].schedule
        fills, left = [], size
        for side, book_price, price, level_size in self._ladder(book, action, order.complemented):
            if limit is not None and price > limit:
                break
            key = (order.venue, order.market, side, book_price)
            taken = ZERO
            if key in self.consumed:
                amount, size_then, snapshots_then = self.consumed[key]
                if size_then == level_size and snapshots_then == book.snapshots:
                    taken = amount
                else:
                    del self.consumed[key]
            take = min(left, level_size - taken)
            take = (take / LOT).to_integral_value(ROUND_DOWN) * LOT  # whole hundredths
            if take <= 0:
                continue
            if taken:
                self.seen["withheld liquidity"] += 1
            if key in self.consumed:
                amount, size_then, snapshots_then = self.consumed[key]
                self.consumed[key] = (amount + take, size_then, snapshots_then)
            else:
                self.consumed[key] = (take, level_size, book.snapshots)
            notional = _mul(price, take)
            assert notional == notional.quantize(MICRO), "hundredths × ticks is whole micro-dollars"
            fee = schedule.fee(order.venue, now_ns, take, price)
            fills.append(
                Fill(order_id, order.decision_id, order.pair, order.venue, order.market,
                     order.outcome, action, price, take, notional, fee, now_ns)
            )
            left -= take
            if left < LOT:
                break
        return fills

    def _finish(self, kalshi: Order, poly: Order, now_ns: int) -> list[Fill | dict]:
        matched = min(kalshi.filled, poly.filled)
        longer = kalshi if kalshi.filled > poly.filled else poly
        remainder = longer.filled - matched
        remainder_cost = _share(longer.cost, remainder, longer.filled) if remainder else ZERO
        k_matched = kalshi.cost - (remainder_cost if longer is kalshi else ZERO)
        p_matched = poly.cost - (remainder_cost if longer is poly else ZERO)
        rows: list[Fill | dict] = []
        action = "none"
        unwound = proceeds = unwind_fees = ZERO
        legging = None
        held, held_cost = remainder, remainder_cost
        if remainder:
            action = self.on_unmatched
            if action == "unwind":
                sells = self._walk(longer, "sell", remainder, None, now_ns, f"{longer.order_id}-unwind")
                rows.extend(sells)
                unwound = sum((f.size for f in sells), ZERO)
                proceeds = sum((f.notional for f in sells), ZERO)
                unwind_fees = sum((f.fee for f in sells), ZERO)
                if unwound:
                    sold_cost = _share(remainder_cost, unwound, remainder)
                    legging = proceeds - unwind_fees - sold_cost
                    held = remainder - unwound
                    held_cost = remainder_cost - sold_cost
        rows.append(
            dict(
                decision_id=kalshi.decision_id,
                opportunity_id=kalshi.opportunity_id,
                pair=kalshi.pair,
                direction=kalshi.direction,
                ns=now_ns,
                kalshi_outcome=kalshi.outcome,
                kalshi_filled=kalshi.filled,
                kalshi_cost=kalshi.cost,
                kalshi_fees=kalshi.fees,
                polymarket_outcome=poly.outcome,
                polymarket_filled=poly.filled,
                polymarket_cost=poly.cost,
                polymarket_fees=poly.fees,
                matched_size=matched,
                kalshi_matched_cost=k_matched,
                polymarket_matched_cost=p_matched,
                locked_in_pnl=matched - k_matched - p_matched,
                remainder_venue=longer.venue if remainder else None,
                remainder_outcome=longer.outcome if remainder else None,
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

    # -- in flight, for risk ---------------------------------------------------------------

    def open_size(self, pair: str) -> Decimal:
        return sum((k.size for k, _ in self.trades.values() if k.pair == pair), ZERO)

    @staticmethod
    def _bound(order: Order) -> Decimal:
        return order.cost if order.executed else ceil_micro(order.limit * order.size)

    def open_exposure(self) -> Decimal:
        return sum((self._bound(k) + self._bound(p) for k, p in self.trades.values()), ZERO)

    def open_unhedged_exposure(self) -> Decimal:
        return sum((max(self._bound(k), self._bound(p)) for k, p in self.trades.values()), ZERO)


@dataclass
class Lot:
    size: Decimal = ZERO
    cost: Decimal = ZERO
    mark: Decimal | None = None


class Portfolio:
    """Positions, fees and P&L of the reference."""

    def __init__(self, market: Market) -> None:
        self.market = market
        self.hedged: dict[tuple[str, str, str], Lot] = {}
        self.naked: dict[tuple[str, str, str], Lot] = {}
        self.locked_in: dict[str, Decimal] = {}
        self.fees = {KALSHI: ZERO, POLYMARKET: ZERO}
        self.realised_by_day: dict[int, Decimal] = {}

    def book_rows(self, rows: list[Fill | dict]) -> None:
        for row in rows:
            if isinstance(row, Fill):
                self.fees[row.venue] += row.fee
            else:
                self._trade(row)

    def _trade(self, t: dict) -> None:
        if t["matched_size"]:
            for venue, outcome, cost in (
                (KALSHI, t["kalshi_outcome"], t["kalshi_matched_cost"]),
                (POLYMARKET, t["polymarket_outcome"], t["polymarket_matched_cost"]),
            ):
                lot = self.hedged.setdefault((t["pair"], venue, outcome), Lot())
                lot.size += t["matched_size"]
                lot.cost += cost
            self.locked_in[t["pair"]] = self.locked_in.get(t["pair"], ZERO) + t["locked_in_pnl"]
        if t["held_size"]:
            lot = self.naked.setdefault((t["pair"], t["remainder_venue"], t["remainder_outcome"]), Lot())
            lot.size += t["held_size"]
            lot.cost += t["held_cost"]
        if t["legging_pnl"] is not None:
            self._realise(t["legging_pnl"], t["ns"])

    def _realise(self, amount: Decimal, ns: int) -> None:
        day = ns // DAY_NS
        self.realised_by_day[day] = self.realised_by_day.get(day, ZERO) + amount

    def resolve(self, venue: str, market: str, outcome: str, ns: int) -> Decimal:
        """Settle the pair whose market resolved; return the P&L realised."""
        if outcome not in (YES, NO):
            return ZERO
        for pair in self.market.pairs.values():
            if venue == KALSHI and market == pair.kalshi or venue == POLYMARKET and market == pair.yes:
                winner = outcome
                break
            if venue == POLYMARKET and market == pair.no:
                winner = NO if outcome == YES else YES
                break
        else:
            return ZERO
        pnl = ZERO
        for lots in (self.hedged, self.naked):
            for key in [k for k in lots if k[0] == pair.name]:
                lot = lots.pop(key)
                pnl += (lot.size if key[2] == winner else ZERO) - lot.cost
        self.locked_in.pop(pair.name, None)
        if pnl:
            self._realise(pnl, ns)
        return pnl

    def mark(self) -> None:
        for (pair_name, venue, outcome), lot in self.naked.items():
            pair = self.market.pairs[pair_name]
            if venue == KALSHI:
                book, complemented = self.market.books.get((KALSHI, pair.kalshi)), outcome == NO
            elif outcome == YES:
                book, complemented = self.market.books.get((POLYMARKET, pair.yes)), False
            elif self.market.no_book_is_source(pair):
                book, complemented = self.market.books.get((POLYMARKET, pair.no)), False
            else:
                book, complemented = self.market.books.get((POLYMARKET, pair.yes)), True
            if book is None or not book.valid:
                continue
            best = book.best(ASK if complemented else BID)
            lot.mark = ZERO if best is None else (ONE - best if complemented else best)

    @staticmethod
    def value(lot: Lot) -> Decimal:
        return lot.cost if lot.mark is None else floor_micro(_mul(lot.size, lot.mark))

    def pair_position(self, pair: str) -> Decimal:
        sides = {YES: ZERO, NO: ZERO}
        for lots in (self.hedged, self.naked):
            for (p, _venue, outcome), lot in lots.items():
                if p == pair:
                    sides[outcome] += lot.size
        return max(sides.values())

    def snapshot(self, now_ns: int) -> tuple[list[tuple], dict]:
        """Position rows (sorted by pair, venue, outcome) and the P&L figures, marks refreshed."""
        self.mark()
        rows = []
        for key in sorted(set(self.hedged) | set(self.naked)):
            hedged, naked = self.hedged.get(key, Lot()), self.naked.get(key, Lot())
            rows.append(
                (*key, hedged.size + naked.size, hedged.cost + naked.cost, hedged.size, hedged.cost,
                 naked.size, naked.cost, naked.mark, self.value(naked))
            )
        locked_in = sum(self.locked_in.values(), ZERO)
        mtm = sum((self.value(lot) - lot.cost for lot in self.naked.values()), ZERO)
        realised = sum(self.realised_by_day.values(), ZERO)
        naked_cost = sum((lot.cost for lot in self.naked.values()), ZERO)
        return rows, dict(
            realised=realised,
            realised_today=self.realised_by_day.get(now_ns // DAY_NS, ZERO),
            locked_in=locked_in,
            naked_mtm=mtm,
            unrealised=locked_in + mtm,
            total=realised + locked_in + mtm,
            fees=self.fees[KALSHI] + self.fees[POLYMARKET],
            kalshi_fees=self.fees[KALSHI],
            polymarket_fees=self.fees[POLYMARKET],
            total_exposure=sum((lot.cost for lot in self.hedged.values()), ZERO) + naked_cost,
            unhedged_exposure=naked_cost,
        )
