"""The report in a real browser: headless Chromium opens the file and everything is there.

Skipped with the reason where there is no Chromium or Playwright, except in CI (`CI` set), which
installs Chromium first (.ci/run): there a missing browser fails the test instead of hiding it. The screenshot goes to reports/report-browser-check.png (or
$ARBKIT_SCREENSHOT_DIR) for a person to look at.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from report_browser import open_report, why_unavailable

REPO = Path(__file__).resolve().parents[2]
SECTION_TITLES = ["Summary", "Recording health", "Opportunities", "Execution", "P&L", "Caveats"]

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.xdist_group("report_sandbox"),
    pytest.mark.skipif(why_unavailable() is not None and not os.environ.get("CI"),
                       reason=f"browser check skipped: {why_unavailable()}"),
]


def test_report_renders_in_chromium_with_every_section_and_figure(report_file):
    screenshot = Path(os.environ.get("ARBKIT_SCREENSHOT_DIR", REPO / "reports")) / "report-browser-check.png"

    seen = open_report(report_file, screenshot)

    assert seen.console_errors == []
    assert seen.requests == [report_file.resolve().as_uri()]
    assert list(seen.section_headings) == SECTION_TITLES
    assert all(seen.section_headings.values()), seen.section_headings
    assert len(seen.figures) == report_file.read_text().count("<figure>") >= 10
    for width, height, drawn in seen.figures:
        assert width > 100 and height > 50 and drawn > 10
    ascending, descending = seen.sorted_column
    assert ascending == sorted(ascending, key=str.lower) and descending == ascending[::-1]
    assert screenshot.stat().st_size > 50_000


def test_report_reads_the_same_with_javascript_off(report_file):
    seen = open_report(report_file, javascript=False)

    assert seen.console_errors == []
    assert list(seen.section_headings) == SECTION_TITLES and all(seen.section_headings.values())
    assert all(width > 100 and height > 50 for width, height, _ in seen.figures)
