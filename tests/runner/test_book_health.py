"""book_health: one row per configured book with gaps, invalidations and staleness percentiles."""

from __future__ import annotations

from fractions import Fraction

import orjson
from hypothesis import given
from hypothesis import strategies as st

from arbkit.config import parse_config
from arbkit.core.frame import Frame
from arbkit.engine import Engine, _BookStats

S = 1_000_000_000
T0 = 1_790_000_000 * S
CONFIG = """
[[pairs]]
name = "a"
kalshi_ticker = "KX-A"
polymarket_yes_token = "tok-yes"
polymarket_no_token = "tok-no"
"""


SNAPSHOT = '{"type":"orderbook_snapshot","sid":1,"seq":%d,"msg":{"market_ticker":"%s"%s}}'
DELTA = (
    '{"type":"orderbook_delta","sid":1,"seq":%d,"msg":{"market_ticker":"KX-A",'
    '"price_dollars":"0.3900","delta_fp":"1.00","side":"yes"}}'
)
LEVELS = ',"yes_dollars_fp":[["0.4000","10.00"]],"no_dollars_fp":[["0.5500","10.00"]]'


def frames(updates_at: list[int]) -> list[Frame]:
    """A Kalshi snapshot of KX-A, deltas at the other times, then a snapshot of a book no pair reads."""
    payloads = [SNAPSHOT % (1, "KX-A", LEVELS)] + [DELTA % seq for seq in range(2, len(updates_at) + 1)]
    times = list(updates_at)
    payloads.append(SNAPSHOT % (len(updates_at) + 1, "KX-OTHER", ""))
    times.append(updates_at[-1])
    out = [Frame("s", 0, T0, 0, "kalshi", 1, "open", b"{}")]
    for i, (t, payload) in enumerate(zip(times, payloads), start=1):
        out.append(Frame("s", i, T0 + t, 0, "kalshi", 1, "in", payload.encode()))
    return out


def test_book_health_lists_only_the_books_the_pairs_read():
    engine = Engine(parse_config(CONFIG))
    for frame in frames([0, S]):
        engine.process(frame)

    rows = engine.book_health()

    assert [(r["venue"], r["market"]) for r in rows] == [
        ("kalshi", "KX-A"),
        ("polymarket", "tok-no"),
        ("polymarket", "tok-yes"),
    ]
    assert rows[0]["updates"] == 2 and rows[0]["snapshots"] == 1 and rows[0]["valid_at_end"]
    assert rows[1]["updates"] == 0 and rows[1]["staleness_p50_ns"] is None


def test_staleness_is_sampled_every_100_ms_and_reported_within_a_bucket_width():
    # Updates every second: sampled every 100 ms, staleness runs 0.1 s .. 1 s, so p50 ~ 0.5 s.
    engine = Engine(parse_config(CONFIG))
    for frame in frames([0, S, 2 * S, 3 * S, 4 * S]):
        engine.process(frame)

    row = engine.book_health()[0]

    assert row["staleness_samples"] == 40  # 4 s of engine time, a sample every 100 ms
    assert row["staleness_max_ns"] == S  # sampled at each whole second, just before the update
    assert abs(row["staleness_p50_ns"] - S // 2) <= 0.19 * S // 2
    assert abs(row["staleness_p90_ns"] - 9 * S // 10) <= 0.19 * 9 * S // 10


def test_one_long_silence_dominates_the_upper_staleness_percentiles():
    # 100 updates 10 ms apart, then 10 s of silence: most of the time the book was stale.
    times = [i * 10_000_000 for i in range(100)] + [99 * 10_000_000 + 10 * S]
    engine = Engine(parse_config(CONFIG))
    for frame in frames(times):
        engine.process(frame)

    row = engine.book_health()[0]

    # The last sample (10.9 s) comes 9.91 s after the last update (0.99 s).
    assert row["staleness_max_ns"] == 9_910_000_000
    assert row["staleness_p90_ns"] > 5 * S


def bucket_of(value: int) -> int:
    """The histogram bucket of one sample, from its documented layout rather than the code's bit
    arithmetic: one bucket per value below 8, then four equal buckets per octave [2^e, 2^(e+1))."""
    if value < 8:
        return value
    octave = 3
    while 2 ** (octave + 1) <= value:
        octave += 1
    quarter = int((Fraction(value, 2**octave) - 1) * 4)
    return 8 + 4 * (octave - 3) + quarter


@given(
    first=st.integers(0, 10**12),
    step=st.integers(1, 10**9),
    count=st.integers(1, 300),
)
def test_adding_a_range_of_samples_equals_adding_them_one_by_one(first, step, count):
    at_once = _BookStats()
    samples = [0] * len(at_once.samples)
    for value in range(first, first + count * step, step):
        samples[bucket_of(value)] += 1

    at_once.add_range(first, step, count)

    assert at_once.samples == samples
    assert (at_once.count, at_once.max_sample) == (count, first + (count - 1) * step)


def test_bucket_layout_of_the_reference_matches_the_documented_width():
    # 8 and 9 are the first quarter of the octave [8, 16), 15 its last; [96, 112) is the third
    # quarter of [64, 128).
    assert [bucket_of(v) for v in (0, 7, 8, 9, 10, 15, 16, 96, 111, 112)] == [0, 7, 8, 8, 9, 11, 12, 22, 22, 23]


def _closed(reason: dict) -> list[Frame]:
    out = frames([0, S])
    out.append(Frame("s", len(out), T0 + 2 * S, 0, "kalshi", 1, "close", orjson.dumps(reason)))
    return out


def test_valid_at_end_is_the_books_state_before_the_recorders_own_stop_disconnect():
    engine = Engine(parse_config(CONFIG))
    for frame in _closed({"code": 1000, "reason": "", "cause": "recorder stopping"}):
        engine.process(frame)

    [kalshi] = [r for r in engine.book_health() if r["market"] == "KX-A"]

    assert kalshi["valid_at_end"] is True
    assert engine.books.get("kalshi", "KX-A").valid is False  # the stop did close it


def test_valid_at_end_is_false_after_a_venue_disconnect_the_book_never_recovered_from():
    engine = Engine(parse_config(CONFIG))
    for frame in _closed({"code": 1006, "reason": "connection lost", "cause": None}):
        engine.process(frame)

    [kalshi] = [r for r in engine.book_health() if r["market"] == "KX-A"]

    assert kalshi["valid_at_end"] is False
