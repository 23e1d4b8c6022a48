"""Risk checks: each denial with its reason, the fixed check order, the kill switch across UTC
days, cooldown, and sizing down to limits.

Units: sizes in millionths of a contract, money in micro-dollars, edges micro-dollars per contract
pair. The pair trades free of fees unless a test says otherwise, so an edge is 1 − the two asks.
Standard books: Kalshi YES asks 0.40 x 50; Polymarket YES bids 0.55 x 50, i.e. NO asks at 0.45.
Edge 1 − 0.40 − 0.45 = 0.15 per pair; the best trade is the whole 50 for 50 x 0.15 = 7.50.
"""

from __future__ import annotations

import random
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arbkit.config import Detector as DetectorConfig
from arbkit.config import Risk as RiskConfig
from arbkit.core.book import BookManager
from arbkit.core.detector import OPENED, Detector, DetectorEvent
from arbkit.core.events import KALSHI, POLYMARKET, BookSnapshot, Resolution
from arbkit.core.fees import FeeSchedule
from arbkit.core.fills import FillSimulator, TradeOutcome
from arbkit.core.fixedpoint import SIZE_SCALE
from arbkit.core.latency import ConstantLatency
from arbkit.core.pairs import BUY_KALSHI_YES_POLY_NO, PairSpec
from arbkit.core.portfolio import NS_PER_DAY, Portfolio
from arbkit.core.risk import (
    APPROVED,
    BOOK_INVALID,
    BOOK_STALE,
    CHECK_ORDER,
    CONNECTION_DOWN,
    CONNECTION_WARMUP,
    COOLDOWN,
    EDGE_BELOW_MIN,
    KILL_SWITCH,
    MAX_POSITION,
    MAX_SIZE_PER_TRADE,
    MAX_TOTAL_EXPOSURE,
    MAX_UNHEDGED_EXPOSURE,
    MIN_EDGE,
    RiskDecision,
    RiskManager,
    RiskState,
)
from arbkit.errors import ConfigError

from core_builders import KT, NT, YT, p, snap, usd

C = SIZE_SCALE
MS = 1_000_000
S = 1_000_000_000
DAY0 = 20_700 * NS_PER_DAY  # 2026-09-04T00:00Z, the start of a UTC day
T0 = DAY0 + 12 * 3600 * S  # noon


def spec(multiplier: str = "0", rate: str = "0") -> PairSpec:
    return PairSpec("pair-a", KT, YT, NT, FeeSchedule(Decimal(multiplier), Decimal(rate)))


def risk_config(**overrides) -> RiskConfig:
    values = dict(
        max_size_per_trade=Decimal("100"),
        max_position_per_pair=Decimal("1000"),
        max_total_exposure=Decimal("10000"),
        max_unhedged_exposure=Decimal("500"),
        daily_loss_limit=Decimal("0.50"),
        max_book_staleness_ms=5000,
        min_connection_uptime_s=10.0,
        cooldown_ms=1000,
    )
    values.update(overrides)
    return RiskConfig(**values)


class World:
    """The engine's view on one frame: books, detector, portfolio, fills, connections."""

    def __init__(self, kalshi_asks=(("0.40", 50),), min_edge="0.01", pair=None, **risk) -> None:
        self.spec = pair or spec()
        self.books = BookManager()
        snap(self.books, KALSHI, KT, [("0.30", 50)], list(kalshi_asks), T0)
        snap(self.books, POLYMARKET, YT, [("0.55", 50)], [("0.60", 50)], T0)
        detector_config = DetectorConfig(min_edge=Decimal(min_edge), min_size=Decimal("1"))
        self.detector = Detector([self.spec], detector_config)
        events = self.detector.on_books_changed(["pair-a"], T0, 1, self.books)
        (self.event,) = [
            e for e in events if e.kind == OPENED and e.window.direction == BUY_KALSHI_YES_POLY_NO
        ]
        self.portfolio = Portfolio([self.spec])
        self.fills = FillSimulator([self.spec], ConstantLatency(10, 20), random.Random(0))
        self.up_since = {KALSHI: T0 - 60 * S, POLYMARKET: T0 - 60 * S}
        self.risk = RiskManager(risk_config(**risk), detector_config)

    def state(self) -> RiskState:
        return RiskState(
            self.detector.pair_books("pair-a", self.books),
            self.portfolio,
            self.fills,
            self.up_since,
        )

    def check(self, now_ns: int = T0, event: DetectorEvent | None = None):
        return self.risk.check(event or self.event, self.state(), now_ns)


def outcome(ns: int, *, matched: int = 0, legging: int | None = None, held: int = 0):
    """A completed trade: `matched` hedged pairs at 0.40 + 0.45, `held` naked Kalshi YES at 0.40."""
    return TradeOutcome(
        decision_id=99, opportunity_id="o", pair="pair-a", direction=BUY_KALSHI_YES_POLY_NO,
        ns=ns, kalshi_outcome="yes", kalshi_filled=matched + held,
        kalshi_cost=(matched + held) * 4 // 10, kalshi_fees=0, polymarket_outcome="no",
        polymarket_filled=matched, polymarket_cost=matched * 45 // 100, polymarket_fees=0,
        matched_size=matched, kalshi_matched_cost=matched * 4 // 10,
        polymarket_matched_cost=matched * 45 // 100, locked_in_pnl=matched * 15 // 100,
        remainder_venue=KALSHI if held else None, remainder_outcome="yes" if held else None,
        remainder_size=held, remainder_cost=held * 4 // 10, action="hold" if held else "none",
        unwound_size=0, unwind_proceeds=0, unwind_fees=0, held_size=held,
        held_cost=held * 4 // 10, legging_pnl=legging,
    )


def test_a_clean_opportunity_is_approved_at_its_best_size():
    world = World()

    decision = world.check()

    assert (decision.approved, decision.reason, decision.limited_by) == (True, APPROVED, None)
    assert (decision.requested_size, decision.approved_size) == (50 * C, 50 * C)
    # 50 x (1 - 0.40 - 0.45) = 7.50, 0.15 per pair
    assert (decision.expected_profit, decision.edge) == (usd("7.50"), usd("0.15"))
    assert (decision.decision_id, decision.opportunity_id, decision.pair) == (
        1, world.event.window.opportunity_id, "pair-a",
    )
    assert (decision.direction, decision.ns) == (BUY_KALSHI_YES_POLY_NO, T0)


def test_kill_switch_trips_on_the_daily_loss_limit_and_resets_next_utc_day():
    world = World(daily_loss_limit=Decimal("0.50"))
    # An unwind lost 0.54 this morning: past the 0.50 limit.
    world.portfolio.apply([outcome(T0 - 3600 * S, legging=usd("-0.54"))])

    tripped = world.check(T0)
    # A settlement later the same day brings the day back to -0.54 + 6.00 = +5.46 ...
    world.portfolio.apply([outcome(T0 + S, held=10 * C)])
    world.portfolio.on_resolution(Resolution(KALSHI, T0 + 2 * S, KT, "yes"))  # 10 - 4.00 = +6.00
    still = world.check(T0 + 3 * S)
    # ... but the switch holds until the next UTC day starts.
    still_at_midnight = world.check(DAY0 + NS_PER_DAY - 1)
    snap(world.books, KALSHI, KT, [("0.30", 50)], [("0.40", 50)], DAY0 + NS_PER_DAY)
    snap(world.books, POLYMARKET, YT, [("0.55", 50)], [("0.60", 50)], DAY0 + NS_PER_DAY)
    next_day = world.check(DAY0 + NS_PER_DAY)

    assert (tripped.approved, tripped.reason, tripped.approved_size) == (False, KILL_SWITCH, 0)
    assert world.portfolio.realised_on_day(T0 // NS_PER_DAY) == usd("5.46")
    assert (still.approved, still.reason) == (False, KILL_SWITCH)
    assert world.risk.kill_switch_day == T0 // NS_PER_DAY
    assert still_at_midnight.reason == KILL_SWITCH
    assert (next_day.approved, next_day.reason) == (True, APPROVED)


def test_a_zero_loss_limit_trips_on_the_first_loss_only():
    world = World(daily_loss_limit=Decimal("0"))

    before = world.check(T0)
    world.portfolio.apply([outcome(T0, legging=-1)])
    after = world.check(T0 + 2 * S)

    assert (before.reason, after.reason) == (APPROVED, KILL_SWITCH)


def test_loss_just_inside_the_limit_does_not_trip():
    world = World(daily_loss_limit=Decimal("0.55"))
    world.portfolio.apply([outcome(T0 - S, legging=usd("-0.54"))])

    assert world.check().reason == APPROVED
    assert world.risk.kill_switch_day is None


def test_a_venue_without_a_connection_up_is_denied():
    world = World()
    world.up_since[POLYMARKET] = None

    assert world.check().reason == CONNECTION_DOWN


def test_a_connection_younger_than_the_warmup_is_denied_until_it_is_old_enough():
    world = World(min_connection_uptime_s=10.0)
    world.up_since[KALSHI] = T0 - 9_999 * MS

    assert world.check(T0).reason == CONNECTION_WARMUP
    assert world.check(T0 + MS).reason == APPROVED  # up exactly 10 s


def test_an_invalid_book_is_denied():
    world = World()
    world.books.book(POLYMARKET, YT).invalidate("seq_gap")

    assert world.check().reason == BOOK_INVALID


def test_books_never_seen_are_denied_as_invalid_without_raising():
    world = World()
    world.books = BookManager()

    assert world.check().reason == BOOK_INVALID


def test_a_book_older_than_the_staleness_limit_is_denied():
    world = World(max_book_staleness_ms=5000)

    assert world.check(T0 + 5000 * MS).reason == APPROVED
    assert world.check(T0 + 5001 * MS).reason == BOOK_STALE


def test_cooldown_denies_the_pair_until_cooldown_ms_after_the_last_approval():
    world = World(cooldown_ms=1000)

    first = world.check(T0)
    during = world.check(T0 + 999 * MS)
    after = world.check(T0 + 1000 * MS)
    after_denial = world.check(T0 + 1500 * MS)  # cooldown restarts at each approval

    assert [d.reason for d in (first, during, after, after_denial)] == [
        APPROVED, COOLDOWN, APPROVED, COOLDOWN,
    ]
    assert [d.decision_id for d in (first, during, after, after_denial)] == [1, 2, 3, 4]


def test_edge_below_min_when_the_books_moved_against_the_opportunity():
    world = World()
    # Kalshi asks now 0.545: 1 - 0.545 - 0.45 = 0.005 < min_edge 0.01
    snap(world.books, KALSHI, KT, [("0.30", 50)], [("0.545", 50)], T0 + MS)

    decision = world.check(T0 + MS)

    assert (decision.reason, decision.requested_size, decision.approved_size) == (
        EDGE_BELOW_MIN, 50 * C, 0,
    )


def test_fees_count_against_the_min_edge():
    # Kalshi M=1: at 0.40 one contract pays ceil(0.07 x 0.24 = 0.0168) = 0.02, so one pair makes
    # 1 - 0.40 - 0.45 - 0.02 = 0.13 >= 0.13, but after the ask moves up a tick to 0.4001 the
    # fee-free edge 0.1499 less the fee ceil(0.07 x 0.4001 x 0.5999 = 0.0168) = 0.02 is
    # 0.1299 < 0.13.
    world = World(pair=spec(multiplier="1"), min_edge="0.13")
    snap(world.books, KALSHI, KT, [("0.30", 50)], [("0.4001", 50)], T0 + MS)

    assert world.check(T0 + MS).reason == EDGE_BELOW_MIN


ORDERED = list(CHECK_ORDER)


def world_failing_from(first: str) -> World:
    """A world where the check `first` and every check after it in ORDERED would deny."""
    fails = set(ORDERED[ORDERED.index(first) :])
    world = World(daily_loss_limit=Decimal("0.50"), min_connection_uptime_s=10.0)
    if COOLDOWN in fails:
        assert world.check(T0 - 500 * MS).approved  # an approval half a second ago
    # Each size limit leaves less room than min_size (1 contract): 0.5 contract, or less than
    # $1 of total exposure, or less than one contract's dearer leg (0.45) of unhedged exposure.
    if MAX_SIZE_PER_TRADE in fails:
        world.risk.max_size_per_trade = C // 2
    if MAX_POSITION in fails:
        world.risk.max_position = C // 2
    if MAX_TOTAL_EXPOSURE in fails:
        world.risk.max_total_exposure = usd("0.999999")
    if MAX_UNHEDGED_EXPOSURE in fails:
        world.risk.max_unhedged = usd("0.449999")
    if KILL_SWITCH in fails:
        world.portfolio.apply([outcome(T0 - S, legging=usd("-1"))])
    if CONNECTION_DOWN in fails:
        world.up_since[POLYMARKET] = None
    if CONNECTION_WARMUP in fails:
        world.up_since[KALSHI] = T0 - 5 * S
    kalshi_ns = T0 - 6 * S if BOOK_STALE in fails else T0
    kalshi_ask = "0.545" if EDGE_BELOW_MIN in fails else "0.40"  # edge 0.005 < 0.01
    snap(world.books, KALSHI, KT, [("0.30", 50)], [(kalshi_ask, 50)], kalshi_ns)
    if BOOK_INVALID in fails:
        world.books.book(KALSHI, KT).invalidate("seq_gap")
    return world


@pytest.mark.parametrize("first", ORDERED)
def test_checks_run_in_the_documented_order(first):
    world = world_failing_from(first)

    decision = world.check(T0)

    assert decision.reason == first
    assert decision.approved is False
    assert (decision.approved_size, decision.limited_by, decision.edge, decision.expected_profit) == (
        0, None, 0, 0,
    )


def test_a_world_with_no_failing_check_is_approved():
    # The fixture of the check-order test, with nothing set to fail: every denial above is
    # caused by the check it names.
    world = World(daily_loss_limit=Decimal("0.50"), min_connection_uptime_s=10.0)

    assert world.check(T0).reason == APPROVED


def test_check_order_names_every_denial_reason_once():
    assert sorted(CHECK_ORDER) == sorted(
        {KILL_SWITCH, CONNECTION_DOWN, CONNECTION_WARMUP, BOOK_INVALID, BOOK_STALE, COOLDOWN,
         EDGE_BELOW_MIN, MAX_SIZE_PER_TRADE, MAX_POSITION, MAX_TOTAL_EXPOSURE, MAX_UNHEDGED_EXPOSURE}
    )


def test_size_is_cut_down_to_max_size_per_trade():
    world = World(max_size_per_trade=Decimal("20"))

    decision = world.check()

    # 20 x 0.15 = 3.00
    assert (decision.reason, decision.approved_size, decision.limited_by) == (
        APPROVED, 20 * C, MAX_SIZE_PER_TRADE,
    )
    assert decision.expected_profit == usd("3.00")


def test_size_is_cut_down_to_the_room_left_in_the_pair_position():
    world = World(max_position_per_pair=Decimal("30"))
    world.portfolio.apply([outcome(T0 - S, matched=25 * C)])

    decision = world.check()

    # 30 - 25 held = 5
    assert (decision.approved_size, decision.limited_by) == (5 * C, MAX_POSITION)


def test_trades_in_flight_count_towards_the_pair_position():
    world = World(max_position_per_pair=Decimal("30"), cooldown_ms=0)
    first = world.check()
    world.fills.submit(first, world.state().pair_books, T0)

    second = world.check(T0 + MS)

    # the first approval took the 30 (of 50 wanted) and is still in flight
    assert (first.approved_size, first.limited_by) == (30 * C, MAX_POSITION)
    assert (second.approved, second.reason) == (False, MAX_POSITION)


def test_a_full_pair_position_is_denied():
    world = World(max_position_per_pair=Decimal("30"))
    world.portfolio.apply([outcome(T0 - S, matched=30 * C)])

    assert world.check().reason == MAX_POSITION


def test_size_is_cut_down_to_the_total_exposure_room():
    world = World(max_total_exposure=Decimal("25"))
    world.portfolio.apply([outcome(T0 - S, matched=10 * C)])  # cost 10 x 0.85 = 8.50

    decision = world.check()

    # room 25 - 8.50 = 16.50; a profitable pair costs under $1, so 16 whole contracts fit
    assert (decision.approved_size, decision.limited_by) == (16 * C, MAX_TOTAL_EXPOSURE)


def test_size_is_cut_down_so_a_failed_leg_stays_within_the_unhedged_limit():
    world = World(max_unhedged_exposure=Decimal("10"))
    world.portfolio.apply([outcome(T0 - S, held=2 * C)])  # naked 2 x 0.40 = 0.80

    decision = world.check()

    # room 10 - 0.80 = 9.20 at the dearer leg's 0.45: 9.20 / 0.45 = 20.4 -> 20 contracts
    assert (decision.approved_size, decision.limited_by) == (20 * C, MAX_UNHEDGED_EXPOSURE)


def test_no_unhedged_room_left_is_denied():
    world = World(max_unhedged_exposure=Decimal("0.80"))
    world.portfolio.apply([outcome(T0 - S, held=2 * C)])  # naked 0.80: room 0

    assert world.check().reason == MAX_UNHEDGED_EXPOSURE


def test_the_tightest_limit_is_reported_as_the_one_that_set_the_size():
    world = World(max_size_per_trade=Decimal("40"), max_position_per_pair=Decimal("10"))

    decision = world.check()

    # 50 wanted, cut to 40 per trade, then to 10 by the position limit
    assert (decision.approved_size, decision.limited_by) == (10 * C, MAX_POSITION)


def test_size_is_reduced_to_keep_the_edge_at_least_min_edge():
    # Kalshi 0.40 x 10 then 0.50 x 40; NO asks 0.45. Profit grows to 50 contracts:
    # 10 x 0.15 + 40 x 0.05 = 3.50 (edge 0.07), but min_edge is 0.10:
    # (1.50 + 0.05 (s - 10)) / s >= 0.10  <=>  s <= 20; 20 pairs make 1.50 + 0.50 = 2.00.
    world = World(kalshi_asks=(("0.40", 10), ("0.50", 40)), min_edge="0.10")

    decision = world.check()

    assert world.event.sizing.size == 50 * C
    assert (decision.reason, decision.approved_size, decision.limited_by) == (
        APPROVED, 20 * C, MIN_EDGE,
    )
    assert (decision.expected_profit, decision.edge) == (usd("2.00"), usd("0.10"))


# -- every limit at, just inside and just past its boundary -------------------------------------

NS = 1  # the finest step of a time limit
MICRO = 1  # of a money limit


def approved_in_flight(world: World, size: int, decision_id: int) -> None:
    """Put a trade of `size` in flight (both legs pending at their limits 0.40 and 0.45)."""
    decision = RiskDecision(
        decision_id=decision_id, opportunity_id="o", pair="pair-a",
        direction=BUY_KALSHI_YES_POLY_NO, ns=T0, approved=True, reason=APPROVED,
        requested_size=size, approved_size=size, limited_by=None, edge=0, expected_profit=0,
    )
    world.fills.submit(decision, world.state().pair_books, T0)


@pytest.mark.parametrize(
    ("loss", "reason"),
    [(usd("0.50") - MICRO, APPROVED), (usd("0.50"), KILL_SWITCH), (usd("0.50") + MICRO, KILL_SWITCH)],
)
def test_kill_switch_boundary_is_a_loss_of_the_limit_or_more(loss, reason):
    world = World(daily_loss_limit=Decimal("0.50"))
    world.portfolio.apply([outcome(T0 - S, legging=-loss)])

    assert world.check().reason == reason


def test_daily_loss_is_per_utc_day_not_cumulative():
    # 0.30 lost yesterday and 0.30 today: 0.60 in all, but no day reaches the 0.50 limit.
    world = World(daily_loss_limit=Decimal("0.50"))
    world.portfolio.apply([outcome(DAY0 - 1, legging=usd("-0.30"))])
    world.portfolio.apply([outcome(DAY0, legging=usd("-0.30"))])

    assert world.check().reason == APPROVED
    world.portfolio.apply([outcome(T0, legging=usd("-0.20"))])  # today: 0.50
    assert world.check(T0 + 2 * S).reason == KILL_SWITCH


def test_kill_switch_tripped_on_the_last_nanosecond_of_a_day_releases_at_midnight():
    world = World(daily_loss_limit=Decimal("0.50"))
    last_ns = DAY0 + NS_PER_DAY - 1
    world.portfolio.apply([outcome(last_ns, legging=usd("-0.50"))])
    snap(world.books, KALSHI, KT, [("0.30", 50)], [("0.40", 50)], last_ns)
    snap(world.books, POLYMARKET, YT, [("0.55", 50)], [("0.60", 50)], last_ns)

    tripped = world.check(last_ns)
    midnight = world.check(last_ns + 1)

    assert (tripped.reason, midnight.reason) == (KILL_SWITCH, APPROVED)
    assert world.risk.kill_switch_day == DAY0 // NS_PER_DAY


@pytest.mark.parametrize("venue", [KALSHI, POLYMARKET])
@pytest.mark.parametrize(
    ("up_for", "reason"),
    [(10 * S - NS, CONNECTION_WARMUP), (10 * S, APPROVED), (10 * S + NS, APPROVED)],
)
def test_each_venues_connection_uptime_alone_gates_at_min_uptime(venue, up_for, reason):
    world = World(min_connection_uptime_s=10.0)
    world.up_since[venue] = T0 - up_for

    assert world.check().reason == reason


@pytest.mark.parametrize("venue", [KALSHI, POLYMARKET])
def test_each_venues_connection_down_alone_is_denied(venue):
    world = World()
    world.up_since[venue] = None

    assert world.check().reason == CONNECTION_DOWN


@pytest.mark.parametrize("stale", [KALSHI, POLYMARKET])
@pytest.mark.parametrize(
    ("age", "reason"), [(5000 * MS - NS, APPROVED), (5000 * MS, APPROVED), (5000 * MS + NS, BOOK_STALE)]
)
def test_each_venues_book_alone_is_judged_stale_past_max_staleness(stale, age, reason):
    world = World(max_book_staleness_ms=5000)
    # The other venue's book is refreshed at the check time; only `stale` ages.
    now = T0 + age
    if stale == KALSHI:
        snap(world.books, POLYMARKET, YT, [("0.55", 50)], [("0.60", 50)], now)
    else:
        snap(world.books, KALSHI, KT, [("0.30", 50)], [("0.40", 50)], now)

    assert world.check(now).reason == reason


@pytest.mark.parametrize(
    ("since", "reason"), [(1000 * MS - NS, COOLDOWN), (1000 * MS, APPROVED), (1000 * MS + NS, APPROVED)]
)
def test_cooldown_boundary(since, reason):
    world = World(cooldown_ms=1000)
    world.check(T0)

    assert world.check(T0 + since).reason == reason


@pytest.mark.parametrize(
    ("limit", "size", "limited_by"),
    [("51", 50, None), ("50", 50, None), ("49", 49, MAX_SIZE_PER_TRADE), ("1", 1, MAX_SIZE_PER_TRADE)],
)
def test_max_size_per_trade_boundary(limit, size, limited_by):
    world = World(max_size_per_trade=Decimal(limit))

    decision = world.check()

    assert (decision.reason, decision.approved_size, decision.limited_by) == (APPROVED, size * C, limited_by)


def test_max_size_per_trade_below_min_size_is_denied():
    world = World(max_size_per_trade=Decimal("0.99"))

    assert world.check().reason == MAX_SIZE_PER_TRADE


@pytest.mark.parametrize(
    ("limit", "outcome_"),
    [
        ("81", (APPROVED, 50 * C, None)),  # 30 held + 50 = 80 < 81
        ("80", (APPROVED, 50 * C, None)),  # exactly at the limit
        ("79", (APPROVED, 49 * C, MAX_POSITION)),
        ("31", (APPROVED, 1 * C, MAX_POSITION)),  # room of exactly min_size
        ("30.99", (False, 0, None)),
    ],
)
def test_max_position_boundary_counts_held_and_in_flight(limit, outcome_):
    # 20 held (matched) and 10 in flight: the pair holds 30.
    world = World(max_position_per_pair=Decimal(limit))
    world.portfolio.apply([outcome(T0 - S, matched=20 * C)])
    approved_in_flight(world, 10 * C, 90)

    decision = world.check()

    approved, size, limited_by = outcome_
    if approved is False:
        assert decision.reason == MAX_POSITION
    else:
        assert (decision.reason, decision.approved_size, decision.limited_by) == outcome_


@pytest.mark.parametrize(
    ("room", "expected"),
    [
        # 10 in flight at the limits 0.40 + 0.45 = 8.50 (nothing filled yet)
        (usd("50"), (APPROVED, 50 * C, None)),
        (usd("1"), (APPROVED, 1 * C, MAX_TOTAL_EXPOSURE)),  # exactly one contract pair's $1
        (usd("1") - MICRO, (MAX_TOTAL_EXPOSURE, 0, None)),
        (usd("7.000001"), (APPROVED, 7 * C, MAX_TOTAL_EXPOSURE)),
    ],
)
def test_max_total_exposure_counts_trades_in_flight(room, expected):
    world = World()
    approved_in_flight(world, 10 * C, 90)
    world.risk.max_total_exposure = usd("8.50") + room

    decision = world.check()

    assert (decision.reason, decision.approved_size, decision.limited_by) == expected


@pytest.mark.parametrize(
    ("room", "expected"),
    [
        # in flight: the dearer leg of 10 at 0.45 = 4.50; this trade's dearer leg is 0.45 a pair
        (usd("22.50"), (APPROVED, 50 * C, None)),  # 50 x 0.45 = 22.50 fits exactly
        (usd("22.499999"), (APPROVED, 49 * C, MAX_UNHEDGED_EXPOSURE)),
        (usd("0.45"), (APPROVED, 1 * C, MAX_UNHEDGED_EXPOSURE)),
        (usd("0.449999"), (MAX_UNHEDGED_EXPOSURE, 0, None)),
    ],
)
def test_max_unhedged_exposure_counts_the_dearer_leg_of_trades_in_flight(room, expected):
    world = World()
    approved_in_flight(world, 10 * C, 90)
    world.risk.max_unhedged = usd("4.50") + room

    decision = world.check()

    assert (decision.reason, decision.approved_size, decision.limited_by) == expected


def test_an_executed_leg_counts_at_its_cost_in_the_exposure_checks():
    # Kalshi leg of 10 executes (cost 4.00, fees off); the pending NO leg stays at 10 x 0.45.
    world = World()
    approved_in_flight(world, 10 * C, 90)
    (kalshi_leg,) = world.fills.due(T0 + 10 * MS)
    snap(world.books, KALSHI, KT, [("0.30", 50)], [("0.39", 50)], T0 + 5 * MS)  # fills at 0.39
    world.fills.execute(kalshi_leg, world.books, T0 + 10 * MS)
    world.risk.max_total_exposure = usd("3.90") + usd("4.50") + usd("1")

    decision = world.check(T0 + 10 * MS)

    # 3.90 + 4.50 in flight: $1 of room, one contract pair
    assert (decision.approved_size, decision.limited_by) == (1 * C, MAX_TOTAL_EXPOSURE)


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("max_size_per_trade", "0.0000001", "risk.max_size_per_trade: too many decimals"),
        ("max_position_per_pair", "1.0000001", "risk.max_position_per_pair: too many decimals"),
        ("max_total_exposure", "0.0000001", "risk.max_total_exposure: not a whole number of micro-dollars"),
        ("max_unhedged_exposure", "5.0000001", "risk.max_unhedged_exposure: not a whole number"),
        ("daily_loss_limit", "0.0000005", "risk.daily_loss_limit: not a whole number of micro-dollars"),
    ],
)
def test_a_limit_finer_than_its_unit_is_a_config_error_naming_it(field, value, message):
    with pytest.raises(ConfigError, match=message.replace(".", r"\.")):
        RiskManager(risk_config(**{field: Decimal(value)}), DetectorConfig())


def test_an_opportunity_without_a_sizing_is_judged_at_min_size():
    world = World()

    decision = world.check(event=world.event._replace(sizing=None))

    # requested 0: the cap is min_size (1 contract), which makes 1 x 0.15
    assert (decision.reason, decision.requested_size, decision.approved_size) == (APPROVED, 0, 1 * C)
    assert decision.expected_profit == usd("0.15")


def brute_force_size(kalshi_asks: list[tuple[Decimal, int]], min_edge: Decimal, min_size: int) -> int:
    """The size risk should approve on the standard books with fees off, by trying every size.

    The best trade is the most profitable whole number of contract pairs (the smaller on a tie;
    the Polymarket NO asks are 0.45 x 50); if its edge is below min_edge, the largest smaller size
    whose edge reaches it. 0 when nothing qualifies.
    """
    depth = min(50, sum(n for _, n in kalshi_asks), 100)

    def profit(size: int) -> Decimal:
        left, cost = size, Decimal(0)
        for price, n in kalshi_asks:
            take = min(left, n)
            cost += price * take
            left -= take
        return size - cost - Decimal("0.45") * size

    sizes = range(min_size, depth + 1)
    best = max(sizes, key=lambda s: (profit(s), -s), default=0)
    if not best or profit(best) <= 0:
        return 0
    for size in range(best, min_size - 1, -1):
        if profit(size) >= min_edge * size:
            return size
    return 0


@settings(max_examples=300, deadline=None)
@given(
    prices=st.lists(st.integers(3_001, 6_000), min_size=1, max_size=5, unique=True),  # above the 0.30 bid
    sizes=st.lists(st.integers(1, 30), min_size=5, max_size=5),
    min_edge=st.integers(1, 25).map(lambda c: Decimal(c) / 100),
)
def test_the_approved_size_is_the_largest_whose_edge_reaches_min_edge(prices, sizes, min_edge):
    asks = [(Decimal(p) / 10_000, n) for p, n in zip(sorted(prices), sizes)]
    expected = brute_force_size(asks, min_edge, 1)
    try:
        world = World(kalshi_asks=[(str(p), n) for p, n in asks], min_edge=str(min_edge))
    except ValueError:  # no window opened: the edge at min_size is below min_edge already
        assert expected == 0
        return

    decision = world.check()

    assert decision.approved_size == expected * C
    # exact integers (a float would compare equal to the right size and hide a float division)
    assert {type(decision.approved_size), type(decision.edge), type(decision.expected_profit)} == {int}
    if expected:
        assert decision.limited_by == (MIN_EDGE if expected * C < world.event.sizing.size else None)
    else:
        assert decision.reason == EDGE_BELOW_MIN


def test_an_invalid_no_token_book_denies_once_it_is_the_no_source():
    # Once seeded, the NO token's book is where Polymarket NO is bought: its invalidity counts,
    # even though the YES token's book (the NO source before) is still valid.
    world = World()
    snap(world.books, POLYMARKET, NT, [("0.40", 50)], [("0.45", 50)], T0)
    world.books.book(POLYMARKET, NT).invalidate("seq_gap")

    assert world.check().reason == BOOK_INVALID


@pytest.mark.parametrize("seen", [KALSHI, POLYMARKET])
def test_only_one_venues_book_seen_is_denied_as_invalid_without_raising(seen):
    world = World()
    world.books = BookManager()
    if seen == KALSHI:
        snap(world.books, KALSHI, KT, [("0.30", 50)], [("0.40", 50)], T0)
    else:
        snap(world.books, POLYMARKET, YT, [("0.55", 50)], [("0.60", 50)], T0)

    assert world.check().reason == BOOK_INVALID


def test_the_fee_override_in_force_at_the_check_is_the_one_judged():
    # From T0 + 1 s Kalshi charges M = 1: one pair at 0.40 pays ceil(0.07 x 0.24) = 0.02, so the
    # 0.15 edge becomes 0.13, below a min_edge of 0.14.
    pair = PairSpec(
        "pair-a", KT, YT, NT, FeeSchedule(Decimal(0), Decimal(0), [(T0 + S, Decimal(1), None)])
    )
    world = World(pair=pair, min_edge="0.14")

    before, after = world.check(T0 + S - 1), world.check(T0 + S + 2 * S)

    assert (before.reason, after.reason) == (APPROVED, EDGE_BELOW_MIN)


def test_unhedged_room_is_priced_at_the_dearer_leg_on_either_venue():
    # Kalshi YES asks 0.50 are now the dearer leg (NO asks 0.45): room 10 / 0.50 = 20 pairs,
    # where the NO leg's price would allow 22.
    world = World(kalshi_asks=(("0.50", 50),), max_unhedged_exposure=Decimal("10"))

    decision = world.check()

    assert (decision.approved_size, decision.limited_by) == (20 * C, MAX_UNHEDGED_EXPOSURE)


def test_a_fractional_market_is_sized_in_its_own_steps():
    # size_step 0.01 contract: 12.5 Kalshi YES asks at 0.40 make a 12.50 contract pair trade,
    # not 12 whole ones (min_size stays 1 contract).
    pair = PairSpec("pair-a", KT, YT, NT, FeeSchedule(Decimal(0), Decimal(0)), size_step=C // 100)
    world = World(pair=pair)
    world.books.apply(
        [BookSnapshot(KALSHI, T0 + MS, KT, [(p("0.30"), 50 * C)], [(p("0.40"), 12_500_000)])]
    )

    decision = world.check(T0 + MS)

    # 12.5 x 0.15 = 1.875
    assert (decision.approved_size, decision.expected_profit) == (12_500_000, usd("1.875"))


def test_a_limit_above_what_the_books_now_hold_is_not_named_as_the_limit():
    # The window wanted 50; max_size_per_trade cuts to 40, but by the check only 30 Kalshi asks
    # are left: the 30 are the books' best trade, not set by the limit.
    world = World(max_size_per_trade=Decimal("40"))
    snap(world.books, KALSHI, KT, [("0.30", 50)], [("0.40", 30)], T0 + MS)

    decision = world.check(T0 + MS)

    assert (decision.approved_size, decision.limited_by) == (30 * C, None)
