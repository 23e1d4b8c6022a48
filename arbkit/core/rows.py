"""The run tables' row records of fills, risk and the portfolio, kept out of compiled modules.

msgspec builds Struct classes with a metaclass that mypyc-compiled modules cannot run, so these
Structs live in this plain module and `arbkit.core.fills`, `.risk` and `.portfolio` (compiled)
re-export them. Units as in those modules: sizes millionths of a contract, prices ticks of
$0.0001, money int micro-dollars, times UTC ns.
"""

from __future__ import annotations

from typing import ClassVar

import msgspec


class PaperOrder(msgspec.Struct, frozen=True, kw_only=True):
    """One IOC limit order of a paper trade (a row of the `orders` table).

    `market` is the book the order walks and `complemented` says it walks that book's other side
    at 1 − p (a NO bought from a YES-terms book). `limit_price` is in the outcome's terms.
    """

    table: ClassVar[str] = "orders"

    order_id: str
    decision_id: int
    opportunity_id: str
    pair: str
    direction: str
    venue: str
    market: str
    outcome: str
    complemented: bool
    limit_price: int
    size: int
    submit_ns: int
    arrival_ns: int


class PaperFill(msgspec.Struct, frozen=True, kw_only=True):
    """One price level an order filled at (a row of the `fills` table).

    `notional` is price × size in micro-dollars; `fee` the taker fee of this level.
    """

    table: ClassVar[str] = "fills"

    order_id: str
    decision_id: int
    pair: str
    venue: str
    market: str
    outcome: str
    action: str
    price: int
    size: int
    notional: int
    fee: int
    ns: int


class TradeOutcome(msgspec.Struct, frozen=True, kw_only=True):
    """How a paper trade ended once both legs executed (a row of the `trades` table).

    Per leg: the size filled and its cost (notional + fees). `locked_in_pnl` is $1 × matched minus
    the matched part's cost on both legs. The remainder fields describe the longer leg's unmatched
    part: `action` is "none" (no remainder), "unwind" or "hold"; `unwound_size` was sold for
    `unwind_proceeds` paying `unwind_fees`; `held_size` (cost `held_cost`) stays naked.
    `legging_pnl` = proceeds − unwind fees − cost of the part sold; None when nothing was sold.
    """

    table: ClassVar[str] = "trades"

    decision_id: int
    opportunity_id: str
    pair: str
    direction: str
    ns: int
    kalshi_outcome: str
    kalshi_filled: int
    kalshi_cost: int
    kalshi_fees: int
    polymarket_outcome: str
    polymarket_filled: int
    polymarket_cost: int
    polymarket_fees: int
    matched_size: int
    kalshi_matched_cost: int
    polymarket_matched_cost: int
    locked_in_pnl: int
    remainder_venue: str | None
    remainder_outcome: str | None
    remainder_size: int
    remainder_cost: int
    action: str
    unwound_size: int
    unwind_proceeds: int
    unwind_fees: int
    held_size: int
    held_cost: int
    legging_pnl: int | None


class RiskDecision(msgspec.Struct, frozen=True, kw_only=True):
    """One risk decision (a row of the `risk_decisions` table).

    `requested_size` is the opportunity's best trade; `approved_size` 0 when denied. `edge` and
    `expected_profit` are those of the approved size (0 when denied).
    """

    table: ClassVar[str] = "risk_decisions"

    decision_id: int
    opportunity_id: str
    pair: str
    direction: str
    ns: int
    approved: bool
    reason: str
    requested_size: int
    approved_size: int
    limited_by: str | None
    edge: int
    expected_profit: int


class PositionRow(msgspec.Struct, frozen=True, kw_only=True):
    """One (pair, venue, outcome) holding at a snapshot (a row of the `positions` table)."""

    table: ClassVar[str] = "positions"

    ns: int
    pair: str
    venue: str
    outcome: str
    size: int
    cost: int
    hedged_size: int
    hedged_cost: int
    naked_size: int
    naked_cost: int
    mark_price: int | None
    naked_value: int


class PnlRow(msgspec.Struct, frozen=True, kw_only=True):
    """The portfolio's P&L at a snapshot (a row of the `pnl` table); cumulative, net of fees.

    `unrealised` = `locked_in` + naked mark-to-market P&L; `total` = realised + unrealised.
    """

    table: ClassVar[str] = "pnl"

    ns: int
    realised: int
    realised_today: int
    locked_in: int
    naked_mtm: int
    unrealised: int
    total: int
    fees: int
    kalshi_fees: int
    polymarket_fees: int
    total_exposure: int
    unhedged_exposure: int


__all__ = ["PaperFill", "PaperOrder", "PnlRow", "PositionRow", "RiskDecision", "TradeOutcome"]
