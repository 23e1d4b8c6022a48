"""Build Polymarket market-channel client messages (PROTOCOLS §3.2) as compact JSON bytes.

The server expects text frames: send these payloads as text (with websockets,
`ws.send(payload, text=True)`), never as binary frames.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import msgspec

# Keep-alive: send the text `PING` every 10 s once subscribed (a PING before the initial
# subscription gets the socket closed with 1008); the server answers with the text `PONG`.
PING = b"PING"
PONG = "PONG"
# What the server answers to a second initial subscription on an open socket.
INVALID_OPERATION = "INVALID OPERATION"

DYNAMIC_OPERATIONS = ("subscribe", "unsubscribe")

_encode = msgspec.json.encode


def _asset_list(assets: Iterable[str]) -> list[str]:
    # A bare token id is itself an iterable of characters; subscribing to those is never meant.
    if isinstance(assets, (str, bytes)):
        raise ValueError("assets must be a collection of token ids, not one string")
    return list(assets)


def market_subscription(
    assets: Iterable[str], initial_dump: bool = True, custom_feature_enabled: bool = False
) -> bytes:
    """Build the initial subscription, to be sent exactly once, first, on a new connection.

    Keep `initial_dump` on: without it some assets never get their first book.
    `custom_feature_enabled` turns on `best_bid_ask`, `new_market` and `market_resolved`.
    """
    body: dict[str, Any] = {
        "type": "market",
        "assets_ids": _asset_list(assets),
        "initial_dump": initial_dump,
        "custom_feature_enabled": custom_feature_enabled,
    }
    return _encode(body)


def dynamic_subscription(operation: str, assets: Iterable[str]) -> bytes:
    """Build a subscribe/unsubscribe for more tokens on an already subscribed connection."""
    if operation not in DYNAMIC_OPERATIONS:
        raise ValueError(f"operation must be subscribe or unsubscribe, not {operation!r}")
    return _encode({"operation": operation, "assets_ids": _asset_list(assets)})
