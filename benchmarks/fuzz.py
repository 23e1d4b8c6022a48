"""Fuzz the decoders, books, engine and the recorder's frame readers (issue 16).

Feeds --frames hostile frames (`arbkit.sandbox.fuzz.HostileFrames`: both venues' wire shapes,
fields replaced by hostile values, byte-level mutations, nesting thousands deep, ~10 MB frames)
through the engine (decode, books, detector, risk, paper fills), the sealing step's derived
columns and the Kalshi recorder's envelope reader, in chunks, and prints counts: frames, bytes,
decode errors, outputs, and every uncaught exception (there must be none; exit 1 otherwise).

    .venv/bin/python benchmarks/fuzz.py [--frames 1000000] [--seed 1] [--chunk 50000]
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import time
from collections import Counter

from arbkit.sandbox.fuzz import FuzzResult, HostileFrames, fuzz_frames


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--chunk", type=int, default=50_000, help="frames per progress line")
    parser.add_argument("--big-every", type=int, default=100_000,
                        help="about one frame in this many is ~10 MB (0: never)")
    args = parser.parse_args()

    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"fuzz: {args.frames:,} frames, seed {args.seed}, load average {load}", flush=True)
    stream = HostileFrames(args.seed, big_every=args.big_every)
    total = FuzzResult()
    start = time.perf_counter()
    cpu = time.process_time()
    done = 0
    while done < args.frames:
        n = min(args.chunk, args.frames - done)
        part = fuzz_frames(itertools.islice(stream, n))
        done += part.frames
        total.frames += part.frames
        total.bytes += part.bytes
        total.decode_errors += part.decode_errors
        total.outputs += part.outputs
        total.huge += part.huge
        total.crashes += part.crashes
        print(f"  {done:>10,} frames  {total.decode_errors:>10,} decode errors  "
              f"{len(total.crashes):,} crashes  {time.perf_counter() - start:7.1f} s", flush=True)
    wall = time.perf_counter() - start
    cpu = time.process_time() - cpu
    print(f"\nframes fed          {total.frames:,} ({total.bytes / 1e6:,.0f} MB; {total.huge} of them over 1 MB)")
    print(f"decode errors       {total.decode_errors:,} ({total.decode_errors / total.frames:.1%})")
    print(f"engine output rows  {total.outputs:,}")
    print(f"uncaught exceptions {len(total.crashes):,}")
    print(f"time                {wall:,.0f} s wall, {cpu:,.0f} s cpu "
          f"({total.frames / cpu:,.0f} frames/s cpu)")
    for what, count in Counter(c.split(" <- ")[0][:160] for c in total.crashes).most_common(20):
        print(f"  {count:>8,}  {what}")
    if total.crashes:
        print(f"first: {total.crashes[0][:400]}")
        sys.exit(1)


if __name__ == "__main__":
    main()
