"""Polymarket market-channel protocol state for one sandbox connection (PROTOCOLS §3), no I/O.

The first client message must be `{"type": "market", "assets_ids": [...], ...}`; a second one is
answered with the text `INVALID OPERATION`; `{"operation": "subscribe"|"unsubscribe", ...}`
changes the set later; text `PING` gets `PONG`, but a `PING` (or anything else) before a valid
subscription closes the socket with 1008. Initial dumps are one JSON array of `book` events
(bids ascending, asks descending); later `price_change` frames use the current `price_changes`
shape with the NO token's change mirrored (BUY p on YES <-> SELL 1-p on NO, same size). Unknown
asset ids simply get no data. With `custom_feature_enabled` a connection also gets
`best_bid_ask` when a top of book moves, `market_resolved` for the pairs it subscribed and every
`new_market` announcement. All numbers are strings; timestamps are Unix ms.
"""

from __future__ import annotations

import hashlib

import orjson

from arbkit.sandbox.scenario import BID, ONE, POLYMARKET, Scenario

WS_PATH = "/ws/market"
PONG = b"PONG"
INVALID_OPERATION = b"INVALID OPERATION"
CLOSE_INVALID = (1008, "invalid subscription payload")
MALFORMED = b'[{"event_type":"price_change","market":"0x'
_SIDES = ("BUY", "SELL")


def _price(t: int) -> str:
    return f"{t // ONE}.{t % ONE:04d}".rstrip("0").rstrip(".")


_SIZE_TEXT: dict[int, str] = {}


def _size(units: int) -> str:
    text = _SIZE_TEXT.get(units)
    if text is None:
        whole, frac = divmod(units, 100)
        text = str(whole) if frac == 0 else f"{whole}.{frac:02d}".rstrip("0")
        if len(_SIZE_TEXT) < 200_000:
            _SIZE_TEXT[units] = text
    return text


_PRICES = [_price(t) for t in range(ONE + 1)]
_MASK = (1 << 160) - 1


def _hash(serial: int, i: int) -> str:
    return "%040x" % ((serial * 0x9E3779B97F4A7C15F39CC0605CEDC8341082276B + i) & _MASK)


class PolymarketSession:
    """Subscription handling and frame encoding for one Polymarket connection."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.subscribed = False
        self.custom_features = False
        self.assets: set[str] = set()
        self._tops: dict[int, tuple[int | None, int | None]] = {}
        self._yes: dict[int, bool] = {}  # pair -> YES token subscribed
        self._no: dict[int, bool] = {}
        self._tokens: dict[str, tuple[int, bool]] = {}
        for spec in scenario.pairs:
            self._tokens[spec.polymarket_yes_token] = (spec.index, True)
            self._tokens[spec.polymarket_no_token] = (spec.index, False)

    def handle(self, text: str | bytes) -> tuple[list[bytes], tuple[int, str] | None]:
        """Answer one client text frame: (frames to send, close (code, reason) or None)."""
        raw = text.encode() if isinstance(text, str) else text
        if raw.strip() == b"PING":
            if not self.subscribed:
                return [], CLOSE_INVALID
            return [PONG], None
        try:
            msg = orjson.loads(raw)
        except orjson.JSONDecodeError:
            msg = None
        if not isinstance(msg, dict):
            return ([], None) if self.subscribed else ([], CLOSE_INVALID)
        assets = msg.get("assets_ids")
        if isinstance(msg.get("type"), str) and msg["type"].lower() == "market":
            if self.subscribed:
                return [INVALID_OPERATION], None
            if not isinstance(assets, list) or not all(isinstance(a, str) for a in assets):
                return [], CLOSE_INVALID
            self.subscribed = True
            self.custom_features = msg.get("custom_feature_enabled") is True
            return self._add(assets, msg.get("initial_dump", True)), None
        operation = msg.get("operation")
        if not self.subscribed:
            return [], CLOSE_INVALID
        if operation in ("subscribe", "unsubscribe") and isinstance(assets, list):
            assets = [a for a in assets if isinstance(a, str)]
            if operation == "subscribe":
                if msg.get("custom_feature_enabled") is True:
                    self.custom_features = True
                return self._add(assets, msg.get("initial_dump", True)), None
            for asset in assets:
                self.assets.discard(asset)
            self._reindex()
            return [], None
        return [], None

    def _add(self, assets: list[str], initial_dump: bool) -> list[bytes]:
        new = [a for a in assets if a not in self.assets]
        self.assets.update(assets)
        self._reindex()
        if not initial_dump:
            return []
        books = [self._book_event(*self._tokens[a]) for a in new if a in self._tokens]
        return [orjson.dumps(books)] if books else []

    def _reindex(self) -> None:
        self._yes = {}
        self._no = {}
        for asset in self.assets:
            known = self._tokens.get(asset)
            if known is not None:
                (self._yes if known[1] else self._no)[known[0]] = True

    def _book_event(self, pair: int, yes: bool, bids=None, asks=None, tick=None,
                    serial: int = 0) -> dict:
        spec = self.scenario.pairs[pair]
        if bids is None:
            b, a = self.scenario.book(POLYMARKET, pair)
            bids, asks = sorted(b.items()), sorted(a.items())
            tick = self.scenario.tick(pair)
        if not yes:
            bids, asks = [(ONE - p, s) for p, s in reversed(asks)], [(ONE - p, s) for p, s in reversed(bids)]
        ms = self.scenario.now_ns // 1_000_000
        return {
            "event_type": "book",
            "asset_id": spec.polymarket_yes_token if yes else spec.polymarket_no_token,
            "market": spec.polymarket_condition_id,
            "bids": [{"price": _PRICES[p], "size": _size(s)} for p, s in bids],
            "asks": [{"price": _PRICES[p], "size": _size(s)} for p, s in reversed(asks)],
            "timestamp": str(ms),
            "hash": _hash(serial or ms, 0 if yes else 1),
            "tick_size": _PRICES[tick],
        }

    def books(self) -> list[bytes]:
        """One `book` frame per subscribed known asset, from the scenario's current state."""
        known = [self._tokens[a] for a in sorted(self.assets) if a in self._tokens]
        return [orjson.dumps(self._book_event(pair, yes)) for pair, yes in known]

    def on_items(self, t_ns: int, items: list[tuple], cache: dict | None = None) -> list[bytes]:
        """Encode one scenario step's Polymarket items for this connection's assets."""
        out: list[bytes] = []
        if not self.assets and not self.custom_features:
            return out
        yes_subs, no_subs = self._yes, self._no
        ts = None
        for item in items:
            tag = item[0]
            if tag == "pnm" or tag == "pr":
                if self.custom_features:
                    out.extend(self._custom_event(item, str(t_ns // 1_000_000)))
                continue
            pair = item[1]
            yes = pair in yes_subs
            no = pair in no_subs
            if not (yes or no):
                continue
            if ts is None:
                ts = str(t_ns // 1_000_000)
            if cache is None:
                out.extend(self._encode(item, yes, no, ts))
            else:
                # Connections with the same assets share one encoding of the item.
                key = (item[2] if item[0] != "ptc" else -pair - 1, item[0], yes, no)
                frames = cache.get(key)
                if frames is None:
                    frames = cache[key] = self._encode(item, yes, no, ts)
                out.extend(frames)
            if self.custom_features and item[0] in ("pc", "pb"):
                out.extend(self._best_bid_ask(item, yes, no, ts))
        return out

    def _custom_event(self, item: tuple, ts: str) -> list[bytes]:
        """`new_market` (global) or `market_resolved` (for a subscribed pair)."""
        if item[0] == "pnm":
            return [orjson.dumps(self._new_market(item[2], ts))]
        _, pair, yes_won = item
        if pair not in self._yes and pair not in self._no:
            return []
        spec = self.scenario.pairs[pair]
        return [orjson.dumps({
            "event_type": "market_resolved", "id": str(1_000_000 + pair), "market": spec.polymarket_condition_id,
            "assets_ids": [spec.polymarket_yes_token, spec.polymarket_no_token],
            "winning_asset_id": spec.polymarket_yes_token if yes_won else spec.polymarket_no_token,
            "winning_outcome": "Yes" if yes_won else "No",
            "event_message": {"id": str(2_000_000 + pair), "ticker": f"sandbox-{pair}",
                              "slug": f"sandbox-{pair}", "title": spec.name, "description": spec.name},
            "timestamp": ts, "tags": ["sandbox"]})]

    def _new_market(self, number: int, ts: str) -> dict:
        # Fields as the custom-feature stream sends them (PROTOCOLS §3.4); ids derived from the
        # seed and the announcement's number, so a seed always announces the same markets.
        seed = self.scenario.config.seed
        digest = hashlib.sha256(f"new-market {seed} {number}".encode()).digest()
        condition = "0x" + digest.hex()
        yes, no = (str(int.from_bytes(digest[i:i + 16], "big") | (1 << 127)) for i in (0, 16))
        slug = f"sandbox-new-{seed}-{number}"
        question = f"Sandbox new market {seed}-{number}?"
        return {
            "event_type": "new_market", "id": str(3_000_000 + number), "question": question,
            "market": condition, "slug": slug, "description": question, "assets_ids": [yes, no],
            "outcomes": ["Yes", "No"],
            "event_message": {"id": str(4_000_000 + number), "ticker": slug, "slug": slug,
                              "title": question, "description": question},
            "timestamp": ts, "tags": ["sandbox"], "condition_id": condition, "active": True,
            "clob_token_ids": [yes, no], "order_price_min_tick_size": "0.01",
            "group_item_title": "", "fees_enabled": True,
            "fee_schedule": {"rate": self.scenario.config.polymarket_fee_rate, "exponent": 1,
                             "takerOnly": True, "rebateRate": 0},
        }

    def _best_bid_ask(self, item: tuple, yes: bool, no: bool, ts: str) -> list[bytes]:
        """`best_bid_ask` frames when the pair's top of book moved (custom features only)."""
        pair = item[1]
        if item[0] == "pc":
            top = (item[4], item[5])
        else:
            bids, asks = item[3], item[4]
            top = (bids[-1][0] if bids else None, asks[0][0] if asks else None)
        if self._tops.get(pair) == top:
            return []
        self._tops[pair] = top
        spec = self.scenario.pairs[pair]
        bid, ask = top
        out = []
        for wanted, asset, b, a in (
            (yes, spec.polymarket_yes_token, bid, ask),
            (no, spec.polymarket_no_token, None if ask is None else ONE - ask, None if bid is None else ONE - bid),
        ):
            if wanted:
                out.append(orjson.dumps({
                    "event_type": "best_bid_ask", "asset_id": asset, "market": spec.polymarket_condition_id,
                    "best_bid": "" if b is None else _PRICES[b], "best_ask": "" if a is None else _PRICES[a],
                    "spread": "" if a is None or b is None else _PRICES[a - b], "timestamp": ts}))
        return out

    def _encode(self, item: tuple, yes: bool, no: bool, ts: str) -> list[bytes]:
        tag = item[0]
        spec = self.scenario.pairs[item[1]]
        if tag == "pc":
            # The hot path of generation: built as text, byte for byte what orjson makes of the
            # same objects (no value here needs JSON escaping).
            _, _, serial, changes, best_bid, best_ask = item
            # An empty side has no best price: sent as "" (what decoders read as none).
            yes_bb = _PRICES[best_bid] if best_bid is not None else ""
            yes_ba = _PRICES[best_ask] if best_ask is not None else ""
            no_bb = _PRICES[ONE - best_ask] if best_ask is not None else ""
            no_ba = _PRICES[ONE - best_bid] if best_bid is not None else ""
            yes_id = spec.polymarket_yes_token
            no_id = spec.polymarket_no_token
            entries = []
            for i, (side, price, size) in enumerate(changes):
                size_text = _size(size)
                if yes:
                    entries.append(f'{{"asset_id":"{yes_id}","price":"{_PRICES[price]}","size":"{size_text}",'
                                   f'"side":"{_SIDES[side]}","hash":"{_hash(serial, 2 * i)}",'
                                   f'"best_bid":"{yes_bb}","best_ask":"{yes_ba}"}}')
                if no:
                    entries.append(f'{{"asset_id":"{no_id}","price":"{_PRICES[ONE - price]}","size":"{size_text}",'
                                   f'"side":"{_SIDES[1 - side]}","hash":"{_hash(serial, 2 * i + 1)}",'
                                   f'"best_bid":"{no_bb}","best_ask":"{no_ba}"}}')
            return [f'{{"event_type":"price_change","market":"{spec.polymarket_condition_id}",'
                    f'"price_changes":[{",".join(entries)}],"timestamp":"{ts}"}}'.encode()]
        if tag == "pb":
            _, pair, serial, bids, asks, tick = item
            out = []
            if yes:
                out.append(orjson.dumps(self._book_event(pair, True, bids, asks, tick, serial)))
            if no:
                out.append(orjson.dumps(self._book_event(pair, False, bids, asks, tick, serial)))
            return out
        if tag == "pt":
            _, pair, serial, price, size, taker_buy = item
            out = []
            for is_yes, asset in ((True, spec.polymarket_yes_token), (False, spec.polymarket_no_token)):
                if (yes if is_yes else no):
                    out.append(orjson.dumps({
                        "event_type": "last_trade_price", "asset_id": asset,
                        "market": spec.polymarket_condition_id,
                        "price": _PRICES[price if is_yes else ONE - price], "size": _size(size),
                        "side": "BUY" if taker_buy == is_yes else "SELL", "fee_rate_bps": "0",
                        "timestamp": ts, "transaction_hash": "0x" + _hash(serial, 7)[:40]}))
            return out
        if tag == "ptc":
            _, pair, old, new = item
            out = []
            for is_yes, asset in ((True, spec.polymarket_yes_token), (False, spec.polymarket_no_token)):
                if (yes if is_yes else no):
                    out.append(orjson.dumps({
                        "event_type": "tick_size_change", "asset_id": asset,
                        "market": spec.polymarket_condition_id, "old_tick_size": _PRICES[old],
                        "new_tick_size": _PRICES[new], "timestamp": ts}))
            return out
        return []

    # ---- scripted faults ----------------------------------------------------------------

    def burst(self, frames: int) -> list[bytes]:
        """Frames that bump then restore one live level's size: heavy traffic, book unchanged."""
        pairs = sorted(set(self._yes) | set(self._no))
        if not pairs:
            return []
        pair = pairs[0]
        bids, asks = self.scenario.book(POLYMARKET, pair)
        if not bids:
            return []
        price = max(bids)
        size = bids[price]
        best_ask = min(asks) if asks else None
        ts = str(self.scenario.now_ns // 1_000_000)
        yes, no = pair in self._yes, pair in self._no
        out = []
        for i in range(frames - frames % 2):
            item = ("pc", pair, 10**9 + i, [(BID, price, size + 100 if i % 2 == 0 else size)], price, best_ask)
            out.extend(self._encode(item, yes, no, ts))
        return out
