"""Run views (funnel, capture, legging, fee_drag, summaries) on run tables written by hand.

The run (written by the real `RunOutputs` writer, engine units: micro-dollars, size millionths,
price ticks of $0.0001) has three windows of pair P:
  o1 buy_kalshi_yes_poly_no, 100 ms, peak $2.00 at 10 contracts (edge 0.20): approved; both legs
     fill 10 (Kalshi 4.00 + fee 0.17, Polymarket 4.50 + fee 0.07): locked in 10 - 8.74 = 1.26
  o2 buy_kalshi_yes_poly_no, 300 ms, peak $1.00 (edge 0.10): approved; only Kalshi fills
     (4.20 + 0.17); the 10 contracts are unwound for 3.90 paying 0.16: legging P&L -0.63
  o3 buy_poly_yes_kalshi_no, 50 ms, peak $0.50 (edge 0.10): denied by the cooldown
P&L ends at 1.26 - 0.63 = 0.63; fees: Kalshi 0.17 + 0.17 + 0.16 = 0.50, Polymarket 0.07.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from analytics_recordings import hand_rows, rows, write_sealed

from arbkit.analytics import connect, stats
from arbkit.runner.outputs import RunOutputs

D1, D2 = "buy_kalshi_yes_poly_no", "buy_poly_yes_kalshi_no"
PAIR = "P"
M = 1_000_000  # micro-dollars per dollar, millionths per contract
C = 10_000  # price ticks per dollar


def _opportunity(oid, direction, duration_ms, peak_profit, peak_size, peak_edge):
    return {"opportunity_id": oid, "pair": PAIR, "direction": direction, "open_ns": 1_000, "close_ns": 1_000 + duration_ms * 1_000_000,
            "duration_ns": duration_ms * 1_000_000, "peak_profit": peak_profit, "peak_size": peak_size,
            "peak_edge": peak_edge, "close_reason": "edge_gone"}


def _trade(decision, oid, **fields):
    base = {"decision_id": decision, "opportunity_id": oid, "pair": PAIR, "direction": D1, "ns": decision,
            "kalshi_outcome": "yes", "polymarket_outcome": "no", "remainder_venue": None,
            "remainder_outcome": None, "remainder_size": 0, "remainder_cost": 0, "action": "none",
            "unwound_size": 0, "unwind_proceeds": 0, "unwind_fees": 0, "held_size": 0, "held_cost": 0,
            "legging_pnl": None, "polymarket_filled": 0, "polymarket_cost": 0, "polymarket_fees": 0,
            "kalshi_matched_cost": 0, "polymarket_matched_cost": 0, "matched_size": 0, "locked_in_pnl": 0}
    return {**base, **fields}


def write_run(run_dir, final_pnl=63 * M // 100):
    out = RunOutputs(run_dir)
    out.add([
        ("opportunities", _opportunity("o1", D1, 100, 2 * M, 10 * M, M // 5)),
        ("opportunities", _opportunity("o2", D1, 300, 1 * M, 10 * M, M // 10)),
        ("opportunities", _opportunity("o3", D2, 50, M // 2, 5 * M, M // 10)),
        ("risk_decisions", {"decision_id": 1, "opportunity_id": "o1", "pair": PAIR, "direction": D1, "ns": 1,
                            "approved": True, "reason": "approved"}),
        ("risk_decisions", {"decision_id": 2, "opportunity_id": "o2", "pair": PAIR, "direction": D1, "ns": 2,
                            "approved": True, "reason": "approved"}),
        ("risk_decisions", {"decision_id": 3, "opportunity_id": "o3", "pair": PAIR, "direction": D2, "ns": 3,
                            "approved": False, "reason": "cooldown"}),
        *[("orders", {"order_id": f"{d}-{v}", "decision_id": d, "opportunity_id": f"o{d}", "pair": PAIR,
                      "direction": D1, "venue": v}) for d in (1, 2) for v in ("kalshi", "polymarket")],
        ("fills", {"order_id": "1-kalshi", "decision_id": 1, "venue": "kalshi", "action": "buy", "price": 4000,
                   "size": 10 * M, "notional": 4 * M, "fee": 17 * M // 100, "ns": 1}),
        ("fills", {"order_id": "1-polymarket", "decision_id": 1, "venue": "polymarket", "action": "buy",
                   "price": 4500, "size": 10 * M, "notional": 45 * M // 10, "fee": 7 * M // 100, "ns": 1}),
        ("fills", {"order_id": "2-kalshi", "decision_id": 2, "venue": "kalshi", "action": "buy", "price": 4200,
                   "size": 10 * M, "notional": 42 * M // 10, "fee": 17 * M // 100, "ns": 2}),
        ("fills", {"order_id": "2-unwind", "decision_id": 2, "venue": "kalshi", "action": "sell", "price": 3900,
                   "size": 10 * M, "notional": 39 * M // 10, "fee": 16 * M // 100, "ns": 2}),
        ("trades", _trade(1, "o1", kalshi_filled=10 * M, kalshi_cost=417 * M // 100, kalshi_fees=17 * M // 100,
                          polymarket_filled=10 * M, polymarket_cost=457 * M // 100, polymarket_fees=7 * M // 100,
                          matched_size=10 * M, kalshi_matched_cost=417 * M // 100,
                          polymarket_matched_cost=457 * M // 100, locked_in_pnl=126 * M // 100)),
        ("trades", _trade(2, "o2", kalshi_filled=10 * M, kalshi_cost=437 * M // 100, kalshi_fees=17 * M // 100,
                          remainder_venue="kalshi", remainder_outcome="yes", remainder_size=10 * M,
                          remainder_cost=437 * M // 100, action="unwind", unwound_size=10 * M,
                          unwind_proceeds=39 * M // 10, unwind_fees=16 * M // 100, legging_pnl=-63 * M // 100)),
        ("pnl", {"ns": 1, "total": 126 * M // 100}),
        ("pnl", {"ns": 2, "total": final_pnl}),
    ])
    out.write({"mode": "replay", "frames": 24, "decode_errors": 1, "sessions": ["s"]})
    return run_dir


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    return write_sealed(tmp_path_factory.mktemp("rec") / "recordings", hand_rows())


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    return write_run(tmp_path_factory.mktemp("runs") / "r1")


@pytest.fixture(scope="module")
def con(recording, run_dir):
    con = connect(recording, run_dir)
    yield con
    con.close()


def test_a_single_run_dir_is_named_by_its_directory(con):
    assert rows(con, "SELECT DISTINCT run FROM opportunities") == [{"run": "r1"}]
    assert rows(con, "SELECT run, mode, frames, decode_errors FROM runs") == [
        {"run": "r1", "mode": "replay", "frames": 24, "decode_errors": 1}]


def test_funnel_counts_windows_through_each_stage(con):
    got = rows(con, "SELECT direction, detected, approved, orders_sent, both_filled, profitable FROM funnel ORDER BY direction")

    assert got == [
        {"direction": D1, "detected": 2, "approved": 2, "orders_sent": 2, "both_filled": 1, "profitable": 1},
        {"direction": D2, "detected": 1, "approved": 0, "orders_sent": 0, "both_filled": 0, "profitable": 0},
    ]


def test_capture_sets_realised_pnl_against_the_peak_profit(con):
    got = {r["opportunity_id"]: r for r in rows(con, "SELECT * FROM capture")}

    assert got["o1"]["realised_pnl"] == Decimal("1.26") and got["o1"]["capture_ratio"] == pytest.approx(0.63)
    assert got["o2"]["realised_pnl"] == Decimal("-0.63") and got["o2"]["capture_ratio"] == pytest.approx(-0.63)
    assert got["o3"]["realised_pnl"] is None and got["o3"]["capture_ratio"] is None


def test_legging_lists_the_one_leg_fill_with_its_unwind_loss(con):
    got = rows(con, "SELECT decision_id, remainder_venue, unmatched_size, action, unwind_proceeds, unwind_fees, legging_loss, one_leg FROM legging")

    assert got == [{"decision_id": 2, "remainder_venue": "kalshi", "unmatched_size": Decimal("10"),
                    "action": "unwind", "unwind_proceeds": Decimal("3.9"), "unwind_fees": Decimal("0.16"),
                    "legging_loss": Decimal("0.63"), "one_leg": True}]


def test_fee_drag_compares_fees_per_venue_with_the_gross_edge(con):
    got = {r["venue"]: r for r in rows(con, "SELECT * FROM fee_drag")}

    # Gross edge = P&L before fees: (1.26 + 0.17 + 0.07) + (-0.63 + 0.17 + 0.16) = 1.20.
    assert got["kalshi"]["fees_paid"] == Decimal("0.50") and got["polymarket"]["fees_paid"] == Decimal("0.07")
    assert got["kalshi"]["gross_edge"] == Decimal("1.20")
    assert got["kalshi"]["fee_share"] == pytest.approx(0.5 / 1.2)


def test_run_summary_and_stats_carry_the_headline_numbers(recording, run_dir):
    doc = stats(recording, run_dir)
    run = doc["runs"]["r1"]

    assert run["opportunities"] == 3 and run["fills"] == 4 and run["trades"] == 2
    assert run["pnl"] == "0.630000"
    assert run["fees"] == {"total": "0.570000", "kalshi": "0.500000", "polymarket": "0.070000"}
    assert run["legging_loss"] == "0.630000"
    assert (run["lifetime_p50_ms"], run["lifetime_p90_ms"]) == (100.0, 260.0)
    assert run["peak_edge"] == "0.200000"
    assert run["funnel"] == {"detected": 3, "approved": 2, "orders_sent": 2, "both_filled": 1, "profitable": 1}
    assert run["denials"] == {"cooldown": 1}
    assert run["decode_errors"] == 1
    assert [(r["direction"], r["opportunities"]) for r in run["by_pair"]] == [(D1, 2), (D2, 1)]


def test_two_named_runs_are_compared_in_one_query(recording, run_dir, tmp_path):
    other = write_run(tmp_path / "other", final_pnl=-5 * M)
    con = connect(recording, {"base": run_dir, "worse": other})
    try:
        got = rows(con, "SELECT run, pnl FROM run_summary ORDER BY run")
        counts = rows(con, "SELECT run, count(*) AS n FROM opportunities GROUP BY run ORDER BY run")
    finally:
        con.close()

    assert got == [{"run": "base", "pnl": Decimal("0.63")}, {"run": "worse", "pnl": Decimal("-5")}]
    assert counts == [{"run": "base", "n": 3}, {"run": "worse", "n": 3}]


def test_a_directory_without_run_json_is_a_user_error(recording, tmp_path):
    from arbkit.errors import UserError

    with pytest.raises(UserError, match="not a run directory"):
        connect(recording, tmp_path)


def test_notebook_helpers_return_polars_frames_of_one_view(recording, run_dir):
    import polars as pl

    from arbkit.analytics import funnel, opportunity_summary, recording_health, run_summary

    summary = opportunity_summary(recording, run_dir)
    health = recording_health(recording)

    assert isinstance(summary, pl.DataFrame) and isinstance(health, pl.DataFrame)
    assert sorted(summary["opportunities"].to_list()) == [1, 2]
    assert sorted(health["venue"].to_list()) == ["kalshi", "polymarket"]
    assert funnel(recording, run_dir)["detected"].sum() == 3
    assert run_summary(recording, run_dir)["pnl"].to_list() == [Decimal("0.63")]
