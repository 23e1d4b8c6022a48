"""Derived columns computed at seal time (DESIGN §3)."""

from __future__ import annotations

import orjson
import pyarrow as pa
from store_frames import (
    CONDITION,
    KALSHI_TICKER,
    NO_TOKEN,
    YES_TOKEN,
    kalshi_delta,
    kalshi_snapshot,
    poly_book,
    poly_price_change,
)

from arbkit.store.derive import derive_batch, derive_row
from arbkit.store.schema import FRAMES_SCHEMA, SEALED_SCHEMA


def test_kalshi_delta_yields_type_ticker_seq_and_ts_ms():
    assert derive_row("kalshi", "in", kalshi_delta(42, ts_ms=1_790_000_000_440)) == (
        "orderbook_delta",
        KALSHI_TICKER,
        42,
        1_790_000_000_440,
        None,
        7,
    )


def test_kalshi_snapshot_without_ts_ms_falls_back_to_sending_ts_ms():
    assert derive_row("kalshi", "in", kalshi_snapshot(1, sending_ts_ms=1_790_000_000_123)) == (
        "orderbook_snapshot",
        KALSHI_TICKER,
        1,
        1_790_000_000_123,
        None,
        7,
    )


def test_kalshi_legacy_delta_without_timestamps_has_null_venue_ts():
    payload = b'{"type":"orderbook_delta","sid":7,"seq":2,"msg":{"market_ticker":"KXA","price":33,"delta":-25,"side":"yes"}}'

    assert derive_row("kalshi", "in", payload) == ("orderbook_delta", "KXA", 2, None, None, 7)


def test_kalshi_command_reply_has_no_market():
    payload = b'{"id":1,"type":"subscribed","msg":{"channel":"orderbook_delta","sid":7}}'

    # The sid inside `msg` is the reply's content, not the frame's subscription.
    assert derive_row("kalshi", "in", payload) == ("subscribed", None, None, None, None, None)


def test_kalshi_list_subscriptions_reply_with_array_msg_keeps_its_type():
    payload = b'{"id":6,"type":"ok","msg":[{"channel":"orderbook_delta","sid":7}]}'

    assert derive_row("kalshi", "in", payload) == ("ok", None, None, None, None, None)


def test_kalshi_outgoing_command_is_typed_by_its_cmd():
    payload = b'{"id":1,"cmd":"subscribe","params":{"channels":["orderbook_delta"],"market_tickers":["KXA"]}}'

    assert derive_row("kalshi", "out", payload) == ("subscribe", None, None, None, None, None)


def test_values_of_the_wrong_type_become_null_not_errors():
    payload = b'{"type":"orderbook_delta","sid":1.5,"seq":"12","msg":{"market_ticker":5,"ts_ms":99999999999999999999999}}'

    assert derive_row("kalshi", "in", payload) == ("orderbook_delta", None, None, None, None, None)


def test_polymarket_book_yields_asset_and_integer_timestamp():
    assert derive_row("polymarket", "in", poly_book(YES_TOKEN, 1_790_658_661_234)) == (
        "book",
        YES_TOKEN,
        None,
        1_790_658_661_234,
        CONDITION,
        None,
    )


def test_polymarket_era3_price_change_on_two_assets_has_no_market():
    row = derive_row("polymarket", "in", poly_price_change(1_790_658_674_035))

    assert row == ("price_change", None, None, 1_790_658_674_035, CONDITION, None)


def test_polymarket_era3_price_change_on_one_asset_names_it():
    row = derive_row("polymarket", "in", poly_price_change(5, assets=(NO_TOKEN, NO_TOKEN)))

    assert row == ("price_change", NO_TOKEN, None, 5, CONDITION, None)


def test_polymarket_era1_and_era2_price_changes_name_their_asset():
    era1 = b'{"event_type":"price_change","asset_id":"11","market":"0x1","price":"0.6","side":"BUY","size":"3400","timestamp":"1729000000000"}'
    era2 = b'{"event_type":"price_change","asset_id":"12","market":"0x1","changes":[{"price":"0.4","side":"SELL","size":"3300"}],"timestamp":"1729084877448"}'

    assert derive_row("polymarket", "in", era1) == ("price_change", "11", None, 1729000000000, "0x1", None)
    assert derive_row("polymarket", "in", era2) == ("price_change", "12", None, 1729084877448, "0x1", None)


def test_polymarket_array_of_books_for_two_assets_is_an_array_without_market():
    payload = b"[" + poly_book(YES_TOKEN, 100) + b"," + poly_book(NO_TOKEN, 250) + b"]"

    assert derive_row("polymarket", "in", payload) == ("array", None, None, 250, CONDITION, None)


def test_polymarket_array_with_one_asset_names_it():
    payload = b"[" + poly_book(YES_TOKEN, 100) + b"]"

    assert derive_row("polymarket", "in", payload) == ("array", YES_TOKEN, None, 100, CONDITION, None)


def test_polymarket_array_with_unknown_elements_still_counts_as_array():
    payload = b'[{"event_type":"something_new","timestamp":7}, 3, "x"]'

    assert derive_row("polymarket", "in", payload) == ("array", None, None, 7, None, None)


def test_polymarket_outgoing_subscription_is_typed_by_its_type():
    payload = orjson.dumps({"type": "market", "assets_ids": [YES_TOKEN], "initial_dump": True})

    assert derive_row("polymarket", "out", payload) == ("market", None, None, None, None, None)


def test_non_json_text_frames_are_text():
    for venue, payload in [
        ("polymarket", b"PONG"),
        ("polymarket", b"INVALID OPERATION"),
        ("kalshi", b"{not json"),
        ("polymarket", b""),
        ("polymarket", b"42"),
    ]:
        assert derive_row(venue, "in", payload) == ("text", None, None, None, None, None), payload


def test_lifecycle_rows_have_null_derived_columns():
    for kind in ("open", "close", "error", "ping", "pong"):
        payload = b'{"url":"wss://x","type":"ignored","seq":3,"sid":1}'
        assert derive_row("kalshi", kind, payload) == (None, None, None, None, None, None)


def test_derive_batch_appends_the_derived_columns_with_exact_types():
    batch = pa.RecordBatch.from_pylist(
        [
            {"session_id": "s", "ingest_seq": 0, "recv_ns": 1, "mono_ns": 1, "venue": "kalshi",
             "conn_id": 0, "kind": "in", "payload": kalshi_delta(3, ts_ms=77)},
            {"session_id": "s", "ingest_seq": 1, "recv_ns": 2, "mono_ns": 2, "venue": "polymarket",
             "conn_id": 0, "kind": "open", "payload": b'{"url":"wss://x"}'},
        ],
        schema=FRAMES_SCHEMA,
    )

    sealed = derive_batch(batch)

    assert sealed.schema.equals(SEALED_SCHEMA)
    assert sealed.column("msg_type").to_pylist() == ["orderbook_delta", None]
    assert sealed.column("market").to_pylist() == [KALSHI_TICKER, None]
    assert sealed.column("venue_seq").to_pylist() == [3, None]
    assert sealed.column("venue_ts_ms").to_pylist() == [77, None]
    assert sealed.column("condition_id").to_pylist() == [None, None]
    assert sealed.column("sid").to_pylist() == [7, None]
    assert sealed.column("payload_bytes").to_pylist() == [len(kalshi_delta(3, ts_ms=77)), len(b'{"url":"wss://x"}')]


def test_polymarket_frames_name_their_condition_id_only_when_exactly_one():
    other = poly_book(NO_TOKEN, 250).replace(CONDITION.encode(), b"0xother")

    assert derive_row("polymarket", "in", poly_book(YES_TOKEN, 1))[4] == CONDITION
    assert derive_row("polymarket", "in", b"[" + poly_book(YES_TOKEN, 1) + b"," + other + b"]")[4] is None
    assert derive_row("polymarket", "in", b'{"event_type":"book","market":7}')[4] is None
    assert derive_row("polymarket", "in", b"PONG")[4] is None
    assert derive_row("kalshi", "in", kalshi_delta(3, ts_ms=77))[4] is None


def test_kalshi_sid_is_the_top_level_one_and_fits_int64():
    def delta(sid: bytes) -> bytes:
        return b'{"type":"orderbook_delta","sid":' + sid + b',"seq":4,"msg":{"market_ticker":"KXA"}}'

    assert derive_row("kalshi", "in", delta(b"12"))[5] == 12
    assert derive_row("kalshi", "in", delta(b"99999999999999999999999"))[5] is None
    assert derive_row("kalshi", "in", delta(b'"12"'))[5] is None
    assert derive_row("kalshi", "in", b"[" + delta(b"12") + b"]")[5] is None
    assert derive_row("polymarket", "in", b'{"event_type":"book","sid":3}')[5] is None
