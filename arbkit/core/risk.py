"""Pre-trade risk checks: every opportunity gets a decision with a reason (DESIGN §7, STYLE §6).

Units: sizes are millionths of a contract, money int micro-dollars, edges micro-dollars per
contract pair, times UTC ns. `check` never raises; a denial is a value with its reason.

Checks run in this fixed order; the first that fails is the decision's reason:

1. `kill_switch` — the current UTC day has a realised loss of daily_loss_limit or more. Once
   tripped it denies everything until the next UTC day, even if the day's P&L recovers.
2. `connection_down` — a venue has no connection up; `connection_warmup` — one has been up for
   less than min_connection_uptime_s.
3. `book_invalid` — either book the direction reads is missing or invalid.
4. `book_stale` — either book's last update is more than max_book_staleness_ms old.
5. `cooldown` — the pair had an approved trade less than cooldown_ms ago.
6. `edge_below_min` — buying min_size now no longer makes min_edge after fees (exact, as the
   detector judges it).
7. Size limits, each of which sizes the trade DOWN rather than denying, and denies with its own
   name only when what is left is below min_size: `max_size_per_trade`; `max_position` (the pair's
   larger side held plus trades in flight plus this one); `max_total_exposure` (cost of open
   positions plus trades in flight plus this one, which a profitable pair keeps below $1 per
   contract pair, so the room in micro-dollars is the room in size millionths);
   `max_unhedged_exposure` (naked cost plus the dearer leg of every trade in flight plus this
   trade's dearer leg at its limit price: what one failed leg would leave naked).
8. Within the resulting cap, the size that maximises profit after fees (`detector.best_trade`);
   if its edge is below min_edge, the largest size whose edge still reaches it (found by
   bisection, as edge falls with size). Nothing qualifying: `edge_below_min`.

An approval has reason `approved`; `limited_by` names what set its size when something below the
best trade did: the tightest limit of step 7, or `min_edge` for the cut of step 8.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, NamedTuple


from arbkit.core.detector import best_trade, edge_at, profit_fine_at
from arbkit.core.events import KALSHI, POLYMARKET
from arbkit.core.fees import FINE_PER_MICRO, decimal_to_micros
from arbkit.core.fills import limit_for
from arbkit.core.fixedpoint import SIZE_SCALE, decimal_to_size
from arbkit.core.portfolio import utc_day
from arbkit.core.rows import RiskDecision
from arbkit.errors import ConfigError

if TYPE_CHECKING:
    from arbkit.config import Detector as DetectorConfig
    from arbkit.config import Risk as RiskConfig
    from arbkit.core.detector import DetectorEvent
    from arbkit.core.fees import FeeParams
    from arbkit.core.fills import FillSimulator
    from arbkit.core.pairs import PairBooks
    from arbkit.core.portfolio import Portfolio

APPROVED = "approved"
KILL_SWITCH = "kill_switch"
CONNECTION_DOWN = "connection_down"
CONNECTION_WARMUP = "connection_warmup"
BOOK_INVALID = "book_invalid"
BOOK_STALE = "book_stale"
COOLDOWN = "cooldown"
EDGE_BELOW_MIN = "edge_below_min"
MAX_SIZE_PER_TRADE = "max_size_per_trade"
MAX_POSITION = "max_position"
MAX_TOTAL_EXPOSURE = "max_total_exposure"
MAX_UNHEDGED_EXPOSURE = "max_unhedged_exposure"
MIN_EDGE = "min_edge"  # `limited_by` only: size cut to keep the edge at min_edge

CHECK_ORDER = (
    KILL_SWITCH,
    CONNECTION_DOWN,
    CONNECTION_WARMUP,
    BOOK_INVALID,
    BOOK_STALE,
    COOLDOWN,
    EDGE_BELOW_MIN,
    MAX_SIZE_PER_TRADE,
    MAX_POSITION,
    MAX_TOTAL_EXPOSURE,
    MAX_UNHEDGED_EXPOSURE,
)

_NS_PER_MS = 1_000_000


class RiskState(NamedTuple):
    """What the engine knows when it asks: the pair's books, positions, trades in flight, and
    since when (UTC ns) each venue's connection is up (None: down)."""

    pair_books: PairBooks
    portfolio: Portfolio
    fills: FillSimulator
    up_since_ns: Mapping[str, int | None]


def _to_size(value, name: str) -> int:
    try:
        return decimal_to_size(value)
    except ValueError:
        raise ConfigError(f"risk.{name}: too many decimals: {value}") from None


def _to_micros(value, name: str) -> int:
    try:
        return decimal_to_micros(value)
    except ValueError:
        raise ConfigError(f"risk.{name}: not a whole number of micro-dollars: {value}") from None


class RiskManager:
    """Approves, sizes down or denies opportunities against the `[risk]` limits."""

    def __init__(self, risk_config: RiskConfig, detector_config: DetectorConfig) -> None:
        self.max_size_per_trade = _to_size(risk_config.max_size_per_trade, "max_size_per_trade")
        self.max_position = _to_size(risk_config.max_position_per_pair, "max_position_per_pair")
        self.max_total_exposure = _to_micros(risk_config.max_total_exposure, "max_total_exposure")
        self.max_unhedged = _to_micros(risk_config.max_unhedged_exposure, "max_unhedged_exposure")
        self.daily_loss_limit = _to_micros(risk_config.daily_loss_limit, "daily_loss_limit")
        self.max_staleness_ns = risk_config.max_book_staleness_ms * _NS_PER_MS
        self.min_uptime_ns = round(risk_config.min_connection_uptime_s * 1_000_000_000)
        self.cooldown_ns = risk_config.cooldown_ms * _NS_PER_MS
        self.min_edge = decimal_to_micros(detector_config.min_edge)
        self.min_size = decimal_to_size(detector_config.min_size)
        self._next_id = 1
        self._last_approved_ns: dict[str, int] = {}
        self._killed_day: int | None = None

    @property
    def kill_switch_day(self) -> int | None:
        """The UTC day the kill switch tripped on, if it did."""
        return self._killed_day

    def check(self, opportunity: DetectorEvent, state: RiskState, now_ns: int) -> RiskDecision:
        """Decide on an detector opportunity event: approve with a size, or deny with a reason."""
        window = opportunity.window
        requested = opportunity.sizing.size if opportunity.sizing is not None else 0
        reason, limited_by, sizing = self._evaluate(
            window.pair, window.direction, requested, state, now_ns
        )
        approved = reason == APPROVED
        size, profit, edge = sizing  # zeros on a denial
        decision = RiskDecision(
            decision_id=self._next_id,
            opportunity_id=window.opportunity_id,
            pair=window.pair,
            direction=window.direction,
            ns=now_ns,
            approved=approved,
            reason=reason,
            requested_size=requested,
            approved_size=size,
            limited_by=limited_by,
            edge=edge,
            expected_profit=profit,
        )
        self._next_id += 1
        if approved:
            self._last_approved_ns[window.pair] = now_ns
        return decision

    def _evaluate(
        self, pair: str, direction: str, requested: int, state: RiskState, now_ns: int
    ) -> tuple[str, str | None, tuple[int, int, int]]:
        none = (0, 0, 0)
        day = utc_day(now_ns)
        if self._killed_day != day:
            realised = state.portfolio.realised_on_day(day)
            # A loss is needed: a zero limit means "stop at the first loss", not "never trade".
            if realised < 0 and realised <= -self.daily_loss_limit:
                self._killed_day = day
        if self._killed_day == day:
            return KILL_SWITCH, None, none

        up = [state.up_since_ns.get(KALSHI), state.up_since_ns.get(POLYMARKET)]
        if None in up:
            return CONNECTION_DOWN, None, none
        if any(now_ns - since < self.min_uptime_ns for since in up):  # type: ignore[operator]
            return CONNECTION_WARMUP, None, none

        view = state.pair_books
        kalshi, poly = view.legs(direction)
        if kalshi is None or poly is None or not kalshi.valid or not poly.valid:
            return BOOK_INVALID, None, none
        for book in (kalshi, poly):
            if now_ns - book.last_update_ns > self.max_staleness_ns:  # type: ignore[operator]
                return BOOK_STALE, None, none

        last = self._last_approved_ns.get(pair)
        if last is not None and now_ns - last < self.cooldown_ns:
            return COOLDOWN, None, none

        spec = view.spec
        fees = spec.fees.for_time(now_ns)
        k_asks, p_asks = view.ladders(direction)
        if not self._edge_ok(self.min_size, k_asks, p_asks, fees):
            return EDGE_BELOW_MIN, None, none

        step = spec.size_step
        cap = requested if requested > 0 else self.min_size
        limited_by = None
        portfolio, fills = state.portfolio, state.fills
        rooms = (
            (MAX_SIZE_PER_TRADE, self.max_size_per_trade),
            (
                MAX_POSITION,
                self.max_position - portfolio.pair_position(pair) - fills.open_size(pair),
            ),
            (
                MAX_TOTAL_EXPOSURE,
                self.max_total_exposure - portfolio.total_exposure() - fills.open_exposure(),
            ),
        )
        for name, room in rooms:
            room -= room % step
            if room < cap:
                if room < self.min_size:
                    return name, None, none
                cap, limited_by = room, name
        unhedged_room = (
            self.max_unhedged - portfolio.unhedged_exposure() - fills.open_unhedged_exposure()
        )
        # Both ladders hold min_size (the edge check passed), so both legs have a limit price.
        k_limit = limit_for(k_asks, cap)
        p_limit = limit_for(p_asks, cap)
        assert k_limit is not None and p_limit is not None
        worst = max(k_limit, p_limit)
        # size × price (fine units) of the dearer leg must fit the room (none when it is negative)
        room = unhedged_room * FINE_PER_MICRO // worst
        room -= room % step
        if room < cap:
            if room < self.min_size:
                return MAX_UNHEDGED_EXPOSURE, None, none
            cap, limited_by = room, MAX_UNHEDGED_EXPOSURE

        sizing = best_trade(k_asks, p_asks, fees, self.min_size, step, max_size=cap)
        if sizing.size and not self._edge_ok(sizing.size, k_asks, p_asks, fees):
            sizing = self._largest_with_edge(sizing.size, step, k_asks, p_asks, fees)
            limited_by = MIN_EDGE
        elif sizing.size != cap:
            limited_by = None  # the profit peaks below the cap: no limit bound
        if not sizing.size:
            return EDGE_BELOW_MIN, None, none
        return APPROVED, limited_by, (sizing.size, sizing.profit, sizing.edge)

    def _edge_ok(self, size: int, k_asks, p_asks, fees: FeeParams) -> bool:
        profit = profit_fine_at(size, k_asks, p_asks, fees)
        return profit is not None and profit * SIZE_SCALE >= self.min_edge * FINE_PER_MICRO * size

    def _largest_with_edge(self, above: int, step: int, k_asks, p_asks, fees: FeeParams):
        lo = -(-self.min_size // step)  # known to qualify (checked before sizing)
        hi = above // step - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self._edge_ok(mid * step, k_asks, p_asks, fees):
                lo = mid
            else:
                hi = mid - 1
        return edge_at(lo * step, k_asks, p_asks, fees)


__all__ = [
    "APPROVED",
    "BOOK_INVALID",
    "BOOK_STALE",
    "CHECK_ORDER",
    "CONNECTION_DOWN",
    "CONNECTION_WARMUP",
    "COOLDOWN",
    "EDGE_BELOW_MIN",
    "KILL_SWITCH",
    "MAX_POSITION",
    "MAX_SIZE_PER_TRADE",
    "MAX_TOTAL_EXPOSURE",
    "MAX_UNHEDGED_EXPOSURE",
    "MIN_EDGE",
    "RiskDecision",
    "RiskManager",
    "RiskState",
]
