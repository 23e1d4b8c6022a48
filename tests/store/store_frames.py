"""Frame payloads for the store tests, built from PROTOCOLS.md §1.7 and §3.4 shapes."""

from __future__ import annotations

import orjson

KALSHI_TICKER = "KXHIGHNY-26JUN10-B84.5"
YES_TOKEN = "71321045679252212594626385532706912750332728571942532289631379312455583992563"
NO_TOKEN = "52114319501245915516055106046884209969926127482827954674443846427813813222426"
CONDITION = "0x9a3c5e7f0b1d2c3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5ce01f"
BASE_NS = 1_790_000_000_000_000_000  # 2026-09-21T14:13:20Z


def kalshi_delta(seq: int, ts_ms: int = 1_790_000_000_440) -> bytes:
    return orjson.dumps(
        {
            "type": "orderbook_delta",
            "sid": 7,
            "seq": seq,
            "sending_ts_ms": ts_ms + 16,
            "msg": {
                "market_ticker": KALSHI_TICKER,
                "market_id": "3f1c2d4e-aaaa-bbbb-cccc-123456789abc",
                "price_dollars": "0.3300",
                "delta_fp": "-25.00",
                "side": "yes",
                "ts": "2026-06-09T18:02:11.481Z",
                "ts_ms": ts_ms,
            },
        }
    )


def kalshi_snapshot(seq: int, sending_ts_ms: int = 1_790_000_000_123) -> bytes:
    return orjson.dumps(
        {
            "type": "orderbook_snapshot",
            "sid": 7,
            "seq": seq,
            "sending_ts_ms": sending_ts_ms,
            "msg": {
                "market_ticker": KALSHI_TICKER,
                "yes_dollars_fp": [["0.3100", "20.00"], ["0.3300", "75.50"]],
                "no_dollars_fp": [["0.6400", "210.00"]],
            },
        }
    )


def poly_price_change(ts_ms: int = 1_790_658_674_035, assets: tuple[str, ...] = (YES_TOKEN, NO_TOKEN)) -> bytes:
    return orjson.dumps(
        {
            "event_type": "price_change",
            "market": CONDITION,
            "price_changes": [
                {
                    "asset_id": asset,
                    "price": "0.47",
                    "size": "1500",
                    "side": "BUY",
                    "hash": "b762ef9",
                    "best_bid": "0.47",
                    "best_ask": "0.49",
                }
                for asset in assets
            ],
            "timestamp": str(ts_ms),
        }
    )


def poly_book(asset: str = YES_TOKEN, ts_ms: int = 1_790_658_661_234) -> bytes:
    return orjson.dumps(
        {
            "event_type": "book",
            "asset_id": asset,
            "market": CONDITION,
            "bids": [{"price": "0.47", "size": "1300.5"}],
            "asks": [{"price": "0.49", "size": "220"}],
            "timestamp": str(ts_ms),
            "hash": "5f1dc2a9",
        }
    )


def payload_for(venue: str, seq: int) -> bytes:
    """A realistic payload that encodes `seq`, so a test can tell every frame apart."""
    if venue == "kalshi":
        return kalshi_delta(seq, 1_790_000_000_000 + seq)
    return poly_price_change(1_790_658_000_000 + seq)


def frame_rows(n: int, pattern: str = "kp") -> list[tuple[int, int, str, int, str, bytes]]:
    """`n` append() argument tuples whose venues follow `pattern` (k = Kalshi, p = Polymarket).

    Each venue's first row is an `open` lifecycle row and its second an outgoing command, so the
    kinds are mixed as in a real recording.
    """
    rows = []
    seen: dict[str, int] = {}
    for i in range(n):
        venue = "kalshi" if pattern[i % len(pattern)] == "k" else "polymarket"
        count = seen.get(venue, 0)
        seen[venue] = count + 1
        if count == 0:
            kind, payload = "open", b'{"url":"ws://127.0.0.1:1/ws"}'
        elif count == 1:
            kind, payload = "out", b'{"id":1,"cmd":"subscribe","params":{}}'
        else:
            kind, payload = "in", payload_for(venue, i)
        rows.append((BASE_NS + i * 1_000_000, 5_000 + i * 1_000_000, venue, 0, kind, payload))
    return rows
