"""Hand-built recordings for the engine tests: frames in PROTOCOLS.md shapes, written by the store.

Kalshi frames are era C (`*_dollars_fp` snapshot, `price_dollars`/`delta_fp` delta, per-sid
`seq`); Polymarket frames are `book` and era-3 `price_change`. Prices and sizes are given as the
decimal strings the wire carries.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import pyarrow.parquet as pq

from arbkit.config import parse_config
from arbkit.runner.replay import replay
from arbkit.store.session import SessionWriter

KALSHI = "kalshi"
POLYMARKET = "polymarket"
TICKER = "KXENGTEST-26NOV26-A"
YES_TOKEN = "71321045679252212594626385532706912750332728571942532289631379312455583992563"
NO_TOKEN = "52114319501245915516055106046884209969926127482827954674443846427813813222426"
CONDITION = "0x9a3c5e7f0b1d2c3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5ce01f"
PAIR = "Engine test: outcome A"
SESSION_ID = "20260921T141320Z-e0e0e0"
T0 = 1_790_000_000_000_000_000  # 2026-09-21T14:13:20Z
MS = 1_000_000
SID = 1


def config_text(
    *,
    min_edge: str = "0.01",
    min_size: str = "1",
    max_staleness_ms: int = 5000,
    kalshi_ms: float = 50.0,
    polymarket_ms: float = 50.0,
    use_yes_price: bool = False,
    polymarket_fee_rate: str = "0.03",
) -> str:
    """One pair, both venues' fees on, the given detector and latency settings."""
    return f"""
[venues.kalshi]
use_yes_price = {"true" if use_yes_price else "false"}

[[pairs]]
name = "{PAIR}"
kalshi_ticker = "{TICKER}"
polymarket_yes_token = "{YES_TOKEN}"
polymarket_no_token = "{NO_TOKEN}"
kalshi_fee_multiplier = 1.0
polymarket_fee_rate = {polymarket_fee_rate}

[detector]
min_edge = {min_edge}
min_size = {min_size}
max_staleness_ms = {max_staleness_ms}

[risk]
cooldown_ms = 0

[latency]
seed = 7
kalshi_ms = {kalshi_ms}
polymarket_ms = {polymarket_ms}
"""


class Recording:
    """Rows of one session in ingest order; each method appends one row and returns its
    ingest_seq (rows are numbered from 0 in the order they are added)."""

    def __init__(self) -> None:
        self.rows: list[tuple[int, str, int, str, bytes]] = []
        self.kalshi_seq = 0

    def _add(self, t_ns: int, venue: str, kind: str, payload: bytes, conn_id: int = 1) -> int:
        self.rows.append((t_ns, venue, conn_id, kind, payload))
        return len(self.rows) - 1

    # -- lifecycle -------------------------------------------------------------------------

    def open(self, t_ns: int, venue: str, conn_id: int = 1) -> int:
        url = orjson.dumps({"url": f"ws://127.0.0.1/{venue}"})
        return self._add(t_ns, venue, "open", url, conn_id)

    def close(self, t_ns: int, venue: str, conn_id: int = 1) -> int:
        return self._add(
            t_ns, venue, "close", orjson.dumps({"code": 1006, "reason": "connection lost"}), conn_id
        )

    # -- Kalshi ----------------------------------------------------------------------------

    def kalshi_subscribe(
        self, t_ns: int, use_yes_price: bool | None = False, conn_id: int = 1
    ) -> int:
        params: dict[str, Any] = {"channels": ["orderbook_delta"], "market_tickers": [TICKER]}
        if use_yes_price is not None:
            params["use_yes_price"] = use_yes_price
        command = orjson.dumps({"id": 1, "cmd": "subscribe", "params": params})
        return self._add(t_ns, KALSHI, "out", command, conn_id)

    def kalshi_subscribed(self, t_ns: int) -> int:
        reply = {"id": 1, "type": "subscribed", "msg": {"channel": "orderbook_delta", "sid": SID}}
        return self._add(t_ns, KALSHI, "in", orjson.dumps(reply))

    def kalshi_snapshot(
        self,
        t_ns: int,
        yes: list[tuple[str, str]],
        no: list[tuple[str, str]],
        seq: int | None = None,
        conn_id: int = 1,
    ) -> int:
        """`yes`/`no`: (price, count) levels of each ladder (the NO ladder holds NO bids, or
        YES asks when the session subscribed with use_yes_price)."""
        self.kalshi_seq = self.kalshi_seq + 1 if seq is None else seq
        frame = {
            "type": "orderbook_snapshot",
            "sid": SID,
            "seq": self.kalshi_seq,
            "sending_ts_ms": t_ns // MS,
            "msg": {
                "market_ticker": TICKER,
                "market_id": "3f1c2d4e-aaaa-4bbb-accc-123456789abc",
                "yes_dollars_fp": [list(level) for level in yes],
                "no_dollars_fp": [list(level) for level in no],
            },
        }
        return self._add(t_ns, KALSHI, "in", orjson.dumps(frame), conn_id)

    def kalshi_delta(
        self, t_ns: int, side: str, price: str, delta: str, seq: int | None = None
    ) -> int:
        self.kalshi_seq = self.kalshi_seq + 1 if seq is None else seq
        frame = {
            "type": "orderbook_delta",
            "sid": SID,
            "seq": self.kalshi_seq,
            "sending_ts_ms": t_ns // MS,
            "msg": {
                "market_ticker": TICKER,
                "market_id": "3f1c2d4e-aaaa-4bbb-accc-123456789abc",
                "price_dollars": price,
                "delta_fp": delta,
                "side": side,
                "ts_ms": t_ns // MS - 2,
            },
        }
        return self._add(t_ns, KALSHI, "in", orjson.dumps(frame))

    def kalshi_determined(self, t_ns: int, result: str) -> int:
        """A `market_lifecycle_v2` frame deciding the market (`result` "yes" or "no")."""
        frame = {
            "type": "market_lifecycle_v2",
            "sid": SID + 1,
            "msg": {
                "market_ticker": TICKER,
                "event_type": "determined",
                "result": result,
                "determination_ts": t_ns // 1_000_000_000,
            },
        }
        return self._add(t_ns, KALSHI, "in", orjson.dumps(frame))

    # -- Polymarket ------------------------------------------------------------------------

    def poly_subscribe(self, t_ns: int, assets: tuple[str, ...] = (YES_TOKEN,)) -> int:
        command = {"type": "market", "assets_ids": list(assets), "initial_dump": True}
        return self._add(t_ns, POLYMARKET, "out", orjson.dumps(command))

    def poly_book(
        self,
        t_ns: int,
        bids: list[tuple[str, str]],
        asks: list[tuple[str, str]],
        asset: str = YES_TOKEN,
    ) -> int:
        """A `book` event; `bids`/`asks` best first (written in the wire's order: best last)."""
        event = {
            "event_type": "book",
            "asset_id": asset,
            "market": CONDITION,
            "bids": [{"price": p, "size": s} for p, s in reversed(bids)],
            "asks": [{"price": p, "size": s} for p, s in reversed(asks)],
            "timestamp": str(t_ns // MS),
            "hash": "5f1d00000000000000000000000000000000c2a9",
            "tick_size": "0.01",
        }
        return self._add(t_ns, POLYMARKET, "in", orjson.dumps([event]))

    def poly_change(
        self, t_ns: int, side: str, price: str, size: str, asset: str = YES_TOKEN
    ) -> int:
        """One era-3 `price_change` of one level (`size` is the new absolute size)."""
        event = {
            "event_type": "price_change",
            "market": CONDITION,
            "price_changes": [
                {"asset_id": asset, "price": price, "size": size, "side": side,
                 "hash": "b762000000000000000000000000000000000ef9"}
            ],
            "timestamp": str(t_ns // MS),
        }
        return self._add(t_ns, POLYMARKET, "in", orjson.dumps(event))

    def poly_text(self, t_ns: int, text: bytes = b"PONG") -> int:
        """A non-JSON text frame (PONG by default): no book change."""
        return self._add(t_ns, POLYMARKET, "in", text)

    # -- writing ---------------------------------------------------------------------------

    def write(self, root: Path, session_id: str = SESSION_ID) -> Path:
        """Write the rows as one sealed session under the recordings root `root`."""
        writer = SessionWriter(root, config={"pairs": [PAIR]}, session_id=session_id)
        for t_ns, venue, conn_id, kind, payload in self.rows:
            writer.append(t_ns, t_ns - T0, venue, conn_id, kind, payload)
        writer.close()
        return root


def standard_opening(rec: Recording, t_ns: int = T0, use_yes_price: bool | None = False) -> None:
    """Connect both venues and seed books with no edge in either direction.

    Kalshi: YES bid 0.40 x 100, NO bid 0.55 x 100 (a YES ask at 0.45 x 100).
    Polymarket YES token: bid 0.40 x 100, ask 0.62 x 100 (NO asks come from the YES bids at
    1 − p, since the NO token's book is never seen).
    """
    rec.open(t_ns, KALSHI)
    rec.kalshi_subscribe(t_ns, use_yes_price)
    rec.kalshi_subscribed(t_ns + 1 * MS)
    rec.kalshi_snapshot(t_ns + 2 * MS, yes=[("0.4000", "100.00")], no=[("0.5500", "100.00")])
    rec.open(t_ns + 3 * MS, POLYMARKET)
    rec.poly_subscribe(t_ns + 3 * MS)
    rec.poly_book(t_ns + 4 * MS, bids=[("0.40", "100")], asks=[("0.62", "100")])


def run(
    rec: Recording, tmp_path: Path, config: str | None = None
) -> dict[str, list[dict[str, Any]]]:
    """Write the recording, replay it, and return every run table's rows."""
    root = rec.write(tmp_path / "rec")
    out = tmp_path / "run"
    replay(root, parse_config(config or config_text()), out)
    return {p.stem: pq.read_table(p).to_pylist() for p in sorted(out.glob("*.parquet"))}
