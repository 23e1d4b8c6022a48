"""Time of `arbkit report` per section, and the file's size, on a large sandbox recording (issue 11).

Generates (once, cached under --workdir) a recording of --frames rows with `arbkit sandbox
generate` and replays it once with its own config (or takes --recording and --run), then:

- runs `arbkit report PATH --run RUN -o FILE` as a child process, best of --repeat: wall and CPU
  time (user + sys, from wait4) end to end, with interpreter start-up and imports;
- builds the report in this process and prints the wall and CPU seconds of each section (the
  `setup` line is opening the views and reading the stats document), then rendering;
- prints the HTML file's size and its largest figures.

Targets (issue 11): the whole report in <= 60 s on a 2-core machine, the file <= 5 MB. The
machine may be shared: the load average is printed before and after, and CPU time is given
beside wall time.

    .venv/bin/python benchmarks/report.py [--frames N] [--pairs P] [--seed S] [--workdir DIR]
                                          [--recording PATH --run RUN_DIR] [--repeat R]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# Run as a script from benchmarks/: its sibling measures child processes the same way.
from replay import _MEASURE, arbkit_command  # noqa: E402

TARGET_S = 60.0
TARGET_MB = 5.0


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} on {os.cpu_count()} cores"


def recording(workdir: Path, frames: int, pairs: int, seed: int) -> Path:
    """A cached generated recording of `frames` rows (generated beside and renamed when done)."""
    path = workdir / f"rec-{frames}f-{pairs}p-s{seed}"
    if (path / "arbkit.toml").exists() and (path / "sessions").is_dir():
        return path
    workdir.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=path.name + ".", dir=workdir))
    print(f"generating {frames:,} frames into {path} ...", flush=True)
    started = time.perf_counter()
    subprocess.run([*arbkit_command(), "sandbox", "generate", "--out", str(tmp), "--frames", str(frames),
                    "--pairs", str(pairs), "--seed", str(seed)], check=True, stdout=subprocess.DEVNULL)
    shutil.rmtree(path, ignore_errors=True)
    tmp.rename(path)
    print(f"  generated in {time.perf_counter() - started:.0f} s", flush=True)
    return path


def replayed(rec: Path) -> Path:
    """A cached replay of `rec` with its own config."""
    run = rec.with_name(rec.name + "-run")
    if (run / "run.json").exists():
        return run
    tmp = Path(tempfile.mkdtemp(prefix=run.name + ".", dir=rec.parent))
    print(f"replaying {rec} into {run} ...", flush=True)
    started = time.perf_counter()
    subprocess.run([*arbkit_command(), "replay", "--from", str(rec), "--config", str(rec / "arbkit.toml"),
                    "--out", str(tmp)], check=True, stdout=subprocess.DEVNULL)
    shutil.rmtree(run, ignore_errors=True)
    tmp.rename(run)
    print(f"  replayed in {time.perf_counter() - started:.0f} s", flush=True)
    return run


def time_cli(rec: Path, run: Path, out: Path, repeat: int) -> dict:
    """Best wall time of `arbkit report` as a child process, with its CPU time and peak RSS."""
    best: dict = {}
    command = [*arbkit_command(), "report", str(rec), "--run", str(run), "-o", str(out)]
    for _ in range(repeat):
        measured = subprocess.run([sys.executable, "-c", _MEASURE, *command], check=True,
                                  capture_output=True, text=True)
        result = json.loads(measured.stdout)
        if result["status"] != 0:
            raise SystemExit(f"arbkit report failed with exit code {result['status']}")
        if not best or result["wall"] < best["wall"]:
            best = result
    return best


def count_frames(rec: Path) -> int:
    import pyarrow.parquet as pq

    return sum(pq.ParquetFile(p).metadata.num_rows for p in rec.glob("frames/**/*.parquet"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=10_000_000)
    parser.add_argument("--pairs", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "arbkit-bench")
    parser.add_argument("--recording", type=Path, help="Use this recording instead of generating one.")
    parser.add_argument("--run", type=Path, help="Use this run of --recording instead of replaying it.")
    parser.add_argument("--repeat", type=int, default=1, help="End-to-end runs of `arbkit report` (0: none).")
    args = parser.parse_args()

    from arbkit.report import build_report, render

    rec = args.recording or recording(args.workdir, args.frames, args.pairs, args.seed)
    run = args.run or replayed(rec)
    frames = count_frames(rec)
    print(f"recording {rec}: {frames:,} frames; run {run}")
    print(f"before: {load()}")

    wall, cpu = time.perf_counter(), time.process_time()
    report = build_report(rec, run)
    built_wall, built_cpu = time.perf_counter() - wall, time.process_time() - cpu
    wall = time.perf_counter()
    html = render(report)
    render_wall = time.perf_counter() - wall
    size = len(html.encode("utf-8"))
    cli = None
    if args.repeat > 0:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "report.html"
            cli = time_cli(rec, run, out, args.repeat)
            size = out.stat().st_size

    print(f"after:  {load()}\n")
    print(f"{'section':<22}{'wall s':>9}{'share':>8}")
    for section in report.timings:
        print(f"{section.key:<22}{section.seconds:>9.2f}{section.seconds / built_wall:>8.0%}")
    print(f"{'render (Jinja2)':<22}{render_wall:>9.2f}")
    print(f"{'build in process':<22}{built_wall:>9.2f}   CPU {built_cpu:.2f} s (DuckDB's threads included)")
    total = built_wall + render_wall
    if cli is not None:
        print(f"\narbkit report end to end (child process, best of {args.repeat}): {cli['wall']:.1f} s wall, "
              f"{cli['cpu']:.1f} s CPU, peak RSS {cli['maxrss_kib'] / 1024:.0f} MB")
        total = cli["wall"]
    print(f"  target <= {TARGET_S:.0f} s: {total / TARGET_S:.2f} x the budget "
          f"({frames / total:,.0f} frames/s of recording)")
    print(f"file size: {size / 1e6:.2f} MB ({size / (TARGET_MB * 1e6):.2f} x the {TARGET_MB:.0f} MB budget)")
    figures = sorted((len(m.group(0)), m.group(1)) for m in re.finditer(
        r'<figure>\s*<h3>([^<]*)</h3>.*?</figure>', html, re.S))
    for length, title in figures[::-1][:5]:
        print(f"  figure {title!r}: {length / 1e3:.0f} kB")


if __name__ == "__main__":
    main()
