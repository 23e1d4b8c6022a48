"""Sandbox fidelity without sockets: sub-penny and fractional books, tick size changes,
resolutions and new markets in the scenario, the sessions' frames and generated recordings."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from decimal import Decimal

import orjson
import pytest

from arbkit.config import load_config
from arbkit.core.book import BookManager
from arbkit.core.fixedpoint import SIZE_SCALE
from arbkit.sandbox.generate import generate_recording, iter_generated_batches
from arbkit.sandbox.kalshi import KalshiSession
from arbkit.sandbox.polymarket import PolymarketSession
from arbkit.sandbox.scenario import (
    CENT,
    KALSHI,
    ONE,
    POLYMARKET,
    SUBPENNY,
    Scenario,
    ScenarioConfig,
    fidelity,
    with_options,
)
from arbkit.venues import make_decoder
from tests.sandbox.fidelity_checks import settlements

ARBKIT = [sys.executable, "-c", "from arbkit.cli import main; main()"]
HUNDREDTH = SIZE_SCALE // 100


def _full(seed: int, pairs: int = 3, rate: float = 400.0, duration_s: float = 40.0, **options) -> ScenarioConfig:
    base = ScenarioConfig(seed=seed, pairs=pairs, rate=rate, dislocation_every_s=3.0, tick_change_every_s=5.0)
    return with_options(fidelity(base, duration_s), **options)


@pytest.mark.parametrize("seed", [1, 2])
def test_fidelity_books_stay_on_their_grid_uncrossed_and_without_edge_outside_dislocations(seed):
    sc = Scenario(_full(seed))
    ticks_seen, fractional_sizes = set(), 0
    for _ in range(40_000):
        sc.step()
        for pair in range(3):
            for venue in (KALSHI, POLYMARKET):
                bids, asks = sc.book(venue, pair)
                grid = sc.quotes[venue][pair].grid
                assert not (bids and asks and max(bids) >= min(asks))
                assert all(p % grid == 0 for p in (*bids, *asks))
                if venue == POLYMARKET:
                    assert grid == sc.tick(pair)
                    ticks_seen.add((pair, grid))
                elif pair == 0:
                    fractional_sizes += any(s % CENT for s in (*bids.values(), *asks.values()))
            k_bids, k_asks = sc.book(KALSHI, pair)
            p_bids, p_asks = sc.book(POLYMARKET, pair)
            if sc.state[pair].frozen is None:
                assert not (p_bids and k_asks and max(p_bids) > min(k_asks))
                assert not (k_bids and p_asks and max(k_bids) > min(p_asks))
    assert (0, SUBPENNY) in ticks_seen and (2, CENT) in ticks_seen and (2, SUBPENNY) in ticks_seen
    assert fractional_sizes > 0
    # Pair 0 (of 3: the first half, rounded up, resolve) and pair 1 resolved; their books emptied.
    assert [s.resolved for s in sc.state] == [True, True, False]
    for pair in (0, 1):
        for venue in (KALSHI, POLYMARKET):
            assert sc.book(venue, pair) == ({}, {})
    done = sc.completed_dislocations()
    assert all(400 <= d.gross_edge <= 800 for d in done)


def test_each_resolving_pair_gets_a_last_dislocation_then_both_venues_announce_the_outcome():
    sc = Scenario(_full(3, pairs=2, duration_s=20.0))
    items = []
    while sc.now_ns - sc.epoch_ns < 20e9:
        t, k_items, p_items = sc.step()
        items += [(t - sc.epoch_ns, i) for i in (*k_items, *p_items) if i[0] in ("kr", "pr")]
    # 75% of 20 s: pair 0 resolves at 15 s, Kalshi first (even pair), Polymarket 0.2 s later
    # with the same outcome, Kalshi settles 1 s later; pair 1 is the last pair and goes on.
    result = items[0][1][3]
    assert [(round(t / 1e9, 1), i) for t, i in items] == [
        (15.0, ("kr", 0, "determined", result)), (15.2, ("pr", 0, result == "yes")),
        (16.0, ("kr", 0, "settled", result))]
    last = [d for d in sc.dislocations if d.pair == 0 and d.start_ns - sc.epoch_ns >= 11.9e9]
    assert last and last[0].start_ns - sc.epoch_ns == 12e9


def test_kalshi_lifecycle_frames_go_to_lifecycle_subscriptions_only():
    sc = Scenario(_full(4, pairs=2, duration_s=12.0))
    lifecycle, books_only = KalshiSession(sc), KalshiSession(sc)
    tickers = [p.kalshi_ticker for p in sc.pairs]
    lifecycle.handle(orjson.dumps({"id": 1, "cmd": "subscribe", "params": {"channels": ["market_lifecycle_v2"]}}))
    books_only.handle(orjson.dumps({"id": 1, "cmd": "subscribe", "params": {
        "channels": ["orderbook_delta"], "market_tickers": tickers}}))
    seen, other = [], []
    while sc.now_ns - sc.epoch_ns < 12e9:
        t, k_items, _ = sc.step()
        seen += [orjson.loads(f) for f in lifecycle.on_items(t, k_items)]
        other += [orjson.loads(f)["type"] for f in books_only.on_items(t, k_items)]
    assert [(f["type"], f["msg"]["market_ticker"], f["msg"]["event_type"]) for f in seen] == [
        ("market_lifecycle_v2", tickers[0], "determined"), ("market_lifecycle_v2", tickers[0], "settled")]
    assert seen[0]["msg"]["result"] in ("yes", "no") and seen[0]["msg"]["determination_ts"] > 0
    assert set(other) == {"orderbook_delta"}


def test_polymarket_custom_features_bring_market_resolved_for_subscribed_pairs_and_every_new_market():
    sc = Scenario(_full(5, pairs=2, duration_s=12.0, new_market_every_s=1.0))
    yes0 = sc.pairs[0].polymarket_yes_token
    custom, custom_other, plain = PolymarketSession(sc), PolymarketSession(sc), PolymarketSession(sc)
    custom.handle(orjson.dumps({"type": "market", "assets_ids": [yes0], "custom_feature_enabled": True}))
    custom_other.handle(orjson.dumps({"type": "market", "assets_ids": [sc.pairs[1].polymarket_yes_token],
                                      "custom_feature_enabled": True}))
    plain.handle(orjson.dumps({"type": "market", "assets_ids": [yes0]}))
    kinds = {"custom": [], "other": [], "plain": []}
    resolved = []
    while sc.now_ns - sc.epoch_ns < 12e9:
        t, _, p_items = sc.step()
        for name, session in (("custom", custom), ("other", custom_other), ("plain", plain)):
            for frame in session.on_items(t, p_items):
                event = orjson.loads(frame)
                kinds[name].append(event["event_type"])
                if event["event_type"] == "market_resolved":
                    resolved.append((name, event))
    assert kinds["custom"].count("new_market") == kinds["other"].count("new_market") >= 5
    assert "new_market" not in kinds["plain"] and "market_resolved" not in kinds["plain"]
    assert [name for name, _ in resolved] == ["custom"]
    event = resolved[0][1]
    assert event["assets_ids"] == [yes0, sc.pairs[0].polymarket_no_token]
    assert event["winning_asset_id"] in event["assets_ids"]
    decoded = make_decoder("polymarket").decode(orjson.dumps(event), 1)
    assert {(e.market, e.outcome) for e in decoded} == {
        (a, "yes" if a == event["winning_asset_id"] else "no") for a in event["assets_ids"]}


def test_sub_penny_prices_and_fractional_counts_reach_the_books_exactly():
    """Decoded frame by frame, the generated feed rebuilds the scenario's own books to the unit."""
    sc = Scenario(_full(6, pairs=2, rate=1000.0, duration_s=60.0, resolve_at_s=None))
    decoders = {v: make_decoder(v) for v in ("kalshi", "polymarket")}
    books = BookManager()
    kinds = set()
    for batch in iter_generated_batches(sc, 60_000, "s", custom_features=True, batch_rows=5000):
        for venue, kind, payload in zip(*(batch.column(c).to_pylist() for c in ("venue", "kind", "payload"))):
            if kind == "in":
                books.apply(decoders[venue].decode(payload, 1))
                obj = orjson.loads(payload)
                kinds.add(obj.get("type") or obj.get("event_type") if isinstance(obj, dict) else "array")
    assert decoders["kalshi"].decode_errors == decoders["polymarket"].decode_errors == 0
    assert {"tick_size_change", "new_market", "price_change", "book", "orderbook_delta"} <= kinds
    for spec in sc.pairs:
        k_bids, k_asks = sc.book(KALSHI, spec.index)
        kalshi = books.get("kalshi", spec.kalshi_ticker)
        assert kalshi.valid
        assert (kalshi.bids, kalshi.asks) == ({p: s * HUNDREDTH for p, s in k_bids.items()},
                                              {p: s * HUNDREDTH for p, s in k_asks.items()})
        p_bids, p_asks = sc.book(POLYMARKET, spec.index)
        yes = books.get("polymarket", spec.polymarket_yes_token)
        no = books.get("polymarket", spec.polymarket_no_token)
        assert (yes.bids, yes.asks) == ({p: s * HUNDREDTH for p, s in p_bids.items()},
                                        {p: s * HUNDREDTH for p, s in p_asks.items()})
        assert (no.bids, no.asks) == ({ONE - p: s * HUNDREDTH for p, s in p_asks.items()},
                                      {ONE - p: s * HUNDREDTH for p, s in p_bids.items()})
    kalshi0 = books.get("kalshi", sc.pairs[0].kalshi_ticker)
    assert any(p % CENT for p in kalshi0.bids) and any(s % SIZE_SCALE for s in kalshi0.bids.values())


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """A generated fidelity recording of 3 pairs, resolutions near its end, replayed twice."""
    root = tmp_path_factory.mktemp("fidelity")
    config = fidelity(ScenarioConfig(), 60.0)
    generate_recording(root / "rec", frames=150_000, pairs=3, seed=4, rate=1500.0,
                       scenario_config=replace(config, resolve_at_s=None), resolve=True)
    runs = []
    for name in ("a", "b"):
        done = subprocess.run([*ARBKIT, "replay", "--from", str(root / "rec"), "--config",
                               str(root / "rec" / "arbkit.toml"), "--out", str(root / name)],
                              capture_output=True, timeout=300, check=False)
        assert done.returncode == 0, done.stderr.decode()
        runs.append(root / name)
    return root / "rec", runs


def test_a_generated_fidelity_recording_replays_deterministically_without_decode_errors(generated):
    recording, (a, b) = generated
    meta_a, meta_b = (orjson.loads((run / "run.json").read_bytes()) for run in (a, b))
    assert meta_a["decode_errors"] == 0
    assert meta_a["outputs"] == meta_b["outputs"]
    text = (recording / "arbkit.toml").read_text()
    assert 'channels = ["orderbook_delta", "market_lifecycle_v2"]' in text
    assert "custom_feature_enabled = true" in text


def test_a_generated_recording_settles_the_resolved_pairs_at_one_dollar_or_nothing(generated):
    recording, (run, _) = generated
    config = load_config(recording / "arbkit.toml")
    done = settlements(recording, run, config)
    # Of 3 pairs the first 2 resolve: pair 0 announced first by Kalshi, pair 1 by Polymarket.
    assert [(s.pair, s.venue) for s in done] == [(config.pairs[0].name, "kalshi"),
                                                 (config.pairs[1].name, "polymarket")]
    for s in done:
        assert s.held, f"nothing held on {s.pair} when it resolved"
        assert {row["venue"] for row in s.held} == {"kalshi", "polymarket"}
        assert s.realised_after - s.realised_before == s.hand_computed_pnl()
        assert s.held_after == 0
    # Worked through once: every contract of the winning side is worth exactly $1.
    s = done[0]
    winning = sum((row["size"] for row in s.held if row["outcome"] == s.winner), Decimal(0))
    cost = sum((row["cost"] for row in s.held), Decimal(0))
    assert s.hand_computed_pnl() == winning - cost


def test_old_kalshi_eras_and_a_lone_pair_refuse_what_they_cannot_send(tmp_path):
    serve = subprocess.run([*ARBKIT, "sandbox", "serve", "--workdir", str(tmp_path / "sb"), "--kalshi-era", "a",
                            "--subpenny", "1", "--duration", "1"], capture_output=True, text=True, timeout=60)
    assert serve.returncode == 2 and serve.stderr.startswith("Error: Kalshi field era 'a'")
    assert len(serve.stderr.strip().splitlines()) == 1
    generate = subprocess.run([*ARBKIT, "sandbox", "generate", "--out", str(tmp_path / "g"), "--frames", "100",
                               "--pairs", "1", "--resolve"], capture_output=True, text=True, timeout=60)
    assert generate.returncode == 2 and "at least 2 pairs" in generate.stderr
    assert len(generate.stderr.strip().splitlines()) == 1


def test_default_faults_turn_the_fidelity_options_on_and_write_what_carries_them(tmp_path):
    from arbkit.sandbox.server import Sandbox

    plain = Sandbox(tmp_path / "a", pairs=2, faults="none")._scenario_config
    full = Sandbox(tmp_path / "b", pairs=2, faults="default", duration_s=60.0)._scenario_config
    old_era = Sandbox(tmp_path / "c", pairs=2, faults="default", kalshi_era="b")._scenario_config
    assert (plain.subpenny_pairs, plain.resolve_at_s, plain.new_market_every_s) == (0, None, None)
    assert (full.subpenny_pairs, full.fractional_pairs, full.resolve_at_s) == (1, 1, 45.0)
    assert full.tick_change_at_s == 18.0 and full.new_market_every_s == 20.0
    assert (old_era.subpenny_pairs, old_era.fractional_pairs, old_era.resolve_at_s) == (0, 0, None)
