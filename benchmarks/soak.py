"""Soak: record the sandbox for a long time under faults and watch memory and loss (issue 16).

Starts `arbkit sandbox serve --faults default` (every fault type early on, then one fault a
minute) and `arbkit record` against it, as two processes, for --minutes. Samples the recorder's
resident memory every --sample-s seconds and prints it over time, then checks:

- RSS flat after warm-up (by default until 30 s after the first journal rotation): every later
  sample within +-10% of their median; reported over all samples and over the samples taken
  between seals (a seal holds up to one 64k-frame row group per venue while it runs, seconds
  per rotation; the sealed files' times say when each seal ended);
- frames sent vs recorded: per connection, the `in` rows recorded equal the frames the sandbox
  handed to the socket (its connections.jsonl), so 0 lost;
- the rate reached (frames recorded per second of recording) against --target-rate;
- sealed file count and sizes, and no journal left behind.

    .venv/bin/python benchmarks/soak.py [--minutes 60] [--rate 1000] [--pairs 4] [--rotation-s 300]

`--rate` is per venue (the sandbox's book-update rate), so 1000 makes about 2,000 frames/s.
tests/recorder/test_soak_e2e.py runs the same soak for 3 minutes.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.dataset as ds

ARBKIT = [sys.executable, "-c", "from arbkit.cli import main; main()"]
RSS_TOLERANCE = 0.10


@dataclass
class SoakReport:
    """What one soak measured."""

    seconds: float
    rss_mb: list[tuple[float, float]] = field(default_factory=list)  # (elapsed s, MB)
    warmup_s: float = 0.0
    sent: dict[str, list[int]] = field(default_factory=dict)  # venue -> frames_sent per conn
    recorded: dict[str, list[int]] = field(default_factory=dict)  # venue -> `in` rows per conn
    files: list[int] = field(default_factory=list)  # sealed file sizes
    seals: list[tuple[float, float]] = field(default_factory=list)  # (start, end) s, elapsed
    journal_left: int = 0
    faults: Counter[str] = field(default_factory=Counter)
    recorder_exit: int | None = None
    recorder_stderr: str = ""

    @property
    def frames_in(self) -> int:
        return sum(sum(v) for v in self.recorded.values())

    @property
    def rate(self) -> float:
        return self.frames_in / self.seconds

    @property
    def lost(self) -> int:
        return sum(sum(v) for v in self.sent.values()) - self.frames_in

    @property
    def steady_rss(self) -> list[float]:
        return [mb for t, mb in self.rss_mb if t >= self.warmup_s]

    @property
    def rss_spread(self) -> float:
        """Largest relative distance of a post-warm-up sample from their median."""
        return _spread(self.steady_rss)

    def sealing(self, t: float) -> bool:
        """Whether a sample at elapsed `t` s fell while a seal ran."""
        return any(start <= t <= end for start, end in self.seals)

    @property
    def between_seals_rss(self) -> list[float]:
        return [mb for t, mb in self.rss_mb if t >= self.warmup_s and not self.sealing(t)]


def _spread(samples: list[float]) -> float:
    if not samples:
        return float("inf")
    median = statistics.median(samples)
    return max(abs(mb - median) for mb in samples) / median


def _rss_mb(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        return None
    return None


def _wait_for(path: Path, process: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not path.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError(f"sandbox did not come up: {process.stderr.read().decode() if process.stderr else ''}")
        time.sleep(0.1)


def soak(
    workdir: Path,
    *,
    minutes: float,
    rate: float = 1000.0,
    pairs: int = 4,
    seed: int = 1,
    rotation_s: float = 300.0,
    sample_s: float = 5.0,
    warmup_s: float | None = None,
    progress=None,
) -> SoakReport:
    """Record the faulty sandbox for `minutes` and return what was measured."""
    sandbox_dir, root = workdir / "sandbox", workdir / "recordings"
    seconds = minutes * 60
    # The first seal's buffers (Parquet writing) raise RSS once, to a plateau: warm-up ends after it.
    report = SoakReport(seconds=seconds, warmup_s=warmup_s if warmup_s is not None else rotation_s + 30.0)
    sandbox = subprocess.Popen(
        [*ARBKIT, "sandbox", "serve", "--workdir", str(sandbox_dir), "--pairs", str(pairs), "--seed",
         str(seed), "--rate", str(rate), "--faults", "default"],
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        _wait_for(sandbox_dir / "arbkit.toml", sandbox, 60)
        config = sandbox_dir / "soak.toml"
        config.write_text((sandbox_dir / "arbkit.toml").read_text() + f"\n[recorder]\nrotation_s = {rotation_s}\n")
        recorder = subprocess.Popen(
            [*ARBKIT, "record", "--config", str(config), "--out", str(root), "--duration", str(seconds)],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        start = time.monotonic()
        wall_start = time.time()
        next_sample = start + sample_s
        while recorder.poll() is None:
            now = time.monotonic()
            if now >= next_sample:
                mb = _rss_mb(recorder.pid)
                if mb is not None:
                    report.rss_mb.append((now - start, mb))
                    if progress is not None:
                        progress(now - start, mb)
                next_sample += sample_s
            time.sleep(min(0.5, max(0.0, next_sample - time.monotonic())))
        report.recorder_exit = recorder.returncode
        report.recorder_stderr = recorder.stderr.read().decode() if recorder.stderr else ""
    finally:
        sandbox.send_signal(signal.SIGINT)
        try:
            sandbox.wait(60)
        except subprocess.TimeoutExpired:
            sandbox.kill()
            sandbox.wait(10)
    _count(report, sandbox_dir, root)
    _seal_windows(report, root, wall_start, rotation_s)
    return report


def _seal_windows(report: SoakReport, root: Path, wall_start: float, rotation_s: float) -> None:
    """Segment k is sealed from rotation k+1 (give or take the recorder's start-up) until its
    files are published (their modification time)."""
    ends: dict[int, float] = {}
    for path in (root / "frames").rglob("*.parquet"):
        segment = int(path.stem.rsplit("-", 1)[1].split(".")[0])
        ends[segment] = max(ends.get(segment, 0.0), path.stat().st_mtime - wall_start)
    report.seals = [((k + 1) * rotation_s - 3.0, end + 1.0) for k, end in sorted(ends.items())]


def _count(report: SoakReport, sandbox_dir: Path, root: Path) -> None:
    sent: dict[str, list[tuple[int, int]]] = {}
    for line in (sandbox_dir / "connections.jsonl").read_text().splitlines():
        row = json.loads(line)
        sent.setdefault(row["venue"], []).append((row["conn"], row["frames_sent"]))
    report.sent = {venue: [n for _, n in sorted(rows)] for venue, rows in sent.items()}
    if (sandbox_dir / "faults.jsonl").exists():
        for line in (sandbox_dir / "faults.jsonl").read_text().splitlines():
            report.faults[json.loads(line)["fault"]] += 1
    table = ds.dataset(str(root / "frames"), format="parquet", partitioning="hive").to_table(
        columns=["venue", "conn_id", "kind"]
    )
    counts = table.group_by(["venue", "conn_id", "kind"]).aggregate([([], "count_all")]).to_pylist()
    opened: dict[str, set[int]] = {}
    received: Counter[tuple[str, int]] = Counter()
    for row in counts:
        if row["kind"] == "open":
            opened.setdefault(row["venue"], set()).add(row["conn_id"])
        elif row["kind"] == "in":
            received[(row["venue"], row["conn_id"])] += row["count_all"]
    report.recorded = {venue: [received[(venue, c)] for c in sorted(conns)] for venue, conns in opened.items()}
    report.files = sorted(p.stat().st_size for p in (root / "frames").rglob("*.parquet"))
    report.journal_left = len(list((root / "journal").glob("*/*.arrows"))) if (root / "journal").exists() else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--minutes", type=float, default=60.0)
    parser.add_argument("--rate", type=float, default=1000.0, help="book updates per second per venue")
    parser.add_argument("--pairs", type=int, default=4)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--rotation-s", type=float, default=300.0)
    parser.add_argument("--sample-s", type=float, default=10.0)
    parser.add_argument("--warmup-s", type=float, default=None, help="default: the first rotation + 30 s")
    parser.add_argument("--target-rate", type=float, default=2000.0)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()

    workdir = args.workdir or Path(tempfile.mkdtemp(prefix="arbkit-soak-"))
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"soak: {args.minutes:g} min, rate {args.rate:g}/s per venue, {args.pairs} pairs, "
          f"rotation {args.rotation_s:g} s, faults default, in {workdir}, load average {load}", flush=True)
    report = soak(
        workdir, minutes=args.minutes, rate=args.rate, pairs=args.pairs, seed=args.seed,
        rotation_s=args.rotation_s, sample_s=args.sample_s, warmup_s=args.warmup_s,
        progress=lambda t, mb: print(f"  {t:8.0f} s  recorder RSS {mb:7.1f} MB", flush=True),
    )
    print(f"\nrecorder exit code  {report.recorder_exit}")
    if report.recorder_exit:
        print(report.recorder_stderr[-2000:])
    steady = report.steady_rss
    if steady:
        print(f"RSS after {report.warmup_s:.0f} s warm-up: min {min(steady):.1f} MB, median "
              f"{statistics.median(steady):.1f} MB, max {max(steady):.1f} MB; spread "
              f"{report.rss_spread:+.1%} of the median (<= {RSS_TOLERANCE:.0%}: "
              f"{'PASS' if report.rss_spread <= RSS_TOLERANCE else 'MISS'})")
        between = report.between_seals_rss
        during = [mb for t, mb in report.rss_mb if t >= report.warmup_s and report.sealing(t)]
        if between:
            print(f"  between seals ({len(between)} samples): min {min(between):.1f} MB, median "
                  f"{statistics.median(between):.1f} MB, max {max(between):.1f} MB; spread "
                  f"{_spread(between):+.1%} ({'PASS' if _spread(between) <= RSS_TOLERANCE else 'MISS'})")
        if during:
            print(f"  while sealing ({len(during)} samples): max {max(during):.1f} MB "
                  f"(+{max(during) - statistics.median(between or during):.1f} MB for the seal's row groups)")
    for venue in sorted(report.sent):
        print(f"{venue:11} connections {len(report.sent[venue])}: sent {sum(report.sent[venue]):,}, "
              f"recorded {sum(report.recorded.get(venue, [])):,}; per connection equal: "
              f"{report.sent[venue] == report.recorded.get(venue)}")
    print(f"frames lost         {report.lost:,}")
    print(f"rate                {report.rate:,.0f} frames/s recorded (target {args.target_rate:,.0f}: "
          f"{'PASS' if report.rate >= args.target_rate else 'MISS'})")
    print(f"faults fired        {dict(report.faults)}")
    total = sum(report.files)
    print(f"sealed files        {len(report.files)}, {total / 1e6:,.1f} MB "
          f"(smallest {min(report.files, default=0) / 1e6:.2f} MB, largest {max(report.files, default=0) / 1e6:.2f} MB); "
          f"journal segments left {report.journal_left}")


if __name__ == "__main__":
    main()
