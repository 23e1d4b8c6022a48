"""Build Kalshi WebSocket commands (PROTOCOLS §1.4) as compact JSON bytes.

Every command is `{"id": <int>, "cmd": "<command>", "params": {...}}`; `id` is chosen by the
caller (unique per connection, start at 1) and echoed in the server's reply.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import msgspec

UPDATE_ACTIONS = ("add_markets", "delete_markets", "get_snapshot")

_encode = msgspec.json.encode


def _command(req_id: int, cmd: str, params: dict[str, Any] | None) -> bytes:
    body: dict[str, Any] = {"id": req_id, "cmd": cmd}
    if params is not None:
        body["params"] = params
    return _encode(body)


def subscribe(
    req_id: int,
    channels: Iterable[str],
    market_tickers: Iterable[str] | None,
    use_yes_price: bool | None = None,
) -> bytes:
    """Subscribe to channels for the given markets (None: all markets, where the channel allows)."""
    params: dict[str, Any] = {"channels": list(channels)}
    if not params["channels"]:
        raise ValueError("subscribe needs at least one channel")
    if market_tickers is not None:
        params["market_tickers"] = list(market_tickers)
    if use_yes_price is not None:
        params["use_yes_price"] = use_yes_price
    return _command(req_id, "subscribe", params)


def update_subscription(
    req_id: int, sid: int, action: str, market_tickers: Iterable[str] | None = None
) -> bytes:
    """Add or delete markets on one subscription, or ask it to resend snapshots."""
    if action not in UPDATE_ACTIONS:
        raise ValueError(f"unknown update_subscription action {action!r}")
    params: dict[str, Any] = {"sid": sid, "action": action}
    if market_tickers is not None:
        params["market_tickers"] = list(market_tickers)
    return _command(req_id, "update_subscription", params)


def unsubscribe(req_id: int, sids: Iterable[int]) -> bytes:
    """End the given subscriptions."""
    sid_list = list(sids)
    if not sid_list:
        raise ValueError("unsubscribe needs at least one sid")
    return _command(req_id, "unsubscribe", {"sids": sid_list})


def list_subscriptions(req_id: int) -> bytes:
    """Ask which subscriptions this connection has."""
    return _command(req_id, "list_subscriptions", None)
