"""Decode Polymarket CLOB market-channel frames into normalized events (PROTOCOLS §3.3-3.4).

The hot path is one `msgspec` decode of the whole frame into a tagged union of wire structs
(tag `event_type`), after which each struct turns itself into events with the receive time it is
given. Anything the typed decode rejects (non-JSON text, an unknown event type in a batch, a
field of the wrong type) takes a slower generic path that decodes element by element, so one
bad element costs only itself. Nothing here raises: failures become `DecodeError` events and
are counted on the decoder.

Wire strings become exact integers through bounded caches of already-validated strings; on a
miss a plain size ("1300.5") is parsed inline and anything else goes to `core.fixedpoint`, which
rejects whatever is inexact.
"""

from __future__ import annotations

from typing import Any, Literal

import msgspec

from arbkit.core.events import (
    ASK,
    BID,
    POLYMARKET,
    BookSnapshot,
    DecodeError,
    Event,
    Level,
    LevelSet,
    MarketStatus,
    Notice,
    Resolution,
    TickSizeChange,
    TopOfBook,
    Trade,
)
from arbkit.core.fixedpoint import PRICE_ONE, SIZE_SCALE, parse_price, parse_size

__all__ = ["PolymarketDecoder"]

_CACHE_LIMIT = 100_000
_REASON_LIMIT = 300

# Validated wire string -> integer. `_TOPS` also maps None and "" (no best price) to None, so
# the hot loop can index it without a branch.
_PRICES: dict[str, int] = {}
_SIZES: dict[str, int] = {}
_TOPS: dict[str | None, int | None] = {}

# Typed as a Literal, msgspec validates the side and hands back the interned string.
_Side = Literal["BUY", "SELL", "buy", "sell"]
_SIDES = {"BUY": BID, "SELL": ASK, "buy": BID, "sell": ASK}
_TAKER_SIDES = {"BUY": "buy", "SELL": "sell", "buy": "buy", "sell": "sell"}
_FRACTION_SCALE = [SIZE_SCALE // 10**places for places in range(7)]


def _remember(cache: dict[Any, Any], key: Any, value: Any) -> None:
    # Clearing (rather than refusing new keys) keeps a long session's hot strings cached.
    if len(cache) >= _CACHE_LIMIT:
        cache.clear()
    cache[key] = value


def _price(text: str) -> int:
    value = _PRICES.get(text)
    if value is None:
        value = parse_price(text)
        if not 0 <= value <= PRICE_ONE:
            raise ValueError(f"price outside [0, 1]: {text!r}")
        _remember(_PRICES, text, value)
    return value


def _size(text: str) -> int:
    # Level sizes are far more varied than prices, so a miss here is common and must be cheap:
    # plain "123" / "123.45" is parsed inline, anything unusual goes to the strict parser.
    value = _SIZES.get(text)
    if value is None:
        whole, _, frac = text.partition(".")
        if text.isascii() and whole.isdigit() and len(frac) <= 6 and (frac.isdigit() or not frac):
            value = int(whole) * SIZE_SCALE + int(frac or "0") * _FRACTION_SCALE[len(frac)]
        else:
            value = parse_size(text)
            if value < 0:
                raise ValueError(f"negative size: {text!r}")
        _remember(_SIZES, text, value)
    return value


def _top(text: str | None) -> int | None:
    value = None if not text else _price(text)
    _remember(_TOPS, text, value)
    return value


def _tick(text: str) -> int:
    value = _price(text)
    if value <= 0:
        raise ValueError(f"tick size must be positive: {text!r}")
    return value


def _levels(levels: list[_Level]) -> list[Level]:
    sizes = _SIZES
    try:
        return [(_PRICES[lv.price], sizes.get(lv.size) or _size(lv.size)) for lv in levels]
    except KeyError:
        return [(_price(lv.price), _size(lv.size)) for lv in levels]


class _Level(msgspec.Struct, gc=False):
    price: str
    size: str


class _Change(msgspec.Struct, gc=False):
    """One element of an era-2 `changes` list (the asset is the frame's)."""

    price: str
    size: str
    side: _Side


class _AssetChange(msgspec.Struct, gc=False):
    """One element of an era-3 `price_changes` list."""

    asset_id: str
    price: str
    size: str
    side: _Side
    best_bid: str | None = None
    best_ask: str | None = None


# All numbers on the wire are strings, timestamps included ("1790658674035", Unix ms):
# `strict=False` lets msgspec turn the timestamp strings into ints in C.
class _Wire(msgspec.Struct, tag_field="event_type", kw_only=True, gc=False):
    def events(self, recv_ns: int) -> list[Event]:
        raise NotImplementedError


class _Book(_Wire, tag="book"):
    asset_id: str
    bids: list[_Level]
    asks: list[_Level]
    timestamp: int | None = None
    tick_size: str | None = None

    def events(self, recv_ns: int) -> list[Event]:
        # Quirk: bids come ascending and asks descending (best LAST); the book ignores order.
        return [
            BookSnapshot(
                POLYMARKET,
                recv_ns,
                self.asset_id,
                _levels(self.bids),
                _levels(self.asks),
                self.timestamp,
                _tick(self.tick_size) if self.tick_size else None,
            )
        ]


class _PriceChange(_Wire, tag="price_change"):
    # Era 3 (from 2025-09-15): {"market": "0x..", "price_changes": [{"asset_id", "price", ...}]}
    price_changes: list[_AssetChange] | None = None
    # Era 2: {"asset_id": "<tok>", "changes": [{"price": "0.40", "side": "SELL", "size": "3300"}]}
    changes: list[_Change] | None = None
    # Era 1: {"asset_id": "<tok>", "price": "0.6", "side": "BUY", "size": "3400"}
    asset_id: str | None = None
    price: str | None = None
    size: str | None = None
    side: _Side | None = None
    timestamp: int | None = None

    def events(self, recv_ns: int) -> list[Event]:
        # `size` is the new absolute size at the price ("0" removes it), not a delta.
        ts = self.timestamp
        changes = self.price_changes
        if changes is not None:
            # Era-3 `hash` identifies the causing order, not the book, so it is not decoded.
            cached = _cached_price_changes(changes, recv_ns, ts)
            if cached is not None:
                return cached
            # A price or top not cached yet: parse (and learn) them all the careful way.
            return [
                LevelSet(
                    POLYMARKET,
                    recv_ns,
                    c.asset_id,
                    _SIDES[c.side],
                    _price(c.price),
                    _size(c.size),
                    ts,
                    _top(c.best_bid),
                    _top(c.best_ask),
                )
                for c in changes
            ]
        asset = self.asset_id
        if asset is None:
            raise ValueError("price_change has neither price_changes nor asset_id")
        if self.changes is not None:
            return [
                LevelSet(
                    POLYMARKET,
                    recv_ns,
                    asset,
                    _SIDES[c.side],
                    _price(c.price),
                    _size(c.size),
                    ts,
                )
                for c in self.changes
            ]
        if self.price is None or self.size is None or self.side is None:
            raise ValueError("price_change has no changes and no price/size/side")
        return [
            LevelSet(
                POLYMARKET,
                recv_ns,
                asset,
                _SIDES[self.side],
                _price(self.price),
                _size(self.size),
                ts,
            )
        ]


class _TickSizeChange(_Wire, tag="tick_size_change"):
    asset_id: str
    new_tick_size: str
    old_tick_size: str | None = None
    timestamp: int | None = None

    def events(self, recv_ns: int) -> list[Event]:
        old = _tick(self.old_tick_size) if self.old_tick_size else None
        return [
            TickSizeChange(
                POLYMARKET, recv_ns, self.asset_id, old, _tick(self.new_tick_size), self.timestamp
            )
        ]


class _LastTradePrice(_Wire, tag="last_trade_price"):
    asset_id: str
    price: str
    size: str
    side: _Side | None = None
    timestamp: int | None = None

    def events(self, recv_ns: int) -> list[Event]:
        # `side` is the taker's side.
        taker = None if self.side is None else _TAKER_SIDES[self.side]
        return [
            Trade(
                POLYMARKET,
                recv_ns,
                self.asset_id,
                _price(self.price),
                _size(self.size),
                taker,
                self.timestamp,
            )
        ]


class _BestBidAsk(_Wire, tag="best_bid_ask"):
    asset_id: str
    best_bid: str | None = None
    best_ask: str | None = None
    timestamp: int | None = None

    def events(self, recv_ns: int) -> list[Event]:
        return [
            TopOfBook(
                POLYMARKET,
                recv_ns,
                self.asset_id,
                _top(self.best_bid),
                _top(self.best_ask),
                venue_ts_ms=self.timestamp,
            )
        ]


class _MarketResolved(_Wire, tag="market_resolved"):
    winning_asset_id: str
    assets_ids: list[str] | None = None
    timestamp: int | None = None

    def events(self, recv_ns: int) -> list[Event]:
        # Books are per token, so the condition-level resolution is fanned out to each token.
        winner = self.winning_asset_id
        assets = list(self.assets_ids or ())
        if winner not in assets:
            assets.append(winner)
        ts = self.timestamp
        return [
            Resolution(POLYMARKET, recv_ns, asset, "yes" if asset == winner else "no", ts)
            for asset in assets
        ]


class _NewMarket(_Wire, tag="new_market"):
    market: str | None = None
    condition_id: str | None = None
    timestamp: int | None = None

    def events(self, recv_ns: int) -> list[Event]:
        # Global, not asset-scoped: keyed by the condition id, since no token book exists yet.
        market = self.market or self.condition_id
        if not market:
            raise ValueError("new_market without market/condition_id")
        return [MarketStatus(POLYMARKET, recv_ns, market, "new_market", self.timestamp)]


_Message = (
    _Book | _PriceChange | _TickSizeChange | _LastTradePrice | _BestBidAsk | _MarketResolved
    | _NewMarket
)
_WIRE_TYPES: dict[str, type[_Wire]] = {
    cls.__struct_config__.tag: cls  # type: ignore[misc]
    for cls in _Message.__args__
}
# Quirk: a frame is one event object or a JSON array of them (initial dumps, mixed batches).
_FAST = msgspec.json.Decoder(_Message | list[_Message], strict=False)
_GENERIC = msgspec.json.Decoder()


def _describe(message: Any) -> str:
    if isinstance(message, _Wire):
        return str(message.__struct_config__.tag)
    return "undecodable payload"


def _cached_price_changes(changes: list[_AssetChange], recv_ns: int, ts: int | None) -> list[Event] | None:
    """Era-3 changes whose prices and tops are all cached (nearly always); None on a miss."""
    out: list[Event] = []
    sizes = _SIZES
    try:
        for c in changes:
            size = sizes.get(c.size)
            if size is None:
                size = _size(c.size)
            out.append(
                LevelSet(
                    POLYMARKET,
                    recv_ns,
                    c.asset_id,
                    _SIDES[c.side],
                    _PRICES[c.price],
                    size,
                    ts,
                    _TOPS[c.best_bid],
                    _TOPS[c.best_ask],
                )
            )
    except KeyError:
        return None
    return out


class PolymarketDecoder:
    """Decode one Polymarket market-channel connection's frames; keep error counters."""

    __slots__ = ("decode_errors", "skipped")

    def __init__(self) -> None:
        self.decode_errors = 0
        self.skipped = 0

    def decode(self, payload: bytes, recv_ns: int) -> list[Event]:
        """Turn one raw frame into events; never raise."""
        message: Any = None
        try:
            message = _FAST.decode(payload)
            cls = message.__class__
            if cls is _PriceChange and message.price_changes is not None:
                # The hot path: an era-3 price_change whose prices and tops are all cached;
                # `events` handles anything else, learning as it goes.
                cached = _cached_price_changes(message.price_changes, recv_ns, message.timestamp)
                return message.events(recv_ns) if cached is None else cached
            if cls is not list:
                return message.events(recv_ns)  # type: ignore[no-any-return]
            events: list[Event] = []
            for element in message:
                events.extend(self._convert(element, recv_ns))
            return events
        except msgspec.DecodeError:
            return self._decode_slow(payload, recv_ns)
        # The engine must never see an exception from a frame, whatever is in it.
        except Exception as exc:
            return [self._error(recv_ns, f"{_describe(message)}: {exc}")]

    def _convert(self, message: _Wire, recv_ns: int) -> list[Event]:
        try:
            return message.events(recv_ns)
        # A bad element must cost only itself, never its batch-mates.
        except Exception as exc:
            return [self._error(recv_ns, f"{_describe(message)}: {exc}")]

    def _decode_slow(self, payload: bytes, recv_ns: int) -> list[Event]:
        try:
            document = _GENERIC.decode(payload)
        except msgspec.DecodeError as exc:
            return [self._text_frame(payload, recv_ns, exc)]
        except Exception as exc:
            return [self._error(recv_ns, f"undecodable payload: {exc!r}")]
        if isinstance(document, dict):
            return self._decode_element(document, recv_ns)
        if not isinstance(document, list):
            return [self._error(recv_ns, f"JSON {type(document).__name__} is not an event")]
        events: list[Event] = []
        for element in document:
            events.extend(self._decode_element(element, recv_ns))
        return events

    def _decode_element(self, element: Any, recv_ns: int) -> list[Event]:
        if not isinstance(element, dict):
            return [self._error(recv_ns, f"batch element is a JSON {type(element).__name__}")]
        event_type = element.get("event_type")
        if event_type is None and ("price_changes" in element or "changes" in element):
            # Quirk: a price_change can arrive without event_type; its lists identify it.
            event_type = "price_change"
        if not isinstance(event_type, str):
            return [self._error(recv_ns, f"event_type missing or not a string: {event_type!r}")]
        wire = _WIRE_TYPES.get(event_type)
        if wire is None:
            # Quirk: unknown event types appear inside batches; skip them, keep the rest.
            self.skipped += 1
            return []
        try:
            message = msgspec.convert(element, wire, strict=False)
        except msgspec.ValidationError as exc:
            return [self._error(recv_ns, f"{event_type}: {exc}")]
        return self._convert(message, recv_ns)

    def _text_frame(self, payload: bytes, recv_ns: int, exc: Exception) -> Event:
        try:
            text = payload if isinstance(payload, str) else bytes(payload).decode("utf-8")
        except (UnicodeDecodeError, TypeError):
            return self._error(recv_ns, "frame is neither JSON nor UTF-8 text")
        text = text.strip()
        if not text:
            return self._error(recv_ns, "empty frame")
        if text[0] in "{[":
            return self._error(recv_ns, f"malformed JSON: {exc}")
        # Quirk: keep-alive and command replies are plain text ("PONG", "INVALID OPERATION").
        return Notice(POLYMARKET, recv_ns, text)

    def _error(self, recv_ns: int, reason: str) -> DecodeError:
        self.decode_errors += 1
        return DecodeError(POLYMARKET, recv_ns, reason[:_REASON_LIMIT])
