"""How the engine takes frames: level-update frames on the hot path, other frames on the general
one, row by row or in column batches, on any connection — with the same decisions throughout."""

from __future__ import annotations

import orjson
from engine_recordings import (
    CONDITION,
    MS,
    POLYMARKET,
    T0,
    YES_TOKEN,
    Recording,
    config_text,
    run,
    standard_opening,
)

from arbkit.config import parse_config
from arbkit.engine import Engine
from arbkit.store import reader

SECOND = 1_000 * MS


def price_change(t_ns: int, side: str, price: str, size: str) -> dict:
    """An era-3 `price_change` of one level of the Polymarket YES token."""
    return {
        "event_type": "price_change",
        "market": CONDITION,
        "price_changes": [
            {"asset_id": YES_TOKEN, "price": price, "size": size, "side": side,
             "hash": "b762000000000000000000000000000000000ef9"}
        ],
        "timestamp": str(t_ns // MS),
    }


def test_a_frame_mixing_a_level_update_with_a_trade_print_opens_the_window_on_that_frame(tmp_path):
    # Arrange: the YES bid at 0.50 that opens the window comes in one array with a trade print.
    rec = Recording()
    standard_opening(rec)
    t = T0 + 1 * SECOND
    trade = {"event_type": "last_trade_price", "asset_id": YES_TOKEN, "market": CONDITION,
             "price": "0.50", "size": "10", "side": "BUY", "timestamp": str(t // MS)}
    mixed = rec.poly_text(t, orjson.dumps([price_change(t, "BUY", "0.50", "100"), trade]))
    gone = rec.poly_change(T0 + 2 * SECOND, "BUY", "0.50", "0")

    # Act
    tables = run(rec, tmp_path)

    # Assert
    [window] = tables["opportunities"]
    assert (window["open_ingest_seq"], window["close_ingest_seq"]) == (mixed, gone)
    assert window["close_reason"] == "edge_gone"


def test_closing_a_connection_that_only_sent_level_updates_invalidates_the_book_it_updated(tmp_path):
    # Arrange: a second Polymarket connection moves the YES book seeded on the first one.
    rec = Recording()
    standard_opening(rec)
    second = 2
    rec._add(T0 + 1 * SECOND, POLYMARKET, "open", b'{"url": "ws://127.0.0.1/polymarket"}', second)
    t = T0 + 2 * SECOND
    opened = rec._add(t, POLYMARKET, "in", orjson.dumps(price_change(t, "BUY", "0.50", "100")), second)
    closed = rec.close(T0 + 3 * SECOND, POLYMARKET, second)

    # Act
    tables = run(rec, tmp_path)

    # Assert
    [window] = tables["opportunities"]
    assert (window["open_ingest_seq"], window["close_ingest_seq"]) == (opened, closed)
    assert window["close_reason"] == "book_invalid"
    health = {b["venue"]: b for b in tables["book_health"]}
    assert orjson.loads(health[POLYMARKET]["invalid_reasons"]) == {"disconnect": 1}


def test_frames_one_by_one_and_in_column_batches_give_the_same_outputs(tmp_path):
    # Arrange
    rec = Recording()
    standard_opening(rec)
    rec.poly_change(T0 + 1 * SECOND, "BUY", "0.50", "100")
    rec.kalshi_delta(T0 + 1 * SECOND + 200 * MS, "no", "0.5500", "-40.00")
    rec.poly_change(T0 + 2 * SECOND, "BUY", "0.50", "0")
    rec.close(T0 + 3 * SECOND, POLYMARKET)
    root = rec.write(tmp_path / "rec")
    config = parse_config(config_text())
    columns = ("session_id", "ingest_seq", "recv_ns", "venue", "conn_id", "kind", "payload")

    # Act
    by_frame = Engine(config)
    one_by_one = [out for frame in reader.iter_frames(root) for out in by_frame.process(frame)]
    one_by_one += by_frame.finish()
    by_batch = Engine(config)
    batched = [out for batch in reader.iter_frame_lists(root, columns=columns)
               for out in by_batch.process_rows(*batch)]
    batched += by_batch.finish()

    # Assert
    assert [table for table, _ in one_by_one].count("opportunities") == 1
    assert batched == one_by_one
    assert by_batch.book_health() == by_frame.book_health()
    assert (by_batch.frames, by_batch.last_ns, by_batch.last_ingest_seq) == (
        by_frame.frames, by_frame.last_ns, by_frame.last_ingest_seq
    )
