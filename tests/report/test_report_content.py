"""`arbkit report` on a sandbox recording with every default fault: what the HTML file says."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

import pytest
from click.testing import CliRunner

from arbkit.cli import cli
from arbkit.report import build_report, render, write_report
from arbkit.runner.replay import replay

from conftest import HOSTILE_PAIR

pytestmark = [pytest.mark.e2e, pytest.mark.slow, pytest.mark.xdist_group("report_sandbox")]

SECTIONS = {"summary": "Summary", "health": "Recording health", "opportunities": "Opportunities",
            "execution": "Execution", "pnl": "P&amp;L", "caveats": "Caveats"}


def sections_of(html: str) -> dict[str, str]:
    """{section id: its HTML} of a report."""
    return dict(re.findall(r'<section class="part" id="(\w+)">(.*?)</section>', html, re.S))


def headline(html: str) -> dict[str, str]:
    """{stats key: exact value} of the report's headline numbers."""
    return dict(re.findall(r'data-stat="([^"]+)" data-value="([^"]*)"', html))


def stats_json(*args: str) -> dict:
    result = CliRunner().invoke(cli, ["stats", *args, "--format", "json"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


@pytest.fixture(scope="module")
def report_html(report_file) -> str:
    return report_file.read_text(encoding="utf-8")


def test_every_section_is_present_with_figures_on_a_faulty_recording_with_a_run(report_html):
    parts = sections_of(report_html)

    assert list(parts) == list(SECTIONS)
    for key, title in SECTIONS.items():
        assert f"<h2>{title}</h2>" in parts[key]
    for key in ("health", "opportunities", "execution", "pnl"):
        assert parts[key].count("<svg") >= 2, key
        assert 'class="note empty"' not in parts[key].split("<h3>")[0], f"{key} says it is empty"


def test_health_shows_the_faults_the_sandbox_fired(report_html):
    health = sections_of(report_html)["health"]

    assert "Coverage timeline" in health and "Reconnects" in health
    assert "abrupt disconnect (1006)" in health  # a reconnect's cause
    assert "stale: no book data" in health  # the stall the recorder cut
    assert "No Kalshi sequence gap" not in health  # the scripted gap is listed
    assert "No stall:" not in health


def test_headline_numbers_equal_arbkit_stats_json(sandbox_data, report_html):
    document = stats_json(str(sandbox_data.root), "--run", str(sandbox_data.run))
    numbers = headline(report_html)
    run = sandbox_data.run.name

    assert int(numbers["recording.frames"]) == document["recording"]["frames"]
    assert int(numbers["recording.reconnects"]) == document["recording"]["reconnects"] > 0
    assert int(numbers[f"runs.{run}.opportunities"]) == document["runs"][run]["opportunities"] > 0
    assert int(numbers[f"runs.{run}.fills"]) == document["runs"][run]["fills"] > 0
    assert Decimal(numbers[f"runs.{run}.pnl"]) == Decimal(document["runs"][run]["pnl"])


def test_the_file_references_no_resource_outside_itself(report_html):
    assert not re.search(r"https?://", report_html)
    assert not re.search(r"""(src|href)\s*=\s*["'](?!#|data:)""", report_html)  # in-page links, data URIs
    assert "@import" not in report_html
    assert not re.search(r"url\((?!#)", report_html)  # only the figures' own clip paths


def test_a_pair_named_like_a_script_comes_out_escaped(sandbox_data, tmp_path):
    html = write_report(sandbox_data.root, sandbox_data.hostile_run, out=tmp_path / "r.html").read_text()

    assert HOSTILE_PAIR not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    # One script element: the report's own table sorter.
    assert html.count("<script") == 1


def test_a_run_without_opportunities_renders_and_says_why(sandbox_data, tmp_path):
    html = write_report(sandbox_data.root, sandbox_data.empty_run, out=tmp_path / "r.html").read_text()
    parts = sections_of(html)

    assert list(parts) == list(SECTIONS)
    assert "found no opportunity window" in parts["opportunities"]
    assert "min_edge = $0.9" in parts["opportunities"]
    assert "No trade was made" in parts["pnl"]
    assert int(headline(html)[f"runs.{sandbox_data.empty_run.name}.opportunities"]) == 0


def test_a_recording_without_a_run_gives_the_health_sections_and_says_what_is_missing(sandbox_data):
    report = build_report(sandbox_data.root)
    parts = sections_of(render(report))

    assert [s.key for s in report.timings] == ["setup", *SECTIONS]  # each section timed
    assert all(s.seconds > 0 for s in report.timings)

    assert list(parts) == list(SECTIONS)
    assert parts["health"].count("<svg") >= 3
    for key in ("opportunities", "execution", "pnl"):
        assert "No run was given" in parts[key]


def test_a_recording_of_one_venue_renders_and_says_why_nothing_was_found(sandbox_data, tmp_path):
    kalshi_only = str(sandbox_data.root / "frames" / "*" / "venue=kalshi" / "*.parquet")
    run = tmp_path / "kalshi-run"
    replay(kalshi_only, sandbox_data.config, run)

    html = write_report(kalshi_only, run, out=tmp_path / "r.html").read_text()
    parts = sections_of(html)

    assert list(parts) == list(SECTIONS)
    assert "Only kalshi was recorded" in parts["health"]
    assert "a window needs both venues" in parts["opportunities"]


def test_several_runs_are_compared_side_by_side(sandbox_data, tmp_path):
    runs = {"base": sandbox_data.run, "strict": sandbox_data.strict_run}
    html = write_report(sandbox_data.root, runs, out=tmp_path / "r.html").read_text()
    comparison = sections_of(html)["comparison"]
    differing = re.search(r"<h3>Parameters that differ between the runs</h3>.*?</table>", comparison, re.S).group(0)

    assert "min_edge" in differing and "max_size_per_trade" not in differing
    assert 'class="changed"' in differing
    assert "Headline figures per run" in comparison and comparison.count("<svg") == 2
    numbers = headline(html)
    assert int(numbers["runs.strict.opportunities"]) < int(numbers["runs.base.opportunities"])


def test_cli_writes_the_default_path_and_prints_it(sandbox_data, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(cli, ["report", str(sandbox_data.root), "--run", str(sandbox_data.run),
                                      "--title", "Night of <b>6 Dec</b>"])

    assert result.exit_code == 0, result.output
    written = Path(result.output.strip())
    assert written.parent == Path("reports")
    assert re.fullmatch(r"recordings-\d{8}T\d{6}Z\.html", written.name)
    assert "<title>Night of &lt;b&gt;6 Dec&lt;/b&gt;</title>" in written.read_text()


def test_cli_refuses_a_missing_recording_with_one_line(tmp_path):
    result = CliRunner().invoke(cli, ["report", str(tmp_path / "nowhere"), "-o", str(tmp_path / "r.html")])

    assert result.exit_code == 2
    assert result.output.startswith("Error: ") and result.output.count("\n") == 1
    assert not (tmp_path / "r.html").exists()


def test_cli_refuses_a_directory_that_is_not_a_run(sandbox_data, tmp_path):
    result = CliRunner().invoke(cli, ["report", str(sandbox_data.root), "--run", str(tmp_path),
                                      "-o", str(tmp_path / "r.html")])

    assert result.exit_code == 2
    assert "not a run directory" in result.output
