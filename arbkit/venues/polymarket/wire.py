"""Polymarket market-channel wire messages as msgspec structs, and the decoders over them.

Kept apart from `decode.py` because that module is compiled with mypyc, which cannot create
msgspec.Struct classes; this one stays interpreted. Only fields that reach an event are declared:
msgspec skips the rest (`market` on most messages, era-3 `hash`) without building them.
"""

from __future__ import annotations

from typing import Literal

import msgspec

__all__ = [
    "FAST_DECODER",
    "GENERIC_DECODER",
    "BY_TAG",
    "AssetChange",
    "BestBidAskMsg",
    "BookMsg",
    "Change",
    "LastTradePriceMsg",
    "MarketResolvedMsg",
    "NewMarketMsg",
    "PriceChangeMsg",
    "Side",
    "TickSizeChangeMsg",
    "WireLevel",
    "WireMessage",
]

# Typed as a Literal, msgspec validates the side and hands back the interned string.
Side = Literal["BUY", "SELL", "buy", "sell"]


class WireLevel(msgspec.Struct, gc=False):
    price: str
    size: str


class Change(msgspec.Struct, gc=False):
    """One element of an era-2 `changes` list (the asset is the frame's)."""

    price: str
    size: str
    side: Side


class AssetChange(msgspec.Struct, gc=False):
    """One element of an era-3 `price_changes` list (the decoder reads it as a tuple, in order)."""

    asset_id: str
    price: str
    size: str
    side: Side
    best_bid: str | None = None
    best_ask: str | None = None


# All numbers on the wire are strings, timestamps included ("1790658674035", Unix ms):
# `strict=False` lets msgspec turn the timestamp strings into ints in C.
class WireMessage(msgspec.Struct, tag_field="event_type", kw_only=True, gc=False):
    """Base of the market-channel messages, tagged by `event_type`."""


class BookMsg(WireMessage, tag="book"):
    asset_id: str
    bids: list[WireLevel]
    asks: list[WireLevel]
    timestamp: int | None = None
    tick_size: str | None = None


class PriceChangeMsg(WireMessage, tag="price_change"):
    # Era 3 (from 2025-09-15): {"market": "0x..", "price_changes": [{"asset_id", "price", ...}]}
    price_changes: list[AssetChange] | None = None
    # Second, as on the era-3 wire: msgspec tries the field after the last one matched first.
    timestamp: int | None = None
    # Era 2: {"asset_id": "<tok>", "changes": [{"price": "0.40", "side": "SELL", "size": "3300"}]}
    changes: list[Change] | None = None
    # Era 1: {"asset_id": "<tok>", "price": "0.6", "side": "BUY", "size": "3400"}
    asset_id: str | None = None
    price: str | None = None
    size: str | None = None
    side: Side | None = None


class TickSizeChangeMsg(WireMessage, tag="tick_size_change"):
    asset_id: str
    new_tick_size: str
    old_tick_size: str | None = None
    timestamp: int | None = None


class LastTradePriceMsg(WireMessage, tag="last_trade_price"):
    asset_id: str
    price: str
    size: str
    side: Side | None = None
    timestamp: int | None = None


class BestBidAskMsg(WireMessage, tag="best_bid_ask"):
    asset_id: str
    best_bid: str | None = None
    best_ask: str | None = None
    timestamp: int | None = None


class MarketResolvedMsg(WireMessage, tag="market_resolved"):
    winning_asset_id: str
    assets_ids: list[str] | None = None
    timestamp: int | None = None


class NewMarketMsg(WireMessage, tag="new_market"):
    market: str | None = None
    condition_id: str | None = None
    timestamp: int | None = None


_Message = (
    BookMsg
    | PriceChangeMsg
    | TickSizeChangeMsg
    | LastTradePriceMsg
    | BestBidAskMsg
    | MarketResolvedMsg
    | NewMarketMsg
)
BY_TAG: dict[str, type[WireMessage]] = {
    cls.__struct_config__.tag: cls  # type: ignore[misc]
    for cls in _Message.__args__
}
# Quirk: a frame is one event object or a JSON array of them (initial dumps, mixed batches).
FAST_DECODER = msgspec.json.Decoder(_Message | list[_Message], strict=False)
GENERIC_DECODER = msgspec.json.Decoder()
