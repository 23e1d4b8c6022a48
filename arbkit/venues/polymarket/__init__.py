"""Polymarket CLOB market channel: frame decoder and client message builders."""

from arbkit.venues.polymarket.commands import (
    INVALID_OPERATION,
    PING,
    PONG,
    dynamic_subscription,
    market_subscription,
)
from arbkit.venues.polymarket.decode import PolymarketDecoder

__all__ = [
    "INVALID_OPERATION",
    "PING",
    "PONG",
    "PolymarketDecoder",
    "dynamic_subscription",
    "market_subscription",
]
