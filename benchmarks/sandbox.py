"""Sandbox throughput: offline generation rate and the highest paced serve rate a client sees.

    .venv/bin/python benchmarks/sandbox.py [--frames 300000] [--rates 1000,3000,6000,10000]
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import orjson
from websockets.asyncio.client import connect

from arbkit.config import load_config
from arbkit.sandbox import Scenario, ScenarioConfig
from arbkit.sandbox.generate import generate_recording, iter_generated_batches
from arbkit.venues.kalshi.auth import load_private_key, sign_headers


def bench_generate(frames: int) -> None:
    scenario = Scenario(ScenarioConfig(seed=1, pairs=10, rate=2000))
    cpu = time.process_time()
    wall = time.perf_counter()
    for _ in iter_generated_batches(scenario, frames, "bench"):
        pass
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(f"generate (frames only)     {frames / cpu:>10,.0f} frames/s CPU  {frames / wall:>10,.0f} wall")
    with tempfile.TemporaryDirectory() as out:
        cpu = time.process_time()
        result = generate_recording(out, frames=frames, pairs=10, seed=1)
        cpu = time.process_time() - cpu
    print(f"generate (+ sealed store)  {frames / cpu:>10,.0f} frames/s CPU  "
          f"{frames / result.seconds:>10,.0f} wall")


async def _count(ws, seconds: float) -> int:
    n = 0
    end = time.monotonic() + seconds
    while (left := end - time.monotonic()) > 0:
        try:
            await asyncio.wait_for(ws.recv(), left)
        except TimeoutError:
            break
        n += 1
    return n


async def _measure(workdir: Path, urls: dict[str, str], seconds: float) -> tuple[float, float]:
    config = load_config(workdir / "arbkit.toml")
    key = load_private_key(config.key_path())
    headers = sign_headers(config.venues.kalshi.key_id, key, time.time_ns() // 1_000_000)
    async with connect(urls["kalshi"], additional_headers=headers, max_queue=None) as kws, \
            connect(urls["polymarket"], max_queue=None) as pws:
        await kws.send(orjson.dumps({"id": 1, "cmd": "subscribe", "params": {
            "channels": ["orderbook_delta"],
            "market_tickers": [p.kalshi_ticker for p in config.pairs]}}).decode())
        await pws.send(orjson.dumps({"type": "market", "assets_ids": [
            a for p in config.pairs for a in (p.polymarket_yes_token, p.polymarket_no_token)]}).decode())
        await asyncio.sleep(0.5)
        k, p = await asyncio.gather(_count(kws, seconds), _count(pws, seconds))
    return k / seconds, p / seconds


def bench_serve(rate: float, seconds: float = 4.0) -> tuple[float, float]:
    """Serve in a subprocess (as a user runs it) and count what one client per venue receives."""
    with tempfile.TemporaryDirectory() as workdir:
        proc = subprocess.Popen([str(Path(sys.executable).with_name("arbkit")), "sandbox", "serve",
                                 "--workdir", workdir, "--pairs", "10", "--rate", str(rate)],
                                stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            urls = {}
            while len(urls) < 2:
                name, _, value = proc.stdout.readline().strip().partition(" ")
                if name in ("kalshi", "polymarket"):
                    urls[name] = value.strip()
            return asyncio.run(_measure(Path(workdir), urls, seconds))
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=300_000)
    parser.add_argument("--rates", default="1000,3000,6000,10000")
    args = parser.parse_args()
    bench_generate(args.frames)
    for rate in (float(r) for r in args.rates.split(",")):
        kalshi, poly = bench_serve(rate)
        print(f"serve target {rate:>8,.0f}/s per venue: kalshi {kalshi:>8,.0f}/s  polymarket {poly:>8,.0f}/s")


if __name__ == "__main__":
    main()
