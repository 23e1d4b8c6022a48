"""The report's Sensitivity section: an `arbkit sweep` read through the `sweep_*` views.

`sensitivity(sweep_dir, with_recording)` returns the section builder `build_report` runs when
given `sweep=`. The capture curve (captured P&L and fill rate against the grid's latency, one line
per value of the other parameters, summed over sessions) and the grid table read
`report_sweep_curve`, `report_sweep_summary`, `sweep_points` and `sweep_sessions`; this module
selects, formats and draws, and decides nothing a view does not say.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import polars as pl
from matplotlib import ticker
from matplotlib.figure import Figure as MplFigure

from arbkit.report import figures as fg
from arbkit.report.model import Block, Cell, Facts, Figure, Note, Section, Table, number, text
from arbkit.report.sections import Context, _share, duration, money, table

MARKERS = "os^vDP*X"
GRID_COLLAPSED_ROWS = 50  # a longer grid table starts folded (it is still sortable when opened)
LOG_X_RATIO = 20  # draw x on a symlog scale when its largest value is this many times its smallest


@fg.styled
def capture_curve(curve: pl.DataFrame, xlabel: str, *, log_x: bool = False) -> MplFigure:
    """Captured P&L (top) and fill rate (bottom) against x, one line per series.

    `curve` holds report_sweep_curve rows to draw (series, series_rank, x, x_value, pnl,
    fill_rate); x ticks are the grid's own values, written as the grid wrote them.
    """
    fig = fg.new_figure((8.0, 4.8))
    top, bottom = fig.subplots(2, 1, sharex=True)
    ranks = sorted(set(curve["series_rank"].to_list()))
    for index, rank in enumerate(ranks):
        part = curve.filter(pl.col("series_rank") == rank).sort("x")
        series = part["series"][0]
        style = {"color": fg.colour(series, index), "marker": MARKERS[index % len(MARKERS)], "linewidth": 1.4,
                 "markersize": 4, "label": series or None}
        xs = [float(v) for v in part["x"].to_list()]
        top.plot(xs, [float(v) for v in part["pnl"].to_list()], **style)
        bottom.plot(xs, [float("nan") if v is None else float(v) * 100 for v in part["fill_rate"].to_list()], **style)
    top.axhline(0, color="#888888", linewidth=0.7)
    top.set_ylabel("captured P&L\n($, net of fees)")
    bottom.set_ylabel("fill rate\n(% of approved)")
    bottom.set_ylim(-3, 103)
    bottom.set_xlabel(xlabel)
    if log_x:
        smallest = min(v for v in curve["x"].to_list() if v > 0)
        bottom.set_xscale("symlog", linthresh=smallest)
        # Matplotlib labels symlog decades with mathtext, which the report turns off: plain numbers.
        bottom.xaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))
        if min(curve["x"].to_list()) >= 0:
            bottom.set_xlim(left=-smallest / 2)  # no negative decades before a grid that starts at 0
    ticks = curve.select("x", "x_value").unique().sort("x")
    if ticks.height <= 12:
        bottom.set_xticks([float(v) for v in ticks["x"].to_list()], ticks["x_value"].to_list())
    bottom.xaxis.set_minor_locator(ticker.NullLocator())
    if any(s for s in curve["series"].to_list()):
        top.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return fig


def sensitivity(sweep_dir: str | os.PathLike[str], with_recording: bool) -> Callable[[Context], Section]:
    """The builder of the Sensitivity section of the sweep in `sweep_dir`."""

    def build(ctx: Context) -> Section:
        summary = ctx.rows("SELECT * FROM report_sweep_summary").row(0, named=True)
        section = Section("sensitivity", "Sensitivity",
                          f"How the results move across the parameter grid of the sweep in `{os.fspath(sweep_dir)}`: "
                          "one replay per session and grid point (`arbkit sweep`), read from its `sweep.parquet`.")
        if summary["tasks"] == 0:
            section.blocks.append(Note("The sweep has no task: the recording it read had no session.", "empty"))
            return section
        section.blocks.append(_facts(summary))
        section.blocks += _notes(ctx, summary, with_recording)
        section.blocks += _curve(ctx, summary)
        section.blocks.append(_grid(ctx))
        section.blocks.append(_sessions(ctx))
        return section

    return build


def subtitle(ctx: Context, sweep_dir: str | os.PathLike[str]) -> str:
    """`Sweep DIR · 8 tasks · 2 session(s) · 4 grid points` for a report of a sweep alone."""
    row = ctx.rows("SELECT tasks, sessions, points FROM report_sweep_summary").row(0, named=True)
    return (f"Sweep {os.fspath(sweep_dir)} · {row['tasks']:,} tasks · {row['sessions']:,} session(s) · "
            f"{row['points']:,} grid point(s)")


def _facts(summary: dict[str, Any]) -> Facts:
    x = summary["x_parameter"]
    return Facts([
        ("Tasks", f"{summary['tasks']:,}", None, None),
        ("Done", f"{summary['done']:,}", None, None),
        ("Failed", f"{summary['failed']:,}", None, None),
        ("Sessions", f"{summary['sessions']:,}", None, None),
        ("Grid points", f"{summary['points']:,}", None, None),
        ("Parameters", f"{summary['parameters']:,}", None, None),
        ("Curve drawn against", x if x is not None else "nothing (no numeric parameter)", None, None),
    ])


def _notes(ctx: Context, summary: dict[str, Any], with_recording: bool) -> list[Block]:
    notes: list[Block] = []
    if summary["done"] == 0:
        notes.append(Note("Every task failed, so there is nothing to draw: the grid table below gives each "
                          "task's error. Fix the cause and run the same `arbkit sweep` again; it retries only the "
                          "failed tasks.", "warning"))
    elif summary["failed"]:
        notes.append(Note(f"{summary['failed']:,} of {summary['tasks']:,} tasks failed (their errors are in the grid "
                          "table). A curve point missing a session's numbers is left out of the figure; the curve "
                          "table shows its partial sums. Running the same `arbkit sweep` again retries only the "
                          "failed tasks.", "warning"))
    if with_recording:
        outside = ctx.rows("""SELECT session FROM sweep_sessions
                              WHERE session NOT IN (SELECT session_id FROM sessions) ORDER BY session""")
        if outside.height:
            notes.append(Note(f"{outside.height:,} session(s) of the sweep are not in the recording given with it "
                              f"({', '.join(outside['session'].to_list()[:3])}"
                              f"{', …' if outside.height > 3 else ''}): the other sections describe other data "
                              "than the sweep.", "warning"))
    return notes


def _xlabel(summary: dict[str, Any]) -> str:
    unit = f" ({summary['x_unit']})" if summary["x_unit"] else ""
    return f"{summary['x_parameter']}{unit}"


def _why_no_curve(summary: dict[str, Any]) -> str | None:
    if summary["done"] == 0:
        return None  # already said
    if summary["x_parameter"] is None:
        return (f"No grid parameter is numeric ({summary['series_parameters'] or summary['fixed_parameters']}), so "
                "there is no axis to draw a curve against: the grid table below gives every point.")
    if summary["points"] == 1:
        return "The sweep has a single grid point, so there is no curve to draw: its numbers are in the tables below."
    if summary["x_values"] < 2:
        return (f"`{summary['x_parameter']}` takes a single value in this sweep, so there is no curve to draw: "
                "the tables below give every point.")
    return None


def _curve(ctx: Context, summary: dict[str, Any]) -> list[Block]:
    if summary["x_parameter"] is None:
        why = _why_no_curve(summary)
        return [Note(why, "empty")] if why else []
    curve = ctx.rows("SELECT * FROM report_sweep_curve ORDER BY series_rank, x NULLS LAST, x_value")
    blocks: list[Block] = []
    if not summary["x_is_latency"]:
        blocks.append(Note(f"The grid has no latency parameter (`latency.*_ms`) taking several values, so the curve "
                           f"is drawn against `{summary['x_parameter']}` instead.", "info"))
    if summary["points_without_x"]:
        blocks.append(Note(f"{summary['points_without_x']:,} curve point(s) leave `{summary['x_parameter']}` at the "
                           "config's value, so they have no place on the axis: they are in the tables only.", "info"))
    why = _why_no_curve(summary)
    drawn = curve.filter(pl.col("complete") & pl.col("x").is_not_null() & pl.col("pnl").is_not_null())
    if why:
        blocks.append(Note(why, "empty"))
    elif drawn.height:
        values = [v for v in drawn["x"].to_list() if v > 0]
        log_x = bool(values) and max(values) / min(values) >= LOG_X_RATIO
        fig = capture_curve(drawn, _xlabel(summary), log_x=log_x)
        blocks.append(Figure("Capture curve", fg.to_svg(fig, f"Captured P&L and fill rate against "
                                                             f"{summary['x_parameter']}"), _curve_caption(summary)))
    columns: list[tuple[str, str, Callable[[Any], Cell]]] = [
        ("sessions done", "done", number), ("failed", "failed", number),
        ("windows", "opportunities", number), ("approved", "approvals", number), ("fills", "fills", number),
        ("fill rate", "fill_rate", _share), ("matched size", "matched_size", lambda v: number(v, 2)),
        ("legging loss", "legging_loss", money), ("fees", "fees", money), ("P&L", "pnl", lambda v: money(v, 4)),
        ("capture", "capture_rate", _share),
    ]
    lines = bool(summary["series_parameters"])
    rows = [[*([text(row["series"])] if lines else []),
             Cell(row["x_value"], None if row["x"] is None else str(row["x"]), numeric=True),
             *(fmt(row[column]) for _, column, fmt in columns)] for row in curve.iter_rows(named=True)]
    blocks.append(Table("Capture curve points", [*(["line"] if lines else []), _xlabel(summary),
                                                 *(heading for heading, _, _ in columns)], rows,
                        caption="The numbers the curve is drawn from, summed over the sessions of each grid point "
                                "(done tasks only). Fill rate: fills over approved windows. Capture: P&L over the "
                                "profit available at the windows' peaks. Dollars after fees.",
                        collapsed=len(rows) > GRID_COLLAPSED_ROWS))
    return blocks


def _curve_caption(summary: dict[str, Any]) -> str:
    parts = [f"Top: final paper P&L after fees, summed over the {summary['sessions']:,} session(s) of each grid "
             "point. Bottom: fill rate, the share of approved windows whose two legs matched some size."]
    if summary["series_parameters"]:
        parts.append(f"One line per value of {_names(summary['series_parameters'])}.")
    if summary["moving_parameters"]:
        parts.append(f"{_names(summary['moving_parameters'])} moves with `{summary['x_parameter']}` (one value per "
                     "point on the axis).")
    if summary["fixed_parameters"]:
        parts.append(f"The same in every point: {_names(summary['fixed_parameters'])}.")
    return " ".join(parts)


def _names(comma_separated: str) -> str:
    return ", ".join(f"`{name}`" for name in comma_separated.split(", "))


def _error(value: str | None) -> Cell:
    if value is None:
        return text(None)
    first = value.splitlines()[0] if value.strip() else value
    return Cell(first, title=value if first != value else None)


def _grid(ctx: Context) -> Table:
    points = ctx.rows("SELECT * FROM sweep_points ORDER BY task_index")
    names = ctx.rows('SELECT parameter FROM sweep_parameters ORDER BY "position"')["parameter"].to_list()
    stats: list[tuple[str, str, Callable[[Any], Cell]]] = [
        ("windows", "opportunities", number), ("approved", "approvals", number), ("fills", "fills", number),
        ("fill rate", "fill_rate", _share), ("matched size", "matched_size", lambda v: number(v, 2)),
        ("legging loss", "legging_loss", money), ("Kalshi fees", "fees_kalshi", money),
        ("Polymarket fees", "fees_polymarket", money), ("P&L", "pnl", lambda v: money(v, 4)),
        ("capture", "capture_rate", _share), ("run time", "run_s", lambda v: Cell(duration(v), None if v is None
                                                                                   else str(v), numeric=True)),
        ("status", "status", text), ("error", "error", _error),
    ]
    rows = []
    for row in points.iter_rows(named=True):
        values = {p["parameter"]: p for p in row["parameters"] or []}
        cells = [Cell(row["session"], title=row["task_id"], nowrap=True)]
        cells += [_parameter(values.get(name)) for name in names]
        cells += [fmt(row[column]) for _, column, fmt in stats]
        rows.append(cells)
    return Table("Grid", ["session", *names, *(heading for heading, _, _ in stats)], rows,
                 caption="Every task of the sweep: one session replayed at one grid point. Click a heading to sort. "
                         "Money in dollars after fees; `(config)` is a point that leaves the key at the base "
                         "config's value. Hover a session for its task id.",
                 collapsed=len(rows) > GRID_COLLAPSED_ROWS)


def _parameter(value: dict[str, Any] | None) -> Cell:
    if value is None or value["value"] is None:
        return Cell("(config)")
    if value["number"] is None:
        return text(value["value"])
    return Cell(value["value"], str(value["number"]), numeric=True)


def _sessions(ctx: Context) -> Table:
    sessions = ctx.rows("SELECT * FROM sweep_sessions ORDER BY session")
    return table("Sessions swept", sessions, [
        ("session", "session", text), ("read from", "source", text), ("tasks", "tasks", number),
        ("done", "done", number), ("failed", "failed", number),
        ("replay time", "run_s", lambda v: Cell(duration(v), None if v is None else str(v), numeric=True)),
    ], caption="Replay time: the seconds the session's replays took, summed over the grid (on the workers).",
        collapsed=sessions.height > 12)


__all__ = ["capture_curve", "sensitivity", "subtitle"]
