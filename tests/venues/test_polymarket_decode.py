"""Polymarket market-channel decoding, one fixture per wire shape (PROTOCOLS §3.3-3.4)."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from arbkit.core.book import BookManager
from arbkit.core.events import (
    ASK,
    BID,
    INVALID_TICK_SIZE_CHANGE,
    POLYMARKET,
    BookSnapshot,
    DecodeError,
    Event,
    LevelSet,
    MarketStatus,
    Notice,
    Resolution,
    TickSizeChange,
    TopOfBook,
    Trade,
)
from arbkit.core.fixedpoint import PRICE_ONE, parse_price, parse_size, plain_millionths
from arbkit.venues.polymarket import PolymarketDecoder
from arbkit.venues.polymarket import decode as decode_module

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "polymarket"
YES = "71120000000000000000000000000000000000000000000000000000000000000000000003451"
NO = "48330000000000000000000000000000000000000000000000000000000000000000000009982"
RECV_NS = 1_790_658_680_000_000_123


def fixture(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


def decode(name: str) -> tuple[list[Event], PolymarketDecoder]:
    decoder = PolymarketDecoder()
    return decoder.decode(fixture(name), RECV_NS), decoder


def apply_all(*frames: bytes) -> BookManager:
    decoder = PolymarketDecoder()
    books = BookManager()
    for payload in frames:
        books.apply(decoder.decode(payload, RECV_NS))
    return books


# --- book ---------------------------------------------------------------------------------


def test_book_becomes_one_snapshot_with_exact_levels_tick_and_venue_time():
    events, decoder = decode("book.json")

    assert events == [
        BookSnapshot(
            POLYMARKET,
            RECV_NS,
            YES,
            bids=[
                (10, 9_000_023_580_000),
                (100, 51_200_000_000),
                (4600, 21_574_080_000),
                (4700, 1_300_500_000),
            ],
            asks=[(9900, 8_000_000_000), (5200, 1), (5000, 75_000_000), (4900, 220_000_000)],
            venue_ts_ms=1_790_658_661_234,
            tick=100,
        )
    ]
    assert decoder.decode_errors == 0


def test_best_bid_and_ask_of_an_applied_book_are_the_last_array_elements_not_the_first():
    raw = json.loads(fixture("book.json"))

    books = apply_all(fixture("book.json"))

    book = books.get(POLYMARKET, YES)
    assert book is not None and book.valid
    assert (book.best_bid, book.best_ask) == (4700, 4900)
    assert (raw["bids"][-1]["price"], raw["asks"][-1]["price"]) == ("0.47", "0.49")
    assert (raw["bids"][0]["price"], raw["asks"][0]["price"]) == ("0.001", "0.99")
    assert book.bid_depth()[0] == (4700, 1_300_500_000)
    assert book.ask_depth()[0] == (4900, 220_000_000)


def test_book_with_an_empty_side_decodes_and_seeds_a_one_sided_book():
    events, _ = decode("book_empty_asks.json")

    books = apply_all(fixture("book_empty_asks.json"))

    assert [(type(e), e.asks) for e in events] == [(BookSnapshot, [])]
    book = books.get(POLYMARKET, NO)
    assert book is not None and book.valid
    assert book.bids == {200: 10_000_000, 300: 5_000_000}
    assert (book.best_bid, book.best_ask) == (300, None)
    assert events[0].tick is None


def test_initial_dump_array_yields_one_snapshot_per_token():
    events, _ = decode("initial_dump.json")

    assert [(type(e), e.market) for e in events] == [
        (BookSnapshot, YES),
        (BookSnapshot, NO),
    ]


# --- price_change, three eras -------------------------------------------------------------


def test_era1_price_change_is_one_level_set_on_the_frame_asset():
    events, _ = decode("price_change_era1.json")

    assert events == [
        LevelSet(POLYMARKET, RECV_NS, YES, BID, 6000, 3_400_000_000, 1_729_000_000_000)
    ]


def test_era2_price_change_is_one_level_set_per_change_on_the_frame_asset():
    events, _ = decode("price_change_era2.json")

    assert events == [
        LevelSet(POLYMARKET, RECV_NS, YES, ASK, 4000, 3_300_000_000, 1_729_084_877_448),
        LevelSet(POLYMARKET, RECV_NS, YES, BID, 3000, 120_000_000, 1_729_084_877_448),
    ]


def test_era3_price_change_sets_each_token_level_with_the_venue_top_of_book():
    events, _ = decode("price_change_era3.json")

    assert events == [
        LevelSet(POLYMARKET, RECV_NS, YES, BID, 4700, 1_500_000_000, 1_790_658_674_035, 4700, 4900),
        LevelSet(POLYMARKET, RECV_NS, NO, ASK, 5300, 1_500_000_000, 1_790_658_674_035, 5100, 5300),
    ]


def test_era3_price_change_with_event_type_as_the_last_key_decodes_the_same():
    events, decoder = decode("price_change_era3_event_type_last.json")

    assert events == [
        LevelSet(POLYMARKET, RECV_NS, YES, ASK, 5000, 0, 1_790_658_674_100, 4700, 4900)
    ]
    assert decoder.decode_errors == decoder.skipped == 0


def test_era3_price_change_without_event_type_is_recognised_by_its_price_changes():
    events, decoder = decode("price_change_era3_no_event_type.json")

    assert events == [
        LevelSet(POLYMARKET, RECV_NS, YES, BID, 4800, 25_250_000, 1_790_658_674_200, 4800, 4900)
    ]
    assert decoder.decode_errors == decoder.skipped == 0


def test_price_change_sizes_are_absolute_and_zero_removes_the_level():
    books = apply_all(
        fixture("book.json"),
        fixture("price_change_era3.json"),  # YES bid 0.47 -> 1500 (was 1300.5)
        fixture("price_change_era3_event_type_last.json"),  # YES ask 0.50 -> 0
        fixture("price_change_era3_no_event_type.json"),  # YES bid 0.48 -> 25.25 (new)
    )

    book = books.get(POLYMARKET, YES)
    assert book is not None and book.valid
    assert book.bids == {
        10: 9_000_023_580_000,
        100: 51_200_000_000,
        4600: 21_574_080_000,
        4700: 1_500_000_000,
        4800: 25_250_000,
    }
    assert book.asks == {9900: 8_000_000_000, 5200: 1, 4900: 220_000_000}
    assert (book.best_bid, book.best_ask) == (4800, 4900)


def test_mirrored_change_pair_keeps_the_no_book_the_complement_of_the_yes_book():
    books = apply_all(fixture("initial_dump.json"), fixture("price_change_era3.json"))

    yes, no = books.get(POLYMARKET, YES), books.get(POLYMARKET, NO)

    assert yes is not None and no is not None and yes.valid and no.valid
    assert yes.bids == {4600: 100_000_000, 4700: 1_500_000_000}
    assert no.asks == {PRICE_ONE - p: size for p, size in yes.bids.items()}
    assert no.bids == {PRICE_ONE - p: size for p, size in yes.asks.items()}


def test_decoded_best_prices_match_the_locally_built_book():
    books = apply_all(fixture("book.json"), fixture("price_change_era3.json"))
    events, _ = decode("price_change_era3.json")

    book = books.get(POLYMARKET, YES)
    assert book is not None
    assert (events[0].best_bid, events[0].best_ask) == (book.best_bid, book.best_ask)


# --- other event types --------------------------------------------------------------------


def test_tick_size_change_carries_old_and_new_ticks_and_invalidates_the_book():
    events, _ = decode("tick_size_change.json")
    books = apply_all(fixture("book.json"))

    invalid = books.apply(events)

    assert events == [TickSizeChange(POLYMARKET, RECV_NS, YES, 100, 10, 1_790_658_676_000)]
    assert [e.reason for e in invalid] == [INVALID_TICK_SIZE_CHANGE]
    book = books.get(POLYMARKET, YES)
    assert book is not None and not book.valid and book.tick == 10


def test_last_trade_price_is_a_trade_with_the_lowercase_taker_side():
    events, _ = decode("last_trade_price.json")

    assert events == [Trade(POLYMARKET, RECV_NS, YES, 4800, 219_250_000, "buy", 1_790_658_675_000)]


def test_best_bid_ask_is_the_venue_top_of_book():
    events, _ = decode("best_bid_ask.json")

    assert events == [
        TopOfBook(POLYMARKET, RECV_NS, YES, 7300, 7700, venue_ts_ms=1_790_658_677_000)
    ]


def test_market_resolved_gives_yes_to_the_winning_token_and_no_to_the_other():
    events, _ = decode("market_resolved.json")

    assert events == [
        Resolution(POLYMARKET, RECV_NS, YES, "no", 1_790_658_678_000),
        Resolution(POLYMARKET, RECV_NS, NO, "yes", 1_790_658_678_000),
    ]


def test_new_market_is_a_status_keyed_by_condition_id():
    events, _ = decode("new_market.json")

    assert events == [
        MarketStatus(
            POLYMARKET,
            RECV_NS,
            "0x7b21000000000000000000000000000000000000000000000000000000000c1d",
            "new_market",
            1_790_658_679_000,
        )
    ]


# --- batches, text frames, errors ---------------------------------------------------------


def test_unknown_event_type_in_a_batch_is_skipped_and_the_rest_decoded_in_order():
    events, decoder = decode("batch_mixed_with_unknown.json")

    assert [type(e) for e in events] == [BookSnapshot, LevelSet, Trade]
    assert events[2] == Trade(POLYMARKET, RECV_NS, YES, 4900, 5_000_000, "sell", 1_790_658_661_400)
    assert (decoder.skipped, decoder.decode_errors) == (1, 0)


def test_batch_decodes_identically_to_its_elements_sent_one_by_one():
    # The unknown element sends the batch down the per-element path; alone, each is typed-decoded.
    elements = json.loads(fixture("batch_mixed_with_unknown.json"))
    decoder = PolymarketDecoder()

    one_by_one = [e for el in elements for e in decoder.decode(json.dumps(el).encode(), RECV_NS)]
    batched, _ = decode("batch_mixed_with_unknown.json")

    assert batched == one_by_one
    assert decoder.skipped == 1


def test_malformed_element_in_a_batch_is_one_decode_error_and_the_others_still_decode():
    events, decoder = decode("batch_malformed_element.json")

    assert [type(e) for e in events] == [LevelSet, DecodeError, TopOfBook]
    assert "price_change" in events[1].reason
    assert events[1].recv_ns == RECV_NS
    assert (decoder.decode_errors, decoder.skipped) == (1, 0)


@pytest.mark.parametrize(
    ("name", "text"), [("pong.txt", "PONG"), ("invalid_operation.txt", "INVALID OPERATION")]
)
def test_non_json_text_frame_is_a_notice(name: str, text: str):
    events, decoder = decode(name)

    assert events == [Notice(POLYMARKET, RECV_NS, text)]
    assert decoder.decode_errors == 0


def test_empty_array_is_no_events_and_no_error():
    decoder = PolymarketDecoder()

    assert decoder.decode(b"[]", RECV_NS) == []
    assert (decoder.decode_errors, decoder.skipped) == (0, 0)


def test_unknown_single_event_is_skipped_not_an_error():
    decoder = PolymarketDecoder()

    events = decoder.decode(b'{"event_type": "order_book_heartbeat", "market": "0x1"}', RECV_NS)

    assert events == []
    assert (decoder.skipped, decoder.decode_errors) == (1, 0)


@pytest.mark.parametrize(
    ("payload", "reason_part"),
    [
        (b'{"event_type": "book", "asset_id": "1", "bids": []', "malformed JSON"),
        (b"", "empty frame"),
        (b"\xff\xfe\x00", "neither JSON nor UTF-8"),
        (b"42", "not an event"),
        (b'{"market": "0x1", "bids": []}', "event_type"),
        (b'{"event_type": "book", "asset_id": "1", "bids": [], "asks": null}', "book"),
        (b'{"event_type": "price_change", "market": "0x1", "timestamp": "1"}', "price_change"),
    ],
)
def test_undecodable_frame_is_one_counted_decode_error(payload: bytes, reason_part: str):
    decoder = PolymarketDecoder()

    events = decoder.decode(payload, RECV_NS)

    assert len(events) == 1 and isinstance(events[0], DecodeError)
    assert reason_part in events[0].reason
    assert decoder.decode_errors == 1


@pytest.mark.parametrize(
    "change",
    [
        {"price": "0.00001", "size": "1", "side": "BUY"},  # finer than the $0.0001 tick grid
        {"price": "1.5", "size": "1", "side": "BUY"},  # a probability price above $1
        {"price": "0.5", "size": "-3", "side": "BUY"},
        {"price": "0.5", "size": "1.0000001", "side": "BUY"},  # finer than a millionth
        {"price": "0.5", "size": "1", "side": "HOLD"},
        {"price": "abc", "size": "1", "side": "BUY"},
        {"price": 0.5, "size": "1", "side": "BUY"},  # numbers are strings on the wire
    ],
)
def test_inexact_or_impossible_values_are_decode_errors_not_events(change: dict[str, object]):
    frame = {
        "event_type": "price_change",
        "market": "0x1",
        "timestamp": "1",
        "price_changes": [{"asset_id": YES, **change}],
    }
    decoder = PolymarketDecoder()

    events = decoder.decode(json.dumps(frame).encode(), RECV_NS)

    assert [type(e) for e in events] == [DecodeError]


@pytest.mark.parametrize(
    ("price", "size", "ticks", "millionths"),
    [
        ("0.001", "9000023.58", 10, 9_000_023_580_000),
        ("0.514", "21574.08", 5140, 21_574_080_000),
        ("0.47", "1300.5", 4700, 1_300_500_000),
        ("0.9999", "0.000001", 9999, 1),
        ("0.5000", "1300.500000", 5000, 1_300_500_000),
        ("1", "0", 10_000, 0),
    ],
)
def test_wire_number_strings_become_exact_integers(
    price: str, size: str, ticks: int, millionths: int
):
    frame = {
        "event_type": "price_change",
        "asset_id": YES,
        "price": price,
        "size": size,
        "side": "SELL",
        "timestamp": "1729000000000",
    }

    events = PolymarketDecoder().decode(json.dumps(frame).encode(), RECV_NS)

    assert [(e.price, e.size) for e in events] == [(ticks, millionths)]


def test_cold_and_warm_string_caches_decode_a_frame_identically():
    frame = fixture("price_change_era3.json")
    for cache in (decode_module._PRICES, decode_module._SIZES, decode_module._TOPS):
        cache.clear()
    cold = PolymarketDecoder().decode(frame, RECV_NS)

    warm = PolymarketDecoder().decode(frame, RECV_NS)

    assert cold == warm
    assert [(e.price, e.best_bid, e.best_ask) for e in warm] == [
        (4700, 4700, 4900),
        (5300, 5100, 5300),
    ]


# --- never raises -------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4)
    | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)
wire_text = st.one_of(
    st.none(),
    st.sampled_from(["0", "0.5", "0.47", "1", "1.5", "-1", "", "abc", "0.00001", "BUY", "SELL"]),
    st.integers(),
    st.text(max_size=6),
)
level = st.fixed_dictionaries({"price": wire_text, "size": wire_text})
event_like = st.fixed_dictionaries(
    {
        "event_type": st.sampled_from(
            [
                "book",
                "price_change",
                "tick_size_change",
                "last_trade_price",
                "best_bid_ask",
                "market_resolved",
                "new_market",
                "other",
            ]
        )
    },
    optional={
        "asset_id": wire_text,
        "market": wire_text,
        "price": wire_text,
        "size": wire_text,
        "side": wire_text,
        "best_bid": wire_text,
        "best_ask": wire_text,
        "timestamp": wire_text,
        "tick_size": wire_text,
        "old_tick_size": wire_text,
        "new_tick_size": wire_text,
        "winning_asset_id": wire_text,
        "assets_ids": st.lists(wire_text, max_size=3),
        "bids": st.lists(level, max_size=3),
        "asks": st.lists(level, max_size=3),
        "changes": st.lists(
            st.fixed_dictionaries({"price": wire_text, "size": wire_text, "side": wire_text}),
            max_size=3,
        ),
        "price_changes": st.lists(
            st.fixed_dictionaries(
                {"asset_id": wire_text, "price": wire_text, "size": wire_text, "side": wire_text},
                optional={"best_bid": wire_text, "best_ask": wire_text},
            ),
            max_size=3,
        ),
    },
)


def assert_well_formed(decoder: PolymarketDecoder, events: list[Event]) -> None:
    assert all(isinstance(e, Event) for e in events)
    assert all(e.venue == POLYMARKET and e.recv_ns == RECV_NS for e in events)
    assert decoder.decode_errors == sum(isinstance(e, DecodeError) for e in events)


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=200))
def test_decode_never_raises_on_arbitrary_bytes(payload: bytes):
    decoder = PolymarketDecoder()

    events = decoder.decode(payload, RECV_NS)

    assert_well_formed(decoder, events)


@settings(max_examples=150, deadline=None)
@given(json_values)
def test_decode_never_raises_on_random_json(value: object):
    decoder = PolymarketDecoder()

    events = decoder.decode(json.dumps(value).encode(), RECV_NS)

    assert_well_formed(decoder, events)


@settings(max_examples=200, deadline=None)
@given(st.lists(event_like, max_size=4) | event_like)
def test_decode_never_raises_on_event_shaped_json_and_counts_every_element(value: object):
    decoder = PolymarketDecoder()

    events = decoder.decode(json.dumps(value).encode(), RECV_NS)

    assert_well_formed(decoder, events)
    elements = value if isinstance(value, list) else [value]
    others = sum(el["event_type"] == "other" for el in elements)
    assert decoder.skipped == others


def real_frames() -> list[object]:
    """Every JSON fixture of a real wire shape (the deliberately malformed batch left out)."""
    return [
        json.loads(path.read_bytes())
        for path in sorted(FIXTURES.glob("*.json"))
        if path.name != "batch_malformed_element.json"
    ]


REAL_FRAMES = real_frames()
# Values a field of a real frame could plausibly carry instead: near-miss numbers, wrong types,
# other tokens, other event types, containers where scalars belong and the reverse.
NEAR_VALUES = [
    None, True, 0, 1, -1, 0.5, 47, 10**30, "", "0", "0.5", "0.47", "1", "1.0001", "-0.01", "1e-3",
    " 0.5", "0.123456789", "NaN", "abc", "BUY", "SELL", "buy", YES, NO, "book", "price_change",
    "tick_size_change", "market_resolved", [], {}, ["0.5", "10"], {"price": "0.5", "size": "1"},
]


def paths(value: object, prefix: tuple = ()) -> list[tuple]:
    """Every node's path in a JSON value (keys and indices), the root included."""
    found = [prefix]
    if isinstance(value, dict):
        for key, child in value.items():
            found += paths(child, (*prefix, key))
    elif isinstance(value, list):
        for i, child in enumerate(value):
            found += paths(child, (*prefix, i))
    return found


def changed(frame: object, path: tuple, action: str, value: object) -> object:
    """`frame` with the node at `path` replaced, deleted, wrapped in a list or duplicated."""
    if not path:
        return value if action == "replace" else [frame, frame] if action == "duplicate" else [frame]
    parent = frame
    for key in path[:-1]:
        parent = parent[key]  # type: ignore[index]
    key, node = path[-1], parent[path[-1]]  # type: ignore[index]
    if action == "replace":
        parent[key] = value  # type: ignore[index]
    elif action == "delete":
        del parent[key]  # type: ignore[arg-type]
    elif action == "wrap":
        parent[key] = [node]  # type: ignore[index]
    elif isinstance(parent, list):
        parent.insert(key, copy.deepcopy(node))
    else:
        parent[key] = [node, node]  # type: ignore[index]
    return frame


def test_real_frames_decode_without_errors():
    # The base of the near-real property below: every fixture frame is a clean frame.
    assert len(REAL_FRAMES) >= 14
    for frame in REAL_FRAMES:
        decoder = PolymarketDecoder()
        decoder.decode(json.dumps(frame).encode(), RECV_NS)
        assert decoder.decode_errors == 0, frame


@settings(max_examples=600, deadline=None)
@given(st.data())
def test_decode_never_raises_on_real_frames_with_a_few_fields_changed(data):
    base = data.draw(st.sampled_from(REAL_FRAMES))
    frame = copy.deepcopy(base)
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(paths(frame)))
        action = data.draw(st.sampled_from(["replace", "delete", "wrap", "duplicate"]))
        frame = changed(frame, path, action, copy.deepcopy(data.draw(st.sampled_from(NEAR_VALUES))))
    decoder = PolymarketDecoder()
    decoder.decode(json.dumps(base).encode(), RECV_NS)  # warm the decoder's caches first

    events = decoder.decode(json.dumps(frame).encode(), RECV_NS)

    assert all(isinstance(e, Event) for e in events)
    assert all(e.venue == POLYMARKET and e.recv_ns == RECV_NS for e in events)
    assert decoder.decode_errors == sum(isinstance(e, DecodeError) for e in events)


def number_text(max_whole: int) -> st.SearchStrategy[str]:
    return st.one_of(
        st.text(alphabet="0123456789.+- e_", max_size=12),
        st.builds(
            lambda whole, frac: f"{whole}.{frac}",
            st.integers(min_value=0, max_value=max_whole),
            st.text(alphabet="0123456789", max_size=8),
        ),
    )


@settings(max_examples=200, deadline=None)
@given(price=number_text(1), size=number_text(10**9))
def test_decoder_accepts_exactly_the_prices_and_sizes_fixedpoint_accepts(price: str, size: str):
    try:
        expected = (parse_price(price), parse_size(size))
        valid = 0 <= expected[0] <= PRICE_ONE and expected[1] >= 0
    except ValueError:
        valid = False
    change = {"asset_id": YES, "price": price, "size": size, "side": "BUY"}
    frame = {"event_type": "price_change", "timestamp": "1", "price_changes": [change]}

    events = PolymarketDecoder().decode(json.dumps(frame).encode(), RECV_NS)

    if valid:
        assert [(e.price, e.size) for e in events] == [expected]
    else:
        assert [type(e) for e in events] == [DecodeError]


# --- fast paths ------------------------------------------------------------------------------

# "Plain" as the compiled build parses it without the strict parser: up to 18 characters.
plain_sizes = st.builds(
    lambda whole, frac: whole + frac,
    st.text(alphabet="0123456789", min_size=1, max_size=11),
    st.one_of(st.just(""), st.text(alphabet="0123456789", max_size=6).map(lambda f: "." + f)),
)
any_size_text = st.one_of(
    plain_sizes,
    st.text(alphabet="0123456789.+-e _\u0663\u00b2", max_size=20),
    st.text(max_size=10),
)


def strict_size(text: str) -> int | None:
    """What the decoder must accept: fixedpoint's exact, non-negative sizes."""
    try:
        value = parse_size(text)
    except ValueError:
        return None
    return value if value >= 0 else None


@settings(max_examples=400, deadline=None)
@given(any_size_text)
def test_plain_size_parser_agrees_with_fixedpoint_wherever_it_answers(text: str):
    value = plain_millionths(text)

    assert value == -1 or value == strict_size(text)


@settings(max_examples=200, deadline=None)
@given(plain_sizes)
def test_plain_size_parser_answers_every_plain_size(text: str):
    assert plain_millionths(text) == parse_size(text)


@settings(max_examples=400, deadline=None)
@given(any_size_text)
def test_size_accepts_exactly_the_sizes_fixedpoint_accepts(text: str):
    expected = strict_size(text)

    try:
        value = decode_module._size(text)
    except ValueError:
        value = None

    assert value == expected


wire_price = st.sampled_from(["0.47", "0.53", "0.5", "1", "0", "0.4700", "1.5", "abc", "0.00001"])
era3_change = st.builds(
    decode_module.AssetChange,
    asset_id=st.sampled_from([YES, NO]),
    price=wire_price,
    size=st.one_of(st.sampled_from(["1500", "25.25", "0", "-3", "1.0000001", ""]), any_size_text),
    side=st.sampled_from(["BUY", "SELL", "buy", "sell"]),
    best_bid=st.one_of(st.none(), st.just(""), wire_price),
    best_ask=st.one_of(st.none(), st.just(""), wire_price),
)


def careful_price_changes(changes: list, recv_ns: int, ts: int) -> list:
    """Each change parsed the strict way, one field at a time."""
    return [
        LevelSet(
            POLYMARKET,
            recv_ns,
            c.asset_id,
            BID if c.side in ("BUY", "buy") else ASK,
            decode_module._price(c.price),
            decode_module._size(c.size),
            ts,
            decode_module._top(c.best_bid),
            decode_module._top(c.best_ask),
        )
        for c in changes
    ]


def outcome(loop, changes: list) -> object:
    try:
        return loop(changes, RECV_NS, 1_790_658_674_035)
    except ValueError as exc:
        return f"ValueError: {exc}"


@settings(max_examples=300, deadline=None)
@given(st.lists(era3_change, max_size=4))
def test_cached_era3_loop_gives_the_careful_paths_events_and_errors(changes: list):
    # Prime the caches with the valid prices and tops, as earlier frames would have.
    PolymarketDecoder().decode(fixture("price_change_era3.json"), RECV_NS)
    for text in ("0.5", "1", "0", "0.4700", ""):
        decode_module._price(text) if text else None
        decode_module._top(text)
    decode_module._top(None)

    cached = outcome(decode_module._cached_price_changes, changes)
    careful = outcome(careful_price_changes, changes)

    # The cached loop declines (None) only when a price or top is not cached yet; it never differs.
    all_cached = all(
        c.price in decode_module._PRICES
        and c.best_bid in decode_module._TOPS
        and c.best_ask in decode_module._TOPS
        for c in changes
    )
    if cached is None:
        assert not all_cached
    elif isinstance(cached, str):  # rejected: the careful path rejects it too (maybe another field first)
        assert isinstance(careful, str)
    else:
        assert cached == careful
