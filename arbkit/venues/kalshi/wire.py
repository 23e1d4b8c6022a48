"""Kalshi WebSocket wire frames as msgspec structs, and the decoder over them (PROTOCOLS §1.5-§1.9).

Kept apart from `decode.py` because that module is compiled with mypyc, which cannot create
msgspec.Struct classes; this one stays interpreted. Only fields that reach an event are declared:
msgspec skips the rest (`market_id`, the delta's RFC3339 `ts`) without building them.
"""

from __future__ import annotations

from typing import Any, get_args

import msgspec

__all__ = [
    "FRAME_DECODER",
    "GENERIC_DECODER",
    "KNOWN_TYPES",
    "DeltaFrame",
    "DeltaMsg",
    "Envelope",
    "ErrorFrame",
    "ErrorMsg",
    "IntLevels",
    "LifecycleFrame",
    "LifecycleMsg",
    "ListedSubscription",
    "OkFrame",
    "OkMsg",
    "SnapshotFrame",
    "SnapshotMsg",
    "StrLevels",
    "SubscribedFrame",
    "SubscribedMsg",
    "TickerFrame",
    "TickerMsg",
    "TradeFrame",
    "TradeMsg",
    "UnsubscribedFrame",
]

IntLevels = list[tuple[int, int]]
# Era B `*_dollars` pairs carry integer counts, era C `*_dollars_fp` pairs count strings.
StrLevels = list[tuple[str, int | str]]


# Fields are declared in their wire order where there is one: msgspec matches each key against
# the field after the previous match first, and scans all of them only when that fails. (Required
# fields keep their relative order, which decides the error for a frame missing several.)


class Envelope(msgspec.Struct, tag_field="type", kw_only=True, gc=False):
    """Fields every frame may carry; the subclass is chosen by `type`.

    The compiled decoder reads a `DeltaFrame` and its `DeltaMsg` as tuples, in field order.
    """

    sid: int | None = None
    seq: int | None = None
    sending_ts_ms: int | None = None
    id: int | None = None


class DeltaMsg(msgspec.Struct, kw_only=True, gc=False):
    """The `msg` of an `orderbook_delta`."""

    market_ticker: str
    price_dollars: str | None = None
    delta_fp: str | None = None
    side: str
    ts_ms: int | None = None
    price: int | None = None
    delta: int | None = None


class DeltaFrame(Envelope, tag="orderbook_delta", kw_only=True, gc=False):
    msg: DeltaMsg


class SnapshotMsg(msgspec.Struct, gc=False):
    market_ticker: str
    yes_dollars_fp: StrLevels | None = None
    no_dollars_fp: StrLevels | None = None
    yes_dollars: StrLevels | None = None
    no_dollars: StrLevels | None = None
    yes: IntLevels | None = None
    no: IntLevels | None = None
    ts_ms: int | None = None


class SnapshotFrame(Envelope, tag="orderbook_snapshot", kw_only=True, gc=False):
    msg: SnapshotMsg


class SubscribedMsg(msgspec.Struct, gc=False):
    channel: str | None = None
    sid: int | None = None


class SubscribedFrame(Envelope, tag="subscribed", kw_only=True, gc=False):
    msg: SubscribedMsg


class OkMsg(msgspec.Struct, gc=False):
    market_tickers: list[str] | None = None


class ListedSubscription(msgspec.Struct, gc=False):
    channel: str | None = None
    sid: int | None = None
    market_tickers: list[str] | None = None


class OkFrame(Envelope, tag="ok", kw_only=True, gc=False):
    # update_subscription answers with an object, list_subscriptions with a list.
    msg: OkMsg | list[ListedSubscription] | None = None


class UnsubscribedFrame(Envelope, tag="unsubscribed", kw_only=True, gc=False):
    pass


class ErrorMsg(msgspec.Struct, gc=False):
    code: int | None = None
    msg: str | None = None
    market_ticker: str | None = None
    sid: int | None = None


class ErrorFrame(Envelope, tag="error", kw_only=True, gc=False):
    msg: ErrorMsg


class TickerMsg(msgspec.Struct, gc=False):
    market_ticker: str
    yes_bid_dollars: str | None = None
    yes_ask_dollars: str | None = None
    yes_bid: int | None = None
    yes_ask: int | None = None
    yes_bid_size_fp: str | None = None
    yes_ask_size_fp: str | None = None
    ts_ms: int | None = None
    # Seconds int on ticker/trade but an RFC3339 string on deltas (§1.7): accept anything.
    ts: Any = None


class TickerFrame(Envelope, tag="ticker", kw_only=True, gc=False):
    msg: TickerMsg


class TradeMsg(msgspec.Struct, gc=False):
    market_ticker: str
    yes_price_dollars: str | None = None
    yes_price: int | None = None
    count_fp: str | None = None
    count: int | None = None
    taker_outcome_side: str | None = None
    taker_side: str | None = None
    ts_ms: int | None = None
    ts: Any = None


class TradeFrame(Envelope, tag="trade", kw_only=True, gc=False):
    msg: TradeMsg


class LifecycleMsg(msgspec.Struct, gc=False):
    market_ticker: str
    event_type: str
    result: str | None = None
    ts_ms: int | None = None


class LifecycleFrame(Envelope, tag="market_lifecycle_v2", kw_only=True, gc=False):
    msg: LifecycleMsg


_Frame = (
    DeltaFrame
    | SnapshotFrame
    | SubscribedFrame
    | OkFrame
    | UnsubscribedFrame
    | ErrorFrame
    | TickerFrame
    | TradeFrame
    | LifecycleFrame
)
KNOWN_TYPES = frozenset(cls.__struct_config__.tag for cls in get_args(_Frame))
FRAME_DECODER = msgspec.json.Decoder(_Frame)
GENERIC_DECODER = msgspec.json.Decoder()
