"""Scripted faults, each observed from the client side on a compressed schedule."""

from __future__ import annotations

import asyncio
import json
import time

import orjson
import pytest
from sandbox_helpers import all_closed, kalshi_headers, run, send_json
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from arbkit.sandbox import FaultPlan, Sandbox

pytestmark = pytest.mark.e2e

PLAN = FaultPlan(first_delay_s=0.3, interval_s=0.3, period_s=30.0, stall_s=0.8, burst_frames=120)


class _Observer:
    """Client-side evidence of each fault type, plus frames received per connection."""

    def __init__(self) -> None:
        self.seen: dict[str, int] = {}
        self.received: dict[int, int] = {}
        self.run_key = None
        self.run_length = 0

    def saw(self, fault: str, conn: int) -> None:
        self.seen.setdefault(fault, conn)

    def track_run(self, key, fault: str, conn: int) -> None:
        """A burst is many consecutive frames re-touching one level (normal traffic never does)."""
        if key == self.run_key:
            self.run_length += 1
            if self.run_length >= 100:
                self.saw(fault, conn)
        else:
            self.run_key, self.run_length = key, 1


async def _kalshi_client(sb: Sandbox, key, observer: _Observer, deadline: float) -> None:
    tickers = [p.kalshi_ticker for p in sb.scenario.pairs]
    conn = 0
    while time.monotonic() < deadline and len(observer.seen) < 6:
        conn += 1
        observer.received[conn] = 0
        last_seq: dict[int, int] = {}
        ws = await connect(sb.kalshi_url, additional_headers=kalshi_headers(key, sb.key_id), max_queue=None)
        await send_json(ws, {"id": 1, "cmd": "subscribe", "params": {
            "channels": ["orderbook_delta"], "market_tickers": tickers}})
        try:
            while time.monotonic() < deadline:
                text = await asyncio.wait_for(ws.recv(), max(0.1, deadline - time.monotonic()))
                observer.received[conn] += 1
                try:
                    frame = orjson.loads(text)
                except orjson.JSONDecodeError:
                    observer.saw("malformed", conn)
                    continue
                if frame.get("type") == "error" and frame["msg"]["code"] == 25:
                    observer.saw("error_25", conn)
                    last_seq.pop(frame["sid"], None)
                    await send_json(ws, {"id": 2, "cmd": "subscribe", "params": {
                        "channels": ["orderbook_delta"], "market_tickers": tickers}})
                    continue
                sid, seq = frame.get("sid"), frame.get("seq")
                if seq is not None:
                    if sid in last_seq and seq == last_seq[sid] + 2:
                        observer.saw("seq_gap", conn)
                    last_seq[sid] = seq
                if frame.get("type") == "orderbook_delta":
                    msg = frame["msg"]
                    observer.track_run((msg["market_ticker"], msg["side"], msg["price_dollars"]), "burst", conn)
        except ConnectionClosed as exc:
            _note_close(exc, observer, conn)
        except TimeoutError:
            pass
        finally:
            await ws.close()


def _note_close(exc: ConnectionClosed, observer: _Observer, conn: int) -> None:
    """No close frame at all is the abrupt disconnect; the plan's close code the clean one."""
    if exc.rcvd is None:
        observer.saw("abrupt_disconnect", conn)
    elif exc.rcvd.code == PLAN.close_code:
        observer.saw("clean_close", conn)


async def _poly_client(sb: Sandbox, observer: _Observer, deadline: float) -> None:
    assets = [a for p in sb.scenario.pairs for a in (p.polymarket_yes_token, p.polymarket_no_token)]
    conn = 0
    while time.monotonic() < deadline and len(observer.seen) < 5:
        conn += 1
        observer.received[conn] = 0
        ws = await connect(sb.polymarket_url, max_queue=None)
        await send_json(ws, {"type": "market", "assets_ids": assets, "initial_dump": True})

        async def pinger() -> None:
            while True:
                await asyncio.sleep(0.1)
                await ws.send("PING")

        ping_task = asyncio.create_task(pinger())
        last_data = time.monotonic()
        pongs_since_data = 0
        try:
            while time.monotonic() < deadline:
                text = await asyncio.wait_for(ws.recv(), max(0.1, deadline - time.monotonic()))
                observer.received[conn] += 1
                now = time.monotonic()
                if text == "PONG":
                    pongs_since_data += 1
                    continue
                if now - last_data >= 0.6 and pongs_since_data >= 3:
                    observer.saw("stall", conn)  # silent: PONGs flowed, book data did not
                last_data, pongs_since_data = now, 0
                try:
                    frame = orjson.loads(text)
                except orjson.JSONDecodeError:
                    observer.saw("malformed", conn)
                    continue
                if isinstance(frame, dict) and frame.get("event_type") == "price_change":
                    first = frame["price_changes"][0]
                    observer.track_run((first["asset_id"], first["side"], first["price"]), "burst", conn)
        except ConnectionClosed as exc:
            _note_close(exc, observer, conn)
        except TimeoutError:
            pass
        finally:
            ping_task.cancel()
            await ws.close()


def test_default_fault_cycle_is_observable_on_both_venues_without_losing_a_frame(tmp_path, rsa_key):
    async def body():
        async with Sandbox(tmp_path, pairs=2, seed=4, rate=300, faults=PLAN, private_key=rsa_key) as sb:
            kalshi, poly = _Observer(), _Observer()
            deadline = time.monotonic() + 20
            await asyncio.gather(_kalshi_client(sb, rsa_key, kalshi, deadline),
                                 _poly_client(sb, poly, deadline))
            stats = await all_closed(sb)
            log = sb.fault_log()
        return kalshi, poly, stats, log

    kalshi, poly, stats, log = run(body())
    assert set(kalshi.seen) == {"seq_gap", "malformed", "error_25", "burst", "clean_close", "abrupt_disconnect"}
    assert set(poly.seen) == {"malformed", "stall", "burst", "clean_close", "abrupt_disconnect"}
    assert {(r["venue"], r["fault"]) for r in log} >= {("kalshi", f) for f in kalshi.seen} | {
        ("polymarket", f) for f in poly.seen}
    sent = {(r["venue"], r["conn"]): r["frames_sent"] for r in stats}
    # Connections the server ended (clean close, abrupt disconnect) delivered every counted frame.
    for venue, observer in (("kalshi", kalshi), ("polymarket", poly)):
        for fault in ("clean_close", "abrupt_disconnect"):
            conn = observer.seen[fault]
            assert observer.received[conn] == sent[(venue, conn)] > 0


def test_fault_and_connection_logs_are_written_to_the_workdir(tmp_path, rsa_key):
    plan = FaultPlan(first_delay_s=0.1, interval_s=0.1, kalshi=(), polymarket=("malformed", "clean_close"))

    async def body():
        async with Sandbox(tmp_path, pairs=1, seed=5, rate=100, faults=plan, private_key=rsa_key) as sb:
            assets = [sb.scenario.pairs[0].polymarket_yes_token]
            async with connect(sb.polymarket_url) as ws:
                await send_json(ws, {"type": "market", "assets_ids": assets})
                received = 0
                try:
                    while True:
                        await asyncio.wait_for(ws.recv(), 5)
                        received += 1
                except ConnectionClosed:
                    pass
            await all_closed(sb)
        return received

    received = run(body())
    faults = [json.loads(line) for line in (tmp_path / "faults.jsonl").read_text().splitlines()]
    conns = [json.loads(line) for line in (tmp_path / "connections.jsonl").read_text().splitlines()]
    assert [(f["venue"], f["conn"], f["fault"]) for f in faults] == [
        ("polymarket", 1, "malformed"), ("polymarket", 1, "clean_close")]
    assert all(isinstance(f["time_ns"], int) for f in faults)
    assert len(conns) == 1
    assert conns[0]["venue"] == "polymarket" and conns[0]["conn"] == 1
    assert conns[0]["frames_sent"] == received
    assert conns[0]["first_send_ns"] <= conns[0]["last_send_ns"]


def test_abrupt_disconnect_behind_a_backlog_still_delivers_every_counted_frame_and_no_close_frame(
        tmp_path, rsa_key):
    plan = FaultPlan(first_delay_s=0.2, interval_s=0.0, burst_frames=20_000,
                     kalshi=("burst", "abrupt_disconnect"), polymarket=())

    async def body():
        async with Sandbox(tmp_path, pairs=2, seed=8, rate=200, faults=plan, private_key=rsa_key) as sb:
            ws = await connect(sb.kalshi_url, additional_headers=kalshi_headers(rsa_key, sb.key_id),
                               max_queue=16)
            await send_json(ws, {"id": 1, "cmd": "subscribe", "params": {
                "channels": ["orderbook_delta"], "market_tickers": [p.kalshi_ticker for p in sb.scenario.pairs]}})
            received = 0
            try:
                while True:
                    await asyncio.wait_for(ws.recv(), 10)
                    received += 1
                    if received % 2000 == 0:
                        await asyncio.sleep(0.05)  # a slow reader keeps the server's buffer full
            except ConnectionClosed as exc:
                closed = exc
            return received, closed, await all_closed(sb)

    received, closed, stats = run(body())
    assert closed.rcvd is None
    assert received == stats[0]["frames_sent"] > 20_000
