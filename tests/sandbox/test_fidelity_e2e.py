"""Every message the decoders accept, end to end: `arbkit live --paper` records the sandbox with
its fidelity options on (sub-penny and fractional books, a tick size change, resolutions, new
markets), then replays prove the books, the settlement and parity."""

from __future__ import annotations

import subprocess
import sys
from decimal import Decimal

import duckdb
import orjson
import pytest

from arbkit.config import load_config
from arbkit.sandbox.scenario import ScenarioConfig, fidelity, with_options
from arbkit.sandbox.server import SandboxThread
from tests.sandbox.fidelity_checks import settlements

ARBKIT = [sys.executable, "-c", "from arbkit.cli import main; main()"]
LIVE_S = 20

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def live(tmp_path_factory) -> dict:
    """20 s of `live --paper` on 2 pairs: the tick change at 6 s, pair 0 resolving at 15 s."""
    tmp = tmp_path_factory.mktemp("fidelity")
    # Only the scripted tick size change, so the book health counts exactly one.
    scenario = with_options(fidelity(ScenarioConfig(pairs=2), LIVE_S), new_market_every_s=2.0,
                            tick_change_every_s=1e6)
    with SandboxThread(tmp / "sandbox", pairs=2, seed=7, rate=300.0, faults="none",
                       scenario_config=scenario, with_fidelity=False) as sandbox:
        done = subprocess.run(
            [*ARBKIT, "live", "--paper", "--config", str(sandbox.config_path), "--out", str(tmp / "live"),
             "--duration", str(LIVE_S)],
            capture_output=True, timeout=LIVE_S + 90, check=False)
    assert done.returncode == 0, done.stderr.decode()
    replay = subprocess.run(
        [*ARBKIT, "replay", "--from", str(tmp / "live" / "recording"), "--config", str(sandbox.config_path),
         "--out", str(tmp / "replay")], capture_output=True, timeout=120, check=False)
    assert replay.returncode == 0, replay.stderr.decode()
    return {"live": tmp / "live", "replay": tmp / "replay", "recording": tmp / "live" / "recording",
            "config": load_config(sandbox.config_path)}


def _frames(live: dict, where: str) -> list[tuple]:
    return duckdb.sql(
        f"select ingest_seq, venue, msg_type, payload from read_parquet('{live['recording']}/frames/**/*.parquet', "
        f"hive_partitioning=false) where kind = 'in' and {where} order by ingest_seq").fetchall()


def test_every_fidelity_message_kind_is_recorded_and_replays_without_decode_errors(live):
    kinds = {(venue, kind) for _, venue, kind, _ in _frames(live, "true")}
    assert {("kalshi", "orderbook_snapshot"), ("kalshi", "orderbook_delta"), ("kalshi", "market_lifecycle_v2"),
            ("polymarket", "book"), ("polymarket", "price_change"), ("polymarket", "tick_size_change"),
            ("polymarket", "market_resolved"), ("polymarket", "new_market"),
            ("polymarket", "best_bid_ask")} <= kinds
    lifecycle = [orjson.loads(p)["msg"]["event_type"] for *_, p in _frames(live, "msg_type = 'market_lifecycle_v2'")]
    assert lifecycle == ["determined", "settled"]
    for run in ("live", "replay"):
        assert orjson.loads((live[run] / "run.json").read_bytes())["decode_errors"] == 0, run


def test_replay_verify_and_a_second_replay_reproduce_the_live_run(live):
    verified = subprocess.run([*ARBKIT, "replay", "--verify", str(live["live"])], capture_output=True,
                              timeout=120, check=False)
    assert verified.returncode == 0, verified.stdout.decode() + verified.stderr.decode()
    live_meta = orjson.loads((live["live"] / "run.json").read_bytes())
    replay_meta = orjson.loads((live["replay"] / "run.json").read_bytes())
    for table in ("opportunities", "risk_decisions", "orders", "fills", "trades", "positions", "pnl"):
        assert live_meta["outputs"][table] == replay_meta["outputs"][table], table


def test_the_tick_size_change_invalidates_the_book_and_a_re_seed_brings_it_back(live):
    spec = live["config"].pairs[-1]
    health = {m: (snapshots, orjson.loads(reasons), valid) for m, snapshots, reasons, valid in duckdb.sql(
        f"select market, snapshots, invalid_reasons, valid_at_end from '{live['replay']}/book_health.parquet' "
        "where venue = 'polymarket'").fetchall()}
    for token in (spec.polymarket_yes_token, spec.polymarket_no_token):
        snapshots, reasons, valid = health[token]
        assert reasons.get("tick_size_change") == 1 and snapshots >= 2 and valid, health[token]
    # After the change the token's book is re-sent on the new grid and quoted in sub-penny prices.
    frames = _frames(live, f"market = '{spec.polymarket_yes_token}' or msg_type = 'price_change'")
    change = next(i for i, (_, _, kind, _) in enumerate(frames) if kind == "tick_size_change")
    assert orjson.loads(frames[change][3])["new_tick_size"] == "0.001"
    book = orjson.loads(frames[change + 1][3])
    assert book["event_type"] == "book" and book["tick_size"] == "0.001"
    later = [c["price"] for *_, p in frames[change + 2:] if b"price_changes" in p
             for c in orjson.loads(p)["price_changes"] if c["asset_id"] == spec.polymarket_yes_token]
    assert any(len(price.split(".")[1]) == 3 for price in later), later[:20]


def test_the_resolved_pair_settles_at_one_dollar_or_nothing_with_the_hand_computed_pnl(live):
    config = live["config"]
    for run in ("live", "replay"):
        done = settlements(live["recording"], live[run], config)
        assert [(s.pair, s.venue) for s in done] == [(config.pairs[0].name, "kalshi")]
        s = done[0]
        assert s.held, f"nothing held on {s.pair} when it resolved"
        winning = sum((row["size"] for row in s.held if row["outcome"] == s.winner), Decimal(0))
        cost = sum((row["cost"] for row in s.held), Decimal(0))
        assert s.realised_after - s.realised_before == winning - cost == s.hand_computed_pnl()
        assert s.held_after == 0


def test_sub_penny_prices_and_fractional_sizes_flow_into_the_fills_exactly(live):
    spec = live["config"].pairs[0]
    fills = duckdb.sql(f"select venue, price, size from '{live['replay']}/fills.parquet' "
                       f"where pair = '{spec.name}' and size > 0").fetchall()
    kalshi = [(price, size) for venue, price, size in fills if venue == "kalshi"]
    assert kalshi, fills
    # The market quotes on a $0.001 grid in hundredths of a contract: fills land on that grid.
    assert all(price * 1000 == int(price * 1000) and size * 100 == int(size * 100) for price, size in kalshi)
    assert any(price * 100 != int(price * 100) for _, price, _ in fills), fills
