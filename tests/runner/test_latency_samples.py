"""The empirical latency model is measured from a recording's feed delay (recv − venue time)."""

from __future__ import annotations

import random

import pytest

from arbkit.config import parse_config
from arbkit.core.latency import EmpiricalLatency
from arbkit.errors import ConfigError
from arbkit.runner.latency import feed_latency_samples, latency_model
from arbkit.store.session import SessionWriter

T0 = 1_790_000_000_000_000_000


def _record(root, delays_ms: dict[str, list[int]]) -> None:
    writer = SessionWriter(root, config={})
    for i, (kalshi, poly) in enumerate(zip(delays_ms["kalshi"], delays_ms["polymarket"])):
        sent_ms = T0 // 1_000_000 + 1000 * i
        k = b'{"type":"orderbook_delta","sid":1,"seq":%d,"msg":{"market_ticker":"K","price_dollars":"0.5","delta_fp":"1.00","side":"yes","ts_ms":%d}}' % (i + 1, sent_ms)
        writer.append((sent_ms + kalshi) * 1_000_000, i, "kalshi", 1, "in", k)
        p = b'{"event_type":"price_change","market":"0x1","price_changes":[],"timestamp":"%d"}' % sent_ms
        writer.append((sent_ms + poly) * 1_000_000, i, "polymarket", 1, "in", p)
        writer.append((sent_ms + poly) * 1_000_000, i, "polymarket", 1, "out", b"PING")
    writer.close()


def test_feed_latency_samples_are_receive_minus_venue_time_per_venue(tmp_path):
    _record(tmp_path, {"kalshi": [5, 7, 9], "polymarket": [20, 30, 40]})

    samples = feed_latency_samples(tmp_path)

    assert samples == {
        "kalshi": [5_000_000, 7_000_000, 9_000_000],
        "polymarket": [20_000_000, 30_000_000, 40_000_000],
    }


def test_feed_latency_samples_stop_at_the_cap_in_replay_order(tmp_path):
    _record(tmp_path, {"kalshi": [1, 2, 3, 4], "polymarket": [5, 6, 7, 8]})

    samples = feed_latency_samples(tmp_path, max_per_venue=2)

    assert samples == {"kalshi": [1_000_000, 2_000_000], "polymarket": [5_000_000, 6_000_000]}


def test_empirical_model_from_the_replayed_recording_draws_only_measured_delays(tmp_path):
    _record(tmp_path, {"kalshi": [5, 7], "polymarket": [20, 30]})
    config = parse_config('[latency]\nmodel = "empirical"\nseed = 1\n')

    model = latency_model(config, tmp_path)

    assert isinstance(model, EmpiricalLatency)
    rng = random.Random(1)
    draws = {model.sample("kalshi", rng) for _ in range(50)}
    assert draws == {5_000_000, 7_000_000}


def test_empirical_model_without_a_recording_is_a_config_error():
    config = parse_config('[latency]\nmodel = "empirical"\n')

    with pytest.raises(ConfigError, match="samples_from"):
        latency_model(config, None)
