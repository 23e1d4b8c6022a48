"""Analytics at scale: `stats` and every view on a generated recording, against a bare count.

    .venv/bin/python benchmarks/analytics.py [--frames 10000000] [--recording PATH] [--keep DIR]

Generates a recording with `arbkit sandbox generate` (or uses PATH), then, each in a fresh
process so peak RSS is its own: a bare DuckDB `count(*) ... GROUP BY venue` over the same
files (the baseline), `arbkit.analytics.stats`, and each view fully computed
(`SELECT count(*), sum(hash(v)) FROM view v`). Prints wall and CPU seconds, peak RSS, and
each time as a ratio to the baseline, with the load average (other processes share the CPU).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = r"""
import json, resource, sys, time
def cpu():
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime
what, path = sys.argv[1], sys.argv[2]
if what == "baseline":
    import duckdb
    from arbkit.store.reader import resolve
    files = sorted({str(f.path) for s in resolve(path) for f in s.files})
    con = duckdb.connect()
    con.execute("SET enable_progress_bar = false")
    wall, c = time.perf_counter(), cpu()
    rows = con.execute("SELECT venue, count(*) FROM read_parquet($f, hive_partitioning = true) GROUP BY venue",
                       {"f": files}).fetchall()
    result = {"rows": sum(n for _, n in rows)}
elif what == "stats":
    from arbkit.analytics import stats
    wall, c = time.perf_counter(), cpu()
    doc = stats(path)
    result = {"rows": doc["recording"]["frames"]}
else:
    from arbkit.analytics import connect
    con = connect(path)
    wall, c = time.perf_counter(), cpu()
    (rows, _), = con.execute(f'SELECT count(*), sum(hash(v)) FROM "{what}" v').fetchall()
    result = {"rows": rows}
result.update(wall=time.perf_counter() - wall, cpu=cpu() - c,
              rss_mb=resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
print(json.dumps(result))
"""

# Views over the recording (run views are empty without a run and take no time).
RECORDING_VIEWS = (
    "sessions", "connections", "reconnects", "coverage", "message_rates", "feed_latency",
    "book_frames", "book_update_rows", "book_gaps", "book_updates", "book_staleness", "venue_staleness",
    "seq_gaps", "stalls",
    "decode_errors", "venue_summary", "recording_summary",
)


def measure(what: str, path: Path) -> dict:
    out = subprocess.run([sys.executable, "-c", CHILD, what, str(path)], capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"{what} failed:\n{out.stderr}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=10_000_000)
    parser.add_argument("--recording", type=Path, help="Use this recording instead of generating one.")
    parser.add_argument("--keep", type=Path, help="Generate into DIR and keep it (reused when it exists).")
    parser.add_argument("--views", default=",".join(RECORDING_VIEWS), help="Comma-separated views to time.")
    args = parser.parse_args()

    scratch = None
    path = args.recording or args.keep
    if path is None:
        scratch = Path(tempfile.mkdtemp(prefix="arbkit-bench-analytics-"))
        path = scratch / "recording"
    try:
        if not (path / "frames").is_dir():
            from arbkit.sandbox.generate import generate_recording

            print(f"generating {args.frames:,} frames into {path} ...", flush=True)
            started = time.perf_counter()
            generate_recording(path, frames=args.frames, pairs=20, seed=1)
            print(f"  generated in {time.perf_counter() - started:.0f} s", flush=True)
        size = sum(f.stat().st_size for f in (path / "frames").rglob("*.parquet"))
        print(f"recording {path}: {size / 2**20:,.0f} MiB of Parquet; {os.cpu_count()} cores; "
              f"load average {load()}")
        base = measure("baseline", path)
        print(f"{'what':<22}{'rows':>12}{'wall s':>9}{'cpu s':>8}{'RSS MB':>8}{'x count':>9}")

        def line(name: str, m: dict) -> None:
            print(f"{name:<22}{m['rows']:>12,}{m['wall']:>9.2f}{m['cpu']:>8.2f}{m['rss_mb']:>8.0f}"
                  f"{m['wall'] / base['wall']:>9.1f}", flush=True)

        line("count(*) by venue", base)
        line("stats", measure("stats", path))
        for view in filter(None, args.views.split(",")):
            line(view, measure(view, path))
        print(f"load average at the end {load()}")
    finally:
        if scratch is not None:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    main()
