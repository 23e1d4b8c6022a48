"""Latency models: seeded determinism and empirical sampling."""

from __future__ import annotations

import random

import pytest

from arbkit.config import Latency
from arbkit.core.events import KALSHI, POLYMARKET
from arbkit.core.latency import (
    ConstantLatency,
    EmpiricalLatency,
    latency_model_from_config,
)


def _draws(model, seed: int, n: int = 50) -> list[int]:
    rng = random.Random(seed)
    return [model.sample(KALSHI if i % 2 == 0 else POLYMARKET, rng) for i in range(n)]


def test_constant_latency_without_jitter_is_the_configured_milliseconds_in_ns():
    model = ConstantLatency(kalshi_ms=50, polymarket_ms=120.5, jitter_ms=0)

    rng = random.Random(1)

    # 50 ms = 50_000_000 ns; 120.5 ms = 120_500_000 ns
    assert model.sample(KALSHI, rng) == 50_000_000
    assert model.sample(POLYMARKET, rng) == 120_500_000


def test_constant_latency_jitter_only_adds_and_stays_within_bound():
    model = ConstantLatency(kalshi_ms=10, polymarket_ms=20, jitter_ms=5)

    draws = [model.sample(KALSHI, random.Random(seed)) for seed in range(200)]

    # base 10 ms, jitter in [0, 5 ms] -> every draw in [10_000_000, 15_000_000]
    assert min(draws) >= 10_000_000
    assert max(draws) <= 15_000_000
    assert len(set(draws)) > 100  # the jitter really varies


def test_same_seed_gives_the_same_draws():
    model = ConstantLatency(kalshi_ms=10, polymarket_ms=20, jitter_ms=5)

    assert _draws(model, seed=42) == _draws(model, seed=42)


def test_different_seeds_give_different_draws():
    model = ConstantLatency(kalshi_ms=10, polymarket_ms=20, jitter_ms=5)

    assert _draws(model, seed=1) != _draws(model, seed=2)


def test_empirical_latency_draws_only_measured_values_per_venue():
    model = EmpiricalLatency.from_samples(
        {KALSHI: [3_000_000, 1_000_000, 2_000_000], POLYMARKET: [9_000_000]}
    )
    rng = random.Random(7)

    kalshi = {model.sample(KALSHI, rng) for _ in range(200)}
    poly = {model.sample(POLYMARKET, rng) for _ in range(20)}

    assert kalshi == {1_000_000, 2_000_000, 3_000_000}  # 200 draws hit all three values
    assert poly == {9_000_000}


def test_empirical_latency_is_deterministic_and_independent_of_sample_order():
    forward = EmpiricalLatency.from_samples({KALSHI: [1, 2, 3, 4, 5], POLYMARKET: [7, 8]})
    shuffled = EmpiricalLatency.from_samples({POLYMARKET: [8, 7], KALSHI: [5, 3, 1, 4, 2]})

    assert _draws(forward, seed=3) == _draws(shuffled, seed=3)
    assert _draws(forward, seed=3) != _draws(forward, seed=4)


def test_empirical_latency_clamps_negative_clock_skew_to_zero():
    model = EmpiricalLatency.from_samples({KALSHI: [-5_000_000]})

    assert model.sample(KALSHI, random.Random(0)) == 0


def test_empirical_latency_rejects_a_venue_without_samples():
    with pytest.raises(ValueError, match="polymarket"):
        EmpiricalLatency.from_samples({KALSHI: [1], POLYMARKET: []})


def test_model_from_config_builds_the_named_model():
    constant = latency_model_from_config(Latency(kalshi_ms=5, polymarket_ms=6))
    empirical = latency_model_from_config(
        Latency(model="empirical"), {KALSHI: [11], POLYMARKET: [12]}
    )

    rng = random.Random(0)
    assert constant.sample(POLYMARKET, rng) == 6_000_000
    assert empirical.sample(POLYMARKET, rng) == 12
    with pytest.raises(ValueError, match="samples"):
        latency_model_from_config(Latency(model="empirical"))
