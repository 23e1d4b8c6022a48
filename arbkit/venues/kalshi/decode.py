"""Decode Kalshi WebSocket frames (PROTOCOLS §1.5–§1.9) into normalized events.

One `KalshiDecoder` per connection: it owns that connection's per-`sid` sequence state. Frames
are decoded with one msgspec decoder over a tagged union of typed envelopes (`wire.py`), then
converted by plain functions; the receive time is passed in. Books come out in YES terms: YES
bids are bids, NO bids become YES asks at 1 − p (or at p when the session subscribed with
`use_yes_price`).

On the engine's hot path (`decode_levels`) an in-sequence delta is applied to the books as it is
read, building no event; anything else comes back as events, as from `decode`.

This module is compiled with mypyc (the wire structs live in `wire.py`, which is not). Values
that only pass through to an event are typed `Any`: compiled, an `int` would be unboxed on the
way in and re-allocated on the way out.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final, cast

import msgspec

from arbkit.core.book import Book, BookManager
from arbkit.core.events import (
    ASK,
    BID,
    INVALID_SEQ_GAP,
    INVALID_SUBSCRIPTION_ERROR,
    KALSHI,
    BookInvalid,
    BookSnapshot,
    DecodeError,
    Event,
    Level,
    LevelDelta,
    MarketStatus,
    Notice,
    Resolution,
    SeqGap,
    SubscriptionAck,
    SubscriptionError,
    TopOfBook,
    Trade,
)
from arbkit.core.fixedpoint import (
    PRICE_ONE,
    SIZE_SCALE,
    parse_price,
    parse_size,
    plain_millionths,
    plain_ticks,
)
from arbkit.venues.kalshi.wire import (
    FRAME_DECODER,
    GENERIC_DECODER,
    KNOWN_TYPES,
    DeltaFrame,
    ErrorFrame,
    IntLevels,
    LifecycleFrame,
    OkFrame,
    SnapshotFrame,
    StrLevels,
    SubscribedFrame,
    TickerFrame,
    TradeFrame,
    UnsubscribedFrame,
)

# Error codes after which the subscription is dead and its books receive nothing more (§1.5).
TERMINAL_ERROR_CODES = frozenset({10, 17, 25})

_CENT: Final = 100  # ticks per legacy integer cent
_HUNDREDTH: Final = SIZE_SCALE // 100
# Wire prices sit on a small grid and counts repeat; bounded so a hostile stream can't grow it.
_CACHE_LIMIT: Final = 50_000
# Counts are far more varied than prices (~100k distinct in a 1M-frame stream), and a count means
# the same on every connection: one cache for all decoders, cleared when full so that a long
# session keeps its hot strings cached rather than freezing on its first 100k. Compiled, the
# hot paths read counts with `plain_millionths` instead, so the cache serves only the rest.
_COUNT_CACHE_LIMIT: Final = 100_000
_COUNTS: Final[dict[int | str, Any]] = {}
_REASON_LIMIT: Final = 160
_TOO_DEEP: Final = "JSON nested too deeply"
_COMPILED: Final = not __file__.endswith(".py")
# Compiled, a Final module name is a C static rather than a lookup in the module's dict.
_VENUE: Final = KALSHI
_LEVEL_DELTA: Final = LevelDelta
_BID: Final[Any] = BID
_ASK: Final[Any] = ASK
_DELTA_FRAME: Final = DeltaFrame
_FIELDS: Final = msgspec.structs.astuple

_WireLevels = list[tuple[int | str, int | str]]


class _BadFrame(Exception):
    """A frame that parsed as JSON but whose content makes no sense."""


def _count(wire: int | str) -> int:
    if isinstance(wire, int):
        return wire * SIZE_SCALE
    if _COMPILED:
        # A native digit loop, cheaper than looking the fresh string up in `_COUNTS`.
        if wire.startswith("-"):
            value = plain_millionths(wire, 1)
            if value >= 0:
                return -value
        else:
            value = plain_millionths(wire)
            if value >= 0:
                return value
        return parse_size(wire)
    # Counts are fixed two-decimal strings ("31.54", "-25.00"): skip the general parser for those.
    if wire[-3:-2] == ".":
        digits = wire[:-3] + wire[-2:]
        if digits.isascii() and (digits.isdigit() or (digits[:1] == "-" and digits[1:].isdigit())):
            return int(digits) * _HUNDREDTH
    return parse_size(wire)


def _price(wire: int | str) -> int:
    ticks = wire * _CENT if isinstance(wire, int) else parse_price(wire)
    if ticks < 0 or ticks > PRICE_ONE:
        raise _BadFrame(f"price {wire!r} outside [0, 1]")
    return ticks


def _learn_price(cache: dict[int | str, int], wire: int | str, complement: bool) -> int:
    ticks = _price(wire)
    if complement:
        ticks = PRICE_ONE - ticks
    if len(cache) < _CACHE_LIMIT:
        cache[wire] = ticks
    return ticks


def _plain_price(wire: str, complement: bool) -> int:
    """The ticks of a plain dollar price in [0, 1] (1 − p when `complement`), as `_learn_price`
    reads it, by the digit loop; -1 for anything else."""
    ticks = plain_ticks(wire)
    if ticks < 0 or ticks > PRICE_ONE:
        return -1
    return PRICE_ONE - ticks if complement else ticks


def _level_price(wire: int | str, prices: dict[int | str, int], complement: bool) -> Any:
    """A ladder price in ticks (1 − p when `complement`), as `_levels` learns it: a plain
    dollar string by the digit loop, anything else through `prices` or `_learn_price`."""
    if isinstance(wire, str):
        ticks = _plain_price(wire, complement)
        if ticks >= 0:
            return ticks
    price = prices.get(wire)
    return _learn_price(prices, wire, complement) if price is None else price


def _learn_count(wire: int | str) -> Any:
    size = _count(wire)
    if len(_COUNTS) >= _COUNT_CACHE_LIMIT:
        _COUNTS.clear()
    _COUNTS[wire] = size
    return size


def _levels(levels: _WireLevels, prices: dict[int | str, int], complement: bool) -> list[Level]:
    counts = _COUNTS
    try:
        if _COMPILED:
            # Digit loops, as for deltas: a ladder's fresh strings would each be hashed.
            return [(_level_price(p, prices, complement), _count(c)) for p, c in levels]
        # `or` also re-reads a cached 0, which is rare and parses to the same 0.
        return [(prices[p], counts.get(c) or _learn_count(c)) for p, c in levels]
    except KeyError:
        pass
    # A price not seen yet on this side: learn level by level, so a bad ladder fails where a
    # plain reading would, on its first bad field.
    out: list[Level] = []
    for wire_price, wire_count in levels:
        price = prices.get(wire_price)
        if price is None:
            price = _learn_price(prices, wire_price, complement)
        size = counts.get(wire_count)
        if size is None:
            size = _learn_count(wire_count)
        out.append((price, size))
    return out


def _ladder(
    fp: StrLevels | None, dollars: StrLevels | None, cents: IntLevels | None
) -> _WireLevels:
    # Transitional frames carry the same ladder up to three times; the newest field wins (§1.7):
    # {"yes": [[33, 75]], "yes_dollars": [["0.330", 75]], "yes_dollars_fp": [["0.3300", "75.00"]]}
    if fp is not None:
        return cast(_WireLevels, fp)
    if dollars is not None:
        return cast(_WireLevels, dollars)
    if cents is not None:
        return cast(_WireLevels, cents)
    # A side with no levels is left out entirely: {"market_ticker": "X", "yes": [[31, 20]]}
    return []


def _price_of(dollars: str | None, cents: int | None) -> int | None:
    if dollars is not None:
        return _price(dollars)
    return None if cents is None else _price(cents)


def _count_of(fp: str | None, count: int | None) -> int | None:
    if fp is not None:
        return _count(fp)
    return None if count is None else _count(count)


def _print_ts_ms(ts_ms: int | None, ts: Any, sending_ts_ms: int | None) -> int | None:
    if ts_ms is not None:
        return ts_ms
    # Legacy ticker/trade frames only have whole seconds: {"ts": 1790000123}
    if type(ts) is int:
        return ts * 1000
    return sending_ts_ms


def _short(reason: str) -> str:
    return reason if len(reason) <= _REASON_LIMIT else reason[: _REASON_LIMIT - 3] + "..."


class _Subscription:
    """One sid's position in its sequence and the markets seen on it."""

    def __init__(self) -> None:
        # `seq` means something only once `seen`; an int, not Optional, so that compiled code
        # keeps it unboxed.
        self.seen = False
        self.seq = 0
        self.markets: set[str] = set()


class KalshiDecoder:
    """Turn one Kalshi connection's frames into events, tracking `seq` per subscription.

    `decode_errors` counts the frames that became `DecodeError` events. Such a frame does not
    advance its sid's sequence, so the update it carried shows up as a gap on the next frame.
    """

    def __init__(self, use_yes_price: bool = False) -> None:
        self.use_yes_price = use_yes_price
        self.decode_errors = 0
        self._decode: Callable[[bytes | str], object] = FRAME_DECODER.decode
        self._subscriptions: dict[int, _Subscription] = {}
        # Book frames without a sid (never seen on the wire, but a terminal error must reach them).
        self._loose_markets: set[str] = set()
        self._bid_ticks: dict[int | str, int] = {}
        self._ask_ticks: dict[int | str, int] = {}
        # The delta hot path's prices per wire side: {wire price: (book side, ticks)}.
        self._yes_deltas: dict[int | str | None, tuple[Any, Any]] = {}
        self._no_deltas: dict[int | str | None, tuple[Any, Any]] = {}
        # With use_yes_price the NO side arrives as YES-scale asks already: don't complement.
        self._complement_no = not use_yes_price
        self._handlers: dict[type, Callable[[Any, int], list[Event]]] = {
            SnapshotFrame: self._snapshot,
            TickerFrame: self._ticker,
            TradeFrame: self._trade,
            LifecycleFrame: self._lifecycle,
            OkFrame: self._ok,
            SubscribedFrame: self._subscribed,
            UnsubscribedFrame: self._unsubscribed,
            ErrorFrame: self._error,
        }

    # `recv_ns` is an int; typed Any so that, compiled, it reaches the events as it came.
    def decode(self, payload: bytes | str, recv_ns: Any) -> list[Event]:
        """Decode one frame received at `recv_ns`; never raises."""
        events = self._decode_frame(payload, recv_ns, None, None, None)
        return [] if events is None else events

    def decode_levels(
        self,
        payload: bytes | str,
        recv_ns: Any,
        books: BookManager,
        touched: list[Book],
        invalid: list[BookInvalid],
    ) -> list[Event] | None:
        """`decode`, or apply the frame straight to `books` (as `BookManager.apply_levels` would
        apply its event) and return None when it is a delta on the hot path below: no event is
        built. Never raises."""
        return self._decode_frame(payload, recv_ns, books, touched, invalid)

    def _decode_frame(
        self,
        payload: bytes | str,
        recv_ns: Any,
        books: BookManager | None,
        touched: list[Book] | None,
        invalid: list[BookInvalid] | None,
    ) -> list[Event] | None:
        try:
            frame = self._decode(payload)
        # Invalid UTF-8 inside a JSON string escapes msgspec as UnicodeDecodeError (a ValueError).
        except (msgspec.DecodeError, ValueError) as exc:
            return self._untyped(payload, recv_ns, exc)
        except RecursionError:
            # msgspec recurses per nesting level: `[[[[...` 20,000 deep exhausts the stack.
            return [self._decode_error(recv_ns, _TOO_DEEP)]
        try:
            if type(frame) is _DELTA_FRAME:
                # The hot path, inlined: a delta on a known sid whose seq follows on, for a
                # market already on that sid, at a plain price (compiled) or one seen before on
                # that side (interpreted). Anything
                # else takes `_delta`, which also learns the price, sid and market.
                # The frame (sid, seq, sending_ts_ms, id, msg) and its msg (market_ticker,
                # price_dollars, delta_fp, side, ts_ms, price, delta) are read as tuples of
                # their fields: compiled, a fraction of the cost of eight attribute loads.
                envelope = _FIELDS(frame)
                sid = envelope[0]
                if sid is None:
                    return self._delta(frame, recv_ns)
                msg = _FIELDS(envelope[4])
                side = msg[3]
                wire_price = msg[1]
                book_side: Any
                price: Any
                if _COMPILED and type(wire_price) is str:
                    # The digit loop: the fresh price string would be hashed to be looked up.
                    if side == "yes":
                        book_side = _BID
                        ticks = _plain_price(wire_price, False)
                    elif side == "no":
                        book_side = _ASK
                        ticks = _plain_price(wire_price, self._complement_no)
                    else:
                        return self._delta(frame, recv_ns)
                    if ticks < 0:
                        return self._delta(frame, recv_ns)
                    price = ticks
                else:
                    if side == "yes":
                        prices = self._yes_deltas
                    elif side == "no":
                        prices = self._no_deltas
                    else:
                        return self._delta(frame, recv_ns)
                    found = prices.get(wire_price)
                    if found is None:
                        return self._delta(frame, recv_ns)
                    book_side, price = found
                sub = self._subscriptions.get(sid)
                if sub is None:
                    return self._delta(frame, recv_ns)
                seq = envelope[1]
                market = msg[0]
                wire_delta = msg[2]
                if (
                    seq is None
                    or not sub.seen
                    or seq != sub.seq + 1
                    or market not in sub.markets
                    or wire_delta is None
                ):
                    return self._delta(frame, recv_ns)
                delta: Any
                if _COMPILED:
                    delta = _count(wire_delta)
                else:
                    delta = _COUNTS.get(wire_delta)
                    if delta is None:
                        delta = _learn_count(wire_delta)
                sub.seq = seq
                if books is not None and touched is not None and invalid is not None:
                    crossed = books.update_level(
                        _VENUE, recv_ns, market, book_side, price, delta, True, touched, invalid
                    )
                    if crossed is not None:
                        # A Kalshi frame states no top of book: the cross invalidates the book.
                        books.judge_crossed([crossed], invalid, [])
                    return None
                ts = msg[4]
                if ts is None:
                    ts = envelope[2]
                return [_LEVEL_DELTA(_VENUE, recv_ns, market, book_side, price, delta, ts, sid)]
            return self._handlers[type(frame)](frame, recv_ns)
        except (_BadFrame, ValueError, TypeError, OverflowError) as exc:
            return [self._decode_error(recv_ns, str(exc) or exc.__class__.__name__)]

    def _decode_error(self, recv_ns: int, reason: str) -> DecodeError:
        self.decode_errors += 1
        return DecodeError(KALSHI, recv_ns, _short(reason))

    def _untyped(self, payload: bytes | str, recv_ns: int, exc: Exception) -> list[Event]:
        """Handle a frame the typed decoder rejected: unknown type, or really malformed."""
        try:
            obj = GENERIC_DECODER.decode(payload)
        except (msgspec.DecodeError, ValueError) as json_exc:
            return [self._decode_error(recv_ns, f"invalid JSON: {json_exc}")]
        except RecursionError:
            return [self._decode_error(recv_ns, _TOO_DEEP)]
        if not isinstance(obj, dict):
            return [self._decode_error(recv_ns, f"not a JSON object: {type(obj).__name__}")]
        kind = obj.get("type")
        if not isinstance(kind, str):
            return [self._decode_error(recv_ns, "frame has no string `type`")]
        if kind in KNOWN_TYPES:
            return [self._decode_error(recv_ns, f"{kind}: {exc}")]
        events: list[Event] = []
        sid, seq = obj.get("sid"), obj.get("seq")
        # A message type we do not read still occupies its slot in the sid's sequence.
        if type(sid) is int and type(seq) is int:
            self._check_seq(sid, seq, recv_ns, events)
        events.append(Notice(KALSHI, recv_ns, _short(f"unhandled kalshi type {kind}")))
        return events

    def _check_seq(self, sid: int, seq: int, recv_ns: int, out: list[Event]) -> None:
        # Frames we failed to decode never get here, so they surface as a gap on the next frame.
        sub = self._subscription(sid)
        seen, last = sub.seen, sub.seq
        sub.seen, sub.seq = True, seq
        if not seen or seq == last + 1:
            return
        markets = tuple(sorted(sub.markets))
        out.append(SeqGap(KALSHI, recv_ns, sid, last + 1, seq, markets))
        out.extend(BookInvalid(KALSHI, recv_ns, m, INVALID_SEQ_GAP) for m in markets)

    def _note_market(self, sid: int | None, market: str) -> None:
        if sid is None:
            self._loose_markets.add(market)
        else:
            self._subscription(sid).markets.add(market)

    def _subscription(self, sid: int) -> _Subscription:
        sub = self._subscriptions.get(sid)
        if sub is None:
            sub = self._subscriptions[sid] = _Subscription()
        return sub

    def _delta(self, frame: DeltaFrame, recv_ns: int) -> list[Event]:
        msg = frame.msg
        wire_price = msg.price_dollars if msg.price_dollars is not None else msg.price
        wire_delta = msg.delta_fp if msg.delta_fp is not None else msg.delta
        if wire_price is None or wire_delta is None:
            raise _BadFrame("orderbook_delta needs a price and a delta")
        side = msg.side
        if side == "yes":
            book_side = BID
            price = self._bid_ticks.get(wire_price)
            if price is None:
                price = _learn_price(self._bid_ticks, wire_price, False)
        elif side == "no":
            book_side = ASK
            price = self._ask_ticks.get(wire_price)
            if price is None:
                price = _learn_price(self._ask_ticks, wire_price, self._complement_no)
        else:
            raise _BadFrame(f"orderbook_delta side {side!r}")
        delta = _COUNTS.get(wire_delta)
        if delta is None:
            delta = _learn_count(wire_delta)
        delta_prices = self._yes_deltas if side == "yes" else self._no_deltas
        if len(delta_prices) < _CACHE_LIMIT:
            delta_prices[wire_price] = (book_side, price)
        ts = msg.ts_ms
        if ts is None:
            ts = frame.sending_ts_ms
        market = msg.market_ticker
        sid = frame.sid
        event = LevelDelta(KALSHI, recv_ns, market, book_side, price, delta, ts, sid)
        if sid is None:
            self._loose_markets.add(market)
            return [event]
        sub = self._subscription(sid)
        sub.markets.add(market)
        if frame.seq is None:
            return [event]
        if sub.seen and frame.seq == sub.seq + 1:
            sub.seq = frame.seq
            return [event]
        out: list[Event] = []
        self._check_seq(sid, frame.seq, recv_ns, out)
        out.append(event)
        return out

    def _snapshot(self, frame: SnapshotFrame, recv_ns: int) -> list[Event]:
        msg = frame.msg
        yes = _ladder(msg.yes_dollars_fp, msg.yes_dollars, msg.yes)
        no = _ladder(msg.no_dollars_fp, msg.no_dollars, msg.no)
        bids = _levels(yes, self._bid_ticks, False)
        asks = _levels(no, self._ask_ticks, self._complement_no)
        ts = msg.ts_ms if msg.ts_ms is not None else frame.sending_ts_ms
        event = BookSnapshot(KALSHI, recv_ns, msg.market_ticker, bids, asks, ts)
        self._note_market(frame.sid, msg.market_ticker)
        out: list[Event] = []
        if frame.sid is not None and frame.seq is not None:
            # A snapshot after a gap invalidates its siblings, then re-seeds its own market.
            self._check_seq(frame.sid, frame.seq, recv_ns, out)
        out.append(event)
        return out

    def _ticker(self, frame: TickerFrame, recv_ns: int) -> list[Event]:
        msg = frame.msg
        # Legacy tickers quote integer cents: {"yes_bid": 46, "yes_ask": 48}
        bid = _price_of(msg.yes_bid_dollars, msg.yes_bid)
        ask = _price_of(msg.yes_ask_dollars, msg.yes_ask)
        bid_size = _count_of(msg.yes_bid_size_fp, None)
        ask_size = _count_of(msg.yes_ask_size_fp, None)
        ts = _print_ts_ms(msg.ts_ms, msg.ts, frame.sending_ts_ms)
        return [TopOfBook(KALSHI, recv_ns, msg.market_ticker, bid, ask, bid_size, ask_size, ts)]

    def _trade(self, frame: TradeFrame, recv_ns: int) -> list[Event]:
        msg = frame.msg
        price = _price_of(msg.yes_price_dollars, msg.yes_price)
        size = _count_of(msg.count_fp, msg.count)
        if price is None or size is None:
            raise _BadFrame("trade needs a yes price and a count")
        # `taker_side` is deprecated for `taker_outcome_side` (2026-05); both say yes/no.
        taker = msg.taker_outcome_side if msg.taker_outcome_side is not None else msg.taker_side
        ts = _print_ts_ms(msg.ts_ms, msg.ts, frame.sending_ts_ms)
        return [Trade(KALSHI, recv_ns, msg.market_ticker, price, size, taker, ts)]

    def _lifecycle(self, frame: LifecycleFrame, recv_ns: int) -> list[Event]:
        msg = frame.msg
        ts = msg.ts_ms if msg.ts_ms is not None else frame.sending_ts_ms
        # Decided markets: {"event_type": "determined", "result": "yes"}; `settled` repeats it.
        if msg.event_type in ("determined", "settled") and msg.result:
            return [Resolution(KALSHI, recv_ns, msg.market_ticker, msg.result, ts)]
        return [MarketStatus(KALSHI, recv_ns, msg.market_ticker, msg.event_type, ts)]

    def _subscribed(self, frame: SubscribedFrame, recv_ns: int) -> list[Event]:
        msg = frame.msg
        return [SubscriptionAck(KALSHI, recv_ns, frame.id, "subscribed", msg.channel, msg.sid)]

    def _ok(self, frame: OkFrame, recv_ns: int) -> list[Event]:
        msg = frame.msg
        out: list[Event] = []
        if isinstance(msg, list):
            # list_subscriptions: {"id": 6, "type": "ok", "msg": [{"channel": "ticker", "sid": 8}]}
            for item in msg:
                markets = None if item.market_tickers is None else tuple(item.market_tickers)
                if item.sid is not None and markets:
                    self._subscription(item.sid).markets.update(markets)
                channel, sid = item.channel, item.sid
                out.append(SubscriptionAck(KALSHI, recv_ns, frame.id, "ok", channel, sid, markets))
            if not msg:
                out.append(SubscriptionAck(KALSHI, recv_ns, frame.id, "ok", None, None, ()))
            return out
        markets = None if msg is None or msg.market_tickers is None else tuple(msg.market_tickers)
        if frame.sid is not None and markets:
            self._subscription(frame.sid).markets.update(markets)
        # `ok` after update_subscription takes a seq slot: {"sid": 7, "seq": 41, "type": "ok"}
        if frame.sid is not None and frame.seq is not None:
            self._check_seq(frame.sid, frame.seq, recv_ns, out)
        out.append(SubscriptionAck(KALSHI, recv_ns, frame.id, "ok", None, frame.sid, markets))
        return out

    def _unsubscribed(self, frame: UnsubscribedFrame, recv_ns: int) -> list[Event]:
        out: list[Event] = []
        sid = frame.sid
        if sid is not None:
            if frame.seq is not None:
                self._check_seq(sid, frame.seq, recv_ns, out)
            # The sid is gone for good; a later subscription gets a fresh one.
            self._subscriptions.pop(sid, None)
        out.append(SubscriptionAck(KALSHI, recv_ns, frame.id, "unsubscribed", None, sid))
        return out

    def _error(self, frame: ErrorFrame, recv_ns: int) -> list[Event]:
        msg = frame.msg
        out: list[Event] = []
        if frame.sid is not None and frame.seq is not None:
            self._check_seq(frame.sid, frame.seq, recv_ns, out)
        out.append(
            SubscriptionError(KALSHI, recv_ns, frame.id, msg.code, msg.msg or "", msg.market_ticker)
        )
        if msg.code in TERMINAL_ERROR_CODES:
            sid = msg.sid if msg.sid is not None else frame.sid
            out.extend(self._kill_subscription(sid, recv_ns))
        return out

    def _kill_subscription(self, sid: int | None, recv_ns: int) -> list[BookInvalid]:
        # Codes 10/17/25 end the subscription (25 = we read too slowly and data was dropped), so
        # its books get nothing more: {"type": "error", "msg": {"code": 25, "msg": "..."}}.
        # An error that names no sid may have killed any of them: invalidate every live one's.
        if sid is None:
            subs = self._subscriptions.values()
            markets = sorted(self._loose_markets.union(*(sub.markets for sub in subs)))
        else:
            sub = self._subscriptions.pop(sid, None)
            markets = sorted(sub.markets) if sub is not None else []
        return [BookInvalid(KALSHI, recv_ns, m, INVALID_SUBSCRIPTION_ERROR) for m in markets]
