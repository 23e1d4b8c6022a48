"""The product's fees, paper fills, legging and portfolio against the independent reference.

Hypothesis builds random pairs (dated fee overrides, several pairs), random books (sub-penny
prices, fractional sizes, crossed updates, invalidations, a NO token book seeded late) and random
paper trades and resolutions; both sides get the same events in the engine's order (orders due at
or before a frame's time execute before it) and every fill, trade, position, P&L figure and
in-flight exposure must agree to the micro-dollar. The reference (`reference_money.py`) shares no
code with `arbkit.core`; here it only meets the product's plain data types.

Examples per test: `REFERENCE_EXAMPLES` (20,000 by default; `make mutation` lowers it to keep
each mutant's run short). The `slow` variants run ten times as many, several minutes each, so they
run only when asked: `REFERENCE_AT_LENGTH=1 pytest -m slow tests/core/test_reference_money.py`.
"""

from __future__ import annotations

import os
import random
from collections import Counter
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import reference_money as ref
from arbkit.core.book import BookManager
from arbkit.core.events import ASK, BID, KALSHI, POLYMARKET, BookInvalid, BookSnapshot, LevelSet, Resolution
from arbkit.core.fees import FeeSchedule, kalshi_taker_fee, polymarket_taker_fee
from arbkit.core.fills import FillSimulator, PaperFill, TradeOutcome
from arbkit.core.latency import ConstantLatency
from arbkit.core.pairs import BUY_KALSHI_YES_POLY_NO, BUY_POLY_YES_KALSHI_NO, PairBooks, PairSpec
from arbkit.core.portfolio import Portfolio, utc_day
from arbkit.core.risk import RiskDecision

EXAMPLES = int(os.environ.get("REFERENCE_EXAMPLES", "20000"))
at_length = pytest.mark.skipif(
    os.environ.get("REFERENCE_AT_LENGTH") != "1", reason="set REFERENCE_AT_LENGTH=1 to run"
)
MS = 1_000_000
DAY = 86_400 * 10**9
T0 = 20_718 * DAY - 600 * MS  # 0.6 s before a UTC midnight: scenarios cross the day change
FOREVER = 2**62

MULTIPLIERS = [Decimal(m) for m in ("0", "0.5", "1", "1.25", "3")]
RATES = [Decimal(r) for r in ("0", "0.01", "0.02", "0.025", "0.03", "0.0625", "0.1", "0.25")]


def dollars(micros: int | None) -> Decimal | None:
    return None if micros is None else Decimal(micros).scaleb(-6)


def price(ticks: int | None) -> Decimal | None:
    return None if ticks is None else Decimal(ticks).scaleb(-4)


contracts = dollars  # sizes are millionths of a contract, money millionths of a dollar


def relaxed(examples: int):
    """Settings of a reference test: `examples` cases, no deadline (a shared machine is slow)."""
    return settings(
        max_examples=examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


# -- fees -------------------------------------------------------------------------------------

sizes = st.one_of(
    st.integers(0, 500_000).map(lambda h: h * 10_000),  # whole hundredths, up to 5,000 contracts
    st.integers(0, 5_000_000_000),  # Polymarket sizes to 6 decimals
)
ticks = st.integers(0, 10_000)
fee_parameters = st.one_of(
    st.sampled_from(MULTIPLIERS + RATES),
    st.integers(0, 50_000).map(lambda n: Decimal(n).scaleb(-4)),  # up to 5, four decimals
)


def check_fees(size: int, at: int, multiplier: Decimal, rate: Decimal) -> None:
    count, p = contracts(size), price(at)
    assert dollars(kalshi_taker_fee(size, at, multiplier)) == ref.kalshi_fee(multiplier, count, p)
    assert dollars(polymarket_taker_fee(size, at, rate)) == ref.polymarket_fee(rate, count, p)


@pytest.mark.timeout(1200)
@relaxed(EXAMPLES)
@given(sizes, ticks, fee_parameters, fee_parameters)
def test_fees_equal_the_reference(size, at, multiplier, rate):
    check_fees(size, at, multiplier, rate)


overrides = st.lists(
    st.tuples(
        st.integers(-5, 5),
        st.none() | st.sampled_from(MULTIPLIERS),
        st.none() | st.sampled_from(RATES),
    ),
    max_size=4,
)


@relaxed(max(200, EXAMPLES // 20))
@given(st.sampled_from(MULTIPLIERS), st.sampled_from(RATES), overrides, st.integers(-6, 6), sizes, ticks)
def test_dated_fee_schedule_equals_the_reference(multiplier, rate, dated, when, size, at):
    schedule = FeeSchedule(multiplier, rate, [(T0 + s * MS, m, r) for s, m, r in dated])
    reference = ref.Schedule(multiplier, rate, [(T0 + s * MS, m, r) for s, m, r in dated])

    params = schedule.for_time(T0 + when * MS)

    count, p = contracts(size), price(at)
    assert dollars(params.kalshi(size, at)) == reference.fee(ref.KALSHI, T0 + when * MS, count, p)
    assert dollars(params.polymarket(size, at)) == reference.fee(ref.POLYMARKET, T0 + when * MS, count, p)


# -- scenarios --------------------------------------------------------------------------------

# Scenarios are drawn from a seeded `random.Random` rather than from nested strategies: a scenario
# is ~150 choices, and Hypothesis spends ~80 us on each, which would make 20,000 scenarios take
# minutes. Hypothesis draws the seed (and reports it), the generator below is plain Python.


def level_size(rng: random.Random) -> int:
    if rng.random() < 0.5:
        return rng.randint(1, 4_000) * 10_000  # hundredths (Kalshi), up to 40 contracts
    return rng.randint(1, 40_000_000)  # Polymarket fractional sizes


def cent_or_tick(rng: random.Random) -> int:
    return rng.randint(1, 99) * 100 if rng.random() < 0.5 else rng.randint(1, 9_999)


def book_levels(rng: random.Random) -> tuple[list, list]:
    """(bids, asks) around a mid: bids below it, asks at or above it."""
    mid = cent_or_tick(rng)
    bids = {mid - rng.randint(1, 400): level_size(rng) for _ in range(rng.randint(0, 4))}
    asks = {mid + rng.randint(0, 400): level_size(rng) for _ in range(rng.randint(0, 4))}
    return (
        [(p, s) for p, s in bids.items() if p > 0],
        [(p, s) for p, s in asks.items() if p < 10_000],
    )


def random_scenario(rng: random.Random) -> dict:
    pairs = []
    for i in range(rng.randint(1, 3)):
        dated = [
            (
                rng.randint(0, 1_500),
                rng.choice([None, *MULTIPLIERS]),
                rng.choice([None, *RATES]),
            )
            for _ in range(rng.randint(0, 2))
        ]
        pairs.append((f"pair-{i}", rng.choice(MULTIPLIERS), rng.choice(RATES), dated))
    n_books = 3 * len(pairs)
    ops = []
    for _ in range(rng.randint(1, 14)):
        # whole milliseconds mostly, sometimes a few ns (equal times included)
        gap = rng.randint(0, 80) * MS if rng.random() < 0.8 else rng.randint(0, 3)
        kind = rng.choice(["snap", "set", "set", "invalidate", "submit", "submit", "submit", "resolve"])
        if kind == "snap":
            ops.append((kind, gap, rng.randrange(n_books), book_levels(rng)))
        elif kind == "set":
            size = 0 if rng.random() < 0.3 else level_size(rng)
            side = rng.choice([ref.BID, ref.ASK])
            ops.append((kind, gap, rng.randrange(n_books), side, cent_or_tick(rng), size))
        elif kind == "invalidate":
            ops.append((kind, gap, rng.randrange(n_books)))
        elif kind == "submit":
            direction = rng.choice([BUY_KALSHI_YES_POLY_NO, BUY_POLY_YES_KALSHI_NO])
            ops.append((kind, gap, rng.randrange(len(pairs)), direction, rng.randint(1, 3_000) * 10_000))
        else:
            outcome = rng.choice(["yes", "no", "void"])
            ops.append((kind, gap, rng.randrange(len(pairs)), rng.randrange(3), outcome))
    return dict(
        pairs=pairs,
        # Kalshi and Polymarket YES books of every pair start seeded; the NO token's book only
        # when a later "snap" reaches it.
        opening=[book_levels(rng) for _ in range(2 * len(pairs))],
        latency=(rng.randint(0, 120), rng.randint(0, 120)),
        on_unmatched=rng.choice(["unwind", "hold"]),
        ops=ops,
    )


seeds = st.integers(0, 2**64 - 1)


class Both:
    """The product and the reference fed the same events, compared after each of them."""

    def __init__(self, scenario: dict) -> None:
        self.specs, ref_pairs = [], []
        for name, multiplier, rate, dated in scenario["pairs"]:
            when = [(T0 + ms * MS, m, r) for ms, m, r in dated]
            k, y, n = f"K-{name}", f"Y-{name}", f"N-{name}"
            self.specs.append(PairSpec(name, k, y, n, FeeSchedule(multiplier, rate, when)))
            ref_pairs.append(ref.Pair(name, k, y, n, ref.Schedule(multiplier, rate, when)))
        self.markets = [
            market
            for spec in self.specs
            for market in (
                (KALSHI, spec.kalshi_ticker),
                (POLYMARKET, spec.polymarket_yes_token),
                (POLYMARKET, spec.polymarket_no_token),
            )
        ]
        k_ms, p_ms = scenario["latency"]
        self.latency = {ref.KALSHI: k_ms * MS, ref.POLYMARKET: p_ms * MS}
        self.books = BookManager()
        self.sim = FillSimulator(
            self.specs, ConstantLatency(k_ms, p_ms), random.Random(0), scenario["on_unmatched"]
        )
        self.portfolio = Portfolio(self.specs)
        self.views = {spec.name: PairBooks(spec, self.books) for spec in self.specs}
        self.ref = ref.Market(ref_pairs, scenario["on_unmatched"])
        self.ref_portfolio = ref.Portfolio(self.ref)
        self.decisions = 0
        self.now = T0
        self.seen: Counter[str] = Counter()  # situations reached, for the coverage guard
        for i, (bids, asks) in enumerate(scenario["opening"]):
            self.snap((i // 2) * 3 + i % 2, (bids, asks))

    # -- events ---------------------------------------------------------------------------

    def snap(self, index: int, levels) -> None:
        bids, asks = levels
        venue, market = self.markets[index]
        self.books.apply([BookSnapshot(venue, self.now, market, bids, asks)])
        self.ref.book(venue, market).snapshot(
            [(price(p), contracts(s)) for p, s in bids], [(price(p), contracts(s)) for p, s in asks]
        )

    def set(self, index: int, side: str, at: int, size: int) -> None:
        venue, market = self.markets[index]
        if self.books.get(venue, market) is None:
            return
        self.books.apply([LevelSet(venue, self.now, market, BID if side == ref.BID else ASK, at, size)])
        self.ref.book(venue, market).set(side, price(at), contracts(size))

    def invalidate(self, index: int) -> None:
        venue, market = self.markets[index]
        self.books.apply([BookInvalid(venue, self.now, market, "seq_gap")])
        self.ref.book(venue, market).invalidate()

    def submit(self, pair_index: int, direction: str, size: int) -> None:
        spec = self.specs[pair_index]
        view = self.views[spec.name]
        legs = view.legs(direction)
        ref_legs = self.ref.leg_books(self.ref.pairs[spec.name], direction)
        valid = all(book is not None and book.valid for book in legs)
        assert valid == all(book is not None and book.valid for book in ref_legs)
        if not valid:  # risk denies a direction whose books are not both valid
            return
        self.decisions += 1
        decision = RiskDecision(
            decision_id=self.decisions, opportunity_id=f"opp{self.decisions}", pair=spec.name,
            direction=direction, ns=self.now, approved=True, reason="approved",
            requested_size=size, approved_size=size, limited_by=None, edge=0, expected_profit=0,
        )
        orders = self.sim.submit(decision, view, self.now)
        ref_orders = self.ref.submit(
            self.decisions, spec.name, direction, contracts(size), self.now, self.latency
        )
        assert [
            (o.order_id, o.decision_id, o.opportunity_id, o.pair, o.direction, o.venue, o.market,
             o.outcome, o.complemented, price(o.limit_price), contracts(o.size), o.submit_ns,
             o.arrival_ns)
            for o in orders
        ] == [
            (o.order_id, o.decision_id, o.opportunity_id, o.pair, o.direction, o.venue, o.market,
             o.outcome, o.complemented, o.limit, o.size, o.submit_ns, o.arrival_ns)
            for o in ref_orders
        ]

    def resolve(self, pair_index: int, which: int, outcome: str) -> None:
        venue, market = self.markets[3 * pair_index + which]
        others = {k[0] for k in (*self.ref_portfolio.hedged, *self.ref_portfolio.naked)} - {
            self.specs[pair_index].name
        }
        got = self.portfolio.on_resolution(Resolution(venue, self.now, market, outcome))
        assert dollars(got) == self.ref_portfolio.resolve(venue, market, outcome, self.now)
        if got and others:
            self.seen["settled one pair of several"] += 1

    def run_due(self, now_ns: int) -> None:
        """Execute the orders due at `now_ns`, as the engine does before a frame at that time."""
        rows, ref_rows = [], []
        for order in self.sim.due(now_ns):
            got = self.sim.execute(order, self.books, order.arrival_ns)
            self.portfolio.apply(got)
            rows += got
        for order in self.ref.due(now_ns):
            got = self.ref.execute(order, order.arrival_ns)
            self.ref_portfolio.book_rows(got)
            ref_rows += got
        assert [product_row(r) for r in rows] == [reference_row(r) for r in ref_rows]
        assert all(
            type(getattr(r, k)) is int
            for r in rows
            for k in (MONEY | SIZES if isinstance(r, TradeOutcome) else ("size", "notional", "fee"))
            if getattr(r, k) is not None
        )
        self._note(ref_rows)

    def _note(self, rows: list) -> None:
        unwinds = [r for r in rows if isinstance(r, ref.Fill) and r.action == "sell"]
        if len({(f.order_id, f.price) for f in unwinds}) >= 2:
            self.seen["unwind into two bid levels"] += 1
        for row in rows:
            if isinstance(row, ref.Fill):
                schedule = self.ref.pairs[row.pair].schedule
                if schedule.at(row.ns) != (schedule.multiplier, schedule.rate):
                    self.seen["fee of a dated override"] += 1
                if row.size != row.size.to_integral_value():
                    self.seen["fractional fill"] += 1
                if row.price * 100 != (row.price * 100).to_integral_value():
                    self.seen["sub-penny fill"] += 1
            elif row["remainder_size"] and row["matched_size"]:
                self.seen["matched and remainder"] += 1
                if row["held_size"] and row["action"] == "unwind":
                    self.seen["unwind short of bids, rest held"] += 1
            elif row["held_size"] and row["action"] == "hold":
                self.seen["one leg held"] += 1
    def step(self, op) -> None:
        kind, gap, *args = op
        self.now += gap
        self.run_due(self.now)
        getattr(self, kind)(*args)
        self.compare()

    def finish(self) -> None:
        self.run_due(FOREVER)
        self.compare()

    # -- figures --------------------------------------------------------------------------

    def compare(self) -> None:
        positions, pnl = self.portfolio.snapshot(self.now, self.books)
        ref_positions, ref_pnl = self.ref_portfolio.snapshot(self.now)
        for (_pair, venue, outcome), lot in self.ref_portfolio.naked.items():
            if lot.mark is not None:
                self.seen[f"naked {venue} {outcome} marked"] += 1
        assert all(r.ns == self.now for r in positions) and pnl.ns == self.now
        assert [
            (r.pair, r.venue, r.outcome, contracts(r.size), dollars(r.cost), contracts(r.hedged_size),
             dollars(r.hedged_cost), contracts(r.naked_size), dollars(r.naked_cost), price(r.mark_price),
             dollars(r.naked_value))
            for r in positions
        ] == ref_positions
        assert {k: dollars(getattr(pnl, k)) for k in ref_pnl} == ref_pnl
        # exact integers throughout (a float equal to the right amount would pass the above)
        assert {type(getattr(pnl, k)) for k in ref_pnl} == {int}
        assert {type(v) for r in positions for v in (r.size, r.cost, r.naked_value)} <= {int}
        day = utc_day(self.now)
        for d in (day - 1, day):
            assert dollars(self.portfolio.realised_on_day(d)) == self.ref_portfolio.realised_by_day.get(
                d, ref.ZERO
            )
        for spec in self.specs:
            assert contracts(self.portfolio.pair_position(spec.name)) == self.ref_portfolio.pair_position(
                spec.name
            )
            assert contracts(self.sim.open_size(spec.name)) == self.ref.open_size(spec.name)
        assert dollars(self.sim.open_exposure()) == self.ref.open_exposure()
        assert dollars(self.sim.open_unhedged_exposure()) == self.ref.open_unhedged_exposure()
        assert self.sim.open_trades() == len(self.ref.trades)


MONEY = {
    "kalshi_cost", "kalshi_fees", "polymarket_cost", "polymarket_fees", "kalshi_matched_cost",
    "polymarket_matched_cost", "locked_in_pnl", "remainder_cost", "unwind_proceeds", "unwind_fees",
    "held_cost", "legging_pnl",
}
SIZES = {"kalshi_filled", "polymarket_filled", "matched_size", "remainder_size", "unwound_size", "held_size"}


def product_row(row) -> tuple:
    if isinstance(row, PaperFill):
        return (
            "fill", row.order_id, row.decision_id, row.pair, row.venue, row.market, row.outcome,
            row.action, price(row.price), contracts(row.size), dollars(row.notional), dollars(row.fee),
            row.ns,
        )
    assert isinstance(row, TradeOutcome)
    fields = {
        k: dollars(v) if k in MONEY else contracts(v) if k in SIZES else v
        for k, v in ((k, getattr(row, k)) for k in row.__struct_fields__)
    }
    return ("trade", fields)


def reference_row(row) -> tuple:
    if isinstance(row, ref.Fill):
        return (
            "fill", row.order_id, row.decision_id, row.pair, row.venue, row.market, row.outcome,
            row.action, row.price, row.size, row.notional, row.fee, row.ns,
        )
    return ("trade", row)


def run_scenario(scenario: dict) -> Counter[str]:
    both = Both(scenario)
    for op in scenario["ops"]:
        both.step(op)
    both.finish()
    return both.seen + both.ref.seen


@pytest.mark.timeout(1200)  # ~45 s on an idle core; much more on a crowded machine
@relaxed(EXAMPLES)
@given(seeds)
def test_fills_legging_and_portfolio_equal_the_reference(seed):
    run_scenario(random_scenario(random.Random(seed)))


SITUATIONS = [
    "withheld liquidity",
    "fee of a dated override",
    "fractional fill",
    "sub-penny fill",
    "matched and remainder",
    "unwind into two bid levels",
    "unwind short of bids, rest held",
    "one leg held",
    "naked kalshi yes marked",
    "naked kalshi no marked",
    "naked polymarket yes marked",
    "naked polymarket no marked",
    "settled one pair of several",
]


def test_random_scenarios_reach_every_situation_the_reference_is_for():
    # A guard on the generator: 300 scenarios reach every situation several times (13 to over
    # 1,000 each when written), so the 20,000 of the property above exercise all of them often.
    seen: Counter[str] = Counter()
    for seed in range(300):
        seen += run_scenario(random_scenario(random.Random(seed)))

    assert {s: seen[s] for s in SITUATIONS if seen[s] < 5} == {}


@pytest.mark.slow
@pytest.mark.timeout(0)
@at_length
@relaxed(10 * EXAMPLES)
@given(seeds)
def test_fills_legging_and_portfolio_equal_the_reference_at_length(seed):
    run_scenario(random_scenario(random.Random(seed)))


@pytest.mark.slow
@pytest.mark.timeout(0)
@at_length
@relaxed(10 * EXAMPLES)
@given(sizes, ticks, fee_parameters, fee_parameters)
def test_fees_equal_the_reference_at_length(size, at, multiplier, rate):
    check_fees(size, at, multiplier, rate)
