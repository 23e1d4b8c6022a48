"""A report of a sweep alone in headless Chromium: the Sensitivity section, its figure, a sortable grid.

Skipped with the reason where there is no Chromium or Playwright, except in CI (`CI` set), as the
other browser check is. The sweep is written by hand (no replay), so this costs one page load.
"""

from __future__ import annotations

import os
from decimal import Decimal as D

import pytest

from arbkit.report import write_report
from report_browser import open_report, why_unavailable

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.skipif(why_unavailable() is not None and not os.environ.get("CI"),
                       reason=f"browser check skipped: {why_unavailable()}"),
]


def test_a_sweep_report_renders_in_chromium_and_its_grid_sorts(tmp_path, hand_sweep):
    rows = [{"session": session, "latency.kalshi_ms": latency, "detector.min_edge": D(edge),
             "opportunities": 4, "approvals": 3, "fills": fills, "matched_size": D(fills * 10), "legging_loss": D("0"),
             "fees_kalshi": D("0.07"), "fees_polymarket": D("0.02"), "pnl": D(fills) / 4, "available": D("3"),
             "capture_rate": fills / 12, "run_s": 0.5}
            for session in ("20260101T000000Z-aaaaaa", "20260102T000000Z-bbbbbb")
            for latency, fills in ((0.0, 3), (100.0, 2), (1000.0, 1)) for edge in ("0.005", "0.02")]
    rows[-1] = {**{k: v for k, v in rows[-1].items() if "." in k or k == "session"}, "error": "ValueError: <i>no</i>"}
    report = write_report(None, sweep=hand_sweep(tmp_path / "sweep", rows), out=tmp_path / "sweep.html")

    seen = open_report(report)

    assert seen.console_errors == []
    assert seen.requests == [report.resolve().as_uri()]
    assert list(seen.section_headings) == ["Sensitivity", "Caveats"] and all(seen.section_headings.values())
    [(width, height, drawn)] = seen.figures
    assert width > 100 and height > 50 and drawn > 10
    ascending, descending = seen.sorted_column  # the curve table: 2 lines x 3 latencies
    assert len(ascending) == 6 and ascending == sorted(ascending, key=str.lower) and descending == ascending[::-1]
