"""`SandboxThread`: the sandbox for synchronous callers, such as other components' tests."""

from __future__ import annotations

import json

import orjson
import pytest
from sandbox_helpers import kalshi_headers
from websockets.sync.client import connect

from arbkit.config import load_config
from arbkit.errors import UserError
from arbkit.sandbox import SandboxThread

pytestmark = pytest.mark.e2e


def test_thread_serves_both_venues_and_counts_what_it_sent(tmp_path, rsa_key):
    with SandboxThread(tmp_path, pairs=2, seed=6, rate=500, private_key=rsa_key) as sb:
        config = load_config(sb.config_path)
        tickers = [p.kalshi_ticker for p in config.pairs]
        received = 0
        with connect(sb.kalshi_url, additional_headers=kalshi_headers(rsa_key, config.venues.kalshi.key_id)) as ws:
            ws.send(orjson.dumps({"id": 1, "cmd": "subscribe", "params": {
                "channels": ["orderbook_delta"], "market_tickers": tickers}}).decode())
            while received < 300:
                ws.recv(timeout=5)
                received += 1
        with connect(sb.polymarket_url) as ws:
            ws.send(orjson.dumps({"type": "market", "assets_ids": [config.pairs[0].polymarket_yes_token]}).decode())
            dump = orjson.loads(ws.recv(timeout=5))
        stats = sb.connection_stats()
    assert dump[0]["asset_id"] == config.pairs[0].polymarket_yes_token
    kalshi = [s for s in stats if s["venue"] == "kalshi"]
    assert len(kalshi) == 1 and kalshi[0]["conn"] == 1
    assert kalshi[0]["frames_sent"] >= received
    logged = [json.loads(line) for line in (tmp_path / "connections.jsonl").read_text().splitlines()]
    assert {(r["venue"], r["conn"]) for r in logged} == {("kalshi", 1), ("polymarket", 1)}


def test_thread_start_fails_loudly_when_the_sandbox_cannot_start(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(UserError, match="cannot use sandbox workdir"):
        SandboxThread(blocker / "workdir").start()
