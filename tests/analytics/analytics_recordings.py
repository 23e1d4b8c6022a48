"""Small recordings for the analytics tests, with every answer known by construction.

`hand_recording()` is one session of both venues (times in ms after T0, a minute boundary):

Kalshi (`ts` = latency to the venue's own timestamp)
    conn 1: open 0, subscribe out 0, subscribed 1, snapshot seq 1 @10 (ts 5 ms),
            deltas seq 2 @20, 3 @30, malformed @40, seq 5 @50 (a gap: 4 expected), seq 6 @60
            (ts 2 ms each), close @100 code 1006 without a close frame (abrupt)
    conn 2: open 350 (down 250 ms), snapshot seq 1 @360, delta seq 2 @60_500 (the next minute;
            60_140 ms without book data), close @61_000 by the recorder ("recorder stopping")
Polymarket (ts 7 ms)
    conn 1: open 3, subscribe out 3, book batch (YES) @5, price_change YES+NO @105, PONG @1500,
            price_change YES+NO @2105 (2_000 ms without book data), close @2200 code 1001
            "going away" by the venue
    conn 2: open 2700 (down 500 ms), book batch (YES) @2710, close @61_000 by the recorder
            (58_290 ms without book data before it)
The session starts at T0 (manifest) and ends at T0 + 61_000 ms; `recorder.stale_after_s` is 1.
"""

from __future__ import annotations

import os
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from arbkit.store.session import write_session
from arbkit.store.schema import FRAMES_SCHEMA

KALSHI = "kalshi"
POLYMARKET = "polymarket"
TICKER = "KXANALYTICS-26DEC06-A"
YES = "71321045679252212594626385532706912750332728571942532289631379312455583992563"
NO = "52114319501245915516055106046884209969926127482827954674443846427813813222426"
CONDITION = "0x9a3c5e7f0b1d2c3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5ce01f"
SESSION = "20260921T141300Z-a0a0a0"
T0_MS = 1_789_999_980_000  # 2026-09-21T14:13:00Z, a whole minute
T0 = T0_MS * 1_000_000
MS = 1_000_000
KALSHI_MALFORMED = b'{"type":"orderbook_delta","sid":1,"seq":'


class Rows:
    """Frames of one session in ingest order, built with the wire shapes of PROTOCOLS.md."""

    def __init__(self) -> None:
        self.rows: list[tuple[int, str, int, str, bytes]] = []

    def add(self, t_ms: float, venue: str, conn: int, kind: str, payload: bytes) -> None:
        self.rows.append((T0 + int(t_ms * MS), venue, conn, kind, payload))

    def open(self, t_ms: float, venue: str, conn: int) -> None:
        self.add(t_ms, venue, conn, "open", orjson.dumps({"url": f"ws://127.0.0.1/{venue}"}))

    def close(self, t_ms: float, venue: str, conn: int, code: int, reason: str = "",
              cause: str | None = None, frame: bool = True) -> None:
        info = {"code": code, "reason": reason, "close_frame_received": frame, "sent_code": None, "cause": cause}
        self.add(t_ms, venue, conn, "close", orjson.dumps(info))

    def kalshi(self, t_ms: float, conn: int, kind: str, seq: int, *, sid: int = 1, latency_ms: int = 2) -> None:
        ts = T0_MS + int(t_ms) - latency_ms
        if kind == "orderbook_snapshot":
            frame = {"type": kind, "sid": sid, "seq": seq, "sending_ts_ms": ts,
                     "msg": {"market_ticker": TICKER, "yes_dollars_fp": [["0.4000", "100.00"]],
                             "no_dollars_fp": [["0.5500", "100.00"]]}}
        else:
            # `ts_ms` is the venue's time; `sending_ts_ms` (later) must not be the one used.
            frame = {"type": kind, "sid": sid, "seq": seq, "sending_ts_ms": ts + 1,
                     "msg": {"market_ticker": TICKER, "price_dollars": "0.4000", "delta_fp": "1.00",
                             "side": "yes", "ts_ms": ts}}
        self.add(t_ms, KALSHI, conn, "in", orjson.dumps(frame))

    def poly_book(self, t_ms: float, conn: int, latency_ms: int = 7) -> None:
        event = {"event_type": "book", "asset_id": YES, "market": CONDITION,
                 "bids": [{"price": "0.40", "size": "100"}], "asks": [{"price": "0.62", "size": "100"}],
                 "timestamp": str(T0_MS + int(t_ms) - latency_ms), "hash": "5f1d", "tick_size": "0.01"}
        self.add(t_ms, POLYMARKET, conn, "in", orjson.dumps([event]))

    def poly_change(self, t_ms: float, conn: int, latency_ms: int = 7) -> None:
        event = {"event_type": "price_change", "market": CONDITION,
                 "price_changes": [
                     {"asset_id": YES, "price": "0.41", "size": "10", "side": "BUY", "hash": "a1"},
                     {"asset_id": NO, "price": "0.59", "size": "10", "side": "SELL", "hash": "b2"}],
                 "timestamp": str(T0_MS + int(t_ms) - latency_ms)}
        self.add(t_ms, POLYMARKET, conn, "in", orjson.dumps(event))

    def batch(self, session_id: str = SESSION, seq_step: int = 1) -> pa.RecordBatch:
        """The rows as one FRAMES_SCHEMA batch (mono_ns = recv_ns - T0; ingest_seq counts up by
        `seq_step`)."""
        return pa.RecordBatch.from_pylist([
            {"session_id": session_id, "ingest_seq": i * seq_step, "recv_ns": t, "mono_ns": t - T0, "venue": venue,
             "conn_id": conn, "kind": kind, "payload": payload}
            for i, (t, venue, conn, kind, payload) in enumerate(self.rows)
        ], schema=FRAMES_SCHEMA)


def hand_rows() -> Rows:
    """The rows of the module docstring's session."""
    r = Rows()
    r.open(0, KALSHI, 1)
    r.add(0, KALSHI, 1, "out", b'{"id":1,"cmd":"subscribe","params":{"channels":["orderbook_delta"]}}')
    r.add(1, KALSHI, 1, "in", b'{"id":1,"type":"subscribed","msg":{"channel":"orderbook_delta","sid":1}}')
    r.open(3, POLYMARKET, 1)
    r.add(3, POLYMARKET, 1, "out", orjson.dumps({"type": "market", "assets_ids": [YES, NO]}))
    r.poly_book(5, 1)
    r.kalshi(10, 1, "orderbook_snapshot", 1, latency_ms=5)
    r.kalshi(20, 1, "orderbook_delta", 2)
    r.kalshi(30, 1, "orderbook_delta", 3)
    r.add(40, KALSHI, 1, "in", KALSHI_MALFORMED)
    r.kalshi(50, 1, "orderbook_delta", 5)
    r.kalshi(60, 1, "orderbook_delta", 6)
    r.close(100, KALSHI, 1, 1006, frame=False)
    r.poly_change(105, 1)
    r.open(350, KALSHI, 2)
    r.kalshi(360, 2, "orderbook_snapshot", 1, latency_ms=5)
    r.add(1500, POLYMARKET, 1, "in", b"PONG")
    r.poly_change(2105, 1)
    r.close(2200, POLYMARKET, 1, 1001, "going away")
    r.open(2700, POLYMARKET, 2)
    r.poly_book(2710, 2)
    r.kalshi(60_500, 2, "orderbook_delta", 2)
    r.close(61_000, KALSHI, 2, 1000, "recorder stopping", cause="recorder stopping")
    r.close(61_000, POLYMARKET, 2, 1000, "recorder stopping", cause="recorder stopping")
    return r


CONFIG = {"pairs": [{"name": "Analytics test pair", "kalshi_ticker": TICKER}],
          "recorder": {"stale_after_s": 1.0}}


def write_sealed(root: Path, rows: Rows, session_id: str = SESSION, config: dict | None = None,
                 seq_step: int = 1) -> Path:
    """Write `rows` as a complete session (sealed files with derived columns, a manifest)."""
    write_session(root, [rows.batch(session_id, seq_step)], config=CONFIG if config is None else config,
                  session_id=session_id, start_ns=T0)
    return root


def write_bare(directory: Path, rows: Rows, session_id: str = SESSION) -> Path:
    """Write `rows` as another tool would: one Parquet file of the eight frames columns, no
    derived columns, no hive folders, no manifest."""
    directory.mkdir(parents=True, exist_ok=True)
    pq.write_table(pa.Table.from_batches([rows.batch(session_id)]), directory / "frames.parquet")
    return directory


def gap_stats(gaps_ms: list[float]) -> dict[str, float]:
    """Percentiles (linear interpolation between closest ranks), max and time-weighted mean."""
    ordered = sorted(gaps_ms)

    def pct(p: float) -> float:
        rank = p * (len(ordered) - 1)
        low = int(rank)
        high = min(low + 1, len(ordered) - 1)
        return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)

    return {"p50_ms": pct(0.5), "p90_ms": pct(0.9), "p99_ms": pct(0.99), "max_ms": ordered[-1],
            "time_weighted_mean_ms": sum(g * g for g in ordered) / (2 * sum(ordered))}


def parquet_files(root: str | os.PathLike[str]) -> list[Path]:
    return sorted(Path(root).rglob("*.parquet"))


def rows(con, sql: str) -> list[dict]:
    """Run `sql` on a DuckDB connection and return its rows as dicts keyed by column name."""
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]
