"""The Polymarket sandbox server, driven by a plain `websockets` client (PROTOCOLS §3)."""

from __future__ import annotations

import orjson
import pytest
import websockets
from sandbox_helpers import EPOCH_MS, receive_until_idle, run, send_json
from websockets.asyncio.client import connect

from arbkit.core.book import BookManager
from arbkit.core.fixedpoint import SIZE_SCALE, parse_price, parse_size
from arbkit.sandbox import Sandbox, ScenarioConfig
from arbkit.sandbox.scenario import ONE, POLYMARKET
from arbkit.venues.polymarket.decode import PolymarketDecoder

pytestmark = pytest.mark.e2e


def _sandbox(tmp_path, rsa_key, **kwargs) -> Sandbox:
    kwargs.setdefault("paced", False)
    return Sandbox(tmp_path, pairs=3, seed=12, epoch_ms=EPOCH_MS, private_key=rsa_key, **kwargs)


def _assets(sb: Sandbox) -> list[str]:
    return [a for p in sb.scenario.pairs for a in (p.polymarket_yes_token, p.polymarket_no_token)]


def _market(assets, **extra) -> dict:
    return {"type": "market", "assets_ids": assets, "initial_dump": True, **extra}


def test_initial_dump_is_one_array_of_books_bids_ascending_asks_descending(tmp_path, rsa_key):
    async def body():
        async with _sandbox(tmp_path, rsa_key) as sb:
            async with connect(sb.polymarket_url) as ws:
                await send_json(ws, _market(_assets(sb)))
                frames = await receive_until_idle(ws, 0.3)
            spec = sb.scenario.pairs[0]
            bids, asks = (dict(side) for side in sb.scenario.book(POLYMARKET, 0))
        return frames, spec, bids, asks

    frames, spec, bids, asks = run(body())
    assert len(frames) == 1
    dump = orjson.loads(frames[0])
    assert isinstance(dump, list) and len(dump) == 6
    assert {e["event_type"] for e in dump} == {"book"}
    for event in dump:
        bid_prices = [parse_price(level["price"]) for level in event["bids"]]
        ask_prices = [parse_price(level["price"]) for level in event["asks"]]
        assert bid_prices == sorted(bid_prices)
        assert ask_prices == sorted(ask_prices, reverse=True)
        assert isinstance(event["timestamp"], str) and event["timestamp"] == str(EPOCH_MS)
        assert all(isinstance(level["size"], str) for level in event["bids"] + event["asks"])
    yes = next(e for e in dump if e["asset_id"] == spec.polymarket_yes_token)
    no = next(e for e in dump if e["asset_id"] == spec.polymarket_no_token)
    assert {parse_price(lv["price"]): parse_size(lv["size"]) for lv in yes["bids"]} == {
        p: s * SIZE_SCALE // 100 for p, s in bids.items()}
    # The NO token mirrors YES: a NO bid at 1 - p for every YES ask at p, same size.
    assert {parse_price(lv["price"]): parse_size(lv["size"]) for lv in no["bids"]} == {
        ONE - p: s * SIZE_SCALE // 100 for p, s in asks.items()}
    assert yes["market"] == no["market"] == spec.polymarket_condition_id


def test_ping_before_subscribing_closes_with_1008(tmp_path, rsa_key):
    async def body():
        async with _sandbox(tmp_path, rsa_key) as sb:
            async with connect(sb.polymarket_url) as ws:
                await ws.send("PING")
                with pytest.raises(websockets.ConnectionClosed):
                    await ws.recv()
                return ws.close_code, ws.close_reason

    assert run(body()) == (1008, "invalid subscription payload")


def test_ping_after_subscribing_is_answered_with_pong(tmp_path, rsa_key):
    async def body():
        async with _sandbox(tmp_path, rsa_key) as sb:
            async with connect(sb.polymarket_url) as ws:
                await send_json(ws, _market(_assets(sb)[:1], initial_dump=False))
                await ws.send("PING")
                return await receive_until_idle(ws, 0.3)

    assert run(body()) == ["PONG"]


def test_second_market_message_answers_invalid_operation_and_capitalised_type_works(tmp_path, rsa_key):
    async def body():
        async with _sandbox(tmp_path, rsa_key) as sb:
            async with connect(sb.polymarket_url) as ws:
                await send_json(ws, {"type": "Market", "assets_ids": _assets(sb)[:2]})
                first = await receive_until_idle(ws, 0.3)
                await send_json(ws, _market(_assets(sb)[2:4]))
                second = await receive_until_idle(ws, 0.3)
        return first, second

    first, second = run(body())
    assert len(first) == 1 and orjson.loads(first[0])[0]["event_type"] == "book"
    assert second == ["INVALID OPERATION"]


def test_dynamic_subscribe_dumps_new_assets_and_unsubscribe_stops_their_data(tmp_path, rsa_key):
    async def body():
        async with _sandbox(tmp_path, rsa_key) as sb:
            assets = _assets(sb)
            async with connect(sb.polymarket_url) as ws:
                await send_json(ws, _market(assets[:2]))
                await receive_until_idle(ws, 0.2)
                await send_json(ws, {"operation": "subscribe", "assets_ids": assets[2:4]})
                added = await receive_until_idle(ws, 0.2)
                await send_json(ws, {"operation": "unsubscribe", "assets_ids": assets[:4]})
                await receive_until_idle(ws, 0.2)
                await sb.advance(3000)
                after = await receive_until_idle(ws, 0.3)
        return assets, added, after

    assets, added, after = run(body())
    assert [e["asset_id"] for e in orjson.loads(added[0])] == assets[2:4]
    assert after == []


def test_unknown_asset_ids_simply_get_no_data(tmp_path, rsa_key):
    async def body():
        async with _sandbox(tmp_path, rsa_key) as sb:
            async with connect(sb.polymarket_url) as ws:
                await send_json(ws, _market(["123456789"]))
                await sb.advance(2000)
                frames = await receive_until_idle(ws, 0.3)
                await ws.send("PING")
                pong = await ws.recv()
        return frames, pong

    assert run(body()) == ([], "PONG")


def test_book_and_price_changes_reproduce_the_scenario_books_with_matching_best_prices(tmp_path, rsa_key):
    busy = ScenarioConfig(tick_change_every_s=3.0, trade_every_s=0.5)

    async def body():
        async with _sandbox(tmp_path, rsa_key, scenario_config=busy) as sb:
            async with connect(sb.polymarket_url, max_queue=None) as ws:
                await send_json(ws, _market(_assets(sb)))
                frames = await receive_until_idle(ws, 0.2)
                await sb.advance(6000)
                frames += await receive_until_idle(ws)
            expected = {p.index: tuple(dict(side) for side in sb.scenario.book(POLYMARKET, p.index))
                        for p in sb.scenario.pairs}
            specs = sb.scenario.pairs
        return frames, expected, specs

    frames, expected, specs = run(body())
    decoder = PolymarketDecoder()
    manager = BookManager()
    kinds = set()
    for n, text in enumerate(frames):
        invalid = manager.apply(decoder.decode(text.encode(), n))
        # Only a tick size change may invalidate a book, and the very next frames re-send it.
        assert all(e.reason == "tick_size_change" for e in invalid)
        obj = orjson.loads(text)
        for event in obj if isinstance(obj, list) else [obj]:
            kinds.add(event["event_type"])
            if event["event_type"] == "price_change":
                # The venue's own best bid/ask after the change equals the locally built book's.
                for change in event["price_changes"]:
                    book = manager.get("polymarket", change["asset_id"])
                    assert (parse_price(change["best_bid"]) if change["best_bid"] else None) == book.best_bid
                    assert (parse_price(change["best_ask"]) if change["best_ask"] else None) == book.best_ask
    assert kinds == {"book", "price_change", "last_trade_price", "tick_size_change"}
    assert decoder.decode_errors == 0
    for spec in specs:
        bids, asks = expected[spec.index]
        yes = manager.get("polymarket", spec.polymarket_yes_token)
        no = manager.get("polymarket", spec.polymarket_no_token)
        assert yes.valid and no.valid
        assert yes.bids == {p: s * SIZE_SCALE // 100 for p, s in bids.items()}
        assert yes.asks == {p: s * SIZE_SCALE // 100 for p, s in asks.items()}
        assert no.bids == {ONE - p: s * SIZE_SCALE // 100 for p, s in asks.items()}
        assert no.asks == {ONE - p: s * SIZE_SCALE // 100 for p, s in bids.items()}


def test_price_change_mirrors_each_yes_change_on_the_no_token(tmp_path, rsa_key):
    async def body():
        async with _sandbox(tmp_path, rsa_key) as sb:
            async with connect(sb.polymarket_url, max_queue=None) as ws:
                await send_json(ws, _market(_assets(sb), initial_dump=False))
                await receive_until_idle(ws, 0.2)
                await sb.advance(500)
                frames = [orjson.loads(f) for f in await receive_until_idle(ws)]
            tokens = {p.polymarket_yes_token: p.polymarket_no_token for p in sb.scenario.pairs}
        return frames, tokens

    frames, tokens = run(body())
    changes = [f for f in frames if isinstance(f, dict) and f["event_type"] == "price_change"]
    assert len(changes) > 100
    for frame in changes:
        entries = frame["price_changes"]
        assert len(entries) % 2 == 0
        for yes, no in zip(entries[::2], entries[1::2], strict=True):
            assert tokens[yes["asset_id"]] == no["asset_id"]
            assert parse_price(yes["price"]) + parse_price(no["price"]) == ONE
            assert yes["size"] == no["size"]
            assert {yes["side"], no["side"]} == {"BUY", "SELL"}
        assert isinstance(frame["timestamp"], str)


def test_custom_features_add_best_bid_ask_events_that_match_the_book(tmp_path, rsa_key):
    async def body(custom: bool):
        async with _sandbox(tmp_path / str(custom), rsa_key) as sb:
            async with connect(sb.polymarket_url, max_queue=None) as ws:
                await send_json(ws, _market(_assets(sb), custom_feature_enabled=custom))
                frames = await receive_until_idle(ws, 0.2)
                await sb.advance(1500)
                frames += await receive_until_idle(ws)
        return frames

    decoder = PolymarketDecoder()
    manager = BookManager()
    tops = 0
    for n, text in enumerate(run(body(True))):
        manager.apply(decoder.decode(text.encode(), n))
        obj = orjson.loads(text)
        if isinstance(obj, dict) and obj["event_type"] == "best_bid_ask":
            book = manager.get("polymarket", obj["asset_id"])
            assert (parse_price(obj["best_bid"]) if obj["best_bid"] else None) == book.best_bid
            assert (parse_price(obj["best_ask"]) if obj["best_ask"] else None) == book.best_ask
            tops += 1
    assert tops > 20
    assert not any('"best_bid_ask"' in f for f in run(body(False)))
