"""Helpers for driving the sandbox with a plain `websockets` client (not arbkit's own)."""

from __future__ import annotations

import asyncio
import base64
import time

import orjson
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding


EPOCH_MS = 1_790_000_000_000


def kalshi_headers(key, key_id: str, ts_ms: int | None = None, path: str = "/trade-api/ws/v2") -> dict:
    """Sign the upgrade exactly as PROTOCOLS §1.2 says, with `cryptography` directly."""
    ts = str(ts_ms if ts_ms is not None else time.time_ns() // 1_000_000)
    signature = key.sign((ts + "GET" + path).encode(),
                         padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH),
                         hashes.SHA256())
    return {"KALSHI-ACCESS-KEY": key_id, "KALSHI-ACCESS-TIMESTAMP": ts,
            "KALSHI-ACCESS-SIGNATURE": base64.b64encode(signature).decode()}


async def receive_until_idle(ws, idle: float = 0.3, limit: int = 1_000_000) -> list:
    """Every frame that arrives until none has come for `idle` seconds."""
    out = []
    while len(out) < limit:
        try:
            out.append(await asyncio.wait_for(ws.recv(), idle))
        except TimeoutError:
            break
    return out


async def all_closed(sandbox, timeout: float = 5.0) -> list[dict]:
    """Wait until the sandbox has recorded every connection as closed; return its stats.

    The server notes a close on its own task after the client saw it: wait for that, not a while.
    """

    async def closed() -> list[dict]:
        while True:
            stats = sandbox.connection_stats()
            if stats and all(r["close_ns"] is not None for r in stats):
                return stats
            await asyncio.sleep(0.005)

    return await asyncio.wait_for(closed(), timeout)


async def send_json(ws, obj) -> None:
    await ws.send(orjson.dumps(obj).decode())


def run(coro, timeout: float = 60.0):
    """Run one async test body with a hard time bound."""
    return asyncio.run(asyncio.wait_for(coro, timeout))
