"""Kalshi gap repair when the venue does not answer `get_snapshot`: the subscription is replaced."""

from __future__ import annotations

import asyncio
import itertools
import json
import logging

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from websockets.asyncio.server import serve

from arbkit.errors import ConfigError
from arbkit.runner.connections import (
    Backoff,
    Ingest,
    KalshiConnection,
    VenueStats,
    WsOptions,
)

TICKERS = ["KXA-1", "KXB-2"]


def _delta(sid: int, seq: int) -> str:
    return json.dumps({"type": "orderbook_delta", "sid": sid, "seq": seq,
                       "msg": {"market_ticker": "KXA-1", "price_dollars": "0.4000", "delta_fp": "1.00", "side": "yes"}})


async def _deaf_venue(ws) -> None:
    """Answer subscribes with a snapshot and a seq gap; never answer `get_snapshot`."""
    sids = itertools.count(1)
    async for message in ws:
        command = json.loads(message)
        if command["cmd"] == "subscribe":
            sid = next(sids)
            await ws.send(json.dumps({"id": command["id"], "type": "subscribed",
                                      "msg": {"channel": "orderbook_delta", "sid": sid}}))
            for seq, ticker in enumerate(TICKERS, start=1):
                await ws.send(json.dumps({"type": "orderbook_snapshot", "sid": sid, "seq": seq,
                                          "msg": {"market_ticker": ticker}}))
            await ws.send(_delta(sid, 3))
            if sid == 1:
                await ws.send(_delta(sid, 5))  # seq 4 never came
        elif command["cmd"] == "unsubscribe":
            for sid in command["params"]["sids"]:
                await ws.send(json.dumps({"id": command["id"], "sid": sid, "seq": 99, "type": "unsubscribed"}))


def _run(venue, seconds: float) -> tuple[KalshiConnection, list[tuple[int, str, bytes]]]:
    """Run one KalshiConnection against `venue` for `seconds`; return it and its rows."""
    rows: list[tuple[int, str, bytes]] = []

    def append(recv_ns, mono_ns, venue, conn_id, kind, payload):
        rows.append((conn_id, kind, payload))
        return len(rows) - 1

    async def main() -> KalshiConnection:
        async with serve(venue, "127.0.0.1", 0) as server:
            port = server.sockets[0].getsockname()[1]
            stop = asyncio.Event()
            connection = KalshiConnection(
                url=f"ws://127.0.0.1:{port}/trade-api/ws/v2",
                key_id="test-key",
                private_key=rsa.generate_private_key(public_exponent=65537, key_size=2048),
                tickers=TICKERS,
                channels=["orderbook_delta"],
                use_yes_price=False,
                snapshot_timeout_s=0.5,
                ingest=Ingest(append, "session"),
                stats=VenueStats("kalshi", connections=1),
                conn_ids=itertools.count(1),
                stop=stop,
                backoff=Backoff(0.1, 1.0),
                ws_options=WsOptions(),
            )
            task = asyncio.create_task(connection.run())
            await asyncio.wait([task], timeout=seconds)
            stop.set()
            await asyncio.wait_for(task, 10)
        return connection

    connection = asyncio.run(main())
    return connection, rows


async def _failing_venue(ws, code: int) -> None:
    """Refuse the first subscribe with error `code`, accept the next."""
    attempts = 0
    async for message in ws:
        command = json.loads(message)
        if command["cmd"] != "subscribe":
            continue
        attempts += 1
        if attempts == 1:
            await ws.send(json.dumps({"id": command["id"], "type": "error",
                                      "msg": {"code": code, "msg": "nope", "market_ticker": "KXB-2"}}))
        else:
            await ws.send(json.dumps({"id": command["id"], "type": "subscribed",
                                      "msg": {"channel": "orderbook_delta", "sid": 7}}))


@pytest.mark.e2e
@pytest.mark.timeout(30)
def test_gap_without_snapshot_reply_replaces_the_subscription_after_the_timeout():
    connection, rows = _run(_deaf_venue, 1.5)

    sent = [json.loads(payload) for _, kind, payload in rows if kind == "out"]
    assert [c["cmd"] for c in sent] == ["subscribe", "update_subscription", "unsubscribe", "subscribe"]
    assert sent[1]["params"] == {"sid": 1, "action": "get_snapshot", "market_tickers": TICKERS}
    assert sent[2]["params"] == {"sids": [1]}
    assert sent[3]["params"]["market_tickers"] == TICKERS
    assert connection.gaps == 1 and connection.resubscribes == 1
    assert {conn for conn, _, _ in rows} == {1}  # repaired without reconnecting


@pytest.mark.e2e
@pytest.mark.timeout(30)
def test_internal_error_on_our_subscribe_asks_again_on_the_same_connection():
    _, rows = _run(lambda ws: _failing_venue(ws, 17), 1.0)

    sent = [json.loads(payload) for _, kind, payload in rows if kind == "out"]
    assert [c["cmd"] for c in sent] == ["subscribe", "subscribe"]
    assert sent[0]["params"] == sent[1]["params"] and sent[1]["id"] == 2
    assert {conn for conn, _, _ in rows} == {1}


@pytest.mark.e2e
@pytest.mark.timeout(30)
def test_unknown_market_error_stops_the_connection_naming_the_ticker():
    with pytest.raises(ConfigError, match="KXB-2"):
        _run(lambda ws: _failing_venue(ws, 16), 5.0)


def _delta_frame(seq: int, compact: bool, sid: int = 1) -> str:
    frame = {"type": "orderbook_delta", "sid": sid, "seq": seq,
             "msg": {"market_ticker": "KXA-1", "price_dollars": "0.4000", "delta_fp": "1.00", "side": "yes"}}
    return json.dumps(frame, separators=(",", ":")) if compact else json.dumps(frame)


async def _gappy_venue(ws) -> None:
    """One orderbook sid whose deltas come compact and spaced, with two gaps among other frames."""
    async for message in ws:
        command = json.loads(message)
        if command["cmd"] == "update_subscription":  # get_snapshot: answered, so nothing times out
            for seq, ticker in enumerate(TICKERS, start=91):
                await ws.send(json.dumps({"type": "orderbook_snapshot", "sid": 1, "seq": seq,
                                          "msg": {"market_ticker": ticker}}))
            continue
        await ws.send(json.dumps({"id": command["id"], "type": "subscribed",
                                  "msg": {"channel": "orderbook_delta", "sid": 1}}))
        await ws.send(json.dumps({"type": "orderbook_snapshot", "sid": 1, "seq": 1, "msg": {"market_ticker": "KXA-1"}}))
        frames = [_delta_frame(seq, compact=True) for seq in range(2, 51)]
        frames += [_delta_frame(seq, compact=True) for seq in range(52, 61)]  # gap: 51 never came
        frames.append(json.dumps({"type": "ticker", "sid": 2, "seq": 1, "msg": {"market_ticker": "KXA-1"}}))
        frames += [_delta_frame(seq, compact=False) for seq in range(61, 71)]
        frames.append(_delta_frame(72, compact=False))  # gap: 71 never came
        frames.append('{"type":"orderbook_delta","sid":1,"seq":73')  # torn: recorded, not understood
        frames += [_delta_frame(seq, compact=True) for seq in range(73, 90)]
        frames += [_delta_frame(seq, compact=True, sid=3) for seq in (5, 6, 7)]  # another sid, in order
        frames.append(_delta_frame(90, compact=True))
        for frame in frames:
            await ws.send(frame)


@pytest.mark.e2e
@pytest.mark.timeout(30)
def test_seq_gaps_are_found_among_compact_and_spaced_deltas_and_other_frames(caplog):
    caplog.set_level(logging.INFO, logger="arbkit.runner.connections")

    connection, rows = _run(_gappy_venue, 1.0)

    sent = [json.loads(payload) for _, kind, payload in rows if kind == "out"]
    gaps = [r.getMessage() for r in caplog.records if "seq gap" in r.getMessage()]
    assert gaps == [
        "kalshi sid 1 seq gap (expected 51, got 52): asking for snapshots",
        "kalshi sid 1 seq gap (expected 71, got 72): asking for snapshots",
    ]
    assert connection.gaps == 2
    assert [c["cmd"] for c in sent] == ["subscribe", "update_subscription"]
    assert sent[1]["params"]["sid"] == 1
    assert sum(1 for _, kind, _ in rows if kind == "in") == 1 + 1 + 49 + 9 + 1 + 10 + 1 + 1 + 17 + 3 + 1 + 2
