"""`arbkit report --sweep DIR`: the Sensitivity section on a real sweep and on degenerate ones."""

from __future__ import annotations

import html as htmllib
import re
from decimal import Decimal as D
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from arbkit.cli import cli
from arbkit.report import build_report, render

GRID = "latency.kalshi_ms = [0, 250]\ndetector.min_edge = [0.005, 0.02]\n"
A, B = "20260101T000000Z-aaaaaa", "20260102T000000Z-bbbbbb"


def sections_of(page: str) -> dict[str, str]:
    """{section id: its HTML} of a report."""
    return dict(re.findall(r'<section class="part" id="(\w+)">(.*?)</section>', page, re.S))


def table_rows(section: str, title: str) -> list[list[tuple[str, str | None, str | None]]]:
    """The rows of the table headed `title`: (text, data-sort, title) per cell, unescaped."""
    found = re.search(rf"<h3>{re.escape(title)}</h3>.*?<tbody>(.*?)</tbody>", section, re.S)
    assert found, f"no table {title!r}"
    rows = []
    for row in re.findall(r"<tr>(.*?)</tr>", found.group(1), re.S):
        cells = []
        for attrs, body in re.findall(r"<td([^>]*)>(.*?)</td>", row, re.S):
            sort = re.search(r'data-sort="([^"]*)"', attrs)
            hover = re.search(r'title="([^"]*)"', attrs)
            cells.append((htmllib.unescape(body), sort and htmllib.unescape(sort.group(1)),
                          hover and htmllib.unescape(hover.group(1))))
        rows.append(cells)
    return rows


def headings(section: str, title: str) -> list[str]:
    found = re.search(rf"<h3>{re.escape(title)}</h3>.*?<thead><tr>(.*?)</tr>", section, re.S)
    assert found, f"no table {title!r}"
    return [htmllib.unescape(h) for h in re.findall(r"<th[^>]*>(.*?)</th>", found.group(1))]


def report(*args: str) -> CliRunner:
    return CliRunner().invoke(cli, ["report", *args])


@pytest.fixture(scope="module")
def swept(two_sessions, tmp_path_factory) -> Path:
    """A real sweep: the two generated sessions x a 4-point grid on a pool of 2 workers."""
    tmp = tmp_path_factory.mktemp("swept")
    (tmp / "grid.toml").write_text(GRID)
    result = CliRunner().invoke(cli, ["sweep", "--from", str(two_sessions.root), "--config",
                                      str(two_sessions.config_path), "--grid", str(tmp / "grid.toml"),
                                      "--out", str(tmp / "sweep"), "--workers", "2"])
    assert result.exit_code == 0, result.output
    return tmp / "sweep"


@pytest.mark.slow
def test_a_sweep_alone_gives_the_sensitivity_section_with_its_figure_and_tables(swept, tmp_path):
    result = report("--sweep", str(swept), "-o", str(tmp_path / "r.html"))

    assert result.exit_code == 0, result.output
    page = (tmp_path / "r.html").read_text()
    parts = sections_of(page)
    assert list(parts) == ["sensitivity", "caveats"]
    sensitivity = parts["sensitivity"]
    assert sensitivity.count("<svg") == 1
    assert 'aria-label="Captured P&amp;L and fill rate against latency.kalshi_ms"' in sensitivity
    assert 'class="note' not in sensitivity  # nothing degenerate to explain
    assert headings(sensitivity, "Grid")[:3] == ["session", "latency.kalshi_ms", "detector.min_edge"]
    assert re.search(r"<h3>Grid</h3>.*?<table class=\"sortable\">", sensitivity, re.S)
    assert "<title>arbkit sweep report: sweep</title>" in page


@pytest.mark.slow
def test_the_grid_table_shows_every_number_of_sweep_parquet(swept):
    sensitivity = sections_of(render(build_report(None, sweep=swept)))["sensitivity"]
    names = headings(sensitivity, "Grid")
    grid = [dict(zip(names, cells)) for cells in table_rows(sensitivity, "Grid")]
    file = pq.read_table(swept / "sweep.parquet").to_pylist()
    columns = {"windows": "opportunities", "approved": "approvals", "fills": "fills", "matched size": "matched_size",
               "legging loss": "legging_loss", "Kalshi fees": "fees_kalshi", "Polymarket fees": "fees_polymarket",
               "P&L": "pnl", "capture": "capture_rate", "run time": "run_s"}

    assert len(grid) == len(file) == 8
    for cells, row in zip(grid, file):
        assert (cells["session"][0], cells["session"][2]) == (row["session"], row["task_id"])
        assert D(cells["latency.kalshi_ms"][1]) == D(str(row["latency.kalshi_ms"]))
        assert D(cells["detector.min_edge"][1]) == row["detector.min_edge"]
        for heading, column in columns.items():
            assert D(cells[heading][1]) == D(str(row[column])), heading
        assert (cells["status"][0], cells["error"][0]) == ("done", "–")
    assert sum(row["fills"] for row in file) > 0, "the grid should trade somewhere"


@pytest.mark.slow
def test_the_curve_points_are_the_sessions_sums_of_sweep_parquet(swept):
    sensitivity = sections_of(render(build_report(None, sweep=swept)))["sensitivity"]
    points = table_rows(sensitivity, "Capture curve points")
    file = pq.read_table(swept / "sweep.parquet").to_pylist()

    assert headings(sensitivity, "Capture curve points")[:2] == ["line", "latency.kalshi_ms (ms)"]
    assert len(points) == 4
    for cells in points:
        edge, latency = D(cells[0][0].removeprefix("detector.min_edge=")), D(cells[1][0])
        mine = [r for r in file if r["detector.min_edge"] == edge and D(str(r["latency.kalshi_ms"])) == latency]
        assert len(mine) == 2  # one task per session
        by = dict(zip(headings(sensitivity, "Capture curve points"), cells))
        assert D(by["P&L"][1]) == sum(r["pnl"] for r in mine)
        assert D(by["fees"][1]) == sum(r["fees_kalshi"] + r["fees_polymarket"] for r in mine)
        assert int(by["approved"][1]) == sum(r["approvals"] for r in mine)
        assert int(by["fills"][1]) == sum(r["fills"] for r in mine)
        assert by["sessions done"][0] == "2"


@pytest.mark.slow
def test_a_sweep_with_its_recording_adds_the_section_before_the_caveats(swept, two_sessions, tmp_path):
    result = report(str(two_sessions.root), "--sweep", str(swept), "-o", str(tmp_path / "r.html"))

    assert result.exit_code == 0, result.output
    page = (tmp_path / "r.html").read_text()
    assert list(sections_of(page))[-3:] == ["pnl", "sensitivity", "caveats"]
    assert "of the sweep are not in the recording" not in page
    assert "Sweep " in re.search(r'<p class="subtitle">(.*?)</p>', page).group(1)


@pytest.mark.slow
def test_a_failing_task_shows_its_error_escaped(two_sessions, tmp_path):
    missing = tmp_path / "<b>missing</b>"
    grid = tmp_path / "grid.toml"
    grid.write_text('[[points]]\nlatency.model = "constant"\n\n'
                    f'[[points]]\nlatency.model = "empirical"\nlatency.samples_from = "{missing}"\n')
    done = CliRunner().invoke(cli, ["sweep", "--from", str(two_sessions.root / two_sessions.session_ids[0]),
                                    "--config", str(two_sessions.config_path), "--grid", str(grid),
                                    "--out", str(tmp_path / "sweep"), "--workers", "2"])
    assert done.exit_code == 1, done.output

    page = render(build_report(None, sweep=tmp_path / "sweep"))
    sensitivity = sections_of(page)["sensitivity"]

    assert "<b>missing</b>" not in page
    assert "&lt;b&gt;missing&lt;/b&gt;" in sensitivity
    failed = [cells for cells in table_rows(sensitivity, "Grid") if cells[-2][0] == "failed"]
    assert len(failed) == 1 and "recording not found" in failed[0][-1][0] and str(missing) in failed[0][-1][0]
    assert "1 of 2 tasks failed" in sensitivity
    assert "No grid parameter is numeric" in sensitivity  # latency.model and samples_from are text


def degenerate(tmp_path: Path, hand_sweep, rows: list[dict]) -> str:
    return sections_of(render(build_report(None, sweep=hand_sweep(tmp_path / "sweep", rows))))["sensitivity"]


def stats(pnl: str = "1.5") -> dict:
    return {"opportunities": 3, "approvals": 2, "fills": 1, "matched_size": D("10"), "legging_loss": D("0"),
            "fees_kalshi": D("0.07"), "fees_polymarket": D("0.01"), "pnl": D(pnl), "available": D("3"),
            "capture_rate": 0.5, "run_s": 0.4}


def test_a_single_point_renders_and_says_there_is_no_curve(tmp_path, hand_sweep):
    sensitivity = degenerate(tmp_path, hand_sweep, [{"session": A, "latency.kalshi_ms": 50.0, **stats()}])

    assert "<svg" not in sensitivity
    assert "single grid point, so there is no curve" in sensitivity
    assert len(table_rows(sensitivity, "Grid")) == 1


def test_a_sweep_without_tasks_renders_and_says_why(tmp_path, hand_sweep):
    sensitivity = degenerate(tmp_path, hand_sweep, [])

    assert "The sweep has no task" in sensitivity and "<table" not in sensitivity


def test_an_all_failed_sweep_renders_and_says_why(tmp_path, hand_sweep):
    sensitivity = degenerate(tmp_path, hand_sweep, [
        {"session": s, "latency.kalshi_ms": ms, "error": f"ValueError: bad <{ms}>"} for s in (A, B) for ms in (0.0, 9.0)])

    assert "<svg" not in sensitivity
    assert "Every task failed" in sensitivity
    errors = [cells[-1][0] for cells in table_rows(sensitivity, "Grid")]
    assert errors == ["ValueError: bad <0.0>", "ValueError: bad <9.0>"] * 2


def test_without_a_latency_parameter_the_curve_is_drawn_against_the_first_numeric_one(tmp_path, hand_sweep):
    sensitivity = degenerate(tmp_path, hand_sweep, [
        {"session": A, "detector.min_edge": D(edge), **stats(pnl)} for edge, pnl in (("0.01", "2"), ("0.02", "1"))])

    assert "no latency parameter" in sensitivity
    assert sensitivity.count("<svg") == 1
    assert headings(sensitivity, "Capture curve points")[0] == "detector.min_edge ($ per contract pair)"


def test_a_traceback_shows_its_last_line_with_the_rest_on_hover(tmp_path, hand_sweep):
    trace = "KeyError: 'x'\nTraceback (most recent call last):\n  File \"<stdin>\", line 1"
    sensitivity = degenerate(tmp_path, hand_sweep, [
        {"session": A, "latency.kalshi_ms": 0.0, **stats()}, {"session": A, "latency.kalshi_ms": 5.0, "error": trace}])

    text, _, hover = table_rows(sensitivity, "Grid")[1][-1]
    assert (text, hover) == ("KeyError: 'x'", trace)


@pytest.mark.slow
def test_sessions_of_another_recording_are_flagged(two_sessions, tmp_path, hand_sweep):
    sweep = hand_sweep(tmp_path / "sweep", [{"session": A, "latency.kalshi_ms": 0.0, **stats()}])

    page = render(build_report(str(two_sessions.root), sweep=sweep))

    assert f"session(s) of the sweep are not in the recording given with it ({A})" in page


@pytest.mark.parametrize("args, message", [
    (["--sweep", "{tmp}"], "not an arbkit sweep directory (no sweep.parquet): {tmp}"),
    (["--sweep", "{tmp}/nowhere"], "not an arbkit sweep directory (no such directory): {tmp}/nowhere"),
    ([], "give PATH (a recording), --sweep DIR (a sweep's results), or both"),
    (["--run", "{tmp}", "--sweep", "{tmp}"], "--run needs PATH, the recording the run replayed"),
])
def test_cli_refuses_what_is_not_a_sweep_with_one_line(tmp_path, args, message):
    result = report(*[a.format(tmp=tmp_path) for a in args], "-o", str(tmp_path / "r.html"))

    assert result.exit_code == 2
    assert result.output == f"Error: {message.format(tmp=tmp_path)}\n"
    assert not (tmp_path / "r.html").exists()
