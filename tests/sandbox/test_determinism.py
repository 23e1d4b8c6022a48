"""Same seed (and epoch) -> byte-identical payloads and ground truth; another seed differs."""

from __future__ import annotations

from decimal import Decimal

import orjson
import pyarrow as pa
import pytest
from sandbox_helpers import EPOCH_MS, kalshi_headers, receive_until_idle, run, send_json
from websockets.asyncio.client import connect

from arbkit.sandbox import Sandbox, Scenario, ScenarioConfig
from arbkit.sandbox.files import ground_truth_table
from arbkit.sandbox.generate import iter_generated_batches


def _generated(seed: int, frames: int = 20_000):
    scenario = Scenario(ScenarioConfig(seed=seed, pairs=3, rate=2000, epoch_ms=EPOCH_MS,
                                       dislocation_every_s=1.0))
    payloads = []
    for batch in iter_generated_batches(scenario, frames, "S"):
        payloads += batch.column("payload").to_pylist()
    return payloads, ground_truth_table(scenario, scenario.dislocations)


def test_generated_frames_and_ground_truth_are_byte_identical_for_the_same_seed():
    first, truth_a = _generated(31)
    second, truth_b = _generated(31)
    assert len(first) == 20_000
    assert first == second
    assert truth_a.num_rows >= 3
    assert truth_a.equals(truth_b)


def test_another_seed_gives_other_frames_and_ground_truth():
    first, truth_a = _generated(31)
    other, truth_b = _generated(32)
    assert first[10:] != other[10:]
    assert not truth_a.equals(truth_b)


async def _served(tmp_path, key, seed: int, steps: int = 3000) -> tuple[list[str], list[str]]:
    async with Sandbox(tmp_path, pairs=3, seed=seed, rate=2000, epoch_ms=EPOCH_MS, paced=False,
                       private_key=key) as sb:
        tickers = [p.kalshi_ticker for p in sb.scenario.pairs]
        assets = [a for p in sb.scenario.pairs for a in (p.polymarket_yes_token, p.polymarket_no_token)]
        async with connect(sb.kalshi_url, additional_headers=kalshi_headers(key, sb.key_id),
                           max_queue=None) as kws, connect(sb.polymarket_url, max_queue=None) as pws:
            await send_json(kws, {"id": 1, "cmd": "subscribe", "params": {
                "channels": ["orderbook_delta"], "market_tickers": tickers, "use_yes_price": False}})
            await send_json(pws, {"type": "market", "assets_ids": assets, "initial_dump": True})
            kalshi = await receive_until_idle(kws, 0.2)
            poly = await receive_until_idle(pws, 0.2)
            await sb.advance(steps)
            kalshi += await receive_until_idle(kws)
            poly += await receive_until_idle(pws)
    return kalshi, poly


@pytest.mark.e2e
def test_served_payload_sequences_repeat_exactly_for_the_same_seed_and_epoch(tmp_path, rsa_key):
    first = run(_served(tmp_path / "a", rsa_key, 33))
    second = run(_served(tmp_path / "b", rsa_key, 33))
    other = run(_served(tmp_path / "c", rsa_key, 34))
    assert len(first[0]) > 1000 and len(first[1]) > 1000
    assert first == second
    assert first[0][1:] != other[0][1:] and first[1] != other[1]


@pytest.mark.e2e
def test_generated_recording_holds_what_a_served_connection_receives(tmp_path, rsa_key):
    kalshi, poly = run(_served(tmp_path, rsa_key, 35, steps=2000))
    scenario = Scenario(ScenarioConfig(seed=35, pairs=3, rate=2000, epoch_ms=EPOCH_MS))
    rows = []
    for batch in iter_generated_batches(scenario, 4000, "S"):
        rows += zip(batch.column("venue").to_pylist(), batch.column("kind").to_pylist(),
                    batch.column("payload").to_pylist(), strict=True)
    gen_kalshi = [p.decode() for v, k, p in rows if v == "kalshi" and k == "in"]
    gen_poly = [p.decode() for v, k, p in rows if v == "polymarket" and k == "in"]
    n_k, n_p = min(len(gen_kalshi), len(kalshi)), min(len(gen_poly), len(poly))
    assert n_k > 800 and n_p > 800
    assert gen_kalshi[:n_k] == kalshi[:n_k]
    assert gen_poly[:n_p] == poly[:n_p]
    lifecycle = [(v, k) for v, k, _ in rows if k != "in"]
    assert lifecycle == [("kalshi", "open"), ("kalshi", "out"), ("polymarket", "open"),
                         ("polymarket", "out"), ("kalshi", "close"), ("polymarket", "close")]
    assert orjson.loads(rows[1][2])["cmd"] == "subscribe"


def test_ground_truth_stores_money_prices_and_sizes_as_exact_decimals_like_the_run_tables():
    scenario = Scenario(ScenarioConfig(seed=5, pairs=2, rate=2000, epoch_ms=EPOCH_MS, dislocation_every_s=1.0))
    for _ in iter_generated_batches(scenario, 8_000, "S"):
        pass

    table = ground_truth_table(scenario, scenario.dislocations)

    schema = {f.name: f.type for f in table.schema}
    assert schema["gross_edge"] == schema["yes_ask"] == schema["no_ask"] == pa.decimal128(10, 4)
    assert schema["size"] == pa.decimal128(18, 6)
    for row, d in zip(table.to_pylist(), sorted(scenario.dislocations, key=lambda d: d.dislocation_id)):
        assert row["gross_edge"] == Decimal(d.gross_edge) / 10_000 == 1 - row["yes_ask"] - row["no_ask"]
        assert row["size"] == Decimal(d.size) / 100
