"""Paper fills: latency, depth walking to the limit, consumed liquidity, one-leg fills and unwinds.

Units: prices in ticks of $0.0001, sizes in millionths of a contract, money in micro-dollars.
Fees are worked out next to each expectation: Kalshi ceil_to_cent(0.07 × C × P × (1 − P)) per
level, Polymarket C × 0.03 × p × (1 − p) rounded half-up to $0.00001.
"""

from __future__ import annotations

import random

import pytest

from arbkit.core.book import BookManager
from arbkit.core.events import ASK, BID, KALSHI, POLYMARKET, LevelDelta
from arbkit.core.fills import (
    FillSimulator,
    PaperFill,
    PaperOrder,
    TradeOutcome,
    limit_for,
)
from arbkit.core.latency import ConstantLatency
from arbkit.core.pairs import BUY_KALSHI_YES_POLY_NO, BUY_POLY_YES_KALSHI_NO, PairBooks
from arbkit.core.risk import RiskDecision

from core_builders import KT, MS, NT, T0, YT, C, p, snap, spec, standard_books, usd


def decision(size: int, decision_id: int = 1, direction: str = BUY_KALSHI_YES_POLY_NO):
    return RiskDecision(
        decision_id=decision_id,
        opportunity_id=f"opp{decision_id}",
        pair="pair-a",
        direction=direction,
        ns=T0,
        approved=True,
        reason="approved",
        requested_size=size,
        approved_size=size,
        limited_by=None,
        edge=0,
        expected_profit=0,
    )


def simulator(on_unmatched: str = "unwind", jitter_ms: float = 0) -> FillSimulator:
    return FillSimulator(
        [spec()], ConstantLatency(10, 20, jitter_ms), random.Random(7), on_unmatched
    )


def run_due(sim: FillSimulator, books: BookManager, now_ns: int) -> list:
    rows = []
    for order in sim.due(now_ns):
        rows.extend(sim.execute(order, books, order.arrival_ns))
    return rows


def of(rows, cls):
    return [r for r in rows if isinstance(r, cls)]


def test_limit_is_the_worst_level_the_size_needs():
    ladder = [(p("0.40"), 4 * C), (p("0.41"), 3 * C), (p("0.43"), 10 * C)]

    assert limit_for(ladder, 4 * C) == p("0.40")
    assert limit_for(ladder, 7 * C) == p("0.41")
    assert limit_for(ladder, 8 * C) == p("0.43")
    assert limit_for([], C) is None
    # one millionth short on the first level: the next level is needed
    assert limit_for([(p("0.40"), C - 1), (p("0.41"), 10)], C) == p("0.41")


def test_approved_decision_becomes_two_orders_arriving_after_each_venues_latency():
    books = standard_books()
    sim = simulator()
    view = PairBooks(spec(), books)

    orders = sim.submit(decision(10 * C), view, T0)

    kalshi, poly = orders
    assert (kalshi.venue, kalshi.market, kalshi.outcome, kalshi.complemented) == (
        KALSHI, KT, "yes", False,
    )
    # Polymarket NO comes from the YES token's bids at 1 - 0.55 = 0.45 (no NO book seen)
    assert (poly.venue, poly.market, poly.outcome, poly.complemented) == (
        POLYMARKET, YT, "no", True,
    )
    assert (kalshi.limit_price, poly.limit_price) == (p("0.40"), p("0.45"))
    assert (kalshi.arrival_ns, poly.arrival_ns) == (T0 + 10 * MS, T0 + 20 * MS)
    assert (kalshi.order_id, poly.order_id) == ("d1-kalshi", "d1-polymarket")
    assert sim.due(T0 + 10 * MS - 1) == []
    assert sim.due(T0 + 15 * MS) == [kalshi]
    assert sim.due(T0 + 20 * MS) == [poly]


def test_kalshi_no_and_polymarket_no_token_book_are_used_when_buying_those_sides():
    books = standard_books()
    snap(books, POLYMARKET, NT, [("0.43", 10)], [("0.45", 10)], T0)
    view = PairBooks(spec(), books)

    k_no, p_yes = simulator().submit(decision(5 * C, direction=BUY_POLY_YES_KALSHI_NO), view, T0)
    p_no = simulator().submit(decision(5 * C), view, T0)[1]

    # Kalshi NO asks are the YES bids at 1 - 0.38 = 0.62
    assert (k_no.market, k_no.outcome, k_no.complemented, k_no.limit_price) == (
        KT, "no", True, p("0.62"),
    )
    assert (p_yes.market, p_yes.complemented, p_yes.limit_price) == (YT, False, p("0.57"))
    # Once the NO token's book is seeded it is the only NO source
    assert (p_no.market, p_no.complemented, p_no.limit_price) == (NT, False, p("0.45"))


def test_full_fill_of_both_legs_locks_in_the_pair_profit():
    books = standard_books()
    sim = simulator()
    sim.submit(decision(10 * C), PairBooks(spec(), books), T0)

    rows = run_due(sim, books, T0 + 20 * MS)

    fills = of(rows, PaperFill)
    assert [(f.venue, f.price, f.size, f.notional, f.fee, f.ns) for f in fills] == [
        # 10 x 0.40 = 4.00; fee 0.07 x 10 x 0.40 x 0.60 = 0.168 -> 0.17
        (KALSHI, p("0.40"), 10 * C, usd("4.00"), usd("0.17"), T0 + 10 * MS),
        # 10 x 0.45 = 4.50; fee 10 x 0.03 x 0.45 x 0.55 = 0.07425
        (POLYMARKET, p("0.45"), 10 * C, usd("4.50"), usd("0.07425"), T0 + 20 * MS),
    ]
    (trade,) = of(rows, TradeOutcome)
    assert trade.matched_size == 10 * C
    assert (trade.kalshi_cost, trade.polymarket_cost) == (usd("4.17"), usd("4.57425"))
    # 10.00 - 4.17 - 4.57425 = 1.25575
    assert trade.locked_in_pnl == usd("1.25575")
    assert (trade.action, trade.remainder_size, trade.legging_pnl) == ("none", 0, None)
    assert sim.open_trades() == 0


def test_partial_fill_walks_two_levels_up_to_the_limit_and_no_further():
    books = BookManager()
    snap(books, KALSHI, KT, [("0.38", 10)], [("0.40", 4), ("0.41", 6)], T0)
    snap(books, POLYMARKET, YT, [("0.55", 10)], [("0.57", 10)], T0)
    sim = simulator()
    (kalshi, _) = sim.submit(decision(10 * C), PairBooks(spec(), books), T0)
    assert kalshi.limit_price == p("0.41")  # 4 at 0.40 + 6 at 0.41 cover 10
    # Before the order arrives, 3 of the 0.41 level go and a 0.43 level appears.
    books.apply(
        [
            LevelDelta(KALSHI, T0 + 5 * MS, KT, ASK, p("0.41"), -3 * C),
            LevelDelta(KALSHI, T0 + 5 * MS, KT, ASK, p("0.43"), 10 * C),
        ]
    )

    rows = sim.execute(sim.due(T0 + 10 * MS)[0], books, T0 + 10 * MS)

    assert [(f.price, f.size, f.notional, f.fee) for f in rows] == [
        # 4 x 0.40 = 1.60; fee 0.07 x 4 x 0.40 x 0.60 = 0.0672 -> 0.07
        (p("0.40"), 4 * C, usd("1.60"), usd("0.07")),
        # 3 x 0.41 = 1.23; fee 0.07 x 3 x 0.41 x 0.59 = 0.050799 -> 0.06
        (p("0.41"), 3 * C, usd("1.23"), usd("0.06")),
    ]


def test_liquidity_taken_by_a_paper_order_is_withheld_until_the_level_changes():
    books = BookManager()
    snap(books, KALSHI, KT, [("0.38", 10)], [("0.40", 10)], T0)
    snap(books, POLYMARKET, YT, [("0.55", 30)], [("0.57", 30)], T0)
    sim = simulator()
    view = PairBooks(spec(), books)
    first = sim.submit(decision(6 * C, decision_id=1), view, T0)[0]
    second = sim.submit(decision(6 * C, decision_id=2), view, T0)[0]
    third = sim.submit(decision(6 * C, decision_id=3), view, T0)[0]
    fourth = sim.submit(decision(6 * C, decision_id=4), view, T0)[0]

    took_first = sim.execute(first, books, T0 + 10 * MS)
    took_second = sim.execute(second, books, T0 + 10 * MS)
    took_third = sim.execute(third, books, T0 + 10 * MS)
    # The level is refreshed: 10 -> 12 contracts.
    books.apply([LevelDelta(KALSHI, T0 + 11 * MS, KT, ASK, p("0.40"), 2 * C)])
    took_fourth = sim.execute(fourth, books, T0 + 12 * MS)

    assert [f.size for f in took_first] == [6 * C]
    assert [f.size for f in took_second] == [4 * C]  # 10 - 6 already taken
    assert took_third == []  # 10 - 6 - 4 = 0 left until the level changes
    assert [f.size for f in took_fourth] == [6 * C]  # of the refreshed 12


def test_a_snapshot_releases_consumed_liquidity_even_at_the_same_size():
    books = standard_books()
    sim = simulator()
    view = PairBooks(spec(), books)
    first = sim.submit(decision(10 * C, decision_id=1), view, T0)[0]
    second = sim.submit(decision(10 * C, decision_id=2), view, T0)[0]
    sim.execute(first, books, T0 + 10 * MS)
    snap(books, KALSHI, KT, [("0.38", 10)], [("0.40", 10)], T0 + 11 * MS)

    took = sim.execute(second, books, T0 + 12 * MS)

    assert [f.size for f in took] == [10 * C]


def test_one_leg_fill_is_unwound_at_the_then_best_bid_with_the_legging_loss():
    books = standard_books()
    sim = simulator("unwind")
    sim.submit(decision(10 * C), PairBooks(spec(), books), T0)
    rows = run_due(sim, books, T0 + 10 * MS)
    # The Polymarket YES bids (our NO source) vanish before the NO order arrives at +20 ms.
    snap(books, POLYMARKET, YT, [], [("0.57", 10)], T0 + 15 * MS)

    rows += run_due(sim, books, T0 + 20 * MS)

    fills = of(rows, PaperFill)
    assert [(f.order_id, f.action, f.price, f.size, f.notional, f.fee) for f in fills] == [
        ("d1-kalshi", "buy", p("0.40"), 10 * C, usd("4.00"), usd("0.17")),
        # sold into the Kalshi YES bid: 10 x 0.38 = 3.80; fee 0.07 x 10 x 0.38 x 0.62
        # = 0.16492 -> 0.17
        ("d1-kalshi-unwind", "sell", p("0.38"), 10 * C, usd("3.80"), usd("0.17")),
    ]
    (trade,) = of(rows, TradeOutcome)
    assert (trade.kalshi_filled, trade.polymarket_filled, trade.matched_size) == (10 * C, 0, 0)
    assert (trade.remainder_venue, trade.remainder_outcome) == (KALSHI, "yes")
    assert (trade.remainder_size, trade.remainder_cost) == (10 * C, usd("4.17"))
    assert (trade.action, trade.unwound_size, trade.held_size) == ("unwind", 10 * C, 0)
    # 3.80 - 0.17 - (4.00 + 0.17) = -0.54
    assert trade.legging_pnl == usd("-0.54")
    assert trade.locked_in_pnl == 0


def test_one_leg_fill_is_held_naked_when_configured_to_hold():
    books = standard_books()
    sim = simulator("hold")
    sim.submit(decision(10 * C), PairBooks(spec(), books), T0)
    rows = run_due(sim, books, T0 + 10 * MS)
    snap(books, POLYMARKET, YT, [], [("0.57", 10)], T0 + 15 * MS)

    rows += run_due(sim, books, T0 + 20 * MS)

    assert [f.action for f in of(rows, PaperFill)] == ["buy"]
    (trade,) = of(rows, TradeOutcome)
    assert (trade.action, trade.held_size, trade.held_cost) == ("hold", 10 * C, usd("4.17"))
    assert (trade.unwound_size, trade.legging_pnl) == (0, None)


def test_partial_second_leg_is_matched_and_the_remainder_unwound_pro_rata():
    books = standard_books()
    sim = simulator("unwind")
    sim.submit(decision(10 * C), PairBooks(spec(), books), T0)
    # Only 7 of the Kalshi 0.40 asks are left when the YES order arrives at +10 ms.
    books.apply([LevelDelta(KALSHI, T0 + 5 * MS, KT, ASK, p("0.40"), -3 * C)])

    rows = run_due(sim, books, T0 + 20 * MS)

    (trade,) = of(rows, TradeOutcome)
    # Kalshi 7 x 0.40 = 2.80 + fee 0.07 x 7 x 0.24 = 0.1176 -> 0.12: cost 2.92
    # Polymarket 10 x 0.45 = 4.50 + 0.07425: cost 4.57425; its 3 unmatched carry
    # 4.57425 x 3 / 10 = 1.372275 -> 1.372275 (exact)
    assert (trade.kalshi_cost, trade.polymarket_cost) == (usd("2.92"), usd("4.57425"))
    assert trade.matched_size == 7 * C
    assert trade.remainder_cost == usd("1.372275")
    # 7.00 - 2.92 - (4.57425 - 1.372275) = 0.878025
    assert trade.locked_in_pnl == usd("0.878025")
    unwind = [f for f in of(rows, PaperFill) if f.action == "sell"]
    # NO sold into the YES asks at 1 - 0.57 = 0.43: 3 x 0.43 = 1.29;
    # fee 3 x 0.03 x 0.43 x 0.57 = 0.022059 -> 0.02206
    assert [(f.venue, f.price, f.size, f.notional, f.fee) for f in unwind] == [
        (POLYMARKET, p("0.43"), 3 * C, usd("1.29"), usd("0.02206")),
    ]
    # 1.29 - 0.02206 - 1.372275 = -0.104335
    assert trade.legging_pnl == usd("-0.104335")


def test_unwind_without_enough_bids_holds_what_it_could_not_sell():
    books = standard_books()
    sim = simulator("unwind")
    sim.submit(decision(10 * C), PairBooks(spec(), books), T0)
    run_due(sim, books, T0 + 10 * MS)
    snap(books, POLYMARKET, YT, [], [("0.57", 10)], T0 + 15 * MS)
    snap(books, KALSHI, KT, [("0.38", 4)], [("0.40", 10)], T0 + 16 * MS)

    rows = run_due(sim, books, T0 + 20 * MS)

    (trade,) = of(rows, TradeOutcome)
    # Kalshi filled 10 at +10 ms (cost 4.17) before the new snapshot; 4 sell at 0.38 = 1.52,
    # fee 0.07 x 4 x 0.38 x 0.62 = 0.065968 -> 0.07; the 4 sold carry 4.17 x 4/10 = 1.668
    assert (trade.unwound_size, trade.unwind_proceeds, trade.unwind_fees) == (
        4 * C, usd("1.52"), usd("0.07"),
    )
    # 1.52 - 0.07 - 1.668 = -0.218; 6 stay held at 4.17 - 1.668 = 2.502
    assert trade.legging_pnl == usd("-0.218")
    assert (trade.held_size, trade.held_cost) == (6 * C, usd("2.502"))


def test_an_order_on_an_invalid_book_fills_nothing():
    books = standard_books()
    sim = simulator()
    (kalshi, _) = sim.submit(decision(10 * C), PairBooks(spec(), books), T0)
    books.book(KALSHI, KT).invalidate("seq_gap")

    assert sim.execute(kalshi, books, T0 + 10 * MS) == []


def test_in_flight_trades_count_towards_exposure_until_both_legs_executed():
    books = standard_books()
    sim = simulator()
    sim.submit(decision(10 * C), PairBooks(spec(), books), T0)

    # pending legs at their limits: 10 x 0.40 = 4.00 and 10 x 0.45 = 4.50
    assert sim.open_size("pair-a") == 10 * C
    assert sim.open_exposure() == usd("8.50")
    assert sim.open_unhedged_exposure() == usd("4.50")
    run_due(sim, books, T0 + 10 * MS)
    # Kalshi leg executed: its cost 4.17 replaces its bound
    assert sim.open_exposure() == usd("8.67")
    run_due(sim, books, T0 + 20 * MS)
    assert (sim.open_size("pair-a"), sim.open_exposure()) == (0, 0)


def test_same_seed_gives_identical_orders_and_fills():
    def run(seed: int) -> list:
        books = standard_books()
        sim = FillSimulator([spec()], ConstantLatency(10, 20, 5), random.Random(seed))
        rows: list = []
        for i in range(1, 4):
            rows.extend(sim.submit(decision(2 * C, decision_id=i), PairBooks(spec(), books), T0))
        rows.extend(run_due(sim, books, T0 + 100 * MS))
        return rows

    assert run(11) == run(11)
    assert [r.arrival_ns for r in run(11) if isinstance(r, PaperOrder)] != [
        r.arrival_ns for r in run(12) if isinstance(r, PaperOrder)
    ]


def test_unknown_unmatched_policy_is_rejected():
    with pytest.raises(ValueError, match="on_unmatched"):
        FillSimulator([spec()], ConstantLatency(1, 1), random.Random(0), "ignore")


def test_bid_side_is_unused_by_a_yes_buy():
    books = standard_books()
    sim = simulator()
    (kalshi, _) = sim.submit(decision(10 * C), PairBooks(spec(), books), T0)
    books.apply([LevelDelta(KALSHI, T0 + 1, KT, BID, p("0.38"), -10 * C)])

    assert [f.size for f in sim.execute(kalshi, books, T0 + 10 * MS)] == [10 * C]


def test_next_due_is_the_earliest_arrival_queued_and_none_when_nothing_is():
    books = standard_books()
    sim = simulator()
    assert sim.next_due_ns() is None

    sim.submit(decision(C), PairBooks(spec(), books), T0)

    assert sim.next_due_ns() == T0 + 10 * MS  # Kalshi's 10 ms before Polymarket's 20 ms
    sim.due(T0 + 10 * MS)
    assert sim.next_due_ns() == T0 + 20 * MS
    sim.due(T0 + 20 * MS)
    assert sim.next_due_ns() is None


def test_an_order_executed_again_fills_nothing_more():
    books = standard_books()
    sim = simulator()
    kalshi, _ = sim.submit(decision(4 * C), PairBooks(spec(), books), T0)

    first = sim.execute(kalshi, books, T0 + 10 * MS)
    again = sim.execute(kalshi, books, T0 + 11 * MS)

    assert [f.size for f in first] == [4 * C]
    assert again == []


def test_the_last_hundredth_of_an_order_fills_at_the_next_level():
    books = BookManager()
    snap(books, KALSHI, KT, [("0.38", 10)], [("0.40", 4), ("0.41", 10)], T0)
    snap(books, POLYMARKET, YT, [("0.55", 10)], [("0.57", 10)], T0)
    sim = simulator()
    kalshi, _ = sim.submit(decision(4 * C + C // 100), PairBooks(spec(), books), T0)

    rows = sim.execute(kalshi, books, T0 + 10 * MS)

    # 4 at 0.40, then the remaining 0.01 at 0.41 (0.0041; fee ceil(0.07 x 0.01 x 0.2419) = 0.01)
    assert [(f.price, f.size, f.notional, f.fee) for f in rows] == [
        (p("0.40"), 4 * C, usd("1.60"), usd("0.07")),
        (p("0.41"), C // 100, usd("0.0041"), usd("0.01")),
    ]


def test_a_denied_decision_places_no_orders():
    books = standard_books()
    sim = simulator()
    denied = RiskDecision(
        decision_id=1, opportunity_id="opp1", pair="pair-a", direction=BUY_KALSHI_YES_POLY_NO,
        ns=T0, approved=False, reason="cooldown", requested_size=10 * C, approved_size=0,
        limited_by=None, edge=0, expected_profit=0,
    )

    assert sim.submit(denied, PairBooks(spec(), books), T0) == []
    assert (sim.next_due_ns(), sim.open_trades()) == (None, 0)
