"""Recordings shaped like busy real markets, for replay benchmarks and identity tests (issue 15).

The sandbox scenario (`generate.py`) keeps most pairs far from parity, so its detector rarely
walks depth. These shapes put the engine where real markets make it spend its time:

- `near-parity`: 24 pairs whose venues quote around the same price, the Polymarket mid offset
  from Kalshi's by a wandering basis of a few cents, so the top-of-book sum is often within a few
  cents of $1 and about a third of the directions hold an open window; 10-level books; ~46%
  Kalshi deltas, ~50% Polymarket two-change `price_change` (a YES change and its mirrored NO
  change), ~2% Kalshi snapshots, ~2% Polymarket `book` re-sends.
- `many-pairs`: the same flow over 200 pairs.
- `deep-books`: 50 levels a side and a re-send or snapshot on one frame in ten.
- `quiet`: long gaps between frames, ~70% of rows the Polymarket keep-alive (`PING` out, `PONG`
  in), so books go stale and windows close on staleness.

Frames use the wire formats the decoders read (Kalshi era C `*_dollars_fp`, Polymarket era-3
`price_changes`) and are written with the recorder's lifecycle rows through the store's own
session writer, with an `arbkit.toml` naming every pair. Everything follows from the seed.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import orjson
import pyarrow as pa

from arbkit.config import config_to_dict, parse_config
from arbkit.core.frame import STOP_CAUSE
from arbkit.sandbox import files
from arbkit.sandbox.generate import KALSHI_URL, MONO_BASE_NS, POLYMARKET_URL, session_id_for
from arbkit.store import FRAMES_SCHEMA, write_session

KALSHI = "kalshi"
POLYMARKET = "polymarket"
CENT = 100  # price ticks ($0.0001) per cent
ONE = 10_000  # $1 in ticks
EPOCH_MS = 1_790_000_000_000
BATCH_ROWS = 65_536
BID, ASK = 0, 1


@dataclass(frozen=True)
class Shape:
    """How a workload's frames are made; shares are of the rows after the opening snapshots."""

    name: str
    pairs: int
    frames: int
    levels: int = 10
    kalshi_snapshot: float = 0.02
    poly_resend: float = 0.02
    kalshi_delta: float = 0.46  # the rest are Polymarket price_change frames
    keepalive: float = 0.0  # rows that are the Polymarket PING/PONG keep-alive
    gap_ns: int = 500_000  # mean time between rows
    basis_cents: tuple[int, int] = (2, 12)  # range of |Polymarket mid - Kalshi mid|


SHAPES: dict[str, Shape] = {
    "near-parity": Shape("near-parity", pairs=24, frames=1_000_000),
    "many-pairs": Shape("many-pairs", pairs=200, frames=5_000_000, gap_ns=100_000),
    "deep-books": Shape("deep-books", pairs=8, frames=1_000_000, levels=50,
                        kalshi_snapshot=0.05, poly_resend=0.05, kalshi_delta=0.43),
    "quiet": Shape("quiet", pairs=24, frames=1_000_000, keepalive=0.7, gap_ns=20_000_000),
}


def kalshi_price(ticks: int) -> str:
    """A Kalshi `*_dollars` price string ("0.4700") for price ticks."""
    return f"0.{ticks:04d}"


def kalshi_count(hundredths: int) -> str:
    """A Kalshi `*_fp` count string ("-25.00") for hundredths of a contract."""
    sign = "-" if hundredths < 0 else ""
    h = abs(hundredths)
    return f"{sign}{h // 100}.{h % 100:02d}"


def poly_price(ticks: int) -> str:
    """A Polymarket price string on the one-cent grid ("0.47")."""
    return f"0.{ticks // CENT:02d}"


def poly_size(hundredths: int) -> str:
    """A Polymarket size string ("1300.5") for hundredths of a contract."""
    whole, frac = divmod(hundredths, 100)
    return str(whole) if not frac else f"{whole}.{frac:02d}".rstrip("0")


class _Ladder:
    """One YES-terms book of `levels` one-cent levels a side around a centre (sizes in hundredths)."""

    def __init__(self, rng: random.Random, centre: int, levels: int) -> None:
        self.rng = rng
        self.levels = levels
        self.centre = centre
        self.bids: dict[int, int] = {}
        self.asks: dict[int, int] = {}
        for k in range(1, levels + 1):
            if centre - k * CENT > 0:
                self.bids[centre - k * CENT] = self._size()
            if centre + k * CENT < ONE:
                self.asks[centre + k * CENT] = self._size()

    def _size(self) -> int:
        # Mostly round lots with a fractional tail, as on both venues.
        whole = int(self.rng.paretovariate(1.3) * 15)
        return whole * 100 + (self.rng.choice((0, 0, 0, 50, 25)) if whole < 2000 else 0)

    def recentre(self, centre: int) -> list[tuple[int, int, int, int]]:
        """Move the book to a new centre: the levels it crossed go, a best level appears.

        Returns the changes as (side, price, old size, new size).
        """
        self.centre = centre
        changes = [(BID, p, s, 0) for p, s in self.bids.items() if p >= centre]
        changes += [(ASK, p, s, 0) for p, s in self.asks.items() if p <= centre]
        for side, price, _, _ in changes:
            del (self.bids if side == BID else self.asks)[price]
        for side, price in ((BID, centre - CENT), (ASK, centre + CENT)):
            levels = self.bids if side == BID else self.asks
            if 0 < price < ONE and price not in levels:
                levels[price] = size = self._size()
                changes.append((side, price, 0, size))
        for side, levels in ((BID, self.bids), (ASK, self.asks)):
            while len(levels) > self.levels:
                far = min(levels) if side == BID else max(levels)
                changes.append((side, far, levels.pop(far), 0))
        return changes

    def change(self) -> tuple[int, int, int, int]:
        """One random level change that keeps the book uncrossed around its centre."""
        rng = self.rng
        side = BID if rng.random() < 0.5 else ASK
        levels = self.bids if side == BID else self.asks
        r = rng.random()
        best = (max(levels) if side == BID else min(levels)) if levels else None
        if levels and (r < 0.7 or len(levels) >= self.levels + 2):
            # Resize (or, when the side is long, remove a level behind the best).
            price = rng.choice(list(levels))
            old = levels[price]
            if len(levels) > self.levels and price != best:
                new = 0
            else:
                step = max(old // rng.choice((2, 4, 10)), 1)
                new = old + step if rng.random() < 0.5 else max(old - step, 100)
        elif levels and r < 0.85 and len(levels) > 2:
            price = rng.choice([p for p in levels if p != best])
            old, new = levels[price], 0
        else:
            offset = rng.randint(1, self.levels) * CENT
            price = self.centre - offset if side == BID else self.centre + offset
            if not 0 < price < ONE:
                price = self.centre - CENT if side == BID else self.centre + CENT
            old = levels.get(price, 0)
            new = old + self._size() + 100
        if new:
            levels[price] = new
        else:
            levels.pop(price, None)
        return side, price, old, new


class _Pair:
    """A pair's two books: Kalshi around `mid`, Polymarket YES around `mid + basis`."""

    def __init__(self, rng: random.Random, index: int, shape: Shape) -> None:
        self.name = f"Workload {index:03d}"
        self.ticker = f"KXWORK-{index:03d}"
        self.yes = str(rng.getrandbits(250))
        self.no = str(rng.getrandbits(250))
        self.condition = f"0x{rng.getrandbits(256):064x}"
        self.mid = rng.randint(25, 75) * CENT
        lo, hi = shape.basis_cents
        self.basis = rng.choice((-1, 1)) * rng.randint(lo, hi) * CENT
        self.shape = shape
        self.kalshi = _Ladder(rng, self.mid, shape.levels)
        self.poly = _Ladder(rng, self.mid + self.basis, shape.levels)

    def drift(self, rng: random.Random) -> None:
        """Move the mid or the basis by a cent (the books follow on their next change)."""
        if rng.random() < 0.5:
            self.mid = min(max(self.mid + rng.choice((-CENT, CENT)), 20 * CENT), 80 * CENT)
        else:
            lo, hi = self.shape.basis_cents
            size = abs(self.basis) // CENT + rng.choice((-1, 1))
            if size < lo:
                # Through parity: the other direction is now the cheap one.
                self.basis = -self.basis
            elif size <= hi:
                self.basis = size * CENT if self.basis > 0 else -size * CENT


class _Stream:
    """Seeded frame rows (recv_ns, venue, kind, payload) in arrival order."""

    def __init__(self, shape: Shape, seed: int) -> None:
        self.shape = shape
        self.rng = random.Random(seed)
        self.pairs = [_Pair(self.rng, i, shape) for i in range(shape.pairs)]
        # A few hot pairs take most of the flow, as in the wild (Zipf-like weights).
        self.weights = list(itertools.accumulate(1.0 / (i + 1) ** 0.8 for i in range(shape.pairs)))
        self.seq = 0
        self.now_ns = EPOCH_MS * 1_000_000

    def _tick(self) -> int:
        self.now_ns += int(self.rng.expovariate(1 / self.shape.gap_ns)) + 1
        return self.now_ns

    def rows(self) -> Iterator[tuple[int, str, str, bytes]]:
        rng = self.rng
        shape = self.shape
        subscribe = orjson.dumps({"id": 1, "cmd": "subscribe", "params": {
            "channels": ["orderbook_delta"], "market_tickers": [p.ticker for p in self.pairs],
            "use_yes_price": False}})
        market = orjson.dumps({"type": "market", "initial_dump": True,
                               "assets_ids": [a for p in self.pairs for a in (p.yes, p.no)]})
        now = self.now_ns
        yield now, KALSHI, "open", orjson.dumps({"url": KALSHI_URL})
        yield now, KALSHI, "out", subscribe
        for pair in self.pairs:
            yield self._kalshi_snapshot(pair)
        yield self.now_ns, POLYMARKET, "open", orjson.dumps({"url": POLYMARKET_URL})
        yield self.now_ns, POLYMARKET, "out", market
        for pair in self.pairs:
            yield self._poly_book(pair, True)
            yield self._poly_book(pair, False)
        snapshot = shape.kalshi_snapshot
        resend = snapshot + shape.poly_resend
        delta = resend + shape.kalshi_delta
        while True:
            if shape.keepalive and rng.random() < shape.keepalive:
                yield self._tick(), POLYMARKET, "out", b"PING"
                yield self.now_ns, POLYMARKET, "in", b"PONG"
                continue
            pair = rng.choices(self.pairs, cum_weights=self.weights)[0]
            if rng.random() < 0.05:
                pair.drift(rng)
            r = rng.random()
            if r < snapshot:
                yield self._kalshi_snapshot(pair)
            elif r < resend:
                yield self._poly_book(pair, rng.random() < 0.5)
            elif r < delta:
                if pair.kalshi.centre != pair.mid:
                    changes = pair.kalshi.recentre(pair.mid)
                else:
                    changes = [pair.kalshi.change()]
                for change in changes:
                    yield self._kalshi_delta(pair, *change)
            else:
                centre = pair.mid + pair.basis
                changes = pair.poly.recentre(centre) if pair.poly.centre != centre else [pair.poly.change()]
                for change in changes:
                    yield self._poly_change(pair, *change)

    def _kalshi_envelope(self, kind: str, msg: dict) -> tuple[int, str, str, bytes]:
        self.seq += 1
        recv_ns = self._tick()
        payload = {"type": kind, "sid": 1, "seq": self.seq, "msg": msg}
        return recv_ns, KALSHI, "in", orjson.dumps(payload)

    def _kalshi_snapshot(self, pair: _Pair) -> tuple[int, str, str, bytes]:
        book = pair.kalshi
        msg: dict = {"market_ticker": pair.ticker}
        if book.bids:
            msg["yes_dollars_fp"] = [[kalshi_price(p), kalshi_count(s)] for p, s in sorted(book.bids.items())]
        if book.asks:
            # NO bids at 1 - p are the YES asks; both ladders ascend, best last.
            msg["no_dollars_fp"] = [[kalshi_price(ONE - p), kalshi_count(s)]
                                    for p, s in sorted(book.asks.items(), reverse=True)]
        return self._kalshi_envelope("orderbook_snapshot", msg)

    def _kalshi_delta(self, pair: _Pair, side: int, price: int, old: int, new: int
                      ) -> tuple[int, str, str, bytes]:
        wire_price, wire_side = (price, "yes") if side == BID else (ONE - price, "no")
        msg = {"market_ticker": pair.ticker, "price_dollars": kalshi_price(wire_price),
               "delta_fp": kalshi_count(new - old), "side": wire_side,
               "ts_ms": self.now_ns // 1_000_000}
        return self._kalshi_envelope("orderbook_delta", msg)

    def _poly_book(self, pair: _Pair, yes: bool) -> tuple[int, str, str, bytes]:
        recv_ns = self._tick()
        book = pair.poly
        if yes:
            bids, asks = list(book.bids.items()), list(book.asks.items())
        else:
            bids = [(ONE - p, s) for p, s in book.asks.items()]
            asks = [(ONE - p, s) for p, s in book.bids.items()]
        payload = {
            "event_type": "book",
            "asset_id": pair.yes if yes else pair.no,
            "market": pair.condition,
            # As the venue sends them: bids ascending and asks descending, best of each last.
            "bids": [{"price": poly_price(p), "size": poly_size(s)} for p, s in sorted(bids)],
            "asks": [{"price": poly_price(p), "size": poly_size(s)} for p, s in sorted(asks, reverse=True)],
            "timestamp": str(recv_ns // 1_000_000 - 3),
            "hash": f"{self.rng.getrandbits(160):040x}",
            "tick_size": "0.01",
        }
        return recv_ns, POLYMARKET, "in", orjson.dumps(payload)

    def _poly_change(self, pair: _Pair, side: int, price: int, _old: int, new: int
                     ) -> tuple[int, str, str, bytes]:
        recv_ns = self._tick()
        book = pair.poly
        best_bid = max(book.bids) if book.bids else None
        best_ask = min(book.asks) if book.asks else None
        order_hash = f"{self.rng.getrandbits(160):040x}"
        # One order moves both tokens: BUY p on YES is SELL 1 - p on NO, same size.
        changes = [
            {"asset_id": pair.yes, "price": poly_price(price), "size": poly_size(new),
             "side": "BUY" if side == BID else "SELL", "hash": order_hash,
             "best_bid": poly_price(best_bid) if best_bid is not None else "0",
             "best_ask": poly_price(best_ask) if best_ask is not None else "1"},
            {"asset_id": pair.no, "price": poly_price(ONE - price), "size": poly_size(new),
             "side": "SELL" if side == BID else "BUY", "hash": order_hash,
             "best_bid": poly_price(ONE - best_ask) if best_ask is not None else "0",
             "best_ask": poly_price(ONE - best_bid) if best_bid is not None else "1"},
        ]
        payload = {"event_type": "price_change", "market": pair.condition,
                   "price_changes": changes, "timestamp": str(recv_ns // 1_000_000 - 3)}
        return recv_ns, POLYMARKET, "in", orjson.dumps(payload)


def config_text(stream: _Stream) -> str:
    """The recording's arbkit.toml: both venues and every pair, default fees."""
    lines = [
        "# Written by arbkit.sandbox.workloads: a generated benchmark recording.",
        "",
        "[venues.kalshi]",
        f'ws_url = "{KALSHI_URL}"',
        "use_yes_price = false",
        "",
        "[venues.polymarket]",
        f'ws_url = "{POLYMARKET_URL}"',
    ]
    for pair in stream.pairs:
        lines += [
            "",
            "[[pairs]]",
            f'name = "{pair.name}"',
            f'kalshi_ticker = "{pair.ticker}"',
            f'polymarket_yes_token = "{pair.yes}"',
            f'polymarket_no_token = "{pair.no}"',
            "kalshi_fee_multiplier = 1.0",
            "polymarket_fee_rate = 0.03",
        ]
    return "\n".join(lines) + "\n"


def _batches(stream: _Stream, frames: int, session_id: str) -> Iterator[pa.RecordBatch]:
    stop = orjson.dumps({"code": 1000, "reason": "end of generated session", "cause": STOP_CAUSE})
    source = stream.rows()
    seq = 0
    while seq < frames:
        chunk = list(itertools.islice(source, min(BATCH_ROWS, frames - 2 - seq)))
        if seq + len(chunk) == frames - 2:
            # The session ends as a recorder's stop does: each connection closed with the cause.
            last = stream.now_ns
            chunk += [(last, KALSHI, "close", stop), (last, POLYMARKET, "close", stop)]
        n = len(chunk)
        recv, venue, kind, payload = zip(*chunk)
        yield pa.RecordBatch.from_arrays([
            pa.array([session_id] * n, pa.string()),
            pa.array(range(seq, seq + n), pa.int64()),
            pa.array(recv, pa.int64()),
            pa.array([r - EPOCH_MS * 1_000_000 + MONO_BASE_NS for r in recv], pa.int64()),
            pa.array(venue, pa.string()),
            pa.array([1] * n, pa.int32()),
            pa.array(kind, pa.string()),
            pa.array(payload, pa.binary()),
        ], schema=FRAMES_SCHEMA)
        seq += n


def generate_workload(out: Path | str, shape: Shape | str, *, frames: int | None = None,
                      seed: int = 1) -> Path:
    """Write the recording of `shape` (a `SHAPES` name or a Shape) under `out`, with its
    `arbkit.toml`; `frames` overrides the shape's row count. Return the config's path."""
    if isinstance(shape, str):
        shape = SHAPES[shape]
    if frames is not None:
        shape = replace(shape, frames=frames)
    out = Path(out)
    files.make_folder(out, "output folder")
    stream = _Stream(shape, seed)
    config_path = out / files.CONFIG_FILE
    text = config_text(stream)
    files.write_text_atomic(config_path, text)
    config = config_to_dict(parse_config(text, base_dir=out, source=str(config_path)))
    session_id = session_id_for(EPOCH_MS, seed)
    write_session(out, _batches(stream, shape.frames, session_id), config=config,
                  session_id=session_id, start_ns=EPOCH_MS * 1_000_000)
    return config_path
