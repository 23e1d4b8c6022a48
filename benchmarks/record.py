"""Recorder ingest throughput vs a bare `websockets` receive loop, and on-disk bytes per frame.

A flood server (a separate process, raw sockets) answers the WebSocket upgrade, waits for the
client's first message, then writes a pre-built stream of realistic venue frames as fast as the
socket takes them — far faster than any Python client reads — and closes. Each run connects
once and measures between the 10 % and the 90 % frame (skipping connect and close):

- bare: `websockets.asyncio.client.connect` + `recv(decode=False)` in a loop, nothing else;
- recorder: the real `Recorder` (signed Kalshi handshake, envelope/seq tracking, ingest,
  SessionWriter journal flushes, storage tick), sampled on its own event-loop thread.

Two rates per run: frames per elapsed second (wall), and frames per CPU-second of the receiving
thread (cpu) — the latter is what one dedicated core would sustain and is far less disturbed by
other processes on a shared machine. Both clients use the same options (`WsOptions`), with
permessage-deflate off and on (the server then compresses with context takeover, as real venues
do). Bytes per frame = the session's sealed Parquet bytes / its rows.

    .venv/bin/python benchmarks/record.py [--frames 200000] [--repeat 3] [--flush-interval 1.0]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import multiprocessing
import random
import struct
import tempfile
import time
import zlib
from pathlib import Path

import pyarrow.parquet as pq

KALSHI_PATH = "/trade-api/ws/v2"
POLY_PATH = "/ws/market"

GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
TICKERS = [f"KXBENCH-26DEC31-T{i:02d}" for i in range(10)]
ASSETS = [str(random.Random(i).getrandbits(252)) for i in range(20)]


# -- frames -------------------------------------------------------------------------------


def kalshi_frames(n: int, seed: int = 1) -> list[bytes]:
    """A snapshot per ticker then orderbook_delta frames with consecutive seq on one sid."""
    rng = random.Random(seed)
    out = []
    ts = 1_790_000_000_000
    seq = 0
    for ticker in TICKERS:
        seq += 1
        yes = [[f"0.{p:02d}00", f"{rng.randint(1, 900)}.00"] for p in range(30, 45)]
        no = [[f"0.{p:02d}00", f"{rng.randint(1, 900)}.00"] for p in range(40, 55)]
        out.append(json.dumps({"type": "orderbook_snapshot", "sid": 1, "seq": seq,
                               "msg": {"market_ticker": ticker, "market_id": f"id-{ticker}",
                                       "yes_dollars_fp": yes, "no_dollars_fp": no}},
                              separators=(",", ":")).encode())
    while len(out) < n:
        seq += 1
        ts += rng.randint(0, 40)
        ticker = rng.choice(TICKERS)
        delta = rng.randint(-300, 300) or 1
        out.append(json.dumps({"type": "orderbook_delta", "sid": 1, "seq": seq, "sending_ts_ms": ts + 3,
                               "msg": {"market_ticker": ticker, "market_id": f"id-{ticker}",
                                       "price_dollars": f"0.{rng.randint(30, 55):02d}00",
                                       "delta_fp": f"{delta}.00", "side": rng.choice(("yes", "no")),
                                       "ts_ms": ts}},
                              separators=(",", ":")).encode())
    return out


def polymarket_frames(n: int, seed: int = 2) -> list[bytes]:
    """An initial dump of books, then price_change frames with mirrored YES/NO changes."""
    rng = random.Random(seed)
    out = []
    ts = 1_790_000_000_000
    books = []
    for asset in ASSETS:
        books.append({"event_type": "book", "asset_id": asset, "market": "0x" + hashlib.sha256(asset[:10].encode()).hexdigest(),
                      "bids": [{"price": f"0.{p:02d}", "size": f"{rng.randint(5, 5000)}"} for p in range(30, 45)],
                      "asks": [{"price": f"0.{p:02d}", "size": f"{rng.randint(5, 5000)}"} for p in range(60, 45, -1)],
                      "timestamp": str(ts), "hash": f"{rng.getrandbits(160):040x}"})
    out.append(json.dumps(books, separators=(",", ":")).encode())
    while len(out) < n:
        ts += rng.randint(0, 40)
        i = rng.randrange(0, len(ASSETS), 2)
        yes, no = ASSETS[i], ASSETS[i + 1]
        price = rng.randint(30, 60)
        size = f"{rng.randint(0, 5000)}.{rng.randint(0, 99):02d}"
        bid, ask = rng.randint(40, 49), rng.randint(50, 60)
        side = rng.choice(("BUY", "SELL"))
        changes = [
            {"asset_id": yes, "price": f"0.{price:02d}", "size": size, "side": side,
             "hash": f"{rng.getrandbits(160):040x}", "best_bid": f"0.{bid:02d}", "best_ask": f"0.{ask:02d}"},
            {"asset_id": no, "price": f"0.{100 - price:02d}", "size": size, "side": "SELL" if side == "BUY" else "BUY",
             "hash": f"{rng.getrandbits(160):040x}", "best_bid": f"0.{100 - ask:02d}", "best_ask": f"0.{100 - bid:02d}"},
        ]
        out.append(json.dumps({"market": "0x" + hashlib.sha256(yes[:10].encode()).hexdigest(),
                               "price_changes": changes, "timestamp": str(ts), "event_type": "price_change"},
                              separators=(",", ":")).encode())
    return out


def _ws_frame(payload: bytes, compressed: bool) -> bytes:
    first = 0x81 | (0x40 if compressed else 0)
    n = len(payload)
    if n < 126:
        header = struct.pack("!BB", first, n)
    elif n < 65536:
        header = struct.pack("!BBH", first, 126, n)
    else:
        header = struct.pack("!BBQ", first, 127, n)
    return header + payload


def build_stream(frames: list[bytes], deflate: bool) -> bytes:
    """Serialise server frames; with deflate, one compressor across messages (context takeover)."""
    if not deflate:
        return b"".join(_ws_frame(f, False) for f in frames)
    comp = zlib.compressobj(zlib.Z_DEFAULT_COMPRESSION, zlib.DEFLATED, -15)
    parts = []
    for f in frames:
        data = comp.compress(f) + comp.flush(zlib.Z_SYNC_FLUSH)
        parts.append(_ws_frame(data[:-4], True))
    return b"".join(parts)


# -- flood server (child process) ---------------------------------------------------------


def _serve(port_queue: multiprocessing.Queue, n: int) -> None:
    streams: dict[tuple[str, bool], bytes] = {}
    frames = {KALSHI_PATH: kalshi_frames(n), POLY_PATH: polymarket_frames(n)}
    for path, fs in frames.items():
        for deflate in (False, True):
            streams[(path, deflate)] = build_stream(fs, deflate)

    async def skip_frame(reader: asyncio.StreamReader) -> None:
        _, b1 = await reader.readexactly(2)
        length = b1 & 0x7F
        if length == 126:
            (length,) = struct.unpack("!H", await reader.readexactly(2))
        elif length == 127:
            (length,) = struct.unpack("!Q", await reader.readexactly(8))
        await reader.readexactly(length + (4 if b1 & 0x80 else 0))

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
            path = request.split(" ", 2)[1].split("?")[0]
            headers = {}
            for line in request.split("\r\n")[1:]:
                if ":" in line:
                    k, v = line.split(":", 1)
                    headers[k.strip().lower()] = v.strip()
            deflate = "permessage-deflate" in headers.get("sec-websocket-extensions", "")
            accept = base64.b64encode(hashlib.sha1(headers["sec-websocket-key"].encode() + GUID).digest()).decode()
            response = ("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                        f"Sec-WebSocket-Accept: {accept}\r\n")
            if deflate:
                response += "Sec-WebSocket-Extensions: permessage-deflate\r\n"
            writer.write((response + "\r\n").encode())
            await skip_frame(reader)  # the subscription
            drain = asyncio.create_task(_discard(reader))
            writer.write(streams[(path, deflate)])
            writer.write(b"\x88\x02\x03\xe8")  # close 1000
            await writer.drain()
            await asyncio.wait_for(drain, 30)
        except (OSError, asyncio.IncompleteReadError, TimeoutError, KeyError, IndexError):
            pass
        finally:
            writer.close()

    async def _discard(reader: asyncio.StreamReader) -> None:
        while await reader.read(65536):
            pass

    async def main() -> None:
        server = await asyncio.start_server(handle, "127.0.0.1", 0)
        port_queue.put(server.sockets[0].getsockname()[1])
        async with server:
            await server.serve_forever()

    asyncio.run(main())


# -- clients ------------------------------------------------------------------------------


def _window(n: int) -> tuple[int, int]:
    # Measure between these frame counts: skip the connect/initial dump and the close.
    return n // 10, n - n // 10


async def bare_loop(url: str, n: int, deflate: bool) -> tuple[float, float]:
    """Frames/s of wall time and frames per CPU-second of this thread, over the window."""
    from websockets.asyncio.client import connect

    from arbkit.runner.connections import WsOptions

    k0, k1 = _window(n)
    async with connect(url, **WsOptions(permessage_deflate=deflate).connect_kwargs()) as ws:
        await ws.send(b'{"type":"market","assets_ids":[]}', text=True)
        for _ in range(k0):
            await ws.recv(decode=False)
        wall0, cpu0 = time.perf_counter(), time.thread_time()
        for _ in range(k1 - k0):
            await ws.recv(decode=False)
        wall1, cpu1 = time.perf_counter(), time.thread_time()
        for _ in range(n - k1):
            await ws.recv(decode=False)
    return (k1 - k0) / (wall1 - wall0), (k1 - k0) / (cpu1 - cpu0)


def _config(tmp: Path, port: int, deflate: bool, flush_interval_s: float = 1.0):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    from arbkit.config import parse_config

    key_path = tmp / "bench.pem"
    if not key_path.exists():
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
        key_path.chmod(0o600)
    pairs = "".join(
        f'[[pairs]]\nname = "p{i}"\nkalshi_ticker = "{TICKERS[i]}"\n'
        f'polymarket_yes_token = "{ASSETS[2 * i]}"\npolymarket_no_token = "{ASSETS[2 * i + 1]}"\n'
        for i in range(len(TICKERS))
    )
    text = (f'[venues.kalshi]\nws_url = "ws://127.0.0.1:{port}{KALSHI_PATH}"\nkey_id = "bench-key"\n'
            f'private_key_path = "{key_path}"\n[venues.polymarket]\nws_url = "ws://127.0.0.1:{port}{POLY_PATH}"\n'
            f"[recorder]\nflush_interval_s = {flush_interval_s}\nstale_after_s = 600\n"
            f"permessage_deflate = {'true' if deflate else 'false'}\n" + pairs)
    return parse_config(text, base_dir=tmp)


async def recorder_run(
    tmp: Path, port: int, venue: str, n: int, deflate: bool, flush_interval_s: float
) -> tuple[float, float, float]:
    """Wall and CPU frame rates of the real Recorder over the window, and bytes per frame."""
    from arbkit.runner.record import Recorder

    root = tmp / f"rec-{venue}-{deflate}-{time.monotonic_ns()}"
    recorder = Recorder(_config(tmp, port, deflate, flush_interval_s), root, venues=(venue,))
    stats = recorder.stats[venue]
    marks: list[tuple[int, float, float]] = []

    async def watch() -> None:
        # Polls every 2 ms on the recorder's own loop thread, so thread_time() is its CPU.
        for threshold in _window(n):
            while stats.frames_in < threshold:
                await asyncio.sleep(0.002)
            marks.append((stats.frames_in, time.perf_counter(), time.thread_time()))
        while stats.frames_in < n:
            await asyncio.sleep(0.01)
        recorder.stop()

    watcher = asyncio.create_task(watch())
    summary = await recorder.run()
    await watcher
    (f0, w0, c0), (f1, w1, c1) = marks
    files = sorted((root / "frames").rglob(f"{summary.session_id}-*.parquet"))
    rows = sum(pq.ParquetFile(f).metadata.num_rows for f in files)
    disk = sum(f.stat().st_size for f in files)
    return (f1 - f0) / (w1 - w0), (f1 - f0) / (c1 - c0), disk / rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3, help="runs per cell; the best is kept")
    parser.add_argument("--flush-interval", type=float, default=1.0, help="recorder.flush_interval_s")
    args = parser.parse_args()
    n = args.frames

    ctx = multiprocessing.get_context("spawn")
    ports: multiprocessing.Queue = ctx.Queue()
    server = ctx.Process(target=_serve, args=(ports, n), daemon=True)
    server.start()
    port = ports.get(timeout=120)
    print(f"flood server on 127.0.0.1:{port}, {n:,} frames per connection, best of {args.repeat}, "
          f"flush interval {args.flush_interval:g} s")
    print("wall: frames per elapsed second; cpu: frames per CPU-second of the receiving thread")
    print("(robust to other load on the machine); ratio = recorder / bare.")
    print(f"{'venue':<11}{'deflate':<8}{'bare wall':>11}{'rec wall':>10}{'ratio':>7}"
          f"{'bare cpu':>11}{'rec cpu':>10}{'ratio':>7}{'B/frame':>9}")
    try:
        with tempfile.TemporaryDirectory() as tmp_name:
            tmp = Path(tmp_name)
            for venue, path in (("kalshi", KALSHI_PATH), ("polymarket", POLY_PATH)):
                for deflate in (False, True):
                    url = f"ws://127.0.0.1:{port}{path}"
                    bare = [asyncio.run(bare_loop(url, n, deflate)) for _ in range(args.repeat)]
                    rec = [asyncio.run(recorder_run(tmp, port, venue, n, deflate, args.flush_interval))
                           for _ in range(args.repeat)]
                    bw, bc = max(b[0] for b in bare), max(b[1] for b in bare)
                    rw, rc = max(r[0] for r in rec), max(r[1] for r in rec)
                    per_frame = min(r[2] for r in rec)
                    print(f"{venue:<11}{'on' if deflate else 'off':<8}{bw:>11,.0f}{rw:>10,.0f}{rw / bw:>7.2f}"
                          f"{bc:>11,.0f}{rc:>10,.0f}{rc / bc:>7.2f}{per_frame:>9.1f}", flush=True)
    finally:
        server.terminate()
        server.join(5)


if __name__ == "__main__":
    main()
