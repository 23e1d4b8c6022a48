"""The pure scenario engine: invariants, ground truth, fees, rates, reproducibility."""

from __future__ import annotations

from decimal import Decimal

import pytest

from arbkit.core.fees import MICROS_PER_DOLLAR, kalshi_taker_fee, polymarket_taker_fee
from arbkit.core.fixedpoint import SIZE_SCALE
from arbkit.sandbox.scenario import (
    BUY_KALSHI_YES,
    BUY_POLY_YES,
    KALSHI,
    KIND_LAG,
    KIND_MISPRICED,
    ONE,
    POLYMARKET,
    Scenario,
    ScenarioConfig,
)


def _gross_edges(sc: Scenario, pair: int) -> dict[str, int | None]:
    """1 - yes_ask - no_ask at top of book for each direction, in ticks (None: a side is empty)."""
    k_bids, k_asks = sc.book(KALSHI, pair)
    p_bids, p_asks = sc.book(POLYMARKET, pair)
    return {
        BUY_KALSHI_YES: max(p_bids) - min(k_asks) if p_bids and k_asks else None,
        BUY_POLY_YES: max(k_bids) - min(p_asks) if k_bids and p_asks else None,
    }


def test_books_are_never_crossed_and_cross_venue_edge_is_positive_only_inside_dislocations():
    sc = Scenario(ScenarioConfig(seed=21, pairs=3, rate=400, dislocation_every_s=3.0))
    windows_seen = set()
    for _ in range(40_000):
        sc.step()
        for pair in range(3):
            for venue in (KALSHI, POLYMARKET):
                bids, asks = sc.book(venue, pair)
                assert not (bids and asks and max(bids) >= min(asks))
                assert all(size > 0 for size in (*bids.values(), *asks.values()))
            edges = _gross_edges(sc, pair)
            active = sc.state[pair].frozen
            if active is None:
                assert all(e is None or e <= 0 for e in edges.values())
            else:
                truth = next(d for d in sc.active_dislocations() if d.dislocation_id == active)
                windows_seen.add(active)
                assert edges[truth.direction] == truth.gross_edge
                other = BUY_POLY_YES if truth.direction == BUY_KALSHI_YES else BUY_KALSHI_YES
                assert edges[other] is None or edges[other] <= 0
    assert len(windows_seen) >= 5


def test_ground_truth_records_top_of_book_prices_size_and_a_window():
    sc = Scenario(ScenarioConfig(seed=22, pairs=2, rate=300, dislocation_every_s=2.0))
    while len(sc.completed_dislocations()) < 12:
        before = {d.dislocation_id for d in sc.dislocations}
        sc.step()
        for d in sc.dislocations:
            if d.dislocation_id in before:
                continue
            yes_venue = KALSHI if d.direction == BUY_KALSHI_YES else POLYMARKET
            yes_asks = sc.book(yes_venue, d.pair)[1]
            no_bids = sc.book(1 - yes_venue, d.pair)[0]
            assert d.yes_ask == min(yes_asks) and d.no_ask == ONE - max(no_bids)
            assert d.gross_edge == ONE - d.yes_ask - d.no_ask
            assert d.size == min(yes_asks[d.yes_ask], no_bids[max(no_bids)])
            assert d.start_ns == sc.now_ns
    done = sc.completed_dislocations()
    assert {d.kind for d in done} == {KIND_LAG, KIND_MISPRICED}
    assert {d.direction for d in done} == {BUY_KALSHI_YES, BUY_POLY_YES}
    assert all(400 <= d.gross_edge <= 800 for d in done)  # 4 to 8 cents
    assert all(0.8e9 <= d.end_ns - d.start_ns <= 3.0e9 for d in done)


def test_every_dislocation_is_profitable_after_both_taker_fees_at_the_configured_rates():
    cfg = ScenarioConfig(seed=23, pairs=4, rate=200, dislocation_every_s=1.0)
    sc = Scenario(cfg)
    while len(sc.completed_dislocations()) < 30:
        sc.step()
    multiplier, rate = Decimal(cfg.kalshi_fee_multiplier), Decimal(cfg.polymarket_fee_rate)
    for d in sc.completed_dislocations():
        contracts = min(d.size // 100, 100)
        size = contracts * SIZE_SCALE
        kalshi_price, poly_price = (d.yes_ask, d.no_ask) if d.direction == BUY_KALSHI_YES else (d.no_ask, d.yes_ask)
        fees = kalshi_taker_fee(size, kalshi_price, multiplier) + polymarket_taker_fee(size, poly_price, rate)
        gross = d.gross_edge * contracts * MICROS_PER_DOLLAR // ONE
        assert gross - fees >= contracts * MICROS_PER_DOLLAR // 100, d  # at least a cent per contract


@pytest.mark.parametrize("rate", [20.0, 3000.0])
def test_frame_rate_per_venue_follows_the_configured_rate(rate):
    sc = Scenario(ScenarioConfig(seed=24, pairs=5, rate=rate))
    counts = [0, 0]
    while sc.now_ns - sc.epoch_ns < 20e9:
        _, k_items, p_items = sc.step()
        counts[0] += sum(1 for i in k_items if i[0] == "kl")
        counts[1] += sum(1 for i in p_items if i[0] in ("pc", "pb"))
    per_second = [c / 20 for c in counts]
    assert all(0.6 * rate <= r <= 1.6 * rate + 30 for r in per_second), per_second


def test_same_seed_gives_the_same_items_and_a_different_seed_does_not():
    def trace(seed: int) -> list:
        sc = Scenario(ScenarioConfig(seed=seed, pairs=3, rate=500))
        return [sc.step() for _ in range(5000)] + [sc.dislocations]

    assert trace(7) == trace(7)
    assert trace(7) != trace(8)


def test_pair_names_are_unique_and_venue_ids_look_like_the_venues():
    sc = Scenario(ScenarioConfig(seed=25, pairs=30))
    specs = sc.pairs
    assert len({s.kalshi_ticker for s in specs}) == 30
    assert len({s.polymarket_yes_token for s in specs} | {s.polymarket_no_token for s in specs}) == 60
    assert all(s.polymarket_yes_token.isdigit() and 70 <= len(s.polymarket_yes_token) <= 78 for s in specs)
    assert all(s.polymarket_condition_id.startswith("0x") and len(s.polymarket_condition_id) == 66 for s in specs)
