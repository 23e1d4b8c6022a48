"""The 3-minute soak (issue 16): `benchmarks/soak.py` for 3 minutes instead of 60.

The sandbox sends ~2,000 frames/s with every default fault; the recorder, a separate process,
rotates its journal every minute. Memory must not grow past the plateau the first seal sets,
and every frame the sandbox sent must be recorded, per connection.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from arbkit.sandbox.server import FaultPlan

SOAK_PATH = Path(__file__).resolve().parents[2] / "benchmarks" / "soak.py"


def load_soak():
    spec = importlib.util.spec_from_file_location("arbkit_benchmark_soak", SOAK_PATH)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses resolve their module by name
    spec.loader.exec_module(module)
    return module


@pytest.mark.e2e
@pytest.mark.slow
@pytest.mark.timeout(330)
def test_three_minutes_at_about_2000_frames_per_second_lose_nothing_and_memory_stays_flat(tmp_path):
    soak = load_soak()

    report = soak.soak(tmp_path, minutes=3, rate=1000.0, pairs=3, rotation_s=60.0, sample_s=5.0)

    assert report.recorder_exit == 0, report.recorder_stderr
    assert report.lost == 0
    for venue, sent in report.sent.items():
        assert report.recorded[venue] == sent, venue  # per connection, in accept order
        assert len(sent) >= 2, venue  # the faults closed connections; new ones carried on
    assert set(report.faults) == set(FaultPlan().kalshi) | set(FaultPlan().polymarket)
    # ~2,000 frames/s asked for. The rate reached is the benchmark's figure (the sandbox slips
    # on a busy machine); here the soak must only have moved real volume.
    assert report.frames_in > 180_000
    # No growth: a leak grows with the frames. A seal (one a minute here) holds a row group per
    # venue while it runs and hands the memory back when it is done, so between seals the last
    # minute stays within 10% of the minute before. (The benchmark's +-10% band around the
    # median, over every sample and between seals, is reported by `benchmarks/soak.py`.)
    middle = [mb for t, mb in report.rss_mb if 60 <= t < 120 and not report.sealing(t)]
    last = [mb for t, mb in report.rss_mb if t >= 120 and not report.sealing(t)]
    assert len(middle) >= 6 and len(last) >= 6, report.seals
    assert max(last) <= (1 + soak.RSS_TOLERANCE) * max(middle), report.rss_mb
    assert report.journal_left == 0
    assert len(report.files) >= 6  # three rotations a venue, sealed as they went
