"""Replay speed and memory on workload shapes, against a bare "read Parquet + orjson.loads" loop.

Shapes (issue 15; recordings generated once per shape and size, cached under --workdir):

- sandbox      `arbkit sandbox generate`, 4 pairs: the sandbox scenario, mostly far from parity;
- near-parity  24 pairs quoting around the same price, top-of-book sums within a few cents of $1,
               ~16 windows open on average, 10-level books (`arbkit.sandbox.workloads`);
- many-pairs   200 pairs of the same flow (5M frames by default: the final measurement);
- deep-books   50 levels a side, a snapshot or book re-send on one frame in ten;
- quiet        long gaps, ~70% of rows the Polymarket PING/PONG keep-alive.

Each figure comes from a fresh worker process pinned to one CPU (--cpu) that times one stage over
the whole recording with the process's own CPU time (user + sys; the machine may be shared, and
CPU time is what one core delivers when other work competes for it), best of --repeat. Stages
are cumulative, so each part of the split is the difference between two of them:

- bare      read the Parquet files row group by row group (payload column) + orjson.loads (with
            --baseline, the best of its runs in either copy's turns: it runs no arbkit code);
- read      `iter_frame_lists`, the replay's reading half;
- decode    read + every received frame through its connection's venue decoder;
- books     the engine with no pairs configured: read, decode, books and the engine's own glue;
- detector  the engine with the recording's pairs, every opportunity denied by risk (connection
            warm-up): + the detector;
- replay    `arbkit.runner.replay.replay` in full: + risk, paper orders, fills, portfolio and
            writing the run tables (risk+fills in the split). Its peak RSS is reported, and, with
            --rss-check, that of a replay of a fifth of the rows to show it is flat in length.

Targets (issue 15): replay >= 0.5 x the bare loop compiled, >= 0.3 x pure Python; peak RSS
<= 300 MB. The workers run a copy of the installed arbkit taken at the start (so editing the
checkout meanwhile changes nothing measured); --pure copies it without its compiled extensions,
as ARBKIT_PURE_PYTHON=1 installs it. --baseline measures another such copy (say, of the code
before a change) in turn with this one, so both see the same machine: on a shared machine that
is the fair before/after. --json writes the figures.

    .venv/bin/python benchmarks/replay.py [--shape NAME ...] [--frames N] [--repeat R] [--pure]
                                          [--rss-check] [--baseline DIR] [--json FILE]
                                          [--workdir DIR] [--cpu C]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path
from typing import Any

SHAPES = {  # name -> default frames
    "sandbox": 1_000_000,
    "near-parity": 1_000_000,
    "many-pairs": 5_000_000,
    "deep-books": 1_000_000,
    "quiet": 1_000_000,
}
SANDBOX_PAIRS = 4
STAGES = ("bare", "read", "decode", "books", "detector", "replay")
SPLIT = ("read", "decode", "books", "detector", "risk+fills")
TARGET_RATIO = {"compiled": 0.5, "pure": 0.3}
TARGET_RSS_MB = 300
TARGET_E2E_RATE = 250_000
# A "never connected long enough" warm-up: risk denies every opportunity before sizing it.
DENY_ALL_UPTIME_S = 1e12


# -- recordings -------------------------------------------------------------------------------


def recording(workdir: Path, shape: str, frames: int, seed: int) -> Path:
    """Return the cached recording of `shape` with `frames` rows, generating it first if missing."""
    path = workdir / f"{shape}-{frames}f-s{seed}"
    if (path / "arbkit.toml").exists() and (path / "sessions").is_dir():
        return path
    # Generate beside the final path and rename, so an interrupted run is never reused.
    tmp = Path(tempfile.mkdtemp(prefix=path.name + ".", dir=workdir))
    print(f"generating {shape}: {frames:,} frames into {path} ...", flush=True)
    started = time.perf_counter()
    # In a child: generating grows a process, and a worker forked from a large driver would
    # inherit its peak RSS (Linux carries the pre-exec high-water mark into ru_maxrss).
    subprocess.run([sys.executable, __file__, "--generate", shape, str(frames), str(seed), str(tmp)],
                   check=True)
    shutil.rmtree(path, ignore_errors=True)
    tmp.rename(path)
    print(f"  generated in {time.perf_counter() - started:.0f} s", flush=True)
    return path


def generate(shape: str, frames: int, seed: int, out: Path) -> None:
    """Write the recording of `shape` under `out`."""
    if shape == "sandbox":
        from arbkit.sandbox.generate import generate_recording

        generate_recording(out, frames=frames, pairs=SANDBOX_PAIRS, seed=seed)
    else:
        from arbkit.sandbox.workloads import generate_workload

        generate_workload(out, shape, frames=frames, seed=seed)


def package_copy(workdir: Path, pure: bool) -> Path:
    """A sys.path entry holding a fresh copy of the installed arbkit, without its compiled
    extensions when `pure`: the workers run that copy, so editing the checkout while a
    measurement runs does not change what is measured."""
    import arbkit

    package = Path(arbkit.__file__).resolve().parent
    root = workdir / ("build-pure" if pure else "build-compiled")
    shutil.rmtree(root, ignore_errors=True)
    skip = [f"*{suffix}" for suffix in EXTENSION_SUFFIXES] if pure else []
    shutil.copytree(package, root / "arbkit", ignore=shutil.ignore_patterns("__pycache__", *skip))
    if not pure:
        # mypyc's shared library of every compiled module sits beside the package.
        for library in package.parent.glob("arbkit__mypyc.*"):
            shutil.copy2(library, root / library.name)
    return root


# -- the stages (run in a worker process) -----------------------------------------------------


def _bare(rec: Path) -> int:
    import orjson
    import pyarrow.parquet as pq

    rows = 0
    loads = orjson.loads
    for path in sorted((rec / "frames").rglob("*.parquet")):
        parquet = pq.ParquetFile(path)
        for group in range(parquet.metadata.num_row_groups):
            payloads = parquet.read_row_group(group, columns=["payload"], use_threads=False)
            for payload in payloads.column(0).to_pylist():
                try:
                    loads(payload)
                except orjson.JSONDecodeError:
                    pass  # text frames ("PONG"): the read is what is being timed
            rows += payloads.num_rows
    return rows


def _read(rec: Path) -> int:
    from arbkit.runner.replay import ROW_COLUMNS
    from arbkit.store.reader import iter_frame_lists

    rows = 0
    for batch in iter_frame_lists(rec, columns=ROW_COLUMNS):
        rows += len(batch[0])
    return rows


def _decode(rec: Path) -> int:
    from arbkit.core.frame import KIND_IN
    from arbkit.runner.replay import ROW_COLUMNS
    from arbkit.store.reader import iter_frame_lists
    from arbkit.venues import make_decoder

    decoders: dict[tuple[str, str, int], Any] = {}
    rows = 0
    for sessions, _, times, venues, conns, kinds, payloads in iter_frame_lists(rec, columns=ROW_COLUMNS):
        rows += len(payloads)
        for session, now, venue, conn, kind, payload in zip(sessions, times, venues, conns, kinds, payloads):
            if kind == KIND_IN:
                decode = decoders.get((session, venue, conn))
                if decode is None:
                    decode = decoders[(session, venue, conn)] = make_decoder(venue).decode
                decode(payload, now)
    return rows


def _engine(rec: Path, config: Any) -> int:
    from arbkit.engine import Engine
    from arbkit.runner.replay import ROW_COLUMNS
    from arbkit.store.reader import iter_frame_lists

    engine = Engine(config)
    for batch in iter_frame_lists(rec, columns=ROW_COLUMNS):
        engine.process_rows(*batch)
    engine.finish()
    return engine.frames


def run_stage(stage: str, rec: Path, out: Path) -> dict[str, Any]:
    """Time one stage over the recording in this process; return rows, CPU s and peak RSS."""
    import msgspec

    from arbkit.config import load_config

    config = load_config(rec / "arbkit.toml")
    if stage == "books":
        config = msgspec.structs.replace(config, pairs=[])
    elif stage == "detector":
        risk = msgspec.structs.replace(config.risk, min_connection_uptime_s=DENY_ALL_UPTIME_S)
        config = msgspec.structs.replace(config, risk=risk)
    shutil.rmtree(out, ignore_errors=True)
    cpu, wall = time.process_time(), time.perf_counter()
    if stage == "bare":
        rows = _bare(rec)
    elif stage == "read":
        rows = _read(rec)
    elif stage == "decode":
        rows = _decode(rec)
    elif stage in ("books", "detector"):
        rows = _engine(rec, config)
    else:
        from arbkit.runner.replay import replay

        rows = replay(rec, config, out).frames
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    import arbkit.engine

    return {
        "rows": rows,
        "cpu": cpu,
        "wall": wall,
        "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "build": "pure" if arbkit.engine.__file__.endswith(".py") else "compiled",
    }


# -- the driver -------------------------------------------------------------------------------


def arbkit_command() -> list[str]:
    """The installed `arbkit` command (benchmarks/report.py starts it too)."""
    script = Path(sys.executable).with_name("arbkit")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-c", "from arbkit.cli import main; main()"]


# Peak RSS of a child forked straight from a large process would count that process's pages:
# Linux carries the pre-exec memory's high-water mark into ru_maxrss. So a command is started by
# a small fresh Python that waits for it and reports the child's own figures.
_MEASURE = """
import json, os, subprocess, sys, time
started = time.perf_counter()
child = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL)
_, status, usage = os.wait4(child.pid, 0)
print(json.dumps({"wall": time.perf_counter() - started, "status": os.waitstatus_to_exitcode(status),
                  "cpu": usage.ru_utime + usage.ru_stime, "maxrss_kib": usage.ru_maxrss}))
"""


def time_cli(rec: Path, run_dir: Path, copy: Path, repeat: int) -> Stage:
    """`arbkit replay` of the copy end to end as a child process (start-up, imports, outputs, exit)."""
    best = Stage()
    env = {**os.environ, "PYTHONPATH": str(copy)}
    command = [sys.executable, "-P", "-c", "from arbkit.cli import main; main()", "replay", "--from", str(rec), "--config",
               str(rec / "arbkit.toml"), "--out", str(run_dir)]
    for _ in range(repeat):
        shutil.rmtree(run_dir, ignore_errors=True)
        measured = subprocess.run([sys.executable, "-c", _MEASURE, *command], check=True,
                                  capture_output=True, text=True, env=env)
        report = json.loads(measured.stdout)
        if report["status"] != 0:
            raise SystemExit(f"arbkit replay failed with exit code {report['status']}")
        best.cpu = min(best.cpu, report["cpu"])
        best.wall = min(best.wall, report["wall"])
        best.rss_mb = max(best.rss_mb, report["maxrss_kib"] / 1024)
    return best


@dataclass
class Stage:
    """Best CPU and wall seconds over the repeats, and the largest peak RSS seen (MB)."""

    rows: int = 0
    cpu: float = float("inf")
    wall: float = float("inf")
    rss_mb: float = 0.0


def measure(stages: tuple[str, ...], rec: Path, args: argparse.Namespace, build: str,
            copies: dict[str, Path], repeat: int) -> dict[str, dict[str, Stage]]:
    """Run each stage in `repeat` fresh worker processes per copy of arbkit and keep each copy's
    best times per stage.

    The rounds interleave: each round runs every stage once for every copy in turn, so a stage's
    best of `repeat` comes from as many different moments as the others'. On a machine whose
    speed drifts (a shared VM host), measuring one stage's repeats back to back would compare
    stages taken in a fast minute with stages taken in a slow one.
    """
    best = {stage: {label: Stage() for label in copies} for stage in stages}
    for _ in range(repeat):
        for stage in stages:
            for label, copy in copies.items():
                # -P keeps the script's directory off sys.path; PYTHONPATH puts the copy first.
                env = {**os.environ, "PYTHONPATH": str(copy)}
                command = [sys.executable, "-P", __file__, "--worker", stage, str(rec),
                           str(args.workdir / f"run-{stage}")]
                done = subprocess.run(command, check=True, capture_output=True, text=True, env=env)
                result = json.loads(done.stdout.splitlines()[-1])
                if result["build"] != build:
                    raise SystemExit(f"{copy} ran the {result['build']} build, expected {build}")
                figures = best[stage][label]
                figures.rows = result["rows"]
                figures.cpu = min(figures.cpu, result["cpu"])
                figures.wall = min(figures.wall, result["wall"])
                figures.rss_mb = max(figures.rss_mb, result["rss_mb"])
    return best


def us(stage: Stage) -> float:
    return stage.cpu / stage.rows * 1e6


def report_shape(shape: str, rec: Path, stages: dict[str, Stage], build: str,
                 small_rss: tuple[int, float] | None) -> dict[str, Any]:
    replay, bare = stages["replay"], stages["bare"]
    cumulative = [us(stages[s]) for s in ("read", "decode", "books", "detector", "replay")]
    split = [cumulative[0]] + [b - a for a, b in zip(cumulative, cumulative[1:])]
    ratio = (replay.rows / replay.cpu) / (bare.rows / bare.cpu)
    target = TARGET_RATIO[build]
    verdict = lambda ok: "PASS" if ok else "MISS"  # noqa: E731
    print(f"\n{shape}: {replay.rows:,} frames ({rec})")
    print(f"  replay     {replay.rows / replay.cpu:>10,.0f} frames/s  {us(replay):6.2f} us/frame (cpu; "
          f"wall {replay.rows / replay.wall:,.0f}/s)")
    print(f"  bare loop  {bare.rows / bare.cpu:>10,.0f} frames/s  {us(bare):6.2f} us/frame")
    print(f"  replay / bare = {ratio:.3f} >= {target}: {verdict(ratio >= target)}")
    print("  us/frame: " + " | ".join(f"{name} {value:.2f}" for name, value in zip(SPLIT, split)))
    rss = f"  peak RSS {replay.rss_mb:.0f} MB <= {TARGET_RSS_MB} MB: {verdict(replay.rss_mb <= TARGET_RSS_MB)}"
    if small_rss is not None:
        rss += f" ({small_rss[1]:.0f} MB at {small_rss[0]:,} frames)"
    print(rss)
    return {
        "frames": replay.rows,
        "replay_rate": replay.rows / replay.cpu,
        "bare_rate": bare.rows / bare.cpu,
        "ratio": ratio,
        "split_us": dict(zip(SPLIT, split)),
        "rss_mb": replay.rss_mb,
        "small_rss": small_rss,
    }


def table(results: dict[str, dict[str, Any]], build: str) -> None:
    """One line per shape: the figures the issue's targets are judged on."""
    print(f"\n{build} | frames | replay/s | bare/s | ratio | " + " | ".join(SPLIT) + " | RSS MB")
    for shape, r in results.items():
        split = " | ".join(f"{r['split_us'][s]:.2f}" for s in SPLIT)
        print(f"{shape} | {r['frames']:,} | {r['replay_rate']:,.0f} | {r['bare_rate']:,.0f} | "
              f"{r['ratio']:.3f} | {split} | {r['rss_mb']:.0f}")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        stage, rec, out = sys.argv[2], Path(sys.argv[3]), Path(sys.argv[4])
        print(json.dumps(run_stage(stage, rec, out)))
        return
    if len(sys.argv) > 1 and sys.argv[1] == "--generate":
        generate(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), Path(sys.argv[5]))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--shape", action="append", choices=list(SHAPES),
                        help="Shape to run (repeatable; default all).")
    parser.add_argument("--frames", type=int, help="Rows per recording instead of each shape's default.")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--pure", action="store_true", help="Measure pure Python (no compiled modules).")
    parser.add_argument("--rss-check", action="store_true",
                        help="Also replay a fifth of the rows, to show peak RSS is flat in length.")
    parser.add_argument("--json", type=Path, help="Write the figures here.")
    parser.add_argument("--baseline", type=Path,
                        help="A copy of another arbkit build (a build-* folder this script left in a "
                             "workdir) to measure in turn with this one, for a before/after table.")
    parser.add_argument("--workdir", type=Path,
                        default=Path(tempfile.gettempdir()) / "arbkit-bench-replay")
    parser.add_argument("--cpu", type=int, default=max(os.sched_getaffinity(0)),
                        help="CPU to pin this process and its workers to.")
    args = parser.parse_args()

    args.workdir = args.workdir.resolve()
    args.workdir.mkdir(parents=True, exist_ok=True)
    shapes = args.shape or list(SHAPES)
    sizes = {s: args.frames or SHAPES[s] for s in shapes}
    recordings = {s: recording(args.workdir, s, n, args.seed) for s, n in sizes.items()}
    small = {s: recording(args.workdir, s, n // 5, args.seed) for s, n in sizes.items()} if args.rss_check else {}
    build = "pure" if args.pure else "compiled"
    copies = {"now": package_copy(args.workdir, args.pure)}
    if args.baseline is not None:
        copies["baseline"] = args.baseline.resolve()
    os.sched_setaffinity(0, {args.cpu})
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"replay benchmark ({build}): best of {args.repeat}, pinned to CPU {args.cpu} of "
          f"{os.cpu_count()}, load average {load}")
    results: dict[str, dict[str, dict[str, Any]]] = {label: {} for label in copies}
    for shape in shapes:
        rec = recordings[shape]
        stages = measure(STAGES, rec, args, build, copies, args.repeat)
        # The bare loop runs no arbkit code: each copy's ratio divides by its best run in any
        # copy's turn, so a slow phase of the machine during one copy's turns moves only that
        # copy's replay figure, not also the yardstick it is divided by.
        bare = min(stages["bare"].values(), key=lambda stage: stage.cpu / stage.rows)
        stages["bare"] = {label: bare for label in copies}
        small_rss = None
        if shape in small:
            measured = measure(("replay",), small[shape], args, build, {"now": copies["now"]}, 1)
            small_rss = (measured["replay"]["now"].rows, measured["replay"]["now"].rss_mb)
        for label in copies:
            print(f"\n[{label}: {copies[label]}]", end="")
            figures = {stage: stages[stage][label] for stage in STAGES}
            results[label][shape] = report_shape(shape, rec, figures, build,
                                                 small_rss if label == "now" else None)
        if shape == "sandbox" and not args.pure:
            # Issue 5's end-to-end figure: the CLI, start-up to exit, >= 250k frames/s of CPU.
            cli = time_cli(rec, args.workdir / "run-cli", copies["now"], args.repeat)
            rows = stages["replay"]["now"].rows
            print(f"  arbkit replay end to end {rows / cli.cpu:,.0f} frames/s (cpu; target "
                  f"{TARGET_E2E_RATE:,}), peak RSS {cli.rss_mb:.0f} MB")
    for label in copies:
        table(results[label], f"{build} ({label})")
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"load average at the end: {load}")
    if args.json is not None:
        args.json.write_text(json.dumps({"build": build, "load": load, "results": results}, indent=1))


if __name__ == "__main__":
    main()
