"""Kalshi WebSocket protocol state for one sandbox connection (PROTOCOLS §1), without I/O.

`KalshiSession.handle(text)` answers a client command with the frames Kalshi would send;
`on_items(t_ns, items)` turns scenario items into `orderbook_delta` / `ticker` / `trade` /
`market_lifecycle_v2` frames for the connection's subscriptions (a lifecycle subscription without
markets covers every market). Each `sid` has its own `seq`: snapshots, deltas and the
`ok`/`unsubscribed` replies on it take one slot each. The field era is a server-wide switch:
"c" (current: `*_dollars_fp`, `price_dollars`, `delta_fp`, `ts_ms`, `sending_ts_ms`),
"b" (integer cents plus `*_dollars` twins) or "a" (integer cents only). Only the current era
can carry sub-penny prices and fractional counts.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import orjson

from arbkit.sandbox.scenario import ASK, BID, KALSHI, ONE, Scenario, ScenarioConfig

ERAS = ("a", "b", "c")
LIFECYCLE = "market_lifecycle_v2"
CHANNELS = ("orderbook_delta", "ticker", "trade", LIFECYCLE)
WS_PATH = "/trade-api/ws/v2"

ERR_PARAMS = (2, "Params required")
ERR_CHANNELS = (3, "Channels required")
ERR_SIDS = (4, "Subscription IDs required")
ERR_COMMAND = (5, "Unknown command")
ERR_SID = (7, "Unknown subscription ID")
ERR_CHANNEL = (8, "Unknown channel name")
ERR_PARAM = (11, "Invalid parameter")
ERR_ONE_SID = (12, "Exactly one subscription ID is required")
ERR_ACTION_UNSUPPORTED = (13, "Unsupported action")
ERR_TICKER = (14, "Market Ticker required")
ERR_ACTION = (15, "Action required")
ERR_MARKET = (16, "Market not found")
ERR_UNPROCESSABLE = (1, "Unable to process message")
ERR_OVERFLOW = (25, "Subscription buffer overflow")

_P4 = [f"{t // ONE}.{t % ONE:04d}" for t in range(ONE + 1)]
_P3 = [f"{t // ONE}.{t % ONE // 10:03d}" for t in range(ONE + 1)]


_COUNTS: dict[int, str] = {}


def _count(units: int) -> str:
    """Hundredths of a contract as Kalshi's 2-dp fixed-point string."""
    text = _COUNTS.get(units)
    if text is None:
        sign = "-" if units < 0 else ""
        whole, frac = divmod(abs(units), 100)
        text = f"{sign}{whole}.{frac:02d}"
        if len(_COUNTS) < 100_000:
            _COUNTS[units] = text
    return text


@dataclass
class Subscription:
    """One `sid`: a channel over an ordered set of markets."""

    sid: int
    channel: str
    markets: list[int]  # pair indices; empty for ticker/trade means every market
    use_yes_price: bool = False
    seq: int = 0
    all_markets: bool = False
    skip_ticker_ack: bool = False


class KalshiSession:
    """Command handling and frame encoding for one Kalshi connection."""

    def __init__(self, scenario: Scenario, era: str = "c") -> None:
        if era not in ERAS:
            raise ValueError(f"unknown Kalshi field era {era!r}")
        check_era(scenario.config, era)
        self.scenario = scenario
        self.era = era
        self.subs: dict[int, Subscription] = {}
        self._next_sid = 1
        self._tickers = {p.kalshi_ticker: p.index for p in scenario.pairs}
        self._book_subs: dict[int, list[Subscription]] = {}
        self._tick_subs: dict[int, list[Subscription]] = {}
        self._trade_subs: dict[int, list[Subscription]] = {}
        self._life_subs: dict[int, list[Subscription]] = {}
        self._ts_cache = (-1, "")

    # ---- commands -----------------------------------------------------------------------

    def handle(self, text: str | bytes) -> list[bytes]:
        """Answer one client text frame with the frames Kalshi sends back."""
        try:
            cmd = orjson.loads(text)
        except orjson.JSONDecodeError:
            return [self._error(None, ERR_UNPROCESSABLE)]
        if not isinstance(cmd, dict):
            return [self._error(None, ERR_UNPROCESSABLE)]
        req_id = cmd.get("id")
        name = cmd.get("cmd")
        params = cmd.get("params")
        if name == "list_subscriptions":
            return [self._reply(req_id, "ok", [{"channel": s.channel, "sid": s.sid} for s in self.subs.values()])]
        if name not in ("subscribe", "unsubscribe", "update_subscription"):
            return [self._error(req_id, ERR_COMMAND)]
        if not isinstance(params, dict):
            return [self._error(req_id, ERR_PARAMS)]
        if name == "subscribe":
            return self._subscribe(req_id, params)
        if name == "unsubscribe":
            return self._unsubscribe(req_id, params)
        return self._update(req_id, params)

    def _subscribe(self, req_id, params: dict) -> list[bytes]:
        channels = params.get("channels")
        if not channels:
            return [self._error(req_id, ERR_CHANNELS)]
        if not isinstance(channels, list) or not all(isinstance(c, str) for c in channels):
            return [self._error(req_id, ERR_PARAM)]
        for channel in channels:
            if channel not in CHANNELS:
                return [self._error(req_id, ERR_CHANNEL)]
        markets, err = self._markets(req_id, params)
        if err:
            return err
        if markets is None and "orderbook_delta" in channels:
            return [self._error(req_id, ERR_TICKER)]
        use_yes = params.get("use_yes_price", False)
        if not isinstance(use_yes, bool):
            return [self._error(req_id, ERR_PARAM)]
        out: list[bytes] = []
        for channel in channels:
            sub = Subscription(self._next_sid, channel, list(markets or []), use_yes_price=use_yes,
                               all_markets=markets is None,
                               skip_ticker_ack=params.get("skip_ticker_ack") is True)
            self._next_sid += 1
            self.subs[sub.sid] = sub
            out.append(self._reply(req_id, "subscribed", {"channel": channel, "sid": sub.sid}))
            if channel == "orderbook_delta":
                out.extend(self._snapshot(sub, pair) for pair in sub.markets)
            elif channel == "ticker" and params.get("send_initial_snapshot"):
                out.extend(self._ticker_frame(sub, pair) for pair in self._sub_markets(sub))
        self._reindex()
        return out

    def _unsubscribe(self, req_id, params: dict) -> list[bytes]:
        sids = params.get("sids")
        if not sids:
            return [self._error(req_id, ERR_SIDS)]
        if not isinstance(sids, list) or not all(isinstance(s, int) for s in sids):
            return [self._error(req_id, ERR_PARAM)]
        for sid in sids:
            if sid not in self.subs:
                return [self._error(req_id, ERR_SID)]
        out = []
        for sid in sids:
            sub = self.subs.pop(sid)
            msg: dict = {"id": req_id, "sid": sid}
            if sub.channel == "orderbook_delta":
                sub.seq += 1
                msg["seq"] = sub.seq
            msg["type"] = "unsubscribed"
            out.append(orjson.dumps(msg))
        self._reindex()
        return out

    def _update(self, req_id, params: dict) -> list[bytes]:
        action = params.get("action")
        if not action:
            return [self._error(req_id, ERR_ACTION)]
        if action not in ("add_markets", "delete_markets", "get_snapshot"):
            return [self._error(req_id, ERR_ACTION_UNSUPPORTED)]
        if "sid" in params:
            sid = params["sid"]
        else:
            sids = params.get("sids")
            if not isinstance(sids, list) or len(sids) != 1:
                return [self._error(req_id, ERR_ONE_SID)]
            sid = sids[0]
        if not isinstance(sid, int):
            return [self._error(req_id, ERR_PARAM)]
        sub = self.subs.get(sid)
        if sub is None:
            return [self._error(req_id, ERR_SID)]
        markets, err = self._markets(req_id, params)
        if err:
            return err
        if action == "get_snapshot":
            if sub.channel != "orderbook_delta":
                return [self._error(req_id, ERR_PARAM)]
            wanted = sub.markets if markets is None else [m for m in markets if m in sub.markets]
            return [self._snapshot(sub, pair) for pair in wanted]
        if markets is None:
            return [self._error(req_id, ERR_TICKER)]
        new: list[int] = []
        if action == "add_markets":
            for pair in markets:
                if pair not in sub.markets:
                    sub.markets.append(pair)
                    new.append(pair)
            sub.all_markets = False
        else:
            sub.markets = [m for m in sub.markets if m not in markets]
        out = []
        if not (sub.channel == "ticker" and sub.skip_ticker_ack):
            msg: dict = {"id": req_id, "sid": sid}
            if sub.channel == "orderbook_delta":
                sub.seq += 1
                msg["seq"] = sub.seq
            msg["type"] = "ok"
            msg["msg"] = {"market_tickers": [self.scenario.pairs[m].kalshi_ticker for m in sub.markets]}
            out.append(orjson.dumps(msg))
        if sub.channel == "orderbook_delta":
            out.extend(self._snapshot(sub, pair) for pair in new)
        elif sub.channel == "ticker" and params.get("send_initial_snapshot"):
            out.extend(self._ticker_frame(sub, pair) for pair in new)
        self._reindex()
        return out

    def _markets(self, req_id, params: dict) -> tuple[list[int] | None, list[bytes]]:
        if "market_tickers" in params:
            tickers = params["market_tickers"]
            if not isinstance(tickers, list) or not all(isinstance(t, str) for t in tickers):
                return None, [self._error(req_id, ERR_PARAM)]
        elif "market_ticker" in params:
            tickers = params["market_ticker"]
            if not isinstance(tickers, str):
                return None, [self._error(req_id, ERR_PARAM)]
            tickers = [tickers]
        else:
            return None, []
        if not tickers:
            return None, []
        pairs = []
        for ticker in tickers:
            pair = self._tickers.get(ticker)
            if pair is None:
                return None, [self._error(req_id, ERR_MARKET, market_ticker=ticker)]
            if pair not in pairs:
                pairs.append(pair)
        return pairs, []

    def _reindex(self) -> None:
        n = len(self.scenario.pairs)
        index: dict[str, dict[int, list[Subscription]]] = {c: {} for c in CHANNELS}
        for sub in self.subs.values():
            for pair in (range(n) if sub.all_markets else sub.markets):
                index[sub.channel].setdefault(pair, []).append(sub)
        self._book_subs = index["orderbook_delta"]
        self._tick_subs = index["ticker"]
        self._trade_subs = index["trade"]
        self._life_subs = index[LIFECYCLE]

    def _sub_markets(self, sub: Subscription) -> list[int]:
        return list(range(len(self.scenario.pairs))) if sub.all_markets else sub.markets

    def _reply(self, req_id, kind: str, msg) -> bytes:
        return orjson.dumps({"id": req_id, "type": kind, "msg": msg})

    def _error(self, req_id, err: tuple[int, str], **extra) -> bytes:
        code, text = err
        return orjson.dumps({"id": req_id, "type": "error", "msg": {"code": code, "msg": text, **extra}})

    # ---- data ---------------------------------------------------------------------------

    def book_sids(self) -> list[int]:
        """Sids of live orderbook subscriptions that carry at least one market."""
        return [s.sid for s in self.subs.values() if s.channel == "orderbook_delta" and s.markets]

    def snapshots(self) -> list[bytes]:
        """A fresh snapshot for every market of every orderbook subscription."""
        return [self._snapshot(s, p) for s in list(self.subs.values())
                if s.channel == "orderbook_delta" for p in s.markets]

    def _snapshot(self, sub: Subscription, pair: int) -> bytes:
        spec = self.scenario.pairs[pair]
        bids, asks = self.scenario.book(KALSHI, pair)
        yes = sorted(bids.items())
        if sub.use_yes_price:
            no = sorted(asks.items())  # already YES-scale asks; the client must not complement
        else:
            no = sorted((ONE - p, s) for p, s in asks.items())
        ms = self.scenario.now_ns // 1_000_000
        sub.seq += 1
        body: dict = {"market_ticker": spec.kalshi_ticker}
        era = self.era
        if era != "a":
            body["market_id"] = spec.kalshi_market_id
        if era == "c":
            if yes:
                body["yes_dollars_fp"] = [[_P4[p], _count(s)] for p, s in yes]
            if no:
                body["no_dollars_fp"] = [[_P4[p], _count(s)] for p, s in no]
            return orjson.dumps({"type": "orderbook_snapshot", "sid": sub.sid, "seq": sub.seq,
                                 "sending_ts_ms": ms, "msg": body})
        if yes:
            body["yes"] = [[p // 100, s // 100] for p, s in yes]
            if era == "b":
                body["yes_dollars"] = [[_P3[p], s // 100] for p, s in yes]
        if no:
            body["no"] = [[p // 100, s // 100] for p, s in no]
            if era == "b":
                body["no_dollars"] = [[_P3[p], s // 100] for p, s in no]
        return orjson.dumps({"type": "orderbook_snapshot", "sid": sub.sid, "seq": sub.seq, "msg": body})

    def on_items(self, t_ns: int, items: list[tuple]) -> list[bytes]:
        """Encode one scenario step's Kalshi items for this connection's subscriptions."""
        out: list[bytes] = []
        if not self.subs:
            return out
        ms = t_ns // 1_000_000
        book_subs = self._book_subs
        dumps = orjson.dumps
        era_c = self.era == "c"
        for item in items:
            tag = item[0]
            if tag == "kl":
                subs = book_subs.get(item[1])
                if not subs:
                    continue
                bodies: list = [None, None]
                for sub in subs:
                    yes_scale = 1 if sub.use_yes_price else 0
                    body = bodies[yes_scale]
                    sub.seq += 1
                    if era_c:
                        if body is None:
                            body = bodies[yes_scale] = self._delta_tail(item, ms, sub.use_yes_price)
                        out.append(f'{{"type":"orderbook_delta","sid":{sub.sid},"seq":{sub.seq},'
                                   f'"sending_ts_ms":{ms},{body}'.encode())
                    else:
                        if body is None:
                            body = bodies[yes_scale] = self._delta_body(item, ms, sub.use_yes_price)
                        out.append(dumps({"type": "orderbook_delta", "sid": sub.sid, "seq": sub.seq,
                                          "msg": body}))
            elif tag == "ktk":
                for sub in self._tick_subs.get(item[1], ()):
                    out.append(self._ticker_frame(sub, item[1], item, ms))
            elif tag == "kt":
                for sub in self._trade_subs.get(item[1], ()):
                    out.append(self._trade_frame(sub, item, ms))
            elif tag == "kr":
                for sub in self._life_subs.get(item[1], ()):
                    out.append(self._lifecycle_frame(sub, item, ms))
        return out

    def _lifecycle_frame(self, sub: Subscription, item: tuple, ms: int) -> bytes:
        # {"type": "market_lifecycle_v2", "sid": 10, "msg": {"market_ticker": "X",
        #  "event_type": "determined", "result": "yes", "determination_ts": 1790500000}}
        _, pair, event_type, result = item
        msg = {"market_ticker": self.scenario.pairs[pair].kalshi_ticker, "event_type": event_type,
               "result": result}
        msg["determination_ts" if event_type == "determined" else "settled_ts"] = ms // 1000
        frame: dict = {"type": LIFECYCLE, "sid": sub.sid}
        if self.era == "c":
            frame["sending_ts_ms"] = ms
        frame["msg"] = msg
        return orjson.dumps(frame)

    def _delta_tail(self, item: tuple, ms: int, use_yes_price: bool) -> str:
        """The current-era delta's `"msg":{...}}` tail, byte for byte what orjson makes of
        `_delta_body` (the hot path of generation; every value here needs no JSON escaping)."""
        _, pair, side, price, delta = item
        spec = self.scenario.pairs[pair]
        if side == ASK:
            side_name = "no"
            if not use_yes_price:
                price = ONE - price
        else:
            side_name = "yes"
        ts = self._ts(ms)
        return (f'"msg":{{"market_ticker":"{spec.kalshi_ticker}","market_id":"{spec.kalshi_market_id}",'
                f'"price_dollars":"{_P4[price]}","delta_fp":"{_count(delta)}","side":"{side_name}",'
                f'"ts":"{ts}","ts_ms":{ms}}}}}')

    def _ts(self, ms: int) -> str:
        secs, milli = divmod(ms, 1000)
        if self._ts_cache[0] != secs:
            self._ts_cache = (secs, time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(secs)))
        return f"{self._ts_cache[1]}.{milli:03d}Z"

    def _delta_body(self, item: tuple, ms: int, use_yes_price: bool) -> dict:
        _, pair, side, price, delta = item
        spec = self.scenario.pairs[pair]
        if side == ASK:
            side_name = "no"
            if not use_yes_price:
                price = ONE - price
        else:
            side_name = "yes"
        era = self.era
        if era == "c":
            return {"market_ticker": spec.kalshi_ticker, "market_id": spec.kalshi_market_id,
                    "price_dollars": _P4[price], "delta_fp": _count(delta), "side": side_name,
                    "ts": self._ts(ms), "ts_ms": ms}
        if era == "b":
            return {"market_ticker": spec.kalshi_ticker, "market_id": spec.kalshi_market_id,
                    "price": price // 100, "price_dollars": _P3[price], "delta": delta // 100,
                    "delta_fp": _count(delta), "side": side_name, "ts": self._ts(ms)}
        return {"market_ticker": spec.kalshi_ticker, "price": price // 100, "delta": delta // 100,
                "side": side_name}

    def _ticker_frame(self, sub: Subscription, pair: int, item: tuple | None = None,
                      ms: int | None = None) -> bytes:
        if item is None:
            st = self.scenario.state[pair]
            item = ("ktk", pair, *st.last_ticker, st.last_price, st.volume)
        if ms is None:
            ms = self.scenario.now_ns // 1_000_000
        _, _, bid, ask, bid_size, ask_size, last, volume = item
        spec = self.scenario.pairs[pair]
        bid = bid or 0
        ask = ask or ONE
        if self.era == "c":
            msg = {"market_ticker": spec.kalshi_ticker, "market_id": spec.kalshi_market_id,
                   "price_dollars": _P4[last], "yes_bid_dollars": _P4[bid], "yes_ask_dollars": _P4[ask],
                   "yes_bid_size_fp": _count(bid_size), "yes_ask_size_fp": _count(ask_size),
                   "volume_fp": _count(volume), "ts": ms // 1000, "ts_ms": ms}
        else:
            msg = {"market_ticker": spec.kalshi_ticker, "price": last // 100, "yes_bid": bid // 100,
                   "yes_ask": ask // 100, "volume": volume // 100, "ts": ms // 1000}
            if self.era == "b":
                msg.update(price_dollars=_P3[last], yes_bid_dollars=_P3[bid], yes_ask_dollars=_P3[ask])
        return orjson.dumps({"type": "ticker", "sid": sub.sid, "msg": msg})

    def _trade_frame(self, sub: Subscription, item: tuple, ms: int) -> bytes:
        _, pair, price, size, taker_yes = item
        spec = self.scenario.pairs[pair]
        taker = "yes" if taker_yes else "no"
        trade_id = "%016x" % ((ms * 0x9E3779B1 + price * 7919 + size) & 0xFFFFFFFFFFFFFFFF)
        if self.era == "c":
            msg = {"trade_id": trade_id, "market_ticker": spec.kalshi_ticker,
                   "yes_price_dollars": _P4[price], "no_price_dollars": _P4[ONE - price],
                   "count_fp": _count(size), "taker_side": taker, "taker_outcome_side": taker,
                   "taker_book_side": "bid" if taker_yes else "ask", "ts": ms // 1000, "ts_ms": ms}
        else:
            msg = {"trade_id": trade_id, "market_ticker": spec.kalshi_ticker, "yes_price": price // 100,
                   "no_price": (ONE - price) // 100, "count": size // 100, "taker_side": taker,
                   "ts": ms // 1000}
        return orjson.dumps({"type": "trade", "sid": sub.sid, "msg": msg})

    # ---- scripted faults ----------------------------------------------------------------

    def skip_seq(self) -> int | None:
        """Burn one seq number on the first orderbook sid (a gap the client must notice)."""
        sids = self.book_sids()
        if not sids:
            return None
        self.subs[sids[0]].seq += 1
        return sids[0]

    def overflow(self) -> tuple[int, bytes] | None:
        """Kill the first orderbook sid with error 25; it sends nothing more."""
        sids = self.book_sids()
        if not sids:
            return None
        sid = sids[0]
        del self.subs[sid]
        self._reindex()
        code, text = ERR_OVERFLOW
        return sid, orjson.dumps({"id": None, "type": "error", "sid": sid, "msg": {"code": code, "msg": text}})

    def burst(self, frames: int) -> list[bytes]:
        """Frames that add then remove size at a live level: heavy traffic, book unchanged."""
        sids = self.book_sids()
        if not sids:
            return []
        sub = self.subs[sids[0]]
        pair = sub.markets[0]
        bids, asks = self.scenario.book(KALSHI, pair)
        if bids:
            side, price = BID, max(bids)
        elif asks:
            side, price = ASK, min(asks)
        else:
            return []
        ms = self.scenario.now_ns // 1_000_000
        out = []
        for i in range(frames):
            delta = 100 if i % 2 == 0 else -100
            if i == frames - 1 and delta > 0:
                break
            body = self._delta_body(("kl", pair, side, price, delta), ms, sub.use_yes_price)
            sub.seq += 1
            envelope = {"type": "orderbook_delta", "sid": sub.sid, "seq": sub.seq}
            if self.era == "c":
                envelope["sending_ts_ms"] = ms
            envelope["msg"] = body
            out.append(orjson.dumps(envelope))
        return out


MALFORMED = b'{"type":"orderbook_delta","sid":1,"seq":'


def check_era(cfg: ScenarioConfig, era: str) -> None:
    """Refuse a field era that cannot express the scenario's Kalshi prices or sizes."""
    if era != "c" and (cfg.subpenny_pairs or cfg.fractional_pairs):
        raise ValueError(f"Kalshi field era {era!r} has integer cents and whole contracts only: "
                         "sub-penny or fractional markets need era c")
