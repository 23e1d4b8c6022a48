"""The paper portfolio: locked-in P&L, settlement, mark-to-market, realised P&L per UTC day.

Units: prices in ticks of $0.0001, sizes in millionths of a contract, money in micro-dollars.
Trades are produced by the real FillSimulator on hand-built books; fee arithmetic is in comments.
"""

from __future__ import annotations

import random

from arbkit.core.book import BookManager
from arbkit.core.events import KALSHI, POLYMARKET, Resolution
from arbkit.core.fills import FillSimulator, PaperFill, TradeOutcome
from arbkit.core.latency import ConstantLatency
from arbkit.core.pairs import BUY_KALSHI_YES_POLY_NO, PairBooks
from arbkit.core.portfolio import NS_PER_DAY, Portfolio, utc_day, value_micros
from arbkit.core.risk import RiskDecision

from core_builders import KT, MS, NT, T0, YT, C, p, snap, spec, standard_books, usd


def trade(books: BookManager, on_unmatched: str = "unwind", kill_poly_leg: bool = False) -> list:
    """Run one 10-contract buy_kalshi_yes_poly_no trade through the fill simulator."""
    sim = FillSimulator([spec()], ConstantLatency(10, 20), random.Random(0), on_unmatched)
    decision = RiskDecision(
        decision_id=1,
        opportunity_id="opp",
        pair="pair-a",
        direction=BUY_KALSHI_YES_POLY_NO,
        ns=T0,
        approved=True,
        reason="approved",
        requested_size=10 * C,
        approved_size=10 * C,
        limited_by=None,
        edge=0,
        expected_profit=0,
    )
    sim.submit(decision, PairBooks(spec(), books), T0)
    rows = []
    for order in sim.due(T0 + 10 * MS):
        rows += sim.execute(order, books, order.arrival_ns)
    if kill_poly_leg:
        snap(books, POLYMARKET, YT, [], [("0.57", 10)], T0 + 15 * MS)
    for order in sim.due(T0 + 20 * MS):
        rows += sim.execute(order, books, order.arrival_ns)
    return rows


def test_matched_trade_books_hedged_positions_fees_and_locked_in_pnl():
    books = standard_books()
    portfolio = Portfolio([spec()])

    portfolio.apply(trade(books))
    positions, pnl = portfolio.snapshot(T0 + 20 * MS, books)

    rows = [(r.venue, r.outcome, r.size, r.cost, r.hedged_size, r.naked_size) for r in positions]
    assert rows == [
        # 10 x 0.40 + fee 0.17 = 4.17
        (KALSHI, "yes", 10 * C, usd("4.17"), 10 * C, 0),
        # 10 x 0.45 + fee 0.07425 = 4.57425
        (POLYMARKET, "no", 10 * C, usd("4.57425"), 10 * C, 0),
    ]
    # $1 x 10 - 4.17 - 4.57425 = 1.25575, unrealised until settlement
    assert (pnl.locked_in, pnl.unrealised, pnl.realised, pnl.total) == (
        usd("1.25575"), usd("1.25575"), 0, usd("1.25575"),
    )
    assert (pnl.kalshi_fees, pnl.polymarket_fees, pnl.fees) == (
        usd("0.17"), usd("0.07425"), usd("0.24425"),
    )
    assert (pnl.total_exposure, pnl.unhedged_exposure) == (usd("8.74425"), 0)
    assert portfolio.pair_position("pair-a") == 10 * C


def test_resolution_settles_both_venues_and_realises_the_locked_in_pnl():
    books = standard_books()
    portfolio = Portfolio([spec()])
    portfolio.apply(trade(books))

    # Kalshi resolves NO: the Polymarket NO leg pays $10, the Kalshi YES leg nothing.
    realised = portfolio.on_resolution(Resolution(KALSHI, T0 + 60 * MS, KT, "no"))
    positions, pnl = portfolio.snapshot(T0 + 60 * MS)

    # 10.00 - 4.17 - 4.57425 = 1.25575, the amount that was locked in
    assert realised == usd("1.25575")
    assert positions == []
    assert (pnl.realised, pnl.locked_in, pnl.unrealised) == (usd("1.25575"), 0, 0)
    assert portfolio.realised_on_day(utc_day(T0 + 60 * MS)) == usd("1.25575")
    assert portfolio.total_exposure() == 0


def test_no_token_resolving_yes_means_no_won():
    books = standard_books()
    portfolio = Portfolio([spec()])
    portfolio.apply(trade(books, "hold", kill_poly_leg=True))  # naked Kalshi YES, cost 4.17

    realised = portfolio.on_resolution(Resolution(POLYMARKET, T0 + 60 * MS, NT, "yes"))

    # NO won: the 10 YES held pay nothing, -4.17
    assert realised == usd("-4.17")


def test_naked_yes_settles_at_one_dollar_when_yes_wins():
    books = standard_books()
    portfolio = Portfolio([spec()])
    portfolio.apply(trade(books, "hold", kill_poly_leg=True))

    realised = portfolio.on_resolution(Resolution(POLYMARKET, T0 + 60 * MS, YT, "yes"))

    # 10 x $1 - 4.17 = 5.83
    assert realised == usd("5.83")
    assert portfolio.pair_position("pair-a") == 0


def test_void_resolution_settles_nothing():
    books = standard_books()
    portfolio = Portfolio([spec()])
    portfolio.apply(trade(books))

    assert portfolio.on_resolution(Resolution(KALSHI, T0 + 60 * MS, KT, "void")) == 0
    assert portfolio.pair_position("pair-a") == 10 * C


def test_naked_leg_is_marked_to_market_at_the_best_bid_of_the_held_side():
    books = standard_books()
    portfolio = Portfolio([spec()])
    portfolio.apply(trade(books, "hold", kill_poly_leg=True))

    positions, pnl = portfolio.snapshot(T0 + 30 * MS, books)
    # Kalshi YES best bid 0.38: 10 x 0.38 = 3.80 against cost 4.17 -> -0.37
    assert (positions[0].mark_price, positions[0].naked_value) == (p("0.38"), usd("3.80"))
    assert (pnl.naked_mtm, pnl.unrealised, pnl.locked_in) == (usd("-0.37"), usd("-0.37"), 0)
    assert (pnl.total_exposure, pnl.unhedged_exposure) == (usd("4.17"), usd("4.17"))

    snap(books, KALSHI, KT, [("0.45", 5)], [("0.47", 5)], T0 + 40 * MS)
    _, pnl = portfolio.snapshot(T0 + 40 * MS, books)
    # 10 x 0.45 = 4.50 - 4.17 = +0.33
    assert pnl.naked_mtm == usd("0.33")

    books.book(KALSHI, KT).invalidate("disconnect")
    _, pnl = portfolio.snapshot(T0 + 50 * MS, books)
    assert pnl.naked_mtm == usd("0.33")  # an invalid book keeps the last mark

    snap(books, KALSHI, KT, [], [("0.47", 5)], T0 + 60 * MS)
    _, pnl = portfolio.snapshot(T0 + 60 * MS, books)
    assert pnl.naked_mtm == usd("-4.17")  # nobody bids: worth nothing


def test_naked_no_on_kalshi_is_marked_at_one_minus_the_yes_ask():
    books = standard_books()
    portfolio = Portfolio([spec()])
    outcome = TradeOutcome(
        decision_id=9, opportunity_id="o", pair="pair-a", direction="buy_poly_yes_kalshi_no",
        ns=T0, kalshi_outcome="no", kalshi_filled=2 * C, kalshi_cost=usd("1.25"), kalshi_fees=0,
        polymarket_outcome="yes", polymarket_filled=0, polymarket_cost=0, polymarket_fees=0,
        matched_size=0, kalshi_matched_cost=0, polymarket_matched_cost=0, locked_in_pnl=0,
        remainder_venue=KALSHI, remainder_outcome="no", remainder_size=2 * C,
        remainder_cost=usd("1.25"), action="hold", unwound_size=0, unwind_proceeds=0,
        unwind_fees=0, held_size=2 * C, held_cost=usd("1.25"), legging_pnl=None,
    )
    portfolio.apply([outcome])

    _, pnl = portfolio.snapshot(T0, books)

    # NO bid = 1 - YES ask 0.40 = 0.60: 2 x 0.60 = 1.20 - 1.25 = -0.05
    assert pnl.naked_mtm == usd("-0.05")


def test_unwind_legging_loss_is_realised_on_its_utc_day():
    books = standard_books()
    portfolio = Portfolio([spec()])

    portfolio.apply(trade(books, "unwind", kill_poly_leg=True))
    _, pnl = portfolio.snapshot(T0 + 20 * MS, books)

    # 3.80 - 0.17 - 4.17 = -0.54; fees 0.17 buy + 0.17 sell on Kalshi
    day = utc_day(T0 + 20 * MS)
    assert portfolio.realised_on_day(day) == usd("-0.54")
    assert portfolio.realised_on_day(day + 1) == 0
    assert (pnl.realised, pnl.realised_today, pnl.kalshi_fees) == (
        usd("-0.54"), usd("-0.54"), usd("0.34"),
    )
    _, next_day = portfolio.snapshot(T0 + NS_PER_DAY, books)
    assert (next_day.realised, next_day.realised_today) == (usd("-0.54"), 0)
    assert portfolio.pair_position("pair-a") == 0


def test_fills_only_count_fees_positions_come_from_completed_trades():
    portfolio = Portfolio([spec()])
    fill = PaperFill(
        order_id="d1-kalshi", decision_id=1, pair="pair-a", venue=KALSHI, market=KT,
        outcome="yes", action="buy", price=p("0.40"), size=C, notional=usd("0.40"),
        fee=usd("0.02"), ns=T0,
    )

    portfolio.apply([fill])

    assert portfolio.fees[KALSHI] == usd("0.02")
    assert portfolio.pair_position("pair-a") == 0


def held(venue: str, outcome: str, size: int, cost: int) -> TradeOutcome:
    """A completed trade that left `size` of `outcome` on `venue` naked (nothing matched)."""
    kalshi_side = outcome if venue == KALSHI else ("no" if outcome == "yes" else "yes")
    return TradeOutcome(
        decision_id=9, opportunity_id="o", pair="pair-a", direction="d", ns=T0,
        kalshi_outcome=kalshi_side, kalshi_filled=size if venue == KALSHI else 0,
        kalshi_cost=cost if venue == KALSHI else 0, kalshi_fees=0,
        polymarket_outcome="yes" if kalshi_side == "no" else "no",
        polymarket_filled=size if venue == POLYMARKET else 0,
        polymarket_cost=cost if venue == POLYMARKET else 0, polymarket_fees=0, matched_size=0,
        kalshi_matched_cost=0, polymarket_matched_cost=0, locked_in_pnl=0, remainder_venue=venue,
        remainder_outcome=outcome, remainder_size=size, remainder_cost=cost, action="hold",
        unwound_size=0, unwind_proceeds=0, unwind_fees=0, held_size=size, held_cost=cost,
        legging_pnl=None,
    )


def test_naked_polymarket_yes_is_marked_at_the_yes_tokens_best_bid():
    books = standard_books()  # Polymarket YES bid 0.55, ask 0.57
    portfolio = Portfolio([spec()])
    portfolio.apply([held(POLYMARKET, "yes", 2 * C, usd("1.00"))])

    positions, pnl = portfolio.snapshot(T0, books)

    # 2 x 0.55 = 1.10 - 1.00
    assert (positions[0].mark_price, pnl.naked_mtm) == (p("0.55"), usd("0.10"))


def test_naked_polymarket_no_is_marked_from_the_yes_book_until_the_no_book_is_seeded():
    books = standard_books()
    portfolio = Portfolio([spec()])
    portfolio.apply([held(POLYMARKET, "no", 2 * C, usd("1.00"))])

    _, from_yes_book = portfolio.snapshot(T0, books)
    snap(books, POLYMARKET, NT, [("0.41", 10)], [("0.44", 10)], T0 + MS)
    _, from_no_book = portfolio.snapshot(T0 + MS, books)
    books.book(POLYMARKET, NT).invalidate("seq_gap")
    snap(books, POLYMARKET, YT, [("0.10", 10)], [("0.20", 10)], T0 + 2 * MS)
    _, no_book_invalid = portfolio.snapshot(T0 + 2 * MS, books)

    # NO bid = 1 - YES ask 0.57 = 0.43: 0.86 - 1.00; then the NO token's own bid 0.41: 0.82 - 1.00;
    # an invalid NO book keeps that mark even though the YES book moved.
    assert from_yes_book.naked_mtm == usd("-0.14")
    assert from_no_book.naked_mtm == usd("-0.18")
    assert no_book_invalid.naked_mtm == usd("-0.18")


def test_a_naked_leg_on_a_book_never_seen_keeps_its_cost_as_its_value():
    portfolio = Portfolio([spec()])
    portfolio.apply([held(KALSHI, "yes", 2 * C, usd("0.81"))])

    positions, pnl = portfolio.snapshot(T0, BookManager())

    assert (positions[0].mark_price, positions[0].naked_value, pnl.naked_mtm) == (None, usd("0.81"), 0)


def test_value_is_rounded_down_to_the_micro_dollar_in_integers():
    # 1.234567 contracts at 0.3333 = 0.41148118... -> 0.411481
    value = value_micros(1_234_567, p("0.3333"))

    assert (value, type(value)) == (411_481, int)
