"""Decode Polymarket CLOB market-channel frames into normalized events (PROTOCOLS §3.3-3.4).

The hot path is one `msgspec` decode of the whole frame into a tagged union of wire structs
(`wire.py`, tag `event_type`), after which a plain function per message type turns it into
events with the receive time it is given. Anything the typed decode rejects (non-JSON text, an
unknown event type in a batch, a field of the wrong type) takes a slower generic path that
decodes element by element, so one bad element costs only itself. Nothing here raises: failures
become `DecodeError` events and are counted on the decoder.

On the engine's hot path (`decode_levels`) an era-3 price_change is applied to the books as it
is read, building no event; anything else comes back as events, as from `decode`.

Wire prices become exact integers through bounded caches of already-validated strings. Sizes are
far more varied (~90k distinct per 250k frames), so a plain size ("1300.5") is parsed directly
when this module is compiled (mypyc) and through a cache when it is interpreted; anything
unusual goes to `core.fixedpoint`, which rejects whatever is inexact.

Values that only pass through to an event are typed `Any`: compiled, an `int` would be unboxed
on the way in and re-allocated on the way out.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Final

import msgspec

from arbkit.core.book import Book, BookManager
from arbkit.core.events import (
    ASK,
    BID,
    POLYMARKET,
    BookInvalid,
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
from arbkit.core.fixedpoint import (
    PRICE_ONE,
    SIZE_SCALE,
    parse_price,
    parse_size,
    plain_millionths,
    plain_ticks,
)
from arbkit.venues.polymarket.wire import (
    BY_TAG,
    FAST_DECODER,
    GENERIC_DECODER,
    AssetChange,
    BestBidAskMsg,
    BookMsg,
    LastTradePriceMsg,
    MarketResolvedMsg,
    NewMarketMsg,
    PriceChangeMsg,
    TickSizeChangeMsg,
    WireLevel,
    WireMessage,
)

__all__ = ["PolymarketDecoder"]

# Compiled, a digit loop parses a size faster than even a cache hit; interpreted, the loop costs
# about ten cache hits, so only the interpreted build caches sizes.
_COMPILED: Final = not __file__.endswith(".py")
_CACHE_LIMIT: Final = 100_000
_REASON_LIMIT: Final = 300
_TOO_DEEP: Final = "JSON nested too deeply"

# Validated wire string -> integer. `_TOPS` also maps None and "" (no best price) to None, so
# the hot loop can index it without a branch. (`Final`, like the aliases below: compiled, a Final
# module name is a C static rather than a lookup in the module's dict.)
_PRICES: Final[dict[str, Any]] = {}
_SIZES: Final[dict[str, Any]] = {}
_TOPS: Final[dict[str | None, Any]] = {}

_SIDES: Final[dict[str, Any]] = {"BUY": BID, "SELL": ASK, "buy": BID, "sell": ASK}
_VENUE: Final = POLYMARKET
_BID: Final[Any] = BID
_ASK: Final[Any] = ASK
_LEVEL_SET: Final = LevelSet
_PRICE_CHANGE: Final = PriceChangeMsg
_FAST_DECODE: Final = FAST_DECODER.decode
_FIELDS: Final = msgspec.structs.astuple
_PONG: Final = b"PONG"
_TAKER_SIDES = {"BUY": "buy", "SELL": "sell", "buy": "buy", "sell": "sell"}
_FRACTION_SCALE: Final = [SIZE_SCALE // 10**places for places in range(7)]


def _remember(cache: dict[Any, Any], key: Any, value: Any) -> None:
    # Clearing (rather than refusing new keys) keeps a long session's hot strings cached.
    if len(cache) >= _CACHE_LIMIT:
        cache.clear()
    cache[key] = value


def _price(text: str) -> Any:
    value = _PRICES.get(text)
    if value is None:
        value = parse_price(text)
        if not 0 <= value <= PRICE_ONE:
            raise ValueError(f"price outside [0, 1]: {text!r}")
        _remember(_PRICES, text, value)
    return value


def _strict_size(text: str) -> int:
    value = parse_size(text)
    if value < 0:
        raise ValueError(f"negative size: {text!r}")
    return value


def _size(text: str) -> Any:
    if _COMPILED:
        value = plain_millionths(text)
        return value if value >= 0 else _strict_size(text)
    cached = _SIZES.get(text)
    if cached is None:
        # Inline, since interpreted calls cost more than this: plain "123" / "123.45".
        whole, _, frac = text.partition(".")
        if text.isascii() and whole.isdigit() and len(frac) <= 6 and (frac.isdigit() or not frac):
            cached = int(whole) * SIZE_SCALE + int(frac or "0") * _FRACTION_SCALE[len(frac)]
        else:
            cached = _strict_size(text)
        _remember(_SIZES, text, cached)
    return cached


def _top(text: str | None) -> Any:
    value = None if not text else _price(text)
    _remember(_TOPS, text, value)
    return value


def _tick(text: str) -> int:
    value: int = _price(text)
    if value <= 0:
        raise ValueError(f"tick size must be positive: {text!r}")
    return value


def _levels(levels: list[WireLevel]) -> list[Level]:
    if _COMPILED:
        # Digit loops: a ladder's fresh strings would each be hashed to be looked up.
        return [(_level_price(lv.price), _size(lv.size)) for lv in levels]
    prices = _PRICES
    sizes = _SIZES
    try:
        return [(prices[lv.price], sizes.get(lv.size) or _size(lv.size)) for lv in levels]
    except KeyError:
        pass
    return [(_price(lv.price), _size(lv.size)) for lv in levels]


def _level_price(text: str) -> Any:
    """`_price`, by the digit loop for a plain price in [0, 1]."""
    value = plain_ticks(text)
    return value if 0 <= value <= PRICE_ONE else _price(text)


def _cached_price_changes(
    changes: list[AssetChange], recv_ns: Any, ts: int | None
) -> list[Event] | None:
    """Era-3 changes whose prices and tops are all cached (nearly always); None on a miss."""
    out: list[Event] = []
    prices = _PRICES
    tops = _TOPS
    last_text: str | None = None
    size: Any = None
    fields: tuple[Any, ...]
    try:
        for c in changes:
            # (asset_id, price, size, side, best_bid, best_ask): compiled, one tuple of the
            # fields costs a fraction of six attribute loads on a msgspec Struct.
            fields = _FIELDS(c)
            text = fields[2]
            # A mirrored YES/NO pair repeats its size string: parse it once.
            if text != last_text:
                size = _size(text)
                last_text = text
            out.append(
                _LEVEL_SET(
                    _VENUE,
                    recv_ns,
                    fields[0],
                    _SIDES[fields[3]],
                    prices[fields[1]],
                    size,
                    ts,
                    tops[fields[4]],
                    tops[fields[5]],
                )
            )
    except KeyError:
        return None
    return out


def _apply_changes(
    changes: list[AssetChange],
    recv_ns: Any,
    ts: int | None,
    books: BookManager,
    touched: list[Book],
    invalid: list[BookInvalid],
) -> bool:
    """Apply era-3 changes straight to `books` when every price is cached and every top reads
    without the strict parser (by its cache when interpreted); False, having applied nothing,
    otherwise (then decode them into events, which learns them)."""
    # Cached prices beat a digit loop: few distinct, so their cache stays small and hot.
    prices = _PRICES
    tops = _TOPS
    # Every change is read before any is applied: a miss, or a bad size (which raises, as
    # `_cached_price_changes` would), leaves the books as they were. Four values per change.
    values: list[Any] = [None] * (4 * len(changes))
    last_text: str | None = None
    size: Any = None
    fields: tuple[Any, ...]
    i = 0
    for c in changes:
        # (asset_id, price, size, side, best_bid, best_ask), as in `_cached_price_changes`.
        fields = _FIELDS(c)
        price = prices.get(fields[1])
        if price is None:
            return False
        if _COMPILED:
            if not _plain_top(fields[4]) or not _plain_top(fields[5]):
                return False
        elif fields[4] not in tops or fields[5] not in tops:
            return False
        text = fields[2]
        if text != last_text:
            size = _size(text)
            last_text = text
        values[i] = fields[0]
        values[i + 1] = _SIDES[fields[3]]
        values[i + 2] = price
        values[i + 3] = size
        i += 4
    crossed: list[Book] | None = None
    for i in range(0, len(values), 4):
        book = books.update_level(
            _VENUE, recv_ns, values[i], values[i + 1], values[i + 2], values[i + 3], False,
            touched, invalid,
        )
        if book is not None:
            if crossed is None:
                crossed = []
            crossed.append(book)
    if crossed is not None:
        # Rare: the venue's tops judge the cross, so build the events that state them.
        books.judge_crossed(crossed, invalid, _careful_price_changes(changes, recv_ns, ts))
    return True


def _plain_top(text: str | None) -> bool:
    """True when `_top` reads `text` without the strict parser: by the digit loop, since the
    tops cache also holds None, so its lookups cannot take CPython's str-keys-only fast path
    (interpreted, the cache lookup is the cheaper)."""
    return not text or 0 <= plain_ticks(text) <= PRICE_ONE


def _book_events(message: BookMsg, recv_ns: Any) -> list[Event]:
    # Quirk: bids come ascending and asks descending (best LAST); the book ignores order.
    return [
        BookSnapshot(
            POLYMARKET,
            recv_ns,
            message.asset_id,
            _levels(message.bids),
            _levels(message.asks),
            message.timestamp,
            _tick(message.tick_size) if message.tick_size else None,
        )
    ]


def _careful_price_changes(
    changes: list[AssetChange], recv_ns: Any, ts: int | None
) -> list[Event]:
    """Era-3 changes read with the strict parsers (learning their prices and tops)."""
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


def _price_change_events(message: PriceChangeMsg, recv_ns: Any) -> list[Event]:
    # `size` is the new absolute size at the price ("0" removes it), not a delta.
    ts = message.timestamp
    changes = message.price_changes
    if changes is not None:
        # Era-3 `hash` identifies the causing order, not the book, so it is not decoded.
        cached = _cached_price_changes(changes, recv_ns, ts)
        if cached is not None:
            return cached
        # A price or top not cached yet: parse (and learn) them all the careful way.
        return _careful_price_changes(changes, recv_ns, ts)
    asset = message.asset_id
    if asset is None:
        raise ValueError("price_change has neither price_changes nor asset_id")
    if message.changes is not None:
        return [
            LevelSet(
                POLYMARKET, recv_ns, asset, _SIDES[c.side], _price(c.price), _size(c.size), ts
            )
            for c in message.changes
        ]
    if message.price is None or message.size is None or message.side is None:
        raise ValueError("price_change has no changes and no price/size/side")
    return [
        LevelSet(
            POLYMARKET,
            recv_ns,
            asset,
            _SIDES[message.side],
            _price(message.price),
            _size(message.size),
            ts,
        )
    ]


def _tick_size_change_events(message: TickSizeChangeMsg, recv_ns: Any) -> list[Event]:
    old = _tick(message.old_tick_size) if message.old_tick_size else None
    new = _tick(message.new_tick_size)
    return [TickSizeChange(POLYMARKET, recv_ns, message.asset_id, old, new, message.timestamp)]


def _last_trade_price_events(message: LastTradePriceMsg, recv_ns: Any) -> list[Event]:
    # `side` is the taker's side.
    taker = None if message.side is None else _TAKER_SIDES[message.side]
    return [
        Trade(
            POLYMARKET,
            recv_ns,
            message.asset_id,
            _price(message.price),
            _size(message.size),
            taker,
            message.timestamp,
        )
    ]


def _best_bid_ask_events(message: BestBidAskMsg, recv_ns: Any) -> list[Event]:
    return [
        TopOfBook(
            POLYMARKET,
            recv_ns,
            message.asset_id,
            _top(message.best_bid),
            _top(message.best_ask),
            venue_ts_ms=message.timestamp,
        )
    ]


def _market_resolved_events(message: MarketResolvedMsg, recv_ns: Any) -> list[Event]:
    # Books are per token, so the condition-level resolution is fanned out to each token.
    winner = message.winning_asset_id
    assets = list(message.assets_ids or ())
    if winner not in assets:
        assets.append(winner)
    ts = message.timestamp
    return [
        Resolution(POLYMARKET, recv_ns, asset, "yes" if asset == winner else "no", ts)
        for asset in assets
    ]


def _new_market_events(message: NewMarketMsg, recv_ns: Any) -> list[Event]:
    # Global, not asset-scoped: keyed by the condition id, since no token book exists yet.
    market = message.market or message.condition_id
    if not market:
        raise ValueError("new_market without market/condition_id")
    return [MarketStatus(POLYMARKET, recv_ns, market, "new_market", message.timestamp)]


_EVENTS: dict[type, Callable[[Any, Any], list[Event]]] = {
    BookMsg: _book_events,
    PriceChangeMsg: _price_change_events,
    TickSizeChangeMsg: _tick_size_change_events,
    LastTradePriceMsg: _last_trade_price_events,
    BestBidAskMsg: _best_bid_ask_events,
    MarketResolvedMsg: _market_resolved_events,
    NewMarketMsg: _new_market_events,
}


def _describe(message: object) -> str:
    if isinstance(message, WireMessage):
        return str(message.__struct_config__.tag)
    return "undecodable payload"


class PolymarketDecoder:
    """Decode one Polymarket market-channel connection's frames; keep error counters."""

    __slots__ = ("decode_errors", "skipped")

    def __init__(self) -> None:
        self.decode_errors = 0
        self.skipped = 0

    # `recv_ns` is an int; typed Any so that, compiled, it reaches the events as it came.
    def decode(self, payload: bytes | str, recv_ns: Any) -> list[Event]:
        """Turn one raw frame into events; never raise."""
        events = self._decode(payload, recv_ns, None, None, None)
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
        apply its events) and return None when it is an era-3 price_change of known prices and
        tops: the hot path builds no event. Never raise."""
        return self._decode(payload, recv_ns, books, touched, invalid)

    def _decode(
        self,
        payload: bytes | str,
        recv_ns: Any,
        books: BookManager | None,
        touched: list[Book] | None,
        invalid: list[BookInvalid] | None,
    ) -> list[Event] | None:
        message: object = None
        if payload == _PONG:
            # The keep-alive reply, a text frame: quiet markets send little else.
            return [Notice(_VENUE, recv_ns, "PONG")]
        try:
            message = _FAST_DECODE(payload)
            if type(message) is _PRICE_CHANGE:
                changes = message.price_changes
                if changes is not None:
                    # The hot path: an era-3 price_change whose prices and tops are all cached;
                    # anything else is handled (and learnt) by `_price_change_events`.
                    ts = message.timestamp
                    if (
                        books is not None
                        and touched is not None
                        and invalid is not None
                        and _apply_changes(changes, recv_ns, ts, books, touched, invalid)
                    ):
                        return None
                    cached = _cached_price_changes(changes, recv_ns, ts)
                    return _price_change_events(message, recv_ns) if cached is None else cached
            if type(message) is not list:
                return _EVENTS[type(message)](message, recv_ns)
            events: list[Event] = []
            for element in message:
                events.extend(self._convert(element, recv_ns))
            return events
        except msgspec.DecodeError:
            return self._decode_slow(payload, recv_ns)
        except RecursionError:
            # msgspec recurses per nesting level: `[[[[...` 20,000 deep exhausts the stack.
            return [self._error(recv_ns, _TOO_DEEP)]
        # The engine must never see an exception from a frame, whatever is in it.
        except Exception as exc:
            return [self._error(recv_ns, f"{_describe(message)}: {exc}")]

    def _convert(self, message: WireMessage, recv_ns: Any) -> list[Event]:
        try:
            return _EVENTS[type(message)](message, recv_ns)
        # A bad element must cost only itself, never its batch-mates.
        except Exception as exc:
            return [self._error(recv_ns, f"{_describe(message)}: {exc}")]

    def _decode_slow(self, payload: bytes | str, recv_ns: Any) -> list[Event]:
        try:
            document = GENERIC_DECODER.decode(payload)
        except msgspec.DecodeError as exc:
            return [self._text_frame(payload, recv_ns, exc)]
        except RecursionError:
            return [self._error(recv_ns, _TOO_DEEP)]
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

    def _decode_element(self, element: object, recv_ns: Any) -> list[Event]:
        if not isinstance(element, dict):
            return [self._error(recv_ns, f"batch element is a JSON {type(element).__name__}")]
        event_type = element.get("event_type")
        if event_type is None and ("price_changes" in element or "changes" in element):
            # Quirk: a price_change can arrive without event_type; its lists identify it.
            event_type = "price_change"
        if not isinstance(event_type, str):
            return [self._error(recv_ns, f"event_type missing or not a string: {event_type!r}")]
        wire = BY_TAG.get(event_type)
        if wire is None:
            # Quirk: unknown event types appear inside batches; skip them, keep the rest.
            self.skipped += 1
            return []
        try:
            message = msgspec.convert(element, wire, strict=False)
        except msgspec.ValidationError as exc:
            return [self._error(recv_ns, f"{event_type}: {exc}")]
        return self._convert(message, recv_ns)

    def _text_frame(self, payload: bytes | str, recv_ns: Any, exc: Exception) -> Event:
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

    def _error(self, recv_ns: Any, reason: str) -> DecodeError:
        self.decode_errors += 1
        return DecodeError(POLYMARKET, recv_ns, reason[:_REASON_LIMIT])
