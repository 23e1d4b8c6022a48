"""The engine end to end through replay, on small hand-built recordings (issue 5, "Done when").

Every recording starts from `standard_opening`: Kalshi YES bid 0.40 x 100 and NO bid 0.55 x 100
(a YES ask at 0.45 x 100); Polymarket YES token bid 0.40 x 100, ask 0.62 x 100, so Polymarket NO
asks are the YES bids at 1 − p (the NO token's book is never sent). Neither direction has an edge
until a Polymarket YES bid at 0.50 appears: then buying Kalshi YES at 0.45 and Polymarket NO at
0.50 makes, for one contract pair, 1 − 0.45 − 0.50 = $0.05 gross, minus the Kalshi fee
ceil_cent(0.07 × 0.45 × 0.55 = 0.017325) = $0.02 and the Polymarket fee
0.03 × 0.50 × 0.50 = $0.0075: $0.0225 ≥ min_edge $0.01.
"""

from __future__ import annotations

from decimal import Decimal

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from engine_recordings import (
    KALSHI,
    MS,
    NO_TOKEN,
    POLYMARKET,
    T0,
    Recording,
    config_text,
    run,
    standard_opening,
)

from arbkit.config import parse_config
from arbkit.runner.replay import replay

SECOND = 1_000 * MS
BUY_KALSHI_YES = "buy_kalshi_yes_poly_no"


def open_edge(rec: Recording, t_ns: int) -> int:
    """A Polymarket YES bid at 0.50 x 100: the NO ask at 0.50 that opens the window."""
    return rec.poly_change(t_ns, "BUY", "0.50", "100")


def test_a_window_opens_and_closes_on_the_exact_frames_with_exact_money(tmp_path):
    # Arrange
    rec = Recording()
    standard_opening(rec)
    opened = open_edge(rec, T0 + 1 * SECOND)
    rec.poly_change(T0 + 1 * SECOND + 500 * MS, "SELL", "0.70", "20")  # deep ask: no change
    gone = rec.poly_change(T0 + 2 * SECOND, "BUY", "0.50", "0")

    # Act
    tables = run(rec, tmp_path)

    # Assert
    [window] = tables["opportunities"]
    assert window["direction"] == BUY_KALSHI_YES
    assert (window["open_ingest_seq"], window["close_ingest_seq"]) == (opened, gone)
    assert (window["open_ns"], window["close_ns"]) == (T0 + 1 * SECOND, T0 + 2 * SECOND)
    assert window["close_reason"] == "edge_gone"
    assert window["open_edge_at_min_size"] == Decimal("0.0225")
    # Best size: all 100 on both levels (the next Polymarket NO ask, 0.60, has no edge left).
    # 100 × 0.05 = 5.00, Kalshi ceil_cent(0.07 × 100 × 0.45 × 0.55 = 1.7325) = 1.74,
    # Polymarket 0.03 × 100 × 0.25 = 0.75000: profit 2.51, edge 0.0251 per contract pair.
    assert (window["peak_size"], window["peak_profit"], window["peak_edge"]) == (
        Decimal("100"), Decimal("2.51"), Decimal("0.0251")
    )
    assert window["peak_ingest_seq"] == opened
    assert window["kalshi_staleness_ns"] == T0 + 1 * SECOND - (T0 + 2 * MS)
    assert window["polymarket_staleness_ns"] == 0


def test_money_columns_are_exact_decimals_and_fills_pay_each_venues_fee(tmp_path):
    # Arrange
    rec = Recording()
    standard_opening(rec)
    open_edge(rec, T0 + 1 * SECOND)
    rec.poly_change(T0 + 2 * SECOND, "BUY", "0.50", "0")

    # Act
    tables = run(rec, tmp_path)

    # Assert
    money = pa.decimal128(18, 6)
    run_dir = tmp_path / "run"
    assert pq.read_schema(run_dir / "opportunities.parquet").field("peak_profit").type == money
    assert pq.read_schema(run_dir / "fills.parquet").field("fee").type == money
    fills = {f["venue"]: f for f in tables["fills"]}
    assert (fills[KALSHI]["price"], fills[KALSHI]["size"], fills[KALSHI]["fee"]) == (
        Decimal("0.45"), Decimal("100"), Decimal("1.74")
    )
    assert (fills[POLYMARKET]["outcome"], fills[POLYMARKET]["price"], fills[POLYMARKET]["fee"]) == (
        "no", Decimal("0.50"), Decimal("0.75")
    )
    [trade] = tables["trades"]
    # $1 × 100 − (45.00 + 1.74) − (50.00 + 0.75)
    assert trade["locked_in_pnl"] == Decimal("2.51")
    assert trade["action"] == "none" and trade["legging_pnl"] is None


def test_a_kalshi_seq_gap_closes_the_window_and_none_opens_until_the_next_snapshot(tmp_path):
    # Arrange
    rec = Recording()
    standard_opening(rec)  # Kalshi snapshot is seq 1
    opened = open_edge(rec, T0 + 1 * SECOND)
    gap = rec.kalshi_delta(T0 + 2 * SECOND, "yes", "0.3000", "10.00", seq=3)
    rec.poly_change(T0 + 3 * SECOND, "BUY", "0.51", "50")  # more edge, but Kalshi is invalid
    rec.kalshi_delta(T0 + 3 * SECOND + 500 * MS, "yes", "0.3000", "5.00", seq=4)
    snapshot = rec.kalshi_snapshot(
        T0 + 4 * SECOND, yes=[("0.4000", "100.00")], no=[("0.5500", "100.00")], seq=5
    )

    # Act
    tables = run(rec, tmp_path)

    # Assert
    first, second = tables["opportunities"]
    assert (first["open_ingest_seq"], first["close_ingest_seq"], first["close_reason"]) == (
        opened, gap, "book_invalid"
    )
    assert second["open_ingest_seq"] == snapshot
    assert second["close_reason"] == "end_of_data"
    [kalshi_book] = [b for b in tables["book_health"] if b["venue"] == KALSHI]
    assert kalshi_book["seq_gaps"] == 1
    assert orjson.loads(kalshi_book["invalid_reasons"]) == {"seq_gap": 1}


def test_a_stale_book_closes_the_window_on_the_first_frame_past_max_staleness(tmp_path):
    # Arrange: the Kalshi book's last update is at T0 + 2 ms; max staleness 5 s.
    rec = Recording()
    standard_opening(rec)
    open_edge(rec, T0 + 1 * SECOND)
    rec.poly_text(T0 + 3 * SECOND)
    rec.poly_text(T0 + 2 * MS + 5 * SECOND)  # exactly 5 s old: not yet stale
    stale = rec.poly_text(T0 + 2 * MS + 5 * SECOND + 1)

    # Act
    tables = run(rec, tmp_path, config_text(max_staleness_ms=5000))

    # Assert
    [window] = tables["opportunities"]
    assert (window["close_ingest_seq"], window["close_reason"]) == (stale, "stale")


@pytest.mark.parametrize("venue", [KALSHI, POLYMARKET])
def test_a_connection_close_row_invalidates_that_venues_books_and_closes_the_window(
    tmp_path, venue
):
    # Arrange
    rec = Recording()
    standard_opening(rec)
    open_edge(rec, T0 + 1 * SECOND)
    closed = rec.close(T0 + 2 * SECOND, venue)
    rec.poly_change(T0 + 3 * SECOND, "BUY", "0.51", "50")

    # Act
    tables = run(rec, tmp_path)

    # Assert
    [window] = tables["opportunities"]
    assert (window["close_ingest_seq"], window["close_reason"]) == (closed, "book_invalid")
    health = {b["venue"]: b for b in tables["book_health"]}
    assert orjson.loads(health[venue]["invalid_reasons"]) == {"disconnect": 1}
    assert not health[venue]["valid_at_end"]


def test_a_window_still_open_at_the_end_closes_with_end_of_data_on_the_last_frame(tmp_path):
    # Arrange
    rec = Recording()
    standard_opening(rec)
    open_edge(rec, T0 + 1 * SECOND)
    last = rec.poly_change(T0 + 2 * SECOND, "SELL", "0.70", "20")

    # Act
    tables = run(rec, tmp_path)

    # Assert
    [window] = tables["opportunities"]
    assert (window["close_ingest_seq"], window["close_ns"], window["close_reason"]) == (
        last, T0 + 2 * SECOND, "end_of_data"
    )
    assert window["duration_ns"] == 1 * SECOND


def test_a_one_leg_fill_is_unwound_and_its_legging_loss_recorded(tmp_path):
    # Arrange: Kalshi orders arrive after 10 ms, Polymarket orders after 100 ms; 50 ms after the
    # window opens a Polymarket book with no bids leaves no NO asks for the Polymarket leg.
    rec = Recording()
    standard_opening(rec)
    open_edge(rec, T0 + 1 * SECOND)
    rec.poly_book(T0 + 1 * SECOND + 50 * MS, bids=[], asks=[("0.62", "100")])
    rec.poly_text(T0 + 1 * SECOND + 200 * MS)

    # Act
    tables = run(rec, tmp_path, config_text(kalshi_ms=10, polymarket_ms=100))

    # Assert
    orders = {o["venue"]: o for o in tables["orders"]}
    assert orders[KALSHI]["arrival_ns"] == T0 + 1 * SECOND + 10 * MS
    assert orders[POLYMARKET]["arrival_ns"] == T0 + 1 * SECOND + 100 * MS
    fills = [(f["order_id"], f["action"], f["price"], f["size"], f["notional"], f["fee"], f["ns"])
             for f in tables["fills"]]
    assert fills == [
        ("d1-kalshi", "buy", Decimal("0.45"), Decimal("100"), Decimal("45"), Decimal("1.74"),
         T0 + 1 * SECOND + 10 * MS),
        # sold into the Kalshi YES bid 0.40: fee ceil_cent(0.07 × 100 × 0.40 × 0.60 = 1.68)
        ("d1-kalshi-unwind", "sell", Decimal("0.40"), Decimal("100"), Decimal("40"),
         Decimal("1.68"), T0 + 1 * SECOND + 100 * MS),
    ]
    [trade] = tables["trades"]
    assert (trade["kalshi_filled"], trade["polymarket_filled"], trade["matched_size"]) == (
        Decimal("100"), Decimal("0"), Decimal("0")
    )
    assert (trade["remainder_venue"], trade["remainder_outcome"], trade["action"]) == (
        KALSHI, "yes", "unwind"
    )
    assert (trade["remainder_cost"], trade["unwind_proceeds"], trade["unwind_fees"]) == (
        Decimal("46.74"), Decimal("40"), Decimal("1.68")
    )
    # 40.00 − 1.68 − 46.74
    assert trade["legging_pnl"] == Decimal("-8.42")
    assert trade["held_size"] == 0 and trade["locked_in_pnl"] == 0


def test_a_partial_fill_matches_what_both_legs_got_and_unwinds_the_rest(tmp_path):
    # Arrange: before the Polymarket leg arrives its YES bid at 0.50 shrinks to 40.
    rec = Recording()
    standard_opening(rec)
    open_edge(rec, T0 + 1 * SECOND)
    rec.poly_change(T0 + 1 * SECOND + 50 * MS, "BUY", "0.50", "40")
    rec.poly_text(T0 + 1 * SECOND + 200 * MS)

    # Act
    tables = run(rec, tmp_path, config_text(kalshi_ms=10, polymarket_ms=100))

    # Assert
    [trade] = tables["trades"]
    assert (trade["kalshi_filled"], trade["polymarket_filled"], trade["matched_size"]) == (
        Decimal("100"), Decimal("40"), Decimal("40")
    )
    # Polymarket: 40 × 0.50 = 20.00 + 0.03 × 40 × 0.25 = 0.30 fee.
    assert trade["polymarket_cost"] == Decimal("20.30")
    # The 60 unmatched Kalshi YES carry 60/100 of the leg's 46.74; the matched 40 keep 18.696.
    assert (trade["remainder_size"], trade["remainder_cost"]) == (Decimal("60"), Decimal("28.044"))
    assert trade["locked_in_pnl"] == Decimal("40") - Decimal("18.696") - Decimal("20.30")
    # 60 sold at 0.40 = 24.00, fee ceil_cent(0.07 × 60 × 0.24 = 1.008) = 1.01.
    assert (trade["unwind_proceeds"], trade["unwind_fees"]) == (Decimal("24"), Decimal("1.01"))
    assert trade["legging_pnl"] == Decimal("24") - Decimal("1.01") - Decimal("28.044")


@pytest.mark.parametrize(
    ("recorded", "configured", "windows"),
    [
        # The recorded command wins over the config.
        pytest.param(True, False, 1),
        pytest.param(False, True, 0),
        (None, True, 1),  # a command that does not say leaves the config's value
    ],
)
def test_use_yes_price_is_taken_from_the_recorded_subscribe_command(
    tmp_path, recorded, configured, windows
):
    # Arrange: Kalshi's NO ladder holds one level "0.4500". With use_yes_price it is a YES ask
    # at 0.45 (an edge against the Polymarket NO ask at 0.50); without, a NO bid, i.e. a YES ask
    # at 0.55 (no edge).
    rec = Recording()
    rec.open(T0, KALSHI)
    rec.kalshi_subscribe(T0, use_yes_price=recorded)
    rec.kalshi_snapshot(T0 + 1 * MS, yes=[("0.4000", "100.00")], no=[("0.4500", "100.00")])
    rec.open(T0 + 2 * MS, POLYMARKET)
    rec.poly_subscribe(T0 + 2 * MS)
    book = rec.poly_book(T0 + 3 * MS, bids=[("0.50", "100")], asks=[("0.62", "100")])

    # Act
    tables = run(rec, tmp_path, config_text(use_yes_price=configured))

    # Assert
    assert len(tables["opportunities"]) == windows
    if windows:
        [window] = tables["opportunities"]
        assert (window["direction"], window["open_ingest_seq"]) == (BUY_KALSHI_YES, book)
        assert window["open_edge_at_min_size"] == Decimal("0.0225")


def test_an_order_due_exactly_at_a_frames_time_executes_before_that_frame(tmp_path):
    # Arrange: the book emptying frame arrives at the very nanosecond the Polymarket leg does.
    rec = Recording()
    standard_opening(rec)
    open_edge(rec, T0 + 1 * SECOND)
    rec.poly_book(T0 + 1 * SECOND + 100 * MS, bids=[], asks=[("0.62", "100")])

    # Act
    tables = run(rec, tmp_path, config_text(kalshi_ms=10, polymarket_ms=100))

    # Assert
    [trade] = tables["trades"]
    assert (trade["kalshi_filled"], trade["polymarket_filled"], trade["action"]) == (
        Decimal("100"), Decimal("100"), "none"
    )


def test_malformed_frames_are_counted_and_change_nothing_else(tmp_path):
    # Arrange
    clean, dirty = Recording(), Recording()
    for rec in (clean, dirty):
        standard_opening(rec)
        open_edge(rec, T0 + 1 * SECOND)
    dirty.poly_text(T0 + 1 * SECOND + 1 * MS, b'[{"event_type":"price_change","market":"0x')
    dirty.rows.append((T0 + 1 * SECOND + 2 * MS, KALSHI, 1, "in", b'{"type":"orderbook_delta",'))
    for rec in (clean, dirty):
        rec.poly_change(T0 + 2 * SECOND, "BUY", "0.50", "0")

    # Act
    clean_tables = run(clean, tmp_path / "clean")
    dirty_tables = run(dirty, tmp_path / "dirty")

    # Assert
    meta = orjson.loads((tmp_path / "dirty" / "run" / "run.json").read_bytes())
    assert meta["decode_errors"] == 2
    [window] = dirty_tables["opportunities"]
    assert window["close_reason"] == "edge_gone"
    assert window["close_ingest_seq"] == clean_tables["opportunities"][0]["close_ingest_seq"] + 2


def test_after_a_reconnect_the_new_connections_snapshot_reopens_the_window(tmp_path):
    # Arrange: the new connection's sid starts again at seq 1, which is no gap.
    rec = Recording()
    standard_opening(rec)
    open_edge(rec, T0 + 1 * SECOND)
    closed = rec.close(T0 + 2 * SECOND, KALSHI, conn_id=1)
    rec.open(T0 + 3 * SECOND, KALSHI, conn_id=2)
    rec.kalshi_subscribe(T0 + 3 * SECOND, conn_id=2)
    snapshot = rec.kalshi_snapshot(
        T0 + 3 * SECOND + 5 * MS,
        yes=[("0.4000", "100.00")],
        no=[("0.5500", "100.00")],
        seq=1,
        conn_id=2,
    )

    # Act
    tables = run(rec, tmp_path)

    # Assert
    first, second = tables["opportunities"]
    assert (first["close_ingest_seq"], first["close_reason"]) == (closed, "book_invalid")
    assert second["open_ingest_seq"] == snapshot
    [kalshi_book] = [b for b in tables["book_health"] if b["venue"] == KALSHI]
    assert kalshi_book["seq_gaps"] == 0 and kalshi_book["valid_at_end"]


def test_a_session_that_ends_without_close_rows_leaves_no_book_valid_into_the_next(tmp_path):
    # Arrange: the first session (a crash: no close rows) ends with a window open; the next
    # session's first frame is a Polymarket book only, which cannot make a window on its own.
    first, second = Recording(), Recording()
    standard_opening(first)
    open_edge(first, T0 + 1 * SECOND)
    first.write(tmp_path / "rec", "20260921T141320Z-aaaaaa")
    second.open(T0 + 60 * SECOND, POLYMARKET)
    second.poly_subscribe(T0 + 60 * SECOND)
    second.poly_book(T0 + 60 * SECOND + 1 * MS, bids=[("0.51", "100")], asks=[("0.62", "1")])
    second.write(tmp_path / "rec", "20260921T141420Z-bbbbbb")

    # Act
    replay(tmp_path / "rec", parse_config(config_text()), tmp_path / "run")

    # Assert
    [window] = pq.read_table(tmp_path / "run" / "opportunities.parquet").to_pylist()
    assert window["close_reason"] == "book_invalid"
    assert window["close_ns"] == T0 + 60 * SECOND  # the next session's first frame
    assert window["close_ingest_seq"] == 0


def test_a_replay_starting_after_the_connections_opened_still_trades(tmp_path):
    # Arrange: both connections open at T0; at T0 + 10 s fresh snapshots re-seed the books.
    rec = Recording()
    standard_opening(rec)
    rec.kalshi_snapshot(T0 + 10 * SECOND, yes=[("0.4000", "100.00")], no=[("0.5500", "100.00")])
    rec.poly_book(T0 + 10 * SECOND, bids=[("0.40", "100")], asks=[("0.62", "100")])
    open_edge(rec, T0 + 11 * SECOND)
    root = rec.write(tmp_path / "rec")

    # Act
    replay(root, parse_config(config_text()), tmp_path / "run", start_ns=T0 + 5 * SECOND)

    # Assert
    [decision] = pq.read_table(tmp_path / "run" / "risk_decisions.parquet").to_pylist()
    assert decision["reason"] == "approved"


def test_the_peak_is_the_frame_of_the_highest_best_trade_profit(tmp_path):
    # Arrange: depth doubles on both sides, then shrinks back.
    rec = Recording()
    standard_opening(rec)
    opened = open_edge(rec, T0 + 1 * SECOND)
    rec.kalshi_delta(T0 + 1 * SECOND + 100 * MS, "no", "0.5500", "100.00")
    peak = rec.poly_change(T0 + 1 * SECOND + 200 * MS, "BUY", "0.50", "200")
    rec.poly_change(T0 + 1 * SECOND + 300 * MS, "BUY", "0.50", "150")

    # Act
    tables = run(rec, tmp_path)

    # Assert
    [window] = tables["opportunities"]
    assert window["open_ingest_seq"] == opened and window["open_profit"] == Decimal("2.51")
    assert window["peak_ingest_seq"] == peak
    # 200 × 0.05 = 10.00, minus ceil_cent(0.07 × 200 × 0.2475 = 3.465) = 3.47, minus
    # 0.03 × 200 × 0.25 = 1.50: 5.03, i.e. 0.02515 per contract pair.
    assert (window["peak_size"], window["peak_profit"], window["peak_edge"]) == (
        Decimal("200"), Decimal("5.03"), Decimal("0.02515")
    )


def test_polymarket_no_asks_come_from_the_no_tokens_book_once_it_is_seeded(tmp_path):
    # Arrange: the YES token's bid 0.55 would be a NO ask at 0.45, but the NO token's own book
    # asks 0.60: only the NO book counts, so there is no edge until its ask drops to 0.50.
    rec = Recording()
    standard_opening(rec)
    rec.poly_book(T0 + 10 * MS, bids=[("0.38", "100")], asks=[("0.60", "100")], asset=NO_TOKEN)
    rec.poly_change(T0 + 1 * SECOND, "BUY", "0.55", "100")
    opened = rec.poly_change(T0 + 2 * SECOND, "SELL", "0.50", "100", asset=NO_TOKEN)

    # Act
    tables = run(rec, tmp_path)

    # Assert
    [window] = tables["opportunities"]
    assert window["open_ingest_seq"] == opened
    assert window["polymarket_book"] == NO_TOKEN
    assert window["open_edge_at_min_size"] == Decimal("0.0225")


def test_a_dated_fee_override_closes_a_window_on_the_first_frame_after_it_takes_effect(tmp_path):
    # Arrange: from T0 + 1.5 s Polymarket charges 0.2 × p × (1 − p): 0.05 a contract at 0.50,
    # leaving 0.05 − 0.02 − 0.05 < 0.
    config = config_text().replace(
        "polymarket_fee_rate = 0.03\n",
        "polymarket_fee_rate = 0.03\n"
        "fee_overrides = [{since = 2026-09-21T14:13:21.5Z, polymarket_fee_rate = 0.2}]\n",
    )
    rec = Recording()
    standard_opening(rec)
    open_edge(rec, T0 + 1 * SECOND)
    rec.poly_text(T0 + 1 * SECOND + 400 * MS)
    after = rec.poly_text(T0 + 1 * SECOND + 600 * MS)

    # Act
    tables = run(rec, tmp_path, config)

    # Assert
    [window] = tables["opportunities"]
    assert (window["close_ingest_seq"], window["close_reason"]) == (after, "edge_gone")
