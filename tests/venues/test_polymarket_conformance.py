"""Every shared Polymarket sample frame decodes to the expected events with no decode error.

The samples live beside the checkout (`../shared/samples/polymarket`); the tests skip without it.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest

from arbkit.core.book import BookManager
from arbkit.core.events import (
    BID,
    POLYMARKET,
    BookSnapshot,
    LevelSet,
    MarketStatus,
    Resolution,
    TickSizeChange,
    TopOfBook,
    Trade,
)
from arbkit.venues.polymarket import PolymarketDecoder

RECV_NS = 1_700_000_000_000_000_000

EXPECTED = {
    "ws_book.json": {BookSnapshot: 1},
    "ws_last_trade_price.json": {Trade: 1},
    "ws_market_best_bid_ask_msg.json": {TopOfBook: 1},
    "ws_market_book_msg.json": {BookSnapshot: 1},
    "ws_market_last_trade_msg.json": {Trade: 1},
    "ws_market_new_market_msg.json": {MarketStatus: 1},
    "ws_market_price_change_msg.json": {LevelSet: 1},
    "ws_market_resolved_msg.json": {Resolution: 2},
    "ws_market_tick_size_msg.json": {TickSizeChange: 1},
    "ws_price_change.json": {LevelSet: 1},
    "ws_price_change_v2.json": {LevelSet: 3},
    "ws_tick_size_change.json": {TickSizeChange: 1},
}


def samples_dir(shared_samples: Path) -> Path:
    return shared_samples / "polymarket"


def test_every_sample_file_has_an_expectation(shared_samples: Path):
    files = {p.name for p in samples_dir(shared_samples).iterdir() if p.is_file()}

    assert files == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_decodes_to_the_expected_event_types_without_errors(
    shared_samples: Path, name: str
):
    decoder = PolymarketDecoder()

    events = decoder.decode((samples_dir(shared_samples) / name).read_bytes(), RECV_NS)

    assert Counter(type(e) for e in events) == Counter(EXPECTED[name])
    assert (decoder.decode_errors, decoder.skipped) == (0, 0)


def test_captured_book_has_76_bids_86_asks_and_best_prices_at_the_array_ends(
    shared_samples: Path,
):
    decoder = PolymarketDecoder()
    books = BookManager()
    payload = (samples_dir(shared_samples) / "ws_book.json").read_bytes()

    (snapshot,) = decoder.decode(payload, RECV_NS)
    books.apply([snapshot])

    assert isinstance(snapshot, BookSnapshot)
    assert (len(snapshot.bids), len(snapshot.asks)) == (76, 86)
    assert snapshot.venue_ts_ms == 1_728_799_418_260
    book = books.get(POLYMARKET, snapshot.market)
    assert book is not None and book.valid
    assert (book.best_bid, book.best_ask) == (5110, 5140)
    assert (snapshot.bids[-1][0], snapshot.asks[-1][0]) == (5110, 5140)
    assert snapshot.bids[0] == (10, 9_000_023_580_000)


def test_legacy_one_level_sample_sets_the_ask_it_names(shared_samples: Path):
    payload = (samples_dir(shared_samples) / "ws_price_change.json").read_bytes()

    (change,) = PolymarketDecoder().decode(payload, RECV_NS)

    assert isinstance(change, LevelSet)
    assert (change.side, change.price, change.size) == (1, 5140, 21_574_080_000)
    assert change.market.startswith("4833104333")


def test_current_shape_sample_with_event_type_last_keeps_venue_top_of_book(shared_samples: Path):
    payload = (samples_dir(shared_samples) / "ws_price_change_v2.json").read_bytes()

    events = PolymarketDecoder().decode(payload, RECV_NS)

    assert [(e.side, e.price, e.size, e.best_bid, e.best_ask) for e in events] == [
        (BID, 6000, 3_300_000_000, 6000, 7000),
        (BID, 5000, 3_400_000_000, 6000, 7000),
        (BID, 7000, 3_400_000_000, 6000, 7000),
    ]
