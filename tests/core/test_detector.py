"""Arbitrage sizing after fees, ask ladders of a pair, and opportunity windows (DESIGN §6).

Units: prices in ticks of $0.0001, sizes in millionths of a contract, money in micro-dollars,
edges in micro-dollars per contract pair. Fee arithmetic is written out next to each expectation.
"""

from __future__ import annotations

import os
import subprocess
import sys
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arbkit.config import Detector as DetectorConfig
from arbkit.config import FeeOverride, Pair
from arbkit.core.book import BookManager
from arbkit.core.detector import (
    CLOSE_BOOK_INVALID,
    CLOSE_EDGE_GONE,
    CLOSE_END_OF_DATA,
    CLOSE_STALE,
    CLOSED,
    NO_TRADE,
    OPENED,
    PEAK,
    Detector,
    best_trade,
    edge_at,
    opportunity_id,
)
from arbkit.core.events import (
    ASK,
    BID,
    INVALID_SEQ_GAP,
    KALSHI,
    POLYMARKET,
    BookInvalid,
    BookSnapshot,
    LevelDelta,
    LevelSet,
    SeqGap,
)
from arbkit.core.fees import FeeParams, datetime_to_ns
from arbkit.core.pairs import BUY_KALSHI_YES_POLY_NO, BUY_POLY_YES_KALSHI_NO, PairSpec

from core_builders import MS, NT, T0, YT, C, p, usd

KT = "KXTEST-26NOV26-A"


def make_pair(multiplier: str = "1", rate: str = "0", overrides=()) -> Pair:
    return Pair(
        name="p",
        kalshi_ticker=KT,
        polymarket_yes_token=YT,
        polymarket_no_token=NT,
        kalshi_fee_multiplier=Decimal(multiplier),
        polymarket_fee_rate=Decimal(rate),
        fee_overrides=list(overrides),
    )


def make_detector(pair: Pair | None = None, min_edge="0.01", min_size="1", max_staleness_ms=5000):
    config = DetectorConfig(
        min_edge=Decimal(min_edge), min_size=Decimal(min_size), max_staleness_ms=max_staleness_ms
    )
    return Detector([pair or make_pair()], config)


class Harness:
    """Drives books and detector the way the engine does: one call per frame."""

    def __init__(self, detector: Detector) -> None:
        self.detector = detector
        self.books = BookManager()
        self.seq = 0

    def frame(self, ns: int, *events) -> list:
        self.seq += 1
        self.books.apply(list(events))
        names: list[str] = []
        for event in events:
            markets = event.markets if isinstance(event, SeqGap) else (event.market,)
            for market in markets:
                names.extend(self.detector.pairs_for_market(event.venue, market))
        out = self.detector.on_books_changed(names, ns, self.seq, self.books)
        out += self.detector.on_tick(ns, self.seq, self.books)
        return out


def kalshi_snapshot(ns, bids, asks):
    return BookSnapshot(KALSHI, ns, KT, list(bids), list(asks))


def kalshi_delta(ns, side, price, change):
    return LevelDelta(KALSHI, ns, KT, side, price, change)


def poly_snapshot(ns, token, bids, asks):
    return BookSnapshot(POLYMARKET, ns, token, list(bids), list(asks))


def poly_set(ns, token, side, price, size):
    return LevelSet(POLYMARKET, ns, token, side, price, size)


def kinds(events) -> list[tuple[str, str]]:
    return [(e.kind, e.window.direction) for e in events]


# --- best_trade / edge_at ----------------------------------------------------------------------

# Kalshi YES asks 10 @ 0.40, 10 @ 0.45, 20 @ 0.49; Polymarket NO asks 40 @ 0.50, rate 0.02.
DEEP_KALSHI = [(p("0.40"), 10 * C), (p("0.45"), 10 * C), (p("0.49"), 20 * C)]
DEEP_POLY = [(p("0.50"), 40 * C)]
DEEP_FEES = FeeParams(Decimal("1"), Decimal("0.02"))


def test_best_trade_walks_levels_and_stops_where_the_next_level_loses_after_fees():
    # level 1: 10 * (1 - 0.40 - 0.50) = 1.00 gross; Kalshi fee 0.07*10*0.4*0.6 = 0.168 -> 0.17
    # level 2: 10 * (1 - 0.45 - 0.50) = 0.50 gross; Kalshi fee 0.07*10*0.45*0.55 = 0.17325 -> 0.18
    # Polymarket fee for 20 @ 0.50: 20*0.02*0.25 = 0.10
    # profit(20) = 1.50 - 0.17 - 0.18 - 0.10 = 1.05
    # level 3 earns 0.01/contract but costs 0.07*0.49*0.51 = 0.017493 (Kalshi, min 0.02 for the
    # first contract) + 0.005 (Polymarket): profit(21) = 1.51 - 0.37 - 0.105 = 1.035 < 1.05
    result = best_trade(DEEP_KALSHI, DEEP_POLY, DEEP_FEES, min_size=C)

    assert result.size == 20 * C
    assert result.profit == usd("1.05")
    assert result.edge == usd("0.0525")  # 1.05 / 20


def test_best_trade_respects_min_size_even_past_the_best_size():
    # profit(25) = 1.55 - 0.17 - 0.18 - ceil(0.07*5*0.49*0.51 = 0.087465)=0.09 - 25*0.005=0.125
    #            = 0.985; every larger size adds 0.01 gross and more than that in fees
    result = best_trade(DEEP_KALSHI, DEEP_POLY, DEEP_FEES, min_size=25 * C)

    assert (result.size, result.profit) == (25 * C, usd("0.985"))


def test_best_trade_respects_max_size():
    # profit(15) = 1.00 + 0.25 - 0.17 - ceil(0.07*5*0.45*0.55 = 0.086625)=0.09 - 15*0.005=0.075
    #            = 0.915
    result = best_trade(DEEP_KALSHI, DEEP_POLY, DEEP_FEES, min_size=C, max_size=15 * C)

    assert (result.size, result.profit) == (15 * C, usd("0.915"))


def test_best_trade_ties_go_to_the_smaller_size():
    # 5 @ 0.50 on Kalshi, 5 @ 0.48 on Polymarket (no fee): gross 0.02 per contract pair.
    # Kalshi fee ceil(1.75 n) cents: n=1..5 -> 2, 4, 6, 7, 9 cents
    # profit: n=1 0.00, n=2 0.00, n=3 0.00, n=4 0.08-0.07 = 0.01, n=5 0.10-0.09 = 0.01
    fees = FeeParams(Decimal("1"), Decimal("0"))
    result = best_trade([(p("0.50"), 5 * C)], [(p("0.48"), 5 * C)], fees)

    assert (result.size, result.profit) == (4 * C, usd("0.01"))


def test_best_trade_can_stop_inside_a_level_where_the_cent_rounding_favours_it():
    # gross 1 - 0.50 - 0.4824 = 0.0176 per pair against a 0.0175 fee slope:
    # n=4: 0.0704 - 0.07 = 0.0004; n=5: 0.088 - ceil(8.75)=0.09 = -0.002; n=1..3 lose
    fees = FeeParams(Decimal("1"), Decimal("0"))
    result = best_trade([(p("0.50"), 5 * C)], [(p("0.4824"), 5 * C)], fees)

    assert (result.size, result.profit, result.edge) == (4 * C, usd("0.0004"), usd("0.0001"))


def test_best_trade_without_a_profitable_size_is_no_trade():
    fees = FeeParams(Decimal("1"), Decimal("0"))

    assert best_trade([(p("0.50"), 5 * C)], [(p("0.50"), 5 * C)], fees) == NO_TRADE
    assert best_trade([], [(p("0.10"), 5 * C)], fees) == NO_TRADE


def test_best_trade_counts_a_whole_contract_that_straddles_into_a_losing_level():
    # Polymarket 2.5 @ 0.40 then 10 @ 0.60 (no fees anywhere); Kalshi 10 @ 0.50.
    # 2 contracts: 2 * 0.10 = 0.20; 3 contracts: 0.20 + 0.5*0.10 + 0.5*(-0.10) = 0.20 (tie -> 2)
    # with Polymarket 2.6 @ 0.40: 3 contracts: 0.20 + 0.6*0.10 - 0.4*0.10 = 0.22 -> best is 3
    free = FeeParams(Decimal("0"), Decimal("0"))
    kalshi = [(p("0.50"), 10 * C)]

    tie = best_trade(kalshi, [(p("0.40"), 2_500_000), (p("0.60"), 10 * C)], free)
    straddle = best_trade(kalshi, [(p("0.40"), 2_600_000), (p("0.60"), 10 * C)], free)

    assert (tie.size, tie.profit) == (2 * C, usd("0.20"))
    assert (straddle.size, straddle.profit) == (3 * C, usd("0.22"))


def test_edge_at_an_exact_size_and_too_thin_ladders():
    # 1 contract: 1 - 0.40 - 0.50 - ceil(0.0168)=0.02 - 0.005 = 0.075
    one = edge_at(C, DEEP_KALSHI, DEEP_POLY, DEEP_FEES)

    assert one is not None
    assert (one.profit, one.edge) == (usd("0.075"), usd("0.075"))
    assert edge_at(41 * C, DEEP_KALSHI, DEEP_POLY, DEEP_FEES) is None


def test_fractional_step_sizes_in_hundredths_of_a_contract():
    # Kalshi 0.5 @ 0.40, Polymarket 0.5 @ 0.50, no Polymarket fee, Kalshi M=1.
    # 0.50 contracts: gross 0.05; fee 0.07*0.5*0.24 = 0.0084 -> 0.01; profit 0.04
    # 0.43 contracts: gross 0.043; fee 0.07224... 0.07*0.43*0.24 = 0.007224 -> 0.01; profit 0.033
    fees = FeeParams(Decimal("1"), Decimal("0"))
    result = best_trade(
        [(p("0.40"), C // 2)], [(p("0.50"), C // 2)], fees, min_size=10_000, step=10_000
    )

    assert (result.size, result.profit, result.edge) == (C // 2, usd("0.04"), usd("0.08"))


# Independent reference for the property test: Decimal dollars, every integer multiple of the step.
def _ref_profit(size, kalshi, poly, multiplier, rate):
    total = size
    for ladder, venue in ((kalshi, "k"), (poly, "p")):
        left = size
        for price, avail in ladder:
            take = min(avail, left)
            if take:
                raw_k = multiplier * Decimal("0.07") * take * price * (1 - price)
                raw_p = rate * take * price * (1 - price)
                if venue == "k":
                    fee = (raw_k / Decimal("0.01")).to_integral_value(ROUND_CEILING) / 100
                else:
                    fee = raw_p.quantize(Decimal("0.00001"), rounding=ROUND_HALF_UP)
                total -= price * take + fee
            left -= take
        if left:
            return None
    return total


def _to_decimal_ladder(levels):
    return [(Decimal(price) / 10_000, Decimal(size) / C) for price, size in levels]


@st.composite
def _crossing_ladders(draw):
    """Two ladders whose best asks sum to a little under $1 (where rounding decides the size)."""

    def levels(first_price, sizes):
        prices = [first_price]
        for _ in range(draw(st.integers(0, 2))):
            prices.append(prices[-1] + draw(st.integers(1, 300)))
        return [(price, draw(sizes)) for price in prices]

    kalshi_best = draw(st.integers(3_000, 6_000))
    gross = draw(st.integers(-50, 400))  # ticks of $0.0001 per contract pair at the top
    kalshi = levels(kalshi_best, st.integers(1, 12).map(lambda n: n * C))
    poly = levels(10_000 - kalshi_best - gross, st.integers(1, 12_000_000))
    return kalshi, poly


@settings(max_examples=200, deadline=None)
@given(
    ladders=_crossing_ladders(),
    multiplier=st.sampled_from(["0", "0.5", "1", "1.3"]),
    rate=st.sampled_from(["0", "0.0123", "0.03", "0.07"]),
    step=st.sampled_from([C, C // 2, C // 4]),
    min_steps=st.integers(0, 2),
)
def test_best_trade_equals_brute_force_over_every_step_size(
    ladders, multiplier, rate, step, min_steps
):
    kalshi, poly = ladders
    fees = FeeParams(Decimal(multiplier), Decimal(rate))
    min_size = min_steps * step
    dk, dp = _to_decimal_ladder(kalshi), _to_decimal_ladder(poly)
    depth = min(sum(s for _, s in kalshi), sum(s for _, s in poly))
    best_size, best_profit = 0, Decimal(0)
    for n in range(max(1, min_steps), depth // step + 1):
        profit = _ref_profit(Decimal(n * step) / C, dk, dp, Decimal(multiplier), Decimal(rate))
        if profit > best_profit:
            best_size, best_profit = n * step, profit

    result = best_trade(kalshi, poly, fees, min_size=min_size, step=step)

    expected_micros = int((best_profit * 1_000_000).to_integral_value(rounding="ROUND_FLOOR"))
    assert (result.size, result.profit) == (best_size, expected_micros)


# --- ladders of a pair -------------------------------------------------------------------------


def _pair_books(books):
    detector = make_detector()
    return detector.pair_books("p", books)


def test_kalshi_no_asks_are_yes_bids_at_one_minus_p_best_first():
    books = BookManager()
    books.apply([kalshi_snapshot(T0, [(p("0.35"), 4 * C), (p("0.38"), 10 * C)], [(p("0.40"), C)])])
    view = _pair_books(books)

    no_asks = view.kalshi_no_asks()

    assert no_asks == [(p("0.62"), 10 * C), (p("0.65"), 4 * C)]
    assert view.kalshi_yes_asks() == [(p("0.40"), C)]
    assert view.kalshi_no_asks() is no_asks  # unchanged book: no rebuild


def test_polymarket_no_asks_come_from_the_no_book_once_seeded_and_never_from_both():
    books = BookManager()
    books.apply([poly_snapshot(T0, YT, [(p("0.45"), 20 * C)], [(p("0.47"), 20 * C)])])
    view = _pair_books(books)
    derived = view.poly_no_asks()

    books.apply([poly_snapshot(T0 + MS, NT, [(p("0.40"), 3 * C)], [(p("0.57"), 20 * C), (p("0.58"), 5 * C)])])
    from_no_book = view.poly_no_asks()

    assert derived == [(p("0.55"), 20 * C)]
    assert from_no_book == [(p("0.57"), 20 * C), (p("0.58"), 5 * C)]
    assert view.legs(BUY_KALSHI_YES_POLY_NO)[1].market == NT


# --- opportunity windows -------------------------------------------------------------------------


def _open_window(h: Harness) -> list:
    """Frames 1-3: Kalshi YES ask 10 @ 0.40; Polymarket YES bids reach 0.45 on frame 3.

    Frame 3: NO asks 20 @ 0.55 (from YES bids 0.45) and 20 @ 0.60.
    edge at 1 contract = 1 - 0.40 - 0.55 - Kalshi ceil(0.07*0.4*0.6 = 0.0168) = 0.02 -> 0.03
    best trade = 10 contracts (Kalshi depth): 0.50 - ceil(0.168)=0.17 = 0.33
    """
    assert h.frame(T0, kalshi_snapshot(T0, [(p("0.38"), 10 * C)], [(p("0.40"), 10 * C)])) == []
    # YES bid 0.40 -> NO ask 0.60: 0.40 + 0.60 = 1.00, no edge
    assert h.frame(T0 + 100 * MS, poly_snapshot(T0 + 100 * MS, YT, [(p("0.40"), 20 * C)], [(p("0.47"), 20 * C)])) == []
    return h.frame(T0 + 200 * MS, poly_set(T0 + 200 * MS, YT, BID, p("0.45"), 20 * C))


def test_window_opens_peaks_and_closes_on_the_exact_frames():
    h = Harness(make_detector())

    opened = _open_window(h)
    # frame 4: Kalshi ask 0.40 grows to 15: profit(15) = 0.75 - ceil(0.252)=0.26 = 0.49
    peak = h.frame(T0 + 300 * MS, kalshi_delta(T0 + 300 * MS, ASK, p("0.40"), 5 * C))
    # frame 5: back to 10: profit 0.33 < 0.49, still open, no event
    quiet = h.frame(T0 + 350 * MS, kalshi_delta(T0 + 350 * MS, ASK, p("0.40"), -5 * C))
    # frame 6: the 0.45 bid leaves, NO ask back to 0.60: edge gone
    closed = h.frame(T0 + 400 * MS, poly_set(T0 + 400 * MS, YT, BID, p("0.45"), 0))

    assert kinds(opened) == [(OPENED, BUY_KALSHI_YES_POLY_NO)]
    assert kinds(peak) == [(PEAK, BUY_KALSHI_YES_POLY_NO)]
    assert quiet == []
    assert kinds(closed) == [(CLOSED, BUY_KALSHI_YES_POLY_NO)]
    w = closed[0].window
    assert (w.open_ingest_seq, w.open_ns) == (3, T0 + 200 * MS)
    assert (w.close_ingest_seq, w.close_ns, w.close_reason) == (6, T0 + 400 * MS, CLOSE_EDGE_GONE)
    assert w.duration_ns == 200 * MS
    assert w.open_edge_at_min_size == usd("0.03")
    assert (w.open_size, w.open_profit, w.open_edge) == (10 * C, usd("0.33"), usd("0.033"))
    assert (w.peak_ingest_seq, w.peak_ns) == (4, T0 + 300 * MS)
    # peak_edge = 0.49 / 15 = 0.032666... -> 32_666 micro-dollars (rounded down)
    assert (w.peak_size, w.peak_profit, w.peak_edge) == (15 * C, usd("0.49"), 32_666)
    # Kalshi book last updated on frame 1 (200 ms before), Polymarket on frame 3 itself
    assert (w.kalshi_staleness_ns, w.polymarket_staleness_ns) == (200 * MS, 0)
    assert w.polymarket_book == YT
    assert w.pair == "p"
    assert w.opportunity_id == opportunity_id("p", BUY_KALSHI_YES_POLY_NO, 3, T0 + 200 * MS)
    assert h.detector.open_windows() == []


def test_edge_exactly_at_min_edge_opens_a_window():
    # NO book asks 0.57: 1 - 0.40 - 0.57 - 0.02 = 0.01 = min_edge
    h = Harness(make_detector())
    h.frame(T0, kalshi_snapshot(T0, [(p("0.38"), 10 * C)], [(p("0.40"), 10 * C)]))

    events = h.frame(T0 + MS, poly_snapshot(T0 + MS, NT, [], [(p("0.57"), 5 * C)]))

    assert kinds(events) == [(OPENED, BUY_KALSHI_YES_POLY_NO)]
    assert events[0].window.open_edge_at_min_size == usd("0.01")


def test_no_book_asks_govern_even_when_yes_bids_would_show_an_edge():
    # YES bids 0.45 would mean NO at 0.55 (edge 0.03); the seeded NO book asks 0.58:
    # 1 - 0.40 - 0.58 - 0.02 = 0.00 < 0.01 -> no window
    h = Harness(make_detector())
    h.frame(T0, kalshi_snapshot(T0, [(p("0.38"), 10 * C)], [(p("0.40"), 10 * C)]))
    h.frame(T0 + MS, poly_snapshot(T0 + MS, NT, [], [(p("0.58"), 20 * C)]))

    events = h.frame(T0 + 2 * MS, poly_snapshot(T0 + 2 * MS, YT, [(p("0.45"), 20 * C)], [(p("0.47"), 20 * C)]))

    assert events == []


def test_invalid_no_book_closes_the_window_instead_of_falling_back_to_yes_bids():
    h = Harness(make_detector())
    h.frame(T0, kalshi_snapshot(T0, [(p("0.38"), 10 * C)], [(p("0.40"), 10 * C)]))
    h.frame(T0 + MS, poly_snapshot(T0 + MS, YT, [(p("0.40"), 20 * C)], [(p("0.47"), 20 * C)]))
    # NO book asks 0.55: 1 - 0.40 - 0.55 - 0.02 = 0.03
    opened = h.frame(T0 + 2 * MS, poly_snapshot(T0 + 2 * MS, NT, [], [(p("0.55"), 20 * C)]))
    # YES bids now also imply NO at 0.55; the NO book stays the only source
    quiet = h.frame(T0 + 3 * MS, poly_set(T0 + 3 * MS, YT, BID, p("0.45"), 20 * C))

    closed = h.frame(T0 + 4 * MS, BookInvalid(POLYMARKET, T0 + 4 * MS, NT, "disconnect"))

    assert kinds(opened) == [(OPENED, BUY_KALSHI_YES_POLY_NO)]
    assert opened[0].window.polymarket_book == NT
    assert quiet == []
    assert [(e.kind, e.window.close_reason) for e in closed] == [(CLOSED, CLOSE_BOOK_INVALID)]


def test_kalshi_seq_gap_closes_the_window_and_suppresses_new_ones_until_a_snapshot():
    h = Harness(make_detector())
    first = _open_window(h)

    gap = h.frame(T0 + 300 * MS, SeqGap(KALSHI, T0 + 300 * MS, 1, 4, 6, (KT,)))
    reason_after_gap = h.books.get(KALSHI, KT).invalid_reason
    # the invalid Kalshi book ignores deltas; a better Polymarket bid must not reopen anything
    during = h.frame(
        T0 + 400 * MS,
        kalshi_delta(T0 + 400 * MS, ASK, p("0.40"), 5 * C),
        poly_set(T0 + 400 * MS, YT, BID, p("0.46"), 20 * C),
    )
    reseeded = h.frame(T0 + 500 * MS, kalshi_snapshot(T0 + 500 * MS, [(p("0.38"), 10 * C)], [(p("0.40"), 10 * C)]))

    assert [(e.kind, e.window.close_reason, e.ingest_seq) for e in gap] == [
        (CLOSED, CLOSE_BOOK_INVALID, 4)
    ]
    assert reason_after_gap == INVALID_SEQ_GAP
    assert during == []
    assert kinds(reseeded) == [(OPENED, BUY_KALSHI_YES_POLY_NO)]
    assert reseeded[0].window.open_ingest_seq == 6
    assert reseeded[0].window.opportunity_id != first[0].window.opportunity_id


def test_stale_book_closes_the_window_on_the_first_frame_past_max_staleness():
    h = Harness(make_detector(max_staleness_ms=5000))
    _open_window(h)  # Kalshi book last updated at T0

    at_limit = h.frame(T0 + 5000 * MS)  # exactly 5 s old: not yet stale
    past = h.frame(T0 + 5000 * MS + 1)
    still_stale = h.frame(T0 + 5100 * MS, poly_set(T0 + 5100 * MS, YT, BID, p("0.46"), 5 * C))
    refreshed = h.frame(T0 + 5200 * MS, kalshi_delta(T0 + 5200 * MS, BID, p("0.38"), C))

    assert at_limit == []
    assert [(e.kind, e.window.close_reason, e.ingest_seq) for e in past] == [
        (CLOSED, CLOSE_STALE, 5)
    ]
    assert past[0].window.close_ns == T0 + 5000 * MS + 1
    assert still_stale == []
    assert kinds(refreshed) == [(OPENED, BUY_KALSHI_YES_POLY_NO)]


def test_staleness_follows_the_oldest_book_after_the_other_is_refreshed():
    h = Harness(make_detector(max_staleness_ms=5000))
    _open_window(h)  # Kalshi last updated at T0, Polymarket YES at T0 + 200 ms

    refreshed = h.frame(T0 + 3000 * MS, kalshi_delta(T0 + 3000 * MS, BID, p("0.38"), C))
    kalshi_would_be_stale = h.frame(T0 + 5000 * MS + 1)
    poly_stale = h.frame(T0 + 5200 * MS + 1)

    assert refreshed == [] and kalshi_would_be_stale == []
    assert [(e.window.close_reason, e.now_ns) for e in poly_stale] == [
        (CLOSE_STALE, T0 + 5200 * MS + 1)
    ]


def test_window_follows_the_no_book_once_it_replaces_yes_bids_as_the_source():
    h = Harness(make_detector(max_staleness_ms=5000))
    opened = _open_window(h)  # from YES bids 0.45 (NO 0.55)
    # the NO token's book arrives with the same 0.55 asks: same window, no event
    switched = h.frame(T0 + 300 * MS, poly_snapshot(T0 + 300 * MS, NT, [], [(p("0.55"), 20 * C)]))
    h.frame(T0 + 3000 * MS, kalshi_delta(T0 + 3000 * MS, BID, p("0.38"), C))
    h.frame(T0 + 4000 * MS, poly_set(T0 + 4000 * MS, NT, ASK, p("0.55"), 21 * C))

    # the YES book (last update T0 + 200 ms) is past 5 s, but it is no longer read
    yes_book_old = h.frame(T0 + 5200 * MS + 1)
    kalshi_stale = h.frame(T0 + 8000 * MS + 1)

    assert opened[0].window.polymarket_book == YT
    assert switched == [] and yes_book_old == []
    assert [(e.window.close_reason, e.window.open_ingest_seq) for e in kalshi_stale] == [
        (CLOSE_STALE, 3)
    ]


def test_pairs_for_market_names_the_pairs_reading_a_book():
    detector = make_detector()

    assert detector.pairs_for_market(KALSHI, KT) == ("p",)
    assert detector.pairs_for_market(POLYMARKET, NT) == ("p",)
    assert detector.pairs_for_market(POLYMARKET, "other") == ()


def test_close_all_ends_open_windows_with_end_of_data():
    h = Harness(make_detector())
    _open_window(h)

    events = h.detector.close_all(T0 + 900 * MS, 42)

    assert [(e.kind, e.window.close_reason, e.window.close_ingest_seq) for e in events] == [
        (CLOSED, CLOSE_END_OF_DATA, 42)
    ]
    assert events[0].window.duration_ns == 700 * MS
    assert h.detector.close_all(T0 + 901 * MS, 43) == []


def test_buy_poly_yes_kalshi_no_uses_kalshi_bids_and_the_yes_token_asks():
    # Kalshi YES bid 0.45 -> NO ask 0.55; Polymarket YES ask 0.40, no fee there:
    # edge at 1 = 1 - 0.55 - 0.40 - Kalshi ceil(0.07*0.55*0.45 = 0.017325) = 0.02 -> 0.03
    h = Harness(make_detector())
    h.frame(T0, kalshi_snapshot(T0, [(p("0.45"), 10 * C)], [(p("0.47"), 10 * C)]))

    events = h.frame(T0 + MS, poly_snapshot(T0 + MS, YT, [(p("0.38"), 10 * C)], [(p("0.40"), 10 * C)]))

    assert kinds(events) == [(OPENED, BUY_POLY_YES_KALSHI_NO)]
    assert events[0].window.open_edge_at_min_size == usd("0.03")
    assert events[0].window.polymarket_book == YT


def test_dated_fee_override_opens_a_window_when_it_takes_effect_without_a_book_change():
    # Before T0+1s Polymarket charges 0.20: fee on 1 NO @ 0.55 = 0.2*0.55*0.45 = 0.0495
    # edge = 1 - 0.40 - 0.55 - 0.02 - 0.0495 = -0.0195; from T0+1s the rate is 0: edge 0.03
    switch = dt_from_ns(T0 + 1000 * MS)
    pair = make_pair(rate="0.2", overrides=[FeeOverride(since=switch, polymarket_fee_rate=Decimal(0))])
    h = Harness(make_detector(pair))
    h.frame(T0, kalshi_snapshot(T0, [(p("0.38"), 10 * C)], [(p("0.40"), 10 * C)]))
    before = h.frame(T0 + MS, poly_snapshot(T0 + MS, YT, [(p("0.45"), 20 * C)], [(p("0.47"), 20 * C)]))

    just_before = h.frame(T0 + 1000 * MS - 1)
    at_switch = h.frame(T0 + 1000 * MS)

    assert before == [] and just_before == []
    assert kinds(at_switch) == [(OPENED, BUY_KALSHI_YES_POLY_NO)]
    assert at_switch[0].window.open_edge_at_min_size == usd("0.03")


def dt_from_ns(ns: int):
    import datetime as dt

    when = dt.datetime.fromtimestamp(ns // 10**9, tz=dt.timezone.utc)
    when += dt.timedelta(microseconds=ns % 10**9 // 1000)
    assert datetime_to_ns(when) == ns
    return when


def test_min_size_must_be_a_whole_number_of_the_size_step():
    from arbkit.errors import ConfigError

    with pytest.raises(ConfigError, match="min_size"):
        make_detector(min_size="1.5")
    with pytest.raises(ConfigError, match="min_edge"):
        make_detector(min_edge="0.0000001")


def test_pair_spec_rejects_a_size_step_finer_than_a_hundredth():
    with pytest.raises(ValueError):
        PairSpec.from_config(make_pair(), size_step=5_000)


@pytest.mark.e2e
def test_opportunity_id_is_the_same_in_processes_with_different_hash_seeds():
    code = (
        "from arbkit.core.detector import opportunity_id;"
        "print(opportunity_id('NBA: CLE wins', 'buy_kalshi_yes_poly_no', 17, 123))"
    )
    ids = {
        subprocess.run(
            [sys.executable, "-c", code],
            env={**os.environ, "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
            timeout=60,
        ).stdout.strip()
        for seed in ("1", "2")
    }

    assert ids == {opportunity_id("NBA: CLE wins", "buy_kalshi_yes_poly_no", 17, 123)}
