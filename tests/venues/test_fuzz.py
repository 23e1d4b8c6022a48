"""Hostile frames never raise out of the decoders, the books, the engine or the recorder's
readers, and every one the decoders refuse is counted (issue 16, fuzzing; the fast version).

Hypothesis builds frames from both venues' wire shapes with any JSON value in any field; the
seeded `HostileFrames` stream adds byte-level mutations (truncation, invalid UTF-8, duplicate
keys, nesting thousands deep, ~10 MB frames). `benchmarks/fuzz.py --frames 1000000` runs the
stream at full length.
"""

from __future__ import annotations

import itertools

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from arbkit.core.book import BookManager
from arbkit.core.events import KALSHI, POLYMARKET, DecodeError
from arbkit.runner.connections import read_envelope, read_reply
from arbkit.sandbox.fuzz import (
    HOSTILE_VALUES,
    KALSHI_TICKERS,
    POLYMARKET_TOKENS,
    HostileFrames,
    fuzz_frames,
)
from arbkit.store.derive import derive_row
from arbkit.venues import make_decoder

RECV_NS = 1_796_529_600_000_000_000
DEEP = 20_000

json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
    st.sampled_from([v for v in HOSTILE_VALUES if not isinstance(v, list | dict)]),
)
json_values = st.recursive(
    json_scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


def field(good: st.SearchStrategy) -> st.SearchStrategy:
    """A wire field: mostly a good value, sometimes any JSON value."""
    return st.one_of(good, good, good, json_values)


price_fp = st.integers(0, 10_000).map(lambda t: f"{t / 10_000:.4f}")
count_fp = st.integers(-10_000, 10_000).map(lambda c: f"{c / 100:.2f}")
kalshi_levels = st.lists(st.tuples(field(price_fp), field(count_fp)).map(list), max_size=5)
kalshi_frames = st.one_of(
    st.fixed_dictionaries(
        {
            "type": field(st.just("orderbook_snapshot")),
            "sid": field(st.just(1)),
            "seq": field(st.integers(1, 5)),
            "msg": field(
                st.fixed_dictionaries(
                    {
                        "market_ticker": field(st.sampled_from(KALSHI_TICKERS)),
                        "yes_dollars_fp": field(kalshi_levels),
                        "no_dollars_fp": field(kalshi_levels),
                    }
                )
            ),
        }
    ),
    st.fixed_dictionaries(
        {
            "type": field(st.just("orderbook_delta")),
            "sid": field(st.just(1)),
            "seq": field(st.integers(1, 5)),
            "msg": field(
                st.fixed_dictionaries(
                    {
                        "market_ticker": field(st.sampled_from(KALSHI_TICKERS)),
                        "price_dollars": field(price_fp),
                        "delta_fp": field(count_fp),
                        "side": field(st.sampled_from(["yes", "no"])),
                        "ts_ms": field(st.integers(0, 2**50)),
                    }
                )
            ),
        }
    ),
    st.fixed_dictionaries(
        {
            "type": st.sampled_from(
                ["ticker", "trade", "market_lifecycle_v2", "ok", "subscribed", "error", "unsubscribed"]
            ),
            "sid": field(st.integers(1, 3)),
            "seq": field(st.integers(1, 5)),
            "id": field(st.integers(1, 9)),
            "msg": json_values,
        }
    ),
)

poly_price = st.integers(0, 1000).map(lambda t: f"{t / 1000:.3f}")
poly_size = st.decimals(0, 10**6, places=2, allow_nan=False).map(str)
poly_levels = st.lists(
    st.fixed_dictionaries({"price": field(poly_price), "size": field(poly_size)}), max_size=5
)
poly_events = st.one_of(
    st.fixed_dictionaries(
        {
            "event_type": field(st.just("book")),
            "asset_id": field(st.sampled_from(POLYMARKET_TOKENS)),
            "bids": field(poly_levels),
            "asks": field(poly_levels),
            "timestamp": field(st.just("1790658661234")),
            "tick_size": field(st.sampled_from(["0.01", "0.001"])),
        }
    ),
    st.fixed_dictionaries(
        {
            "event_type": field(st.just("price_change")),
            "timestamp": field(st.just("1790658674035")),
            "price_changes": field(
                st.lists(
                    st.fixed_dictionaries(
                        {
                            "asset_id": field(st.sampled_from(POLYMARKET_TOKENS)),
                            "price": field(poly_price),
                            "size": field(poly_size),
                            "side": field(st.sampled_from(["BUY", "SELL"])),
                            "best_bid": field(poly_price),
                            "best_ask": field(poly_price),
                        }
                    ),
                    max_size=3,
                )
            ),
        }
    ),
    st.fixed_dictionaries(
        {
            "event_type": st.sampled_from(
                ["tick_size_change", "last_trade_price", "best_bid_ask", "new_market", "market_resolved"]
            ),
            "asset_id": field(st.sampled_from(POLYMARKET_TOKENS)),
            "market": field(st.just("0xabc")),
            "price": field(poly_price),
            "size": field(poly_size),
            "new_tick_size": field(st.just("0.001")),
            "winning_asset_id": field(st.sampled_from(POLYMARKET_TOKENS)),
            "assets_ids": field(st.just(list(POLYMARKET_TOKENS))),
            "timestamp": field(st.just("1766790415550")),
        }
    ),
)
poly_frames = st.one_of(poly_events, st.lists(poly_events, max_size=3))


def serialized(frames: st.SearchStrategy) -> st.SearchStrategy:
    import json

    return frames.map(lambda f: json.dumps(f).encode())


def feed(venue: str, frames: list[bytes]) -> None:
    """Decode each frame and apply it to books as the engine does; every layer must cope."""
    decoder = make_decoder(venue, False)
    books = BookManager()
    for i, payload in enumerate(frames):
        before = decoder.decode_errors
        events = decoder.decode(payload, RECV_NS + i)
        errors = sum(1 for e in events if isinstance(e, DecodeError))
        assert decoder.decode_errors - before == errors
        books.apply(events)
        derive_row(venue, "in", payload)
        if venue == KALSHI:
            envelope = read_envelope(payload)
            if envelope is not None and envelope.msg:
                read_reply(envelope.msg)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(serialized(kalshi_frames), min_size=1, max_size=6))
def test_kalshi_frames_of_any_shape_never_raise(frames):
    feed(KALSHI, frames)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(serialized(poly_frames), min_size=1, max_size=6))
def test_polymarket_frames_of_any_shape_never_raise(frames):
    feed(POLYMARKET, frames)


def test_a_frame_nested_20000_deep_is_one_decode_error_on_either_venue():
    deep = [b"[" * DEEP + b"]" * DEEP, b'{"type":"orderbook_delta","msg":' + b"[" * DEEP + b"]" * DEEP + b"}"]
    for venue in (KALSHI, POLYMARKET):
        for payload in deep:
            decoder = make_decoder(venue, False)

            events = decoder.decode(payload, RECV_NS)

            assert [type(e) for e in events] == [DecodeError], venue
            assert decoder.decode_errors == 1
            assert derive_row(venue, "in", payload)[0] in ("text", None)
            assert read_envelope(payload) is None or venue == POLYMARKET


def test_a_seeded_stream_of_hostile_frames_crashes_nothing():
    # ~30k frames with the ~10 MB ones made more frequent than in the full run.
    result = fuzz_frames(itertools.islice(HostileFrames(16, big_every=5_000), 30_000))

    assert result.crashes == []
    assert result.frames == 30_000
    # Most mutated frames are refused, and each refusal is counted; the well-shaped ones feed
    # the books (windows open on them now and then).
    assert 0.3 * result.frames < result.decode_errors < result.frames
    assert result.bytes > 30_000_000
