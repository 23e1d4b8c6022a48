"""The Kalshi sandbox server, driven by a plain `websockets` client (PROTOCOLS §1)."""

from __future__ import annotations

import time

import orjson
import pytest
import websockets
from sandbox_helpers import EPOCH_MS, kalshi_headers, receive_until_idle, run, send_json
from websockets.asyncio.client import ClientConnection, connect
from websockets.frames import Opcode

from arbkit.core.book import BookManager
from arbkit.core.fixedpoint import SIZE_SCALE
from arbkit.sandbox import Sandbox
from arbkit.sandbox.scenario import KALSHI, ONE
from arbkit.venues.kalshi.decode import KalshiDecoder

pytestmark = pytest.mark.e2e


def _sandbox(tmp_path, rsa_key, **kwargs) -> Sandbox:
    kwargs.setdefault("paced", False)
    return Sandbox(tmp_path, pairs=3, seed=11, epoch_ms=EPOCH_MS, private_key=rsa_key, **kwargs)


def _tickers(sb: Sandbox) -> list[str]:
    return [p.kalshi_ticker for p in sb.scenario.pairs]


async def _connect(sb: Sandbox, rsa_key, **kwargs):
    return await connect(sb.kalshi_url, additional_headers=kalshi_headers(rsa_key, sb.key_id), **kwargs)


def test_correctly_signed_upgrade_is_accepted(tmp_path, rsa_key):
    async def body():
        async with _sandbox(tmp_path, rsa_key) as sb:
            async with await _connect(sb, rsa_key) as ws:
                await send_json(ws, {"id": 1, "cmd": "list_subscriptions"})
                reply = orjson.loads(await ws.recv())
        assert reply == {"id": 1, "type": "ok", "msg": []}

    run(body())


@pytest.mark.parametrize("case", ["bad_signature", "stale_timestamp", "future_timestamp",
                                  "missing_headers", "wrong_key_id", "other_path_signed"])
def test_bad_credentials_get_http_401(tmp_path, rsa_key, case):
    async def body():
        async with _sandbox(tmp_path, rsa_key) as sb:
            now = time.time_ns() // 1_000_000
            if case == "bad_signature":
                headers = kalshi_headers(rsa_key, sb.key_id)
                headers["KALSHI-ACCESS-SIGNATURE"] = kalshi_headers(rsa_key, sb.key_id, now - 1)[
                    "KALSHI-ACCESS-SIGNATURE"]
            elif case == "stale_timestamp":
                headers = kalshi_headers(rsa_key, sb.key_id, now - 11_000)
            elif case == "future_timestamp":
                headers = kalshi_headers(rsa_key, sb.key_id, now + 11_000)
            elif case == "missing_headers":
                headers = {}
            elif case == "wrong_key_id":
                headers = kalshi_headers(rsa_key, "not-the-key-id")
            else:
                headers = kalshi_headers(rsa_key, sb.key_id, path="/trade-api/v2")
            with pytest.raises(websockets.InvalidStatus) as caught:
                async with connect(sb.kalshi_url, additional_headers=headers):
                    pass
            return caught.value.response.status_code

    assert run(body()) == 401


def test_timestamp_nine_seconds_old_is_still_accepted(tmp_path, rsa_key):
    async def body():
        async with _sandbox(tmp_path, rsa_key) as sb:
            headers = kalshi_headers(rsa_key, sb.key_id, time.time_ns() // 1_000_000 - 9_000)
            async with connect(sb.kalshi_url, additional_headers=headers) as ws:
                await send_json(ws, {"id": 4, "cmd": "list_subscriptions"})
                return orjson.loads(await ws.recv())["type"]

    assert run(body()) == "ok"


def test_subscribe_answers_subscribed_then_one_snapshot_per_market_with_seq_from_one(tmp_path, rsa_key):
    async def body():
        async with _sandbox(tmp_path, rsa_key) as sb:
            async with await _connect(sb, rsa_key) as ws:
                await send_json(ws, {"id": 1, "cmd": "subscribe", "params": {
                    "channels": ["orderbook_delta"], "market_tickers": _tickers(sb)}})
                return _tickers(sb), [orjson.loads(f) for f in await receive_until_idle(ws)]

    tickers, frames = run(body())
    assert frames[0] == {"id": 1, "type": "subscribed", "msg": {"channel": "orderbook_delta", "sid": 1}}
    snapshots = frames[1:]
    assert [f["type"] for f in snapshots] == ["orderbook_snapshot"] * 3
    assert [f["seq"] for f in snapshots] == [1, 2, 3]
    assert [f["msg"]["market_ticker"] for f in snapshots] == tickers
    assert all(f["sending_ts_ms"] == EPOCH_MS for f in snapshots)
    level = snapshots[0]["msg"]["yes_dollars_fp"][0]
    assert len(level[0].split(".")[1]) == 4 and len(level[1].split(".")[1]) == 2


def test_multi_channel_subscribe_gives_each_channel_its_own_sid(tmp_path, rsa_key):
    async def body():
        async with _sandbox(tmp_path, rsa_key) as sb:
            async with await _connect(sb, rsa_key) as ws:
                await send_json(ws, {"id": 2, "cmd": "subscribe", "params": {
                    "channels": ["ticker", "trade"], "market_ticker": _tickers(sb)[0]}})
                frames = [orjson.loads(f) for f in await receive_until_idle(ws)]
                await send_json(ws, {"id": 3, "cmd": "list_subscriptions"})
                listing = orjson.loads(await ws.recv())
        return frames, listing

    frames, listing = run(body())
    assert frames == [{"id": 2, "type": "subscribed", "msg": {"channel": "ticker", "sid": 1}},
                      {"id": 2, "type": "subscribed", "msg": {"channel": "trade", "sid": 2}}]
    assert listing == {"id": 3, "type": "ok", "msg": [{"channel": "ticker", "sid": 1},
                                                      {"channel": "trade", "sid": 2}]}


ERROR_CASES = [
    ("not json", 1),
    ({"id": 7, "cmd": "subscribe"}, 2),
    ({"id": 7, "cmd": "subscribe", "params": {}}, 3),
    ({"id": 7, "cmd": "unsubscribe", "params": {}}, 4),
    ({"id": 7, "cmd": "frobnicate", "params": {}}, 5),
    ({"id": 7, "cmd": "unsubscribe", "params": {"sids": [99]}}, 7),
    ({"id": 7, "cmd": "subscribe", "params": {"channels": ["fills_v9"], "market_tickers": ["T0"]}}, 8),
    ({"id": 7, "cmd": "subscribe", "params": {"channels": ["orderbook_delta"], "market_tickers": ["T0"],
                                              "use_yes_price": "yes"}}, 11),
    ({"id": 7, "cmd": "update_subscription", "params": {"sids": [1, 2], "action": "add_markets",
                                                        "market_tickers": ["T0"]}}, 12),
    ({"id": 7, "cmd": "update_subscription", "params": {"sid": 1, "action": "explode"}}, 13),
    ({"id": 7, "cmd": "subscribe", "params": {"channels": ["orderbook_delta"]}}, 14),
    ({"id": 7, "cmd": "update_subscription", "params": {"sid": 1, "market_tickers": ["T0"]}}, 15),
    ({"id": 7, "cmd": "subscribe", "params": {"channels": ["orderbook_delta"],
                                              "market_tickers": ["KXNOPE-00-X"]}}, 16),
]


@pytest.mark.parametrize(("command", "code"), ERROR_CASES, ids=[str(c) for _, c in ERROR_CASES])
def test_each_bad_command_gets_its_documented_error_code(tmp_path, rsa_key, command, code):
    async def body():
        async with _sandbox(tmp_path, rsa_key) as sb:
            async with await _connect(sb, rsa_key) as ws:
                text = orjson.dumps(command).decode().replace('"T0"', f'"{_tickers(sb)[0]}"') \
                    if isinstance(command, dict) else command
                await ws.send(text)
                return [orjson.loads(f) for f in await receive_until_idle(ws, 0.2)]

    frames = run(body())
    assert len(frames) == 1
    assert frames[0]["type"] == "error"
    assert frames[0]["msg"]["code"] == code
    assert frames[0]["id"] == (None if code == 1 else 7)


def test_unknown_ticker_error_names_the_ticker(tmp_path, rsa_key):
    async def body():
        async with _sandbox(tmp_path, rsa_key) as sb:
            async with await _connect(sb, rsa_key) as ws:
                await send_json(ws, {"id": 9, "cmd": "subscribe", "params": {
                    "channels": ["orderbook_delta"], "market_tickers": [_tickers(sb)[0], "KXNOPE"]}})
                return orjson.loads(await ws.recv())

    assert run(body()) == {"id": 9, "type": "error",
                           "msg": {"code": 16, "msg": "Market not found", "market_ticker": "KXNOPE"}}


def test_update_subscription_replies_take_seq_slots_and_snapshot_new_markets(tmp_path, rsa_key):
    async def body():
        async with _sandbox(tmp_path, rsa_key) as sb:
            t = _tickers(sb)
            async with await _connect(sb, rsa_key) as ws:
                await send_json(ws, {"id": 1, "cmd": "subscribe", "params": {
                    "channels": ["orderbook_delta"], "market_tickers": [t[0]]}})
                await receive_until_idle(ws, 0.2)
                await send_json(ws, {"id": 2, "cmd": "update_subscription", "params": {
                    "sids": [1], "market_tickers": [t[1], t[2]], "action": "add_markets"}})
                added = [orjson.loads(f) for f in await receive_until_idle(ws, 0.2)]
                await send_json(ws, {"id": 3, "cmd": "update_subscription", "params": {
                    "sid": 1, "market_tickers": [t[0]], "action": "delete_markets"}})
                deleted = [orjson.loads(f) for f in await receive_until_idle(ws, 0.2)]
                await send_json(ws, {"id": 4, "cmd": "update_subscription", "params": {
                    "sid": 1, "market_tickers": [t[2]], "action": "get_snapshot"}})
                snap = [orjson.loads(f) for f in await receive_until_idle(ws, 0.2)]
                await send_json(ws, {"id": 5, "cmd": "unsubscribe", "params": {"sids": [1]}})
                gone = [orjson.loads(f) for f in await receive_until_idle(ws, 0.2)]
                await sb.advance(500)
                after = await receive_until_idle(ws, 0.2)
        return t, added, deleted, snap, gone, after

    t, added, deleted, snap, gone, after = run(body())
    assert added[0] == {"id": 2, "sid": 1, "seq": 2, "type": "ok", "msg": {"market_tickers": t}}
    assert [(f["type"], f["seq"], f["msg"]["market_ticker"]) for f in added[1:]] == [
        ("orderbook_snapshot", 3, t[1]), ("orderbook_snapshot", 4, t[2])]
    assert deleted == [{"id": 3, "sid": 1, "seq": 5, "type": "ok", "msg": {"market_tickers": t[1:]}}]
    assert [(f["type"], f["seq"], f["msg"]["market_ticker"]) for f in snap] == [
        ("orderbook_snapshot", 6, t[2])]
    assert gone == [{"id": 5, "sid": 1, "seq": 7, "type": "unsubscribed"}]
    assert after == []


def _reference_apply(book: dict, frame: dict, use_yes_price: bool) -> None:
    """A tiny independent Kalshi book: YES bids and YES asks keyed by price in ticks."""
    msg = frame["msg"]
    ticker = msg["market_ticker"]

    def price(text_or_cents) -> int:
        if isinstance(text_or_cents, int):
            return text_or_cents * 100
        whole, _, frac = text_or_cents.partition(".")
        return int(whole) * ONE + int(frac.ljust(4, "0"))

    def size(text_or_int) -> int:
        if isinstance(text_or_int, int):
            return text_or_int * 100
        whole, _, frac = text_or_int.lstrip("-").partition(".")
        value = int(whole) * 100 + int(frac.ljust(2, "0"))
        return -value if text_or_int.startswith("-") else value

    def yes_ask(no_price: int) -> int:
        return no_price if use_yes_price else ONE - no_price

    if frame["type"] == "orderbook_snapshot":
        yes = msg.get("yes_dollars_fp") or msg.get("yes") or []
        no = msg.get("no_dollars_fp") or msg.get("no") or []
        book[ticker] = ({price(p): size(s) for p, s in yes}, {yes_ask(price(p)): size(s) for p, s in no})
        return
    bids, asks = book[ticker]
    p = price(msg["price_dollars"] if "price_dollars" in msg else msg["price"])
    d = size(msg["delta_fp"] if "delta_fp" in msg else msg["delta"])
    side, p = (bids, p) if msg["side"] == "yes" else (asks, yes_ask(p))
    side[p] = side.get(p, 0) + d
    if side[p] == 0:
        del side[p]


@pytest.mark.parametrize(("era", "use_yes_price"), [("c", False), ("c", True), ("b", False), ("a", False)])
def test_snapshot_plus_deltas_reproduce_the_scenario_book_exactly(tmp_path, rsa_key, era, use_yes_price):
    async def body():
        async with _sandbox(tmp_path, rsa_key, kalshi_era=era) as sb:
            async with await _connect(sb, rsa_key, max_queue=None) as ws:
                await send_json(ws, {"id": 1, "cmd": "subscribe", "params": {
                    "channels": ["orderbook_delta"], "market_tickers": _tickers(sb),
                    "use_yes_price": use_yes_price}})
                frames = await receive_until_idle(ws, 0.2)
                await sb.advance(4000)
                frames += await receive_until_idle(ws)
            books = {p.kalshi_ticker: tuple(dict(side) for side in sb.scenario.book(KALSHI, p.index))
                     for p in sb.scenario.pairs}
        return frames, books

    frames, expected = run(body())
    reference: dict = {}
    decoder = KalshiDecoder(use_yes_price=use_yes_price)
    manager = BookManager()
    seqs = []
    for n, text in enumerate(frames):
        frame = orjson.loads(text)
        if frame["type"] in ("orderbook_snapshot", "orderbook_delta"):
            _reference_apply(reference, frame, use_yes_price)
            seqs.append(frame["seq"])
        assert manager.apply(decoder.decode(text.encode(), n)) == []
    assert sum(1 for f in frames if f.startswith('{"type":"orderbook_delta"')) > 1000
    assert seqs == list(range(1, len(seqs) + 1))
    assert reference == expected
    for ticker, (bids, asks) in expected.items():
        book = manager.get("kalshi", ticker)
        assert book.valid
        assert book.bids == {p: s * SIZE_SCALE // 100 for p, s in bids.items()}
        assert book.asks == {p: s * SIZE_SCALE // 100 for p, s in asks.items()}


def test_ticker_and_trade_channels_follow_the_book(tmp_path, rsa_key):
    async def body():
        async with _sandbox(tmp_path, rsa_key) as sb:
            async with await _connect(sb, rsa_key, max_queue=None) as ws:
                await send_json(ws, {"id": 1, "cmd": "subscribe", "params": {
                    "channels": ["ticker", "trade"], "market_tickers": _tickers(sb),
                    "send_initial_snapshot": True}})
                frames = await receive_until_idle(ws, 0.2)
                await sb.advance(6000)
                frames = [orjson.loads(f) for f in frames + await receive_until_idle(ws)]
            tops = {}
            for p in sb.scenario.pairs:
                bids, asks = sb.scenario.book(KALSHI, p.index)
                tops[p.kalshi_ticker] = (max(bids), min(asks))
        return frames, tops

    frames, tops = run(body())
    tickers = [f for f in frames if f["type"] == "ticker"]
    trades = [f for f in frames if f["type"] == "trade"]
    assert len(tickers) >= 3 and trades
    assert all(f["sid"] == 1 for f in tickers) and all(f["sid"] == 2 for f in trades)
    assert all("seq" not in f for f in tickers + trades)
    last = {}
    for f in tickers:
        last[f["msg"]["market_ticker"]] = (f["msg"]["yes_bid_dollars"], f["msg"]["yes_ask_dollars"])
    assert last == {t: (f"0.{b:04d}", f"0.{a:04d}") for t, (b, a) in tops.items()}
    trade = trades[0]["msg"]
    assert set(trade) >= {"yes_price_dollars", "no_price_dollars", "count_fp", "taker_side", "ts_ms"}


class _PingWatcher(ClientConnection):
    pings: list[bytes]

    def process_event(self, event) -> None:
        if getattr(event, "opcode", None) is Opcode.PING:
            self.pings.append(bytes(event.data))
        super().process_event(event)


def test_server_pings_with_heartbeat_payload_on_its_interval(tmp_path, rsa_key):
    async def body():
        async with _sandbox(tmp_path, rsa_key, ping_interval_s=0.2) as sb:
            _PingWatcher.pings = []
            async with await _connect(sb, rsa_key, create_connection=_PingWatcher) as ws:
                await receive_until_idle(ws, 1.1)
            return list(_PingWatcher.pings)

    pings = run(body())
    assert 3 <= len(pings) <= 6
    assert set(pings) == {b"heartbeat"}


def test_skip_ticker_ack_suppresses_the_ok_and_initial_snapshot_sends_tickers_for_added_markets(
        tmp_path, rsa_key):
    async def body(skip: bool):
        async with _sandbox(tmp_path / str(skip), rsa_key) as sb:
            t = _tickers(sb)
            async with await _connect(sb, rsa_key) as ws:
                await send_json(ws, {"id": 1, "cmd": "subscribe", "params": {
                    "channels": ["ticker"], "market_tickers": [t[0]], "skip_ticker_ack": skip}})
                await receive_until_idle(ws, 0.2)
                await send_json(ws, {"id": 2, "cmd": "update_subscription", "params": {
                    "sid": 1, "market_tickers": [t[1]], "action": "add_markets", "send_initial_snapshot": True}})
                return t, [orjson.loads(f) for f in await receive_until_idle(ws, 0.2)]

    t, acked = run(body(False))
    _, skipped = run(body(True))
    assert [f["type"] for f in acked] == ["ok", "ticker"]
    assert acked[0]["msg"] == {"market_tickers": t[:2]} and "seq" not in acked[0]
    assert [f["type"] for f in skipped] == ["ticker"]
    assert skipped[0]["msg"]["market_ticker"] == t[1]
