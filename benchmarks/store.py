"""Store throughput on ~1M synthetic realistic frames: append, seal, bytes/frame, read.

Usage: .venv/bin/python benchmarks/store.py [--frames N] [--dir DIR]

Frames are Kalshi era-C `orderbook_delta` and Polymarket era-3 `price_change` JSON in venue
bursts (about 45% / 55%). Rates are printed against wall time and against this process's CPU
time (the machine is shared, so CPU time is the steadier figure).
"""

from __future__ import annotations

import argparse
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson

from arbkit.store import SessionWriter, iter_frame_batches, iter_frames
from arbkit.runner.replay import ROW_COLUMNS
from arbkit.store.derive import derive_columns
from arbkit.store.reader import iter_frame_lists

TICKERS = [f"KXNBAGAME-26JAN{d:02d}CLEIND-CLE" for d in range(1, 21)]
TOKENS = [str(random.Random(i).getrandbits(250)) for i in range(40)]
CONDITIONS = [f"0x{random.Random(-i).getrandbits(256):064x}" for i in range(20)]
POOL = 200_000  # distinct payloads, reused cyclically (far beyond any compression window)


def kalshi(rng: random.Random, seq: int, ts_ms: int) -> bytes:
    return orjson.dumps(
        {
            "type": "orderbook_delta",
            "sid": 1,
            "seq": seq,
            "sending_ts_ms": ts_ms + rng.randint(0, 20),
            "msg": {
                "market_ticker": rng.choice(TICKERS),
                "market_id": "3f1c2d4e-aaaa-bbbb-cccc-123456789abc",
                "price_dollars": f"0.{rng.randint(100, 9900):04d}",
                "delta_fp": f"{rng.randint(-500, 500)}.00",
                "side": rng.choice(("yes", "no")),
                "ts": "2026-06-09T18:02:11.481Z",
                "ts_ms": ts_ms,
            },
        }
    )


def polymarket(rng: random.Random, ts_ms: int) -> bytes:
    pair = rng.randrange(0, len(TOKENS), 2)
    p = rng.randint(1, 99)
    size = str(rng.randint(0, 5000))
    return orjson.dumps(
        {
            "event_type": "price_change",
            "market": CONDITIONS[pair // 2],
            "price_changes": [
                {"asset_id": TOKENS[pair], "price": f"0.{p:02d}", "size": size, "side": "BUY",
                 "hash": f"0x{rng.getrandbits(256):064x}", "best_bid": f"0.{p:02d}",
                 "best_ask": f"0.{min(p + 2, 99):02d}"},
                {"asset_id": TOKENS[pair + 1], "price": f"0.{100 - p:02d}", "size": size,
                 "side": "SELL", "hash": f"0x{rng.getrandbits(256):064x}",
                 "best_bid": f"0.{max(98 - p, 1):02d}", "best_ask": f"0.{100 - p:02d}"},
            ],
            "timestamp": str(ts_ms),
        }
    )


def make_frames(n: int, seed: int = 1) -> list[tuple[int, int, str, int, str, bytes]]:
    rng = random.Random(seed)
    recv = 1_790_000_000_000_000_000
    mono = 10_000_000_000
    frames = []
    venue = "kalshi"
    kalshi_seq = 0
    for _ in range(min(n, POOL)):
        if rng.random() < 0.3:  # bursts: switch venue about every third frame
            venue = "polymarket" if rng.random() < 0.55 else "kalshi"
        gap = rng.randint(20_000, 400_000)
        recv += gap
        mono += gap
        ts_ms = recv // 1_000_000 - rng.randint(5, 80)
        if venue == "kalshi":
            kalshi_seq += 1
            payload = kalshi(rng, kalshi_seq, ts_ms)
        else:
            payload = polymarket(rng, ts_ms)
        frames.append((recv, mono, venue, 1, "in", payload))
    return frames


def timed(fn):
    wall, cpu = time.perf_counter(), time.process_time()
    result = fn()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def line(label: str, rows: int, wall: float, cpu: float) -> None:
    print(f"{label:<34} {rows / wall:>12,.0f} rows/s wall {rows / cpu:>12,.0f} rows/s cpu")


def peak_rss_mb() -> float:
    # ru_maxrss survives exec on Linux (it would report the parent's peak); VmHWM does not.
    try:
        for text in Path("/proc/self/status").read_text().splitlines():
            if text.startswith("VmHWM:"):
                return int(text.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def read(root: Path) -> None:
    rows, wall, cpu = timed(lambda: sum(b.num_rows for b in iter_frame_batches(root)))
    line("read+merge iter_frame_batches", rows, wall, cpu)
    rows, wall, cpu = timed(lambda: sum(len(b[0]) for b in iter_frame_lists(root, columns=ROW_COLUMNS)))
    line("read+merge iter_frame_lists (replay)", rows, wall, cpu)
    rows, wall, cpu = timed(lambda: sum(1 for _ in iter_frames(root)))
    line("read+merge iter_frames (Frame)", rows, wall, cpu)
    print(f"reader peak RSS {peak_rss_mb():.0f} MB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=1_000_000)
    parser.add_argument("--dir", type=Path, default=None)
    parser.add_argument("--read", type=Path, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.read is not None:
        read(args.read)
        return
    n = args.frames
    root = Path(args.dir or tempfile.mkdtemp(prefix="arbkit-store-bench-"))
    shutil.rmtree(root, ignore_errors=True)

    pool, wall, _ = timed(lambda: make_frames(n))
    print(f"generated {len(pool):,} distinct payloads in {wall:.1f}s, "
          f"mean payload {sum(len(f[5]) for f in pool) / len(pool):.0f} bytes; {n:,} frames")

    sample = pool[:100_000]
    _, wall, cpu = timed(
        lambda: derive_columns([f[2] for f in sample], [f[4] for f in sample], [f[5] for f in sample])
    )
    line("derive (msg_type, market, ...)", len(sample), wall, cpu)

    writer = SessionWriter(root, config={"bench": True})
    append = writer.append
    step = 50_000  # a flush every 50k frames, as a 1 s flush interval would at 50k frames/s
    append_wall = append_cpu = flush_wall = flush_cpu = 0.0
    size = len(pool)
    for start in range(0, n, step):
        chunk = [pool[i % size] for i in range(start, min(start + step, n))]

        def appends(chunk=chunk):
            for recv, mono, venue, conn, kind, payload in chunk:
                append(recv, mono, venue, conn, kind, payload)

        _, w, c = timed(appends)
        append_wall += w
        append_cpu += c
        _, w, c = timed(writer.flush)
        flush_wall += w
        flush_cpu += c
    line("append", n, append_wall, append_cpu)
    line("flush to journal", n, flush_wall, flush_cpu)
    journal_bytes = writer.bytes_on_disk
    _, wall, cpu = timed(writer.close)
    line("seal at close (derive+parquet)", n, wall, cpu)
    sealed = sorted(root.glob("frames/*/*/*.parquet"))
    sealed_bytes = sum(p.stat().st_size for p in sealed)
    print(f"journal {journal_bytes / n:.1f} bytes/frame; sealed {sealed_bytes / n:.1f} bytes/frame "
          f"in {len(sealed)} files")

    # Reading runs in a fresh process so its peak RSS is the reader's alone.
    subprocess.run([sys.executable, __file__, "--read", str(root)], check=True)
    if args.dir is None:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
