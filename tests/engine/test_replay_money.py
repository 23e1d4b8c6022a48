"""The money tables of a replay, hand-computed to the cent (issue 17, "Through the engine").

One recording: a window is approved, both legs arrive after their latencies, the Polymarket leg is
cut short by a book change while in flight, the unmatched Kalshi remainder is unwound into two
Kalshi bid levels, the day's realised loss trips the kill switch so that the next window is denied,
and a Kalshi resolution later settles the matched pair.

Books (`standard_opening`): Kalshi YES bid 0.40 x 100, YES ask 0.45 x 100 (NO bid 0.55); a Kalshi
YES bid 0.39 x 50 is added; Polymarket YES bid 0.40 x 100, ask 0.62 x 100 (NO asks are the YES bids
at 1 − p). Fees: Kalshi ceil_cent(0.07 × C × P × (1 − P)) per level, Polymarket
0.03 × C × p × (1 − p). Latency: Kalshi 10 ms, Polymarket 100 ms. daily_loss_limit $5.
"""

from __future__ import annotations

from decimal import Decimal as D

from engine_recordings import (
    KALSHI,
    MS,
    NO_TOKEN,
    PAIR,
    POLYMARKET,
    T0,
    TICKER,
    YES_TOKEN,
    Recording,
    config_text,
    run,
    standard_opening,
)

SECOND = 1_000 * MS
OPEN = T0 + 1 * SECOND
K_ARRIVES = OPEN + 10 * MS
P_ARRIVES = OPEN + 100 * MS
RESOLVED = T0 + 4 * SECOND


def recording() -> Recording:
    rec = Recording()
    standard_opening(rec)
    rec.kalshi_delta(T0 + 500 * MS, "yes", "0.3900", "50.00")
    # The window: Polymarket YES bid 0.50 = a NO ask at 0.50 against the Kalshi YES ask 0.45.
    rec.poly_change(OPEN, "BUY", "0.50", "100")
    # In flight: the NO asks shrink to 40 before the Polymarket leg arrives at +100 ms ...
    rec.poly_change(OPEN + 50 * MS, "BUY", "0.50", "40")
    # ... and the Kalshi YES bid 0.40 to 30, so the unwind of 60 needs the 0.39 level too.
    rec.kalshi_delta(OPEN + 60 * MS, "yes", "0.4000", "-70.00")
    rec.poly_text(OPEN + 200 * MS)
    rec.poly_change(T0 + 2 * SECOND, "BUY", "0.50", "0")  # the window closes
    rec.poly_change(T0 + 3 * SECOND, "BUY", "0.50", "100")  # a second window: kill switch
    rec.kalshi_determined(RESOLVED, "yes")
    rec.poly_text(T0 + 5 * SECOND)
    return rec


def config() -> str:
    text = config_text(kalshi_ms=10, polymarket_ms=100)
    return text.replace("[risk]\n", "[risk]\ndaily_loss_limit = 5\n")


def test_money_tables_of_a_cut_short_unwound_and_settled_trade_match_the_hand_computation(tmp_path):
    # Act
    tables = run(recording(), tmp_path, config())

    # Assert: risk
    first, second = tables["risk_decisions"]
    assert (first["approved"], first["approved_size"], first["reason"]) == (True, D("100"), "approved")
    assert (second["approved"], second["reason"], second["ns"]) == (False, "kill_switch", T0 + 3 * SECOND)
    # Orders of the first decision only: the kill switch stopped the second.
    orders = [
        (o["order_id"], o["venue"], o["market"], o["outcome"], o["limit_price"], o["size"], o["submit_ns"],
         o["arrival_ns"])
        for o in tables["orders"]
    ]
    assert orders == [
        ("d1-kalshi", KALSHI, TICKER, "yes", D("0.45"), D("100"), OPEN, K_ARRIVES),
        ("d1-polymarket", POLYMARKET, YES_TOKEN, "no", D("0.50"), D("100"), OPEN, P_ARRIVES),
    ]
    # Fills, each level with its own fee.
    fills = [
        (f["order_id"], f["action"], f["price"], f["size"], f["notional"], f["fee"], f["ns"])
        for f in tables["fills"]
    ]
    assert fills == [
        # 100 x 0.45 = 45.00; ceil_cent(0.07 x 100 x 0.45 x 0.55 = 1.7325) = 1.74
        ("d1-kalshi", "buy", D("0.45"), D("100"), D("45"), D("1.74"), K_ARRIVES),
        # only 40 left: 40 x 0.50 = 20.00; 0.03 x 40 x 0.25 = 0.30
        ("d1-polymarket", "buy", D("0.50"), D("40"), D("20"), D("0.30"), P_ARRIVES),
        # unwind 60 Kalshi YES: 30 x 0.40 = 12.00, ceil_cent(0.07 x 30 x 0.24 = 0.504) = 0.51
        ("d1-kalshi-unwind", "sell", D("0.40"), D("30"), D("12"), D("0.51"), P_ARRIVES),
        # 30 x 0.39 = 11.70, ceil_cent(0.07 x 30 x 0.39 x 0.61 = 0.49959) = 0.50
        ("d1-kalshi-unwind", "sell", D("0.39"), D("30"), D("11.70"), D("0.50"), P_ARRIVES),
    ]
    [trade] = tables["trades"]
    assert {k: trade[k] for k in (
        "ns", "kalshi_filled", "kalshi_cost", "kalshi_fees", "polymarket_filled", "polymarket_cost",
        "polymarket_fees", "matched_size", "kalshi_matched_cost", "polymarket_matched_cost",
        "locked_in_pnl", "remainder_venue", "remainder_outcome", "remainder_size", "remainder_cost",
        "action", "unwound_size", "unwind_proceeds", "unwind_fees", "held_size", "held_cost", "legging_pnl",
    )} == {
        "ns": P_ARRIVES,
        "kalshi_filled": D("100"), "kalshi_cost": D("46.74"), "kalshi_fees": D("1.74"),
        "polymarket_filled": D("40"), "polymarket_cost": D("20.30"), "polymarket_fees": D("0.30"),
        "matched_size": D("40"),
        # the 60 unmatched carry 60/100 of 46.74 = 28.044; the matched 40 keep 18.696
        "kalshi_matched_cost": D("18.696"), "polymarket_matched_cost": D("20.30"),
        "locked_in_pnl": D("1.004"),  # 40 - 18.696 - 20.30
        "remainder_venue": KALSHI, "remainder_outcome": "yes", "remainder_size": D("60"),
        "remainder_cost": D("28.044"), "action": "unwind", "unwound_size": D("60"),
        "unwind_proceeds": D("23.70"), "unwind_fees": D("1.01"), "held_size": D("0"), "held_cost": D("0"),
        "legging_pnl": D("-5.354"),  # 23.70 - 1.01 - 28.044
    }
    # Positions: the matched pair after the trade; nothing once the resolution settled it.
    positions = [
        (p["ns"], p["pair"], p["venue"], p["outcome"], p["size"], p["cost"], p["hedged_size"], p["naked_size"])
        for p in tables["positions"]
    ]
    assert positions == [
        (P_ARRIVES, PAIR, KALSHI, "yes", D("40"), D("18.696"), D("40"), D("0")),
        (P_ARRIVES, PAIR, POLYMARKET, "no", D("40"), D("20.30"), D("40"), D("0")),
    ]
    pnl = [
        (r["ns"], r["realised"], r["realised_today"], r["locked_in"], r["naked_mtm"], r["total"], r["fees"],
         r["kalshi_fees"], r["polymarket_fees"], r["total_exposure"], r["unhedged_exposure"])
        for r in tables["pnl"]
    ]
    assert pnl == [
        # legging -5.354 realised; 1.004 locked in; fees 1.74 + 0.51 + 0.50 and 0.30;
        # exposure 18.696 + 20.30
        (P_ARRIVES, D("-5.354"), D("-5.354"), D("1.004"), D("0"), D("-4.35"), D("3.05"), D("2.75"),
         D("0.30"), D("38.996"), D("0")),
        # Kalshi YES won: the 40 YES pay 40.00 against 18.696 + 20.30 of cost: +1.004
        (RESOLVED, D("-4.35"), D("-4.35"), D("0"), D("0"), D("-4.35"), D("3.05"), D("2.75"), D("0.30"),
         D("0"), D("0")),
        # the end of the data: unchanged
        (T0 + 5 * SECOND, D("-4.35"), D("-4.35"), D("0"), D("0"), D("-4.35"), D("3.05"), D("2.75"),
         D("0.30"), D("0"), D("0")),
    ]
    assert NO_TOKEN not in {p["market"] for p in tables["orders"]}
