"""One sandbox recording with every default fault, replayed a few ways, serves the report tests.

The recording is made once per test session (~22 s through the real sockets, with the fault plan
compressed 2x so every fault fires) and the runs are cheap replays of it; every test that needs
them carries the `report_sandbox` xdist group so they share one worker (`--dist loadgroup`).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

import msgspec
import pytest

from arbkit.config import Config, load_config
from arbkit.runner.record import Recorder
from arbkit.runner.replay import replay
from arbkit.sandbox.server import FaultPlan, SandboxThread

RECORD_S = 22.0
HOSTILE_PAIR = "<script>alert(1)</script>"


@dataclass(frozen=True)
class SandboxData:
    """A faulty sandbox recording and runs of it."""

    root: Path
    config: Config
    run: Path  # replayed with the sandbox's own config
    strict_run: Path  # min_edge twice as high: fewer windows (for comparisons)
    empty_run: Path  # min_edge so high that no window opens
    hostile_run: Path  # the first pair renamed to a script tag


def _with_detector(config: Config, **changes) -> Config:
    return msgspec.structs.replace(config, detector=msgspec.structs.replace(config.detector, **changes))


@pytest.fixture(scope="session")
def sandbox_data(tmp_path_factory: pytest.TempPathFactory) -> SandboxData:
    """Record from a sandbox firing every default fault, then replay it four ways."""
    tmp = tmp_path_factory.mktemp("report")
    root = tmp / "recordings"
    with SandboxThread(tmp / "sandbox", pairs=3, seed=5, rate=300.0, faults=FaultPlan().compressed(2)) as sandbox:
        config = load_config(sandbox.config_path)
        # A watchdog fast enough that the compressed stall is seen and ends the connection.
        recorder = msgspec.structs.replace(config.recorder, stale_after_s=1.0, ping_interval_s=2.0)
        asyncio.run(Recorder(msgspec.structs.replace(config, recorder=recorder), root, duration_s=RECORD_S).run())
    runs = {name: tmp / "runs" / name for name in ("r1", "strict", "empty", "hostile")}
    replay(root, config, runs["r1"])
    replay(root, _with_detector(config, min_edge=config.detector.min_edge * 2), runs["strict"])
    replay(root, _with_detector(config, min_edge=type(config.detector.min_edge)("0.9")), runs["empty"])
    hostile = [msgspec.structs.replace(config.pairs[0], name=HOSTILE_PAIR), *config.pairs[1:]]
    replay(root, msgspec.structs.replace(config, pairs=hostile), runs["hostile"])
    return SandboxData(root, config, runs["r1"], runs["strict"], runs["empty"], runs["hostile"])


@pytest.fixture(scope="session")
def report_file(sandbox_data: SandboxData, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report of the faulty recording and its run (read by the content and browser tests)."""
    from arbkit.report import write_report

    return write_report(sandbox_data.root, sandbox_data.run, out=tmp_path_factory.mktemp("html") / "report.html")
