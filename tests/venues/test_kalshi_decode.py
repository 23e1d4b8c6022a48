"""Kalshi decoder specification: every PROTOCOLS §1.5–§1.9 frame shape, in YES terms."""

from __future__ import annotations

import json
from pathlib import Path

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arbkit.core.book import BookManager
from arbkit.core.events import (
    ASK,
    BID,
    INVALID_SEQ_GAP,
    INVALID_SUBSCRIPTION_ERROR,
    KALSHI,
    BookInvalid,
    BookSnapshot,
    DecodeError,
    Event,
    LevelDelta,
    MarketStatus,
    Notice,
    Resolution,
    SeqGap,
    SubscriptionAck,
    SubscriptionError,
    TopOfBook,
    Trade,
)
from arbkit.core.fixedpoint import SIZE_SCALE, parse_size
from arbkit.venues import make_decoder
from arbkit.venues.kalshi import KalshiDecoder
from arbkit.venues.kalshi import decode as kalshi_decode
from arbkit.venues.kalshi.wire import FRAME_DECODER, DeltaFrame

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "kalshi"
HIGHNY = "KXHIGHNY-26JUN10-B84.5"
M = 1_000_000  # size millionths per contract
T = 0  # recv_ns used where the receive time does not matter


def fixture_frames(name: str) -> list[bytes]:
    return [line for line in (FIXTURES / name).read_bytes().splitlines() if line.strip()]


def decode_all(decoder: KalshiDecoder, frames: list[bytes]) -> list[Event]:
    events: list[Event] = []
    for i, frame in enumerate(frames):
        events.extend(decoder.decode(frame, 1000 + i))
    return events


def frame(body: dict) -> bytes:
    return json.dumps(body).encode()


def snapshot_frame(market: str, sid: int, seq: int, yes: list, no: list) -> bytes:
    msg = {"market_ticker": market, "yes_dollars_fp": yes, "no_dollars_fp": no}
    return frame({"type": "orderbook_snapshot", "sid": sid, "seq": seq, "msg": msg})


def delta_frame(market: str, sid: int, seq: int, price: str, delta: str, side: str) -> bytes:
    msg = {"market_ticker": market, "price_dollars": price, "delta_fp": delta, "side": side}
    return frame({"type": "orderbook_delta", "sid": sid, "seq": seq, "msg": msg})


def without_venue_ts(events: list[Event]) -> list[Event]:
    return [
        msgspec.structs.replace(e, venue_ts_ms=None) if hasattr(e, "venue_ts_ms") else e
        for e in events
    ]


# The book all era fixtures describe: YES bids 0.12x150, 0.31x20, 0.33x75; NO bids 0.60x40,
# 0.64x210 (= YES asks 0.40x40, 0.36x210); then three deltas.
ERA_EVENTS = [
    BookSnapshot(
        KALSHI,
        1000,
        HIGHNY,
        bids=[(1200, 150 * M), (3100, 20 * M), (3300, 75 * M)],
        asks=[(4000, 40 * M), (3600, 210 * M)],
    ),
    LevelDelta(KALSHI, 1001, HIGHNY, BID, 3300, -25 * M, sid=7),
    LevelDelta(KALSHI, 1002, HIGHNY, ASK, 4000, 10 * M, sid=7),
    LevelDelta(KALSHI, 1003, HIGHNY, ASK, 3600, -210 * M, sid=7),
]


def test_legacy_cent_fixture_decodes_to_yes_terms_ticks_and_millionths():
    events = decode_all(KalshiDecoder(), fixture_frames("era_a_legacy_cents.jsonl"))

    assert events == ERA_EVENTS


@pytest.mark.parametrize(
    "fixture",
    ["era_b_dollars_twins.jsonl", "era_c_fixed_point.jsonl"],
)
def test_every_era_decodes_the_same_book_to_the_same_events(fixture):
    events = decode_all(KalshiDecoder(), fixture_frames(fixture))

    assert without_venue_ts(events) == ERA_EVENTS


def test_era_b_snapshot_with_fp_twins_equals_the_legacy_snapshot():
    legacy = KalshiDecoder().decode(fixture_frames("era_a_legacy_cents.jsonl")[0], T)

    events = KalshiDecoder().decode(fixture_frames("era_b_with_fp.jsonl")[0], T)

    assert events == legacy


def test_era_c_takes_ts_ms_from_the_message_and_falls_back_to_sending_ts_ms():
    events = decode_all(KalshiDecoder(), fixture_frames("era_c_fixed_point.jsonl"))

    assert [e.venue_ts_ms for e in events] == [
        1790000000123,  # snapshot: no ts_ms, envelope sending_ts_ms
        1790000000440,
        1790000000502,
        1790000000630,
    ]


@pytest.mark.parametrize(
    "fixture", ["era_a_legacy_cents.jsonl", "era_b_dollars_twins.jsonl", "era_c_fixed_point.jsonl"]
)
def test_era_fixture_applied_to_a_book_gives_the_expected_ladder(fixture):
    decoder = KalshiDecoder()
    books = BookManager()

    invalidations = [books.apply(decoder.decode(raw, T)) for raw in fixture_frames(fixture)]

    book = books.get(KALSHI, HIGHNY)
    assert invalidations == [[], [], [], []]
    assert book.valid
    assert book.bid_depth() == [(3300, 50 * M), (3100, 20 * M), (1200, 150 * M)]
    assert book.ask_depth() == [(4000, 50 * M)]


def test_newest_field_wins_when_a_frame_carries_disagreeing_twins():
    raw = frame(
        {
            "type": "orderbook_snapshot",
            "sid": 1,
            "seq": 1,
            "msg": {
                "market_ticker": "X",
                "yes": [[10, 1]],
                "yes_dollars": [["0.200", 2]],
                "yes_dollars_fp": [["0.3000", "3.00"]],
                "no": [[50, 1]],
                "no_dollars": [["0.600", 6]],
            },
        }
    )

    (snapshot,) = KalshiDecoder().decode(raw, T)

    assert snapshot.bids == [(3000, 3 * M)]
    assert snapshot.asks == [(4000, 6 * M)]


def test_delta_prefers_price_dollars_and_delta_fp_over_integer_twins():
    raw = frame(
        {
            "type": "orderbook_delta",
            "sid": 1,
            "seq": 1,
            "msg": {"market_ticker": "X", "price": 10, "price_dollars": "0.2000",
                    "delta": 1, "delta_fp": "2.50", "side": "yes"},
        }
    )

    (delta,) = KalshiDecoder().decode(raw, T)

    assert (delta.price, delta.delta) == (2000, 2_500_000)


def test_snapshot_with_only_a_yes_side_has_no_asks():
    raw = frame({"type": "orderbook_snapshot", "sid": 1, "seq": 1,
                 "msg": {"market_ticker": "X", "yes": [[31, 20]]}})

    (snapshot,) = KalshiDecoder().decode(raw, T)

    assert snapshot.bids == [(3100, 20 * M)]
    assert snapshot.asks == []


def test_snapshot_with_only_no_dollars_fp_has_no_bids():
    raw = frame({"type": "orderbook_snapshot", "sid": 1, "seq": 1,
                 "msg": {"market_ticker": "X", "no_dollars_fp": [["0.6400", "210.00"]]}})

    (snapshot,) = KalshiDecoder().decode(raw, T)

    assert snapshot.bids == []
    assert snapshot.asks == [(3600, 210 * M)]


def test_snapshot_with_no_side_keys_or_null_sides_is_an_empty_book():
    bare = frame({"type": "orderbook_snapshot", "sid": 1, "seq": 1, "msg": {"market_ticker": "X"}})
    nulls = frame({"type": "orderbook_snapshot", "sid": 1, "seq": 2,
                   "msg": {"market_ticker": "X", "yes_dollars_fp": None, "no": None}})
    decoder = KalshiDecoder()

    events = decoder.decode(bare, T) + decoder.decode(nulls, T)

    assert [(e.bids, e.asks) for e in events] == [([], []), ([], [])]
    assert decoder.decode_errors == 0


def test_use_yes_price_reads_the_no_ladder_as_yes_asks_without_complementing():
    snapshot = snapshot_frame("X", 1, 1, [["0.3100", "20.00"]], [["0.3600", "210.00"]])
    delta = delta_frame("X", 1, 2, "0.3700", "5.00", "no")
    decoder = KalshiDecoder(use_yes_price=True)

    events = decoder.decode(snapshot, T) + decoder.decode(delta, T)

    assert events[0].asks == [(3600, 210 * M)]
    assert (events[1].side, events[1].price) == (ASK, 3700)


def test_default_no_price_ladder_is_complemented_into_yes_asks():
    snapshot = snapshot_frame("X", 1, 1, [["0.3100", "20.00"]], [["0.3600", "210.00"]])
    delta = delta_frame("X", 1, 2, "0.3700", "5.00", "no")
    decoder = KalshiDecoder()

    events = decoder.decode(snapshot, T) + decoder.decode(delta, T)

    assert events[0].asks == [(6400, 210 * M)]
    assert (events[1].side, events[1].price) == (ASK, 6300)


def test_sub_penny_prices_and_fractional_counts_are_exact():
    events = decode_all(KalshiDecoder(), fixture_frames("era_c_subpenny_fractional.jsonl"))

    assert events[0].bids == [(125, 31_540_000), (130, 1_000_000_000)]
    assert events[0].asks == [(150, 500_000)]
    assert (events[1].price, events[1].delta) == (125, -540_000)
    # "0.960": three decimals, as some venue examples show.
    assert (events[2].side, events[2].price, events[2].delta) == (ASK, 400, 12_250_000)


@given(
    st.integers(min_value=-(10**12), max_value=10**12),
    st.integers(min_value=0, max_value=6),
)
def test_delta_counts_in_any_decimal_form_read_exactly(millionths, places):
    whole, frac = divmod(abs(millionths), SIZE_SCALE)
    digits = f"{frac:06d}"[:places]
    text = ("-" if millionths < 0 else "") + str(whole) + ("." + digits if places else "")
    expected = (-1 if millionths < 0 else 1) * (whole * SIZE_SCALE + int(digits.ljust(6, "0") or 0))

    (event,) = KalshiDecoder().decode(delta_frame("A", 1, 1, "0.5000", text, "yes"), T)

    assert event.delta == expected


# Counts as the wire sends them, signed, and text that is nearly one.
_plain_counts = st.builds(
    lambda sign, whole, frac: sign + whole + frac,
    st.sampled_from(["", "-"]),
    st.text(alphabet="0123456789", min_size=1, max_size=11),
    st.one_of(st.just(""), st.text(alphabet="0123456789", max_size=7).map(lambda f: "." + f)),
)
_any_count_text = st.one_of(
    _plain_counts,
    st.text(alphabet="0123456789.+-e _\u0663\u00b2", max_size=20),
    st.text(max_size=10),
)


@settings(max_examples=400, deadline=None)
@given(_any_count_text)
def test_count_reads_exactly_what_fixedpoint_reads(text: str):
    # Compiled, counts take a digit loop rather than the parser: same value, same refusals.
    try:
        expected: int | None = parse_size(text)
    except ValueError:
        expected = None
    try:
        value: int | None = kalshi_decode._count(text)
    except ValueError:
        value = None

    assert value == expected


def test_replies_fixture_decodes_to_acks_and_errors():
    events = decode_all(KalshiDecoder(), fixture_frames("replies.jsonl"))

    markets = ("KXFEDDECISION-27JAN-H0", "KXFEDDECISION-27JAN-C25", "KXFEDDECISION-27JAN-C50")
    assert events == [
        SubscriptionAck(KALSHI, 1000, 1, "subscribed", "orderbook_delta", 7),
        SubscriptionAck(KALSHI, 1001, 2, "subscribed", "ticker", 8),
        SubscriptionAck(KALSHI, 1002, 2, "subscribed", "trade", 9),
        SubscriptionAck(KALSHI, 1003, 3, "ok", None, 7, markets),
        SubscriptionAck(KALSHI, 1004, 5, "unsubscribed", None, 7),
        SubscriptionAck(KALSHI, 1005, 6, "ok", "orderbook_delta", 7),
        SubscriptionAck(KALSHI, 1005, 6, "ok", "ticker", 8),
        SubscriptionError(KALSHI, 1006, 9, 8, "Unknown channel name"),
    ]


def test_empty_subscription_list_is_one_ack_with_no_markets():
    events = KalshiDecoder().decode(frame({"id": 6, "type": "ok", "msg": []}), T)

    assert events == [SubscriptionAck(KALSHI, T, 6, "ok", None, None, ())]


def test_markets_named_in_a_subscription_list_belong_to_their_sid():
    decoder = KalshiDecoder()
    listing = {"id": 6, "type": "ok",
               "msg": [{"channel": "orderbook_delta", "sid": 7, "market_tickers": ["A", "B"]}]}
    decoder.decode(frame(listing), T)
    decoder.decode(delta_frame("A", 7, 1, "0.5000", "1.00", "yes"), T)

    events = decoder.decode(delta_frame("A", 7, 3, "0.5000", "1.00", "yes"), T)

    assert events[0] == SeqGap(KALSHI, T, 7, 2, 3, ("A", "B"))


def test_error_carries_the_market_it_names():
    raw = frame({"id": 4, "type": "error",
                 "msg": {"code": 16, "msg": "Market not found", "market_ticker": "KXNOPE-1"}})

    events = KalshiDecoder().decode(raw, T)

    assert events == [SubscriptionError(KALSHI, T, 4, 16, "Market not found", "KXNOPE-1")]


def _decoder_with_two_sids() -> KalshiDecoder:
    decoder = KalshiDecoder()
    decoder.decode(snapshot_frame("A", 1, 1, [], []), T)
    decoder.decode(snapshot_frame("B", 1, 2, [], []), T)
    decoder.decode(snapshot_frame("C", 2, 1, [], []), T)
    return decoder


@pytest.mark.parametrize("code", [10, 17, 25])
def test_terminal_error_naming_a_sid_invalidates_only_that_sids_markets(code):
    decoder = _decoder_with_two_sids()
    raw = frame({"id": 7, "type": "error", "sid": 1, "msg": {"code": code, "msg": "dead"}})

    events = decoder.decode(raw, 5)

    assert events == [
        SubscriptionError(KALSHI, 5, 7, code, "dead"),
        BookInvalid(KALSHI, 5, "A", INVALID_SUBSCRIPTION_ERROR),
        BookInvalid(KALSHI, 5, "B", INVALID_SUBSCRIPTION_ERROR),
    ]


@pytest.mark.parametrize("code", [10, 17, 25])
def test_terminal_error_without_a_sid_invalidates_every_orderbook_market(code):
    decoder = _decoder_with_two_sids()
    raw = frame({"type": "error", "msg": {"code": code, "msg": "Subscription buffer overflow"}})

    events = decoder.decode(raw, 5)

    assert [e.market for e in events if isinstance(e, BookInvalid)] == ["A", "B", "C"]
    assert all(e.reason == INVALID_SUBSCRIPTION_ERROR for e in events[1:])


@pytest.mark.parametrize("code", [1, 6, 8, 9, 16, 18, 26, 27])
def test_non_terminal_error_leaves_books_alone(code):
    decoder = _decoder_with_two_sids()
    raw = frame({"id": 3, "type": "error", "sid": 1, "msg": {"code": code, "msg": "no"}})

    events = decoder.decode(raw, 5)

    assert events == [SubscriptionError(KALSHI, 5, 3, code, "no")]


def test_gap_in_sid_invalidates_every_market_on_it_until_each_is_reseeded():
    decoder = KalshiDecoder()
    books = BookManager()
    bid, ask = [["0.4000", "10.00"]], [["0.5000", "10.00"]]
    for raw in (
        snapshot_frame("A", 1, 1, bid, ask),
        snapshot_frame("B", 1, 2, bid, ask),
        snapshot_frame("OTHER", 2, 1, bid, ask),
        delta_frame("A", 1, 3, "0.4000", "1.00", "yes"),
    ):
        books.apply(decoder.decode(raw, T))

    gap_events = decoder.decode(delta_frame("B", 1, 5, "0.4000", "1.00", "yes"), 9)
    books.apply(gap_events)

    assert gap_events[:3] == [
        SeqGap(KALSHI, 9, 1, 4, 5, ("A", "B")),
        BookInvalid(KALSHI, 9, "A", INVALID_SEQ_GAP),
        BookInvalid(KALSHI, 9, "B", INVALID_SEQ_GAP),
    ]
    assert not books.get(KALSHI, "A").valid
    assert not books.get(KALSHI, "B").valid
    assert books.get(KALSHI, "OTHER").valid

    books.apply(decoder.decode(delta_frame("A", 1, 6, "0.4000", "5.00", "yes"), T))
    books.apply(decoder.decode(snapshot_frame("A", 1, 7, [["0.4100", "3.00"]], ask), T))

    book_a, book_b = books.get(KALSHI, "A"), books.get(KALSHI, "B")
    assert book_a.valid and book_a.bid_depth() == [(4100, 3 * M)]
    assert not book_b.valid and book_b.invalid_reason == INVALID_SEQ_GAP


def test_snapshot_arriving_with_a_gap_invalidates_its_siblings_then_reseeds_itself():
    decoder = KalshiDecoder()
    books = BookManager()
    for raw in (snapshot_frame("A", 1, 1, [], []), snapshot_frame("B", 1, 2, [], [])):
        books.apply(decoder.decode(raw, T))

    events = decoder.decode(snapshot_frame("A", 1, 9, [["0.2000", "1.00"]], []), T)
    books.apply(events)

    assert [e.__class__ for e in events] == [SeqGap, BookInvalid, BookInvalid, BookSnapshot]
    assert books.get(KALSHI, "A").valid
    assert not books.get(KALSHI, "B").valid


def test_ok_and_unsubscribed_take_slots_in_the_sid_sequence():
    decoder = KalshiDecoder()
    decoder.decode(snapshot_frame("A", 7, 40, [], []), T)

    ok = decoder.decode(frame({"id": 3, "sid": 7, "seq": 41, "type": "ok",
                               "msg": {"market_tickers": ["A", "B"]}}), T)
    delta = decoder.decode(delta_frame("B", 7, 42, "0.5000", "1.00", "yes"), T)
    unsubscribed = decoder.decode(frame({"id": 5, "sid": 7, "seq": 44, "type": "unsubscribed"}), 3)

    assert [e.__class__ for e in ok + delta] == [SubscriptionAck, LevelDelta]
    assert unsubscribed[0] == SeqGap(KALSHI, 3, 7, 43, 44, ("A", "B"))
    assert unsubscribed[-1] == SubscriptionAck(KALSHI, 3, 5, "unsubscribed", None, 7)


def test_markets_listed_in_ok_are_invalidated_by_a_later_gap():
    decoder = KalshiDecoder()
    decoder.decode(frame({"id": 3, "sid": 7, "seq": 1, "type": "ok",
                          "msg": {"market_tickers": ["A", "B"]}}), T)

    events = decoder.decode(delta_frame("A", 7, 3, "0.5000", "1.00", "yes"), T)

    assert events[0] == SeqGap(KALSHI, T, 7, 2, 3, ("A", "B"))


def test_undecodable_frame_on_a_sid_surfaces_as_a_gap_on_the_next_frame():
    decoder = KalshiDecoder()
    decoder.decode(snapshot_frame("A", 1, 1, [], []), T)

    bad = decoder.decode(delta_frame("A", 1, 2, "abc", "1.00", "yes"), T)
    after = decoder.decode(delta_frame("A", 1, 3, "0.5000", "1.00", "yes"), T)

    assert [e.__class__ for e in bad] == [DecodeError]
    assert after[:2] == [SeqGap(KALSHI, T, 1, 2, 3, ("A",)), BookInvalid(KALSHI, T, "A", INVALID_SEQ_GAP)]


def test_first_sequenced_frame_after_a_listing_is_the_base_of_the_sid():
    decoder = KalshiDecoder()
    listing = {"id": 6, "type": "ok",
               "msg": [{"channel": "orderbook_delta", "sid": 7, "market_tickers": ["A"]}]}
    decoder.decode(frame(listing), T)

    first = decoder.decode(delta_frame("A", 7, 40, "0.5000", "1.00", "yes"), T)
    second = decoder.decode(delta_frame("A", 7, 41, "0.5000", "2.00", "yes"), T)

    assert first == [LevelDelta(KALSHI, T, "A", BID, 5000, 1 * M, None, 7)]
    assert second == [LevelDelta(KALSHI, T, "A", BID, 5000, 2 * M, None, 7)]


def test_unsubscribed_sid_forgets_its_sequence_and_markets():
    decoder = KalshiDecoder()
    decoder.decode(snapshot_frame("A", 7, 1, [], []), T)
    decoder.decode(frame({"id": 5, "sid": 7, "seq": 2, "type": "unsubscribed"}), T)

    reused = decoder.decode(snapshot_frame("B", 7, 1, [], []), T)
    gap = decoder.decode(delta_frame("B", 7, 3, "0.5000", "1.00", "yes"), T)

    assert [e.__class__ for e in reused] == [BookSnapshot]
    assert gap[:2] == [SeqGap(KALSHI, T, 7, 2, 3, ("B",)), BookInvalid(KALSHI, T, "B", INVALID_SEQ_GAP)]


def test_first_frame_on_a_sid_is_the_base_whatever_its_seq():
    decoder = KalshiDecoder()

    events = decoder.decode(snapshot_frame("A", 4, 17, [], []), T)
    events += decoder.decode(delta_frame("A", 4, 18, "0.5000", "1.00", "yes"), T)

    assert [e.__class__ for e in events] == [BookSnapshot, LevelDelta]


def test_repeated_or_backward_seq_is_a_gap_too():
    decoder = KalshiDecoder()
    decoder.decode(snapshot_frame("A", 1, 5, [], []), T)

    repeated = decoder.decode(delta_frame("A", 1, 5, "0.5000", "1.00", "yes"), T)
    backward = decoder.decode(delta_frame("A", 1, 2, "0.5000", "1.00", "yes"), T)

    assert repeated[0] == SeqGap(KALSHI, T, 1, 6, 5, ("A",))
    assert backward[0] == SeqGap(KALSHI, T, 1, 6, 2, ("A",))


def test_sequences_are_tracked_per_sid():
    decoder = KalshiDecoder()

    events = [
        *decoder.decode(snapshot_frame("A", 1, 1, [], []), T),
        *decoder.decode(snapshot_frame("B", 2, 1, [], []), T),
        *decoder.decode(delta_frame("A", 1, 2, "0.5000", "1.00", "yes"), T),
        *decoder.decode(delta_frame("B", 2, 2, "0.5000", "1.00", "yes"), T),
    ]

    assert not any(isinstance(e, SeqGap) for e in events)


def test_ticker_fixture_gives_top_of_book_in_both_eras():
    events = decode_all(KalshiDecoder(), fixture_frames("ticker.jsonl"))

    assert events == [
        TopOfBook(KALSHI, 1000, "KXFEDDECISION-27JAN-H0", 4600, 4800, 310 * M, 95 * M, 1790000123456),
        # Legacy ticker: integer cents, whole-second `ts`.
        TopOfBook(KALSHI, 1001, "KXFEDDECISION-25DEC-H0", 4600, 4800, None, None, 1750000123000),
    ]


def test_trade_fixture_gives_trades_in_both_eras():
    events = decode_all(KalshiDecoder(), fixture_frames("trade.jsonl"))

    assert events == [
        Trade(KALSHI, 1000, "KXFEDDECISION-27JAN-H0", 4800, 40 * M, "yes", 1790000124010),
        Trade(KALSHI, 1001, "KXFEDDECISION-25DEC-H0", 4800, 40 * M, "no", 1750000124000),
    ]


def test_trade_prefers_taker_outcome_side_over_deprecated_taker_side():
    raw = frame({"type": "trade", "msg": {"market_ticker": "X", "yes_price_dollars": "0.5000",
                                          "count_fp": "1.00", "taker_side": "yes",
                                          "taker_outcome_side": "no"}})

    (trade,) = KalshiDecoder().decode(raw, T)

    assert trade.taker_side == "no"


def test_lifecycle_fixture_gives_statuses_and_resolutions():
    events = decode_all(KalshiDecoder(), fixture_frames("lifecycle.jsonl"))

    assert events == [
        MarketStatus(KALSHI, 1000, "KXFEDDECISION-27JAN-H0", "created"),
        MarketStatus(KALSHI, 1001, "KXFEDDECISION-27JAN-H0", "deactivated"),
        Resolution(KALSHI, 1002, "KXFEDDECISION-27JAN-H0", "yes"),
        Resolution(KALSHI, 1003, "KXFEDDECISION-27JAN-C25", "no"),
    ]


def test_settled_without_a_result_is_only_a_status():
    raw = frame({"type": "market_lifecycle_v2",
                 "msg": {"market_ticker": "X", "event_type": "settled", "settled_ts": 1}})

    assert KalshiDecoder().decode(raw, T) == [MarketStatus(KALSHI, T, "X", "settled")]


def test_unknown_type_is_a_notice_not_an_error():
    decoder = KalshiDecoder()

    events = decoder.decode(frame({"type": "cfbenchmarks_value", "sid": 12, "msg": {"data": "{}"}}), T)

    assert events == [Notice(KALSHI, T, "unhandled kalshi type cfbenchmarks_value")]
    assert decoder.decode_errors == 0


def test_unknown_type_on_a_sequenced_sid_keeps_the_sequence_intact():
    decoder = KalshiDecoder()
    decoder.decode(snapshot_frame("A", 1, 1, [], []), T)

    decoder.decode(frame({"type": "orderbook_new_thing", "sid": 1, "seq": 2, "msg": {}}), T)
    events = decoder.decode(delta_frame("A", 1, 3, "0.5000", "1.00", "yes"), T)

    assert [e.__class__ for e in events] == [LevelDelta]


@pytest.mark.parametrize(
    "payload",
    [
        b"not json at all",
        b'[{"type": "orderbook_delta"}]',
        b'{"type": "orderbook_delta", "sid": 1, "seq": 1}',
        delta_frame("A", 1, 1, "abc", "1.00", "yes"),
        delta_frame("A", 1, 1, "0.5000", "lots", "yes"),
        delta_frame("A", 1, 1, "0.5000", "1_0.00", "yes"),
        delta_frame("A", 1, 1, "0.5000", "\u0661.00", "yes"),
        delta_frame("A", 1, 1, "0.5000", "--1.00", "yes"),
        delta_frame("A", 1, 1, "0.5000", "1.00", "maybe"),
        delta_frame("A", 1, 1, "1.5000", "1.00", "yes"),
        delta_frame("A", 1, 1, "0.00001", "1.00", "yes"),
        b'{"type": "orderbook_delta", "msg": {"market_ticker": "A", "side": "yes", "delta": 1}}',
        b'{"type": "orderbook_snapshot", "msg": {"market_ticker": "A", "yes": [["x", 1]]}}',
        b'{"type": "orderbook_snapshot", "msg": {"market_ticker": "A", "yes": [[30]]}}',
        b'{"type": "orderbook_snapshot", "msg": {"market_ticker": "A", "no_dollars_fp": [["-0.1", "1"]]}}',
        b'{"type": "trade", "msg": {"market_ticker": "A", "count_fp": "1.00"}}',
        b'{"type": "ticker", "msg": {"market_ticker": 5}}',
        b'{"msg": {}}',
        b'"orderbook_delta"',
        b"\xff\xfe\x00",
        b'"\x80"',
        b'{"type": "ticker", "msg": {"market_ticker": "\x80"}}',
        b'{"type": "mystery\x80"}',
        b"",
    ],
)
def test_malformed_frame_becomes_a_counted_decode_error(payload):
    decoder = KalshiDecoder()

    events = decoder.decode(payload, 42)

    assert len(events) == 1 and isinstance(events[0], DecodeError)
    assert events[0].reason and len(events[0].reason) <= 160
    assert decoder.decode_errors == 1


def test_make_decoder_builds_a_kalshi_decoder_with_the_session_flag():
    decoder = make_decoder("kalshi", use_yes_price=True)

    assert isinstance(decoder, KalshiDecoder) and decoder.use_yes_price


def test_make_decoder_gives_each_connection_its_own_sequence_state():
    first, second = make_decoder("kalshi"), make_decoder("kalshi")
    first.decode(snapshot_frame("A", 1, 1, [], []), T)

    events = second.decode(delta_frame("A", 1, 5, "0.5000", "1.00", "yes"), T)

    assert [e.__class__ for e in events] == [LevelDelta]


def test_make_decoder_builds_a_polymarket_decoder():
    decoder = make_decoder("polymarket")

    assert decoder.__class__.__name__ == "PolymarketDecoder" and decoder.decode_errors == 0


def test_make_decoder_rejects_an_unknown_venue():
    with pytest.raises(ValueError, match="unknown venue"):
        make_decoder("nasdaq")


def _assert_well_formed(decoder: KalshiDecoder, events: list[Event]) -> None:
    assert isinstance(events, list)
    assert all(isinstance(e, Event) and e.venue == KALSHI for e in events)
    assert decoder.decode_errors == sum(isinstance(e, DecodeError) for e in events)


_json_prefixes = st.sampled_from(
    [
        b"",
        b'{"type": "',
        b'{"type": "orderbook_delta", "sid": 1, "seq": 2, "msg": {"market_ticker": "',
        b'{"type": "orderbook_snapshot", "msg": {"market_ticker": "A", "yes_dollars_fp": [["',
        b'{"type": "ticker", "msg": {"market_ticker": "A", "yes_bid_dollars": "',
    ]
)


@settings(max_examples=200, deadline=None)
@given(_json_prefixes, st.binary(max_size=300), st.sampled_from([b"", b'"}}', b'"]]}}']))
def test_decode_never_raises_on_arbitrary_bytes(prefix, body, suffix):
    decoder = KalshiDecoder()

    events = decoder.decode(prefix + body + suffix, 1)

    _assert_well_formed(decoder, events)


_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False),
    st.sampled_from(["yes", "no", "0.5000", "-1.00", "abc", "", "1e3", "0.00001", "NaN"]),
    st.text(max_size=8),
    st.lists(st.integers(), max_size=2),
)


def _mostly(valid: st.SearchStrategy) -> st.SearchStrategy:
    """A plausible value nine times in ten, anything JSON can carry otherwise."""
    return st.integers(0, 9).flatmap(lambda i: _scalars if i == 0 else valid)


def _fixed(places: int, low: int, high: int) -> st.SearchStrategy:
    def render(n: int) -> str:
        sign = "-" if n < 0 else ""
        whole, frac = divmod(abs(n), 10**places)
        return f"{sign}{whole}.{frac:0{places}d}"

    return st.integers(low, high).map(render)


_price_str = _fixed(4, -5, 10_005)
_count_str = _fixed(2, -100_000, 100_000)
_tickers = st.sampled_from(["A", "B", "C"])
_str_levels = st.lists(st.tuples(_price_str, st.one_of(_count_str, st.integers(0, 999))), max_size=4)
_int_levels = st.lists(st.tuples(st.integers(0, 101), st.integers(-5, 999)), max_size=4)
_msg_fields = {
    "price_dollars": _price_str,
    "price": st.integers(-1, 101),
    "delta_fp": _count_str,
    "delta": st.integers(-999, 999),
    "ts_ms": st.integers(0, 2**42),
    "ts": st.one_of(st.integers(0, 2**32), st.text(max_size=6)),
    "yes": _int_levels,
    "no": _int_levels,
    "yes_dollars": _str_levels,
    "no_dollars": _str_levels,
    "yes_dollars_fp": _str_levels,
    "no_dollars_fp": _str_levels,
    "channel": st.sampled_from(["orderbook_delta", "ticker"]),
    "sid": st.integers(0, 3),
    "code": st.integers(0, 30),
    "msg": st.text(max_size=6),
    "market_tickers": st.lists(_tickers, max_size=3),
    "yes_bid_dollars": _price_str,
    "yes_ask_dollars": _price_str,
    "yes_bid": st.integers(0, 100),
    "yes_bid_size_fp": _count_str,
    "yes_price_dollars": _price_str,
    "yes_price": st.integers(0, 100),
    "count_fp": _count_str,
    "count": st.integers(0, 999),
    "taker_outcome_side": st.sampled_from(["yes", "no"]),
    "result": st.sampled_from(["yes", "no", ""]),
}
_msg_dicts = st.fixed_dictionaries(
    {
        "market_ticker": _mostly(_tickers),
        "side": _mostly(st.sampled_from(["yes", "no"])),
        "event_type": _mostly(st.sampled_from(["determined", "settled", "activated"])),
    },
    optional={key: _mostly(value) for key, value in _msg_fields.items()},
)
_frames = st.fixed_dictionaries(
    {
        "type": st.sampled_from(
            ["orderbook_snapshot", "orderbook_delta", "orderbook_delta", "subscribed", "ok",
             "unsubscribed", "error", "ticker", "trade", "market_lifecycle_v2", "mystery"]
        ),
        "msg": st.integers(0, 9).flatmap(
            lambda i: _msg_dicts if i else st.one_of(_scalars, st.lists(_msg_dicts, max_size=2))
        ),
    },
    optional={
        "id": _mostly(st.integers(1, 9)),
        "sid": _mostly(st.integers(0, 3)),
        "seq": _mostly(st.integers(0, 6)),
        "sending_ts_ms": _mostly(st.integers(0, 2**42)),
    },
)


@settings(max_examples=80, deadline=None)
@given(st.lists(_frames, min_size=1, max_size=6), st.booleans())
def test_decode_never_raises_on_plausible_random_frames(frames, use_yes_price):
    decoder = KalshiDecoder(use_yes_price)
    books = BookManager()
    events: list[Event] = []

    for body in frames:
        decoded = decoder.decode(json.dumps(body).encode(), 1)
        books.apply(decoded)
        events.extend(decoded)

    _assert_well_formed(decoder, events)


# --- the compiled build's delta hot path -----------------------------------------------------

# Mostly in-order deltas at known prices, so that the hot path is taken, with every way out of it.
delta_stream = st.lists(
    st.tuples(
        st.sampled_from(["A"] * 4 + ["B"]),
        st.sampled_from([1] * 6 + [2, None]),
        st.sampled_from([1] * 8 + [0, 2, None]),  # seq step on the sid; None: no seq
        st.sampled_from(["0.5000"] * 8 + ["0.3300", "abc", "1.5000", None]),
        st.sampled_from(["1.00"] * 6 + ["-25.00", "31.54", "x", None]),
        st.sampled_from(["yes"] * 6 + ["no", "maybe"]),
        st.sampled_from([None, 1_790_000_000_440]),
        st.sampled_from([False, False, False, False, True]),
    ),
    max_size=16,
)


def stream_frames(items: list) -> list[bytes]:
    seqs: dict[int | None, int] = {}
    frames = []
    for market, sid, step, price, delta, side, ts_ms, snapshot in items:
        seqs[sid] = seq = seqs.get(sid, 0) + (step or 0)
        if snapshot:
            ladder_yes, ladder_no = [["0.5000", "3.00"]], [["0.6700", "4.00"]]
            frames.append(snapshot_frame(market, sid, seq, ladder_yes, ladder_no))
            continue
        msg = {"market_ticker": market, "price_dollars": price, "delta_fp": delta,
               "side": side, "ts_ms": ts_ms}
        body = {"type": "orderbook_delta", "sid": sid, "seq": seq if step is not None else None,
                "sending_ts_ms": 7, "msg": {k: v for k, v in msg.items() if v is not None}}
        frames.append(frame({k: v for k, v in body.items() if v is not None}))
    return frames


def via_careful_delta_path(decoder: KalshiDecoder, payload: bytes) -> list[Event]:
    typed = FRAME_DECODER.decode(payload)
    if type(typed) is not DeltaFrame:
        return decoder.decode(payload, T)
    # What `decode` does with what the careful path raises.
    try:
        return decoder._delta(typed, T)
    except (kalshi_decode._BadFrame, ValueError, TypeError, OverflowError) as exc:
        return [decoder._decode_error(T, str(exc) or exc.__class__.__name__)]


@settings(max_examples=300, deadline=None)
@given(delta_stream)
def test_delta_hot_path_gives_the_events_and_errors_of_the_careful_path(items: list):
    frames = stream_frames(items)
    reference, candidate = KalshiDecoder(), KalshiDecoder()

    expected = [reference.decode(payload, T) for payload in frames]
    actual = [via_careful_delta_path(candidate, payload) for payload in frames]

    assert actual == expected
    assert candidate.decode_errors == reference.decode_errors
