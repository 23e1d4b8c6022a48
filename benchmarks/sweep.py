"""Sweep scaling: 8 tasks on a 2-worker process pool against a 1-worker pool (issue 14).

Generates (once, cached under --workdir) a sandbox recording of --frames rows, then runs the
same 8-point grid (detector.min_edge x latency.kalshi_ms) into a fresh sweep directory with
1 worker and with 2 workers, best of --repeat each, and prints the wall times and the speed-up.
Target (issue 14): 2 workers >= 1.8x faster than 1. The default recording (300,000 frames, ~2 s
of replay per task) keeps the fixed costs (pool start, planning, writing sweep.parquet) small
against the tasks, as in a real sweep, where a task replays a session of hours; at 60,000 frames
(~0.65 s a task) those costs alone hold the ratio near 1.7x. The speed-up needs two idle cores: the load
average is printed before and after, and on a shared machine the ratio is depressed by
whatever else runs (a load above the core count leaves the second worker little to gain).

With --ray, also runs the grid on a local Ray (num_cpus=2) and prints its overhead per task
against the 2-worker pool.

    .venv/bin/python benchmarks/sweep.py [--frames N] [--workdir DIR] [--repeat R] [--ray]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import tempfile
import time
from pathlib import Path

from arbkit import sweep as sw
from arbkit.config import load_config
from arbkit.sandbox.generate import generate_recording
from arbkit.sweep.grid import parse_grid

GRID = "detector.min_edge = [0.005, 0.01]\nlatency.kalshi_ms = [0, 50, 100, 250]\n"
TARGET_SPEEDUP = 1.8


def _run(recording: Path, executor: sw.Executor, repeat: int) -> tuple[float, float]:
    """Best wall seconds of the whole sweep (plan, tasks, sweep.parquet) into a fresh directory,
    and the CPU seconds its worker processes used in that repeat."""
    config = load_config(recording / "arbkit.toml")
    points = parse_grid(GRID)
    best, cpu = float("inf"), 0.0
    for _ in range(repeat):
        before = _children_cpu()
        out = Path(tempfile.mkdtemp(prefix="arbkit-bench-sweep-"))
        try:
            started = time.perf_counter()
            tasks = sw.plan(str(recording), config, points, out, keep_runs=False)
            result = sw.sweep(tasks, out, executor)
            wall = time.perf_counter() - started
            if wall < best:
                best, cpu = wall, _children_cpu() - before
            assert result.failed == 0 and result.ran == len(tasks) == 8
        finally:
            shutil.rmtree(out, ignore_errors=True)
    return best, cpu


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=300_000)
    parser.add_argument("--workdir", type=Path, default=Path(tempfile.gettempdir()) / "arbkit-bench-sweep")
    parser.add_argument("--repeat", type=int, default=2)
    parser.add_argument("--ray", action="store_true", help="also time a local Ray (num_cpus=2)")
    args = parser.parse_args()

    recording = args.workdir / f"rec-{args.frames}"
    if not (recording / "arbkit.toml").exists():
        generate_recording(recording, frames=args.frames, pairs=4, seed=7, rate=150.0)
    print(f"recording: {recording} ({args.frames:,} frames, 1 session); grid: 8 points")
    print(f"cores: {os.cpu_count()}; load average before: {os.getloadavg()[0]:.2f}")
    one, one_cpu = _run(recording, sw.pool_executor(1), args.repeat)
    two, two_cpu = _run(recording, sw.pool_executor(2), args.repeat)
    print(f"1 worker : {one:7.2f} s wall, {one_cpu:6.2f} s CPU in the workers")
    print(f"2 workers: {two:7.2f} s wall, {two_cpu:6.2f} s CPU in the workers")
    verdict = "meets" if one / two >= TARGET_SPEEDUP else "below"
    print(f"speed-up : {one / two:.2f}x ({verdict} the {TARGET_SPEEDUP}x target)")
    if args.ray:
        from arbkit.sweep.ray import ray_executor

        ray, _ = _run(recording, ray_executor("local"), args.repeat)
        print(f"ray local: {ray:7.2f} s  (overhead against the 2-worker pool: {(ray - two) / 8 * 1000:+.0f} ms/task)")
    print(f"load average after: {os.getloadavg()[0]:.2f} (a load above {os.cpu_count()} depresses the speed-up)")


if __name__ == "__main__":
    main()
