"""The report's figures: matplotlib drawings of view rows, returned as inline SVG.

Each function takes Polars DataFrames already aggregated by a view (one row per bar, bucket or
time step) and only draws them, so notebooks can call the same functions on the same views. Axes
always carry their units. Text is kept as SVG text (escaped by matplotlib's XML writer), so a
figure stays small and a pair's name in it is data, never markup.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import re
from collections.abc import Callable, Sequence
from typing import ParamSpec

import matplotlib
import matplotlib.patches
import polars as pl
from markupsafe import Markup
from matplotlib import dates as mdates
from matplotlib import ticker
from matplotlib.figure import Figure

# One fixed look; `svg.hashsalt` makes ids (clip paths, markers) and so the file deterministic.
STYLE = {
    "svg.fonttype": "none",
    "svg.hashsalt": "arbkit-report",
    "text.parse_math": False,  # a `$` in a pair's name is a dollar sign, not mathtext
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans"],  # ships with matplotlib: the same text metrics everywhere
    "font.size": 9,
    "axes.titlesize": 10,
    "axes.labelsize": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.grid": True,
    "axes.axisbelow": True,
    "grid.color": "#e3e3e3",
    "grid.linewidth": 0.6,
    "legend.fontsize": 8,
    "legend.frameon": False,
    "xtick.labelsize": 8,
    "ytick.labelsize": 8,
}
VENUE_COLOURS = {"kalshi": "#1f6fb2", "polymarket": "#7b3fb8"}
SERIES = ["#1f6fb2", "#d9822b", "#2e8b57", "#b83f5b", "#7b3fb8", "#6b6b6b", "#b8a23f", "#3fb8b0"]
DOWN = "#d64541"
STALL = "#f0a30a"
WIDE = (8.0, 2.8)
TALL_ROW_IN = 0.24  # height per category row of horizontal bar charts

P = ParamSpec("P")

_PROLOG = re.compile(r"\A.*?(?=<svg)", re.S)
_METADATA = re.compile(r"<metadata>.*?</metadata>\s*", re.S)
_NAMESPACES = re.compile(r'\s+xmlns(:xlink)?="[^"]*"')
_SIZE = re.compile(r'\s+(width|height)="[0-9.]+pt"')


def colour(name: str, index: int) -> str:
    """The colour of a venue, or of the index-th series otherwise."""
    return VENUE_COLOURS.get(name, SERIES[index % len(SERIES)])


def styled(draw: Callable[P, Figure]) -> Callable[P, Figure]:
    """Draw a figure with the report's look; the caller's matplotlib settings stay untouched."""

    @functools.wraps(draw)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> Figure:
        with matplotlib.rc_context(STYLE):
            return draw(*args, **kwargs)

    return wrapper


def new_figure(size: tuple[float, float] = WIDE) -> Figure:
    """A figure (no pyplot: no global state, safe in any thread); draw in a `styled` function."""
    return Figure(figsize=size, layout="constrained")


def _log_axis(axis) -> None:
    # Matplotlib labels log ticks with mathtext, which the report turns off: plain numbers instead.
    axis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:g}"))
    axis.set_minor_formatter(ticker.NullFormatter())


def _whole_numbers(axis) -> None:
    axis.set_major_locator(ticker.MaxNLocator(integer=True))
    axis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:,.0f}"))


def to_svg(fig: Figure, label: str) -> Markup:
    """Render a figure as an inline `<svg>` element that references nothing outside itself."""
    buffer = io.StringIO()
    with matplotlib.rc_context(STYLE):
        fig.savefig(buffer, format="svg", metadata={"Date": None, "Creator": None, "Format": None, "Type": None})
    text = _PROLOG.sub("", buffer.getvalue())
    text = _METADATA.sub("", text)
    # Inline SVG in HTML needs no namespace declarations (and they would be the only URLs here).
    text = _NAMESPACES.sub("", text)
    text = _SIZE.sub("", text)
    escaped = Markup.escape(label)
    return Markup(text.replace("<svg", f'<svg role="img" aria-label="{escaped}" class="figure"', 1))


def _utc(ns: Sequence[int]) -> list[dt.datetime]:
    return [dt.datetime.fromtimestamp(v / 1e9, tz=dt.timezone.utc).replace(tzinfo=None) for v in ns]


def _time_axis(ax, label: str = "time (UTC)") -> None:
    locator = mdates.AutoDateLocator(minticks=3, maxticks=8)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))
    ax.set_xlabel(label)


@styled
def coverage_timeline(connections: pl.DataFrame, outages: pl.DataFrame, stalls: pl.DataFrame) -> Figure:
    """Connected spans per venue (bars), disconnections (red) and stalls (amber) over time.

    `connections`: venue, open_ns, close_ns, one row per connection; `outages`: venue, down_ns,
    up_ns (a reconnect's downtime) and optionally `n`, a number written above each band;
    `stalls`: venue, from_ns, to_ns.
    """
    venues = sorted(set(connections["venue"].to_list()))
    fig = new_figure((8.0, 0.9 + 0.5 * max(len(venues), 1)))
    ax = fig.add_subplot()
    labelled: set[str] = set()

    def bars(frame: pl.DataFrame, start: str, stop: str, row: int, colour_: str, label: str, height: float) -> None:
        if frame.height == 0:
            return
        a = mdates.date2num(_utc(frame[start].to_list()))
        b = mdates.date2num(_utc(frame[stop].to_list()))
        # A band shorter than a pixel would vanish: draw at least 0.2 % of the span.
        floor = (ax_span[1] - ax_span[0]) * 0.002
        ax.broken_barh([(x, max(y - x, floor)) for x, y in zip(a, b)], (row - height / 2, height),
                       facecolors=colour_, label=None if label in labelled else label)
        labelled.add(label)

    everything = connections["open_ns"].to_list() + connections["close_ns"].to_list()
    ax_span = mdates.date2num(_utc([min(everything), max(everything)]))
    for row, venue in enumerate(venues):
        bars(connections.filter(pl.col("venue") == venue), "open_ns", "close_ns", row, colour(venue, row),
             "connected", 0.5)
        down = outages.filter(pl.col("venue") == venue)
        bars(down, "down_ns", "up_ns", row, DOWN, "disconnected", 0.8)
        if "n" in down.columns and outages.height <= 30:
            # Number each disconnection as the reconnect table does, so its cause can be looked up.
            for n, at in zip(down["n"].to_list(), mdates.date2num(_utc(down["down_ns"].to_list()))):
                ax.annotate(str(n), (at, row - 0.42), ha="center", va="bottom", fontsize=7, color=DOWN,
                            annotation_clip=False)
        bars(stalls.filter(pl.col("venue") == venue), "from_ns", "to_ns", row, STALL, "stall", 0.8)
    ax.set_yticks(range(len(venues)), venues)
    ax.set_ylim(-0.6, len(venues) - 0.4)
    ax.invert_yaxis()
    ax.grid(axis="y", visible=False)
    _time_axis(ax)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return fig


@styled
def message_rates(rates: pl.DataFrame) -> Figure:
    """Frames received per second over time, one line per venue (`rates`: venue, bucket_ns, frames_per_s)."""
    fig = new_figure()
    ax = fig.add_subplot()
    for index, venue in enumerate(sorted(set(rates["venue"].to_list()))):
        part = rates.filter(pl.col("venue") == venue).sort("bucket_ns")
        ax.step(_utc(part["bucket_ns"].to_list()), [float(v) for v in part["frames_per_s"].to_list()], where="post",
                color=colour(venue, index), label=venue, linewidth=1.2)
    ax.set_ylabel("frames per second")
    ax.yaxis.set_major_formatter(ticker.FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.set_ylim(bottom=0)
    _time_axis(ax)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return fig


@styled
def quantile_curve(quantiles: pl.DataFrame, value: str, ylabel: str) -> Figure:
    """A value by percentile, one line per venue (`quantiles`: venue, percentile, value column)."""
    fig = new_figure()
    ax = fig.add_subplot()
    for index, venue in enumerate(sorted(set(quantiles["venue"].to_list()))):
        part = quantiles.filter(pl.col("venue") == venue).sort("percentile")
        ax.plot(part["percentile"].to_list(), [float(v) for v in part[value].to_list()],
                color=colour(venue, index), label=venue, linewidth=1.4)
    for mark in (50, 90, 99):
        ax.axvline(mark, color="#999999", linewidth=0.6, linestyle=":")
    ax.set_xlim(0, 100)
    ax.set_xticks([0, 10, 25, 50, 75, 90, 99])
    ax.set_xlabel("percentile of frames (%)")
    ax.set_ylabel(ylabel)
    values = [float(v) for v in quantiles[value].to_list()]
    # A log scale only helps (and only has labelled ticks) when the values span decades.
    if values and min(values) > 0 and max(values) / min(values) > 30:
        ax.set_yscale("log")
        _log_axis(ax.yaxis)
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return fig


@styled
def staleness_bars(labels: Sequence[str], books: pl.DataFrame) -> Figure:
    """Per book (one row each): a bar to the p99, a tick at the median, a dot at the maximum (ms)."""
    rows = len(labels)
    fig = new_figure((8.0, 0.9 + TALL_ROW_IN * rows))
    ax = fig.add_subplot()
    ys = list(range(rows))
    venues = books["venue"].to_list()
    ax.barh(ys, [float(v) for v in books["p99_ms"].to_list()], height=0.6,
            color=[colour(v, 0) for v in venues], alpha=0.85)
    ax.scatter([float(v) for v in books["p50_ms"].to_list()], ys, marker="|", s=120, color="#111111",
               label="median", zorder=3)
    ax.scatter([float(v) for v in books["max_ms"].to_list()], ys, marker="o", s=14, color="#111111",
               label="max", zorder=3)
    ax.set_xscale("log")
    _log_axis(ax.xaxis)
    ax.set_yticks(ys, [_short(label) for label in labels])
    ax.invert_yaxis()
    ax.set_xlabel("time between updates of the book (ms, log scale); bar = p99")
    ax.grid(axis="y", visible=False)
    handles = [matplotlib.patches.Patch(color=colour(v, 0), label=f"{v} p99") for v in sorted(set(venues))]
    ax.legend(handles=handles + ax.get_legend_handles_labels()[0], loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return fig


@styled
def histogram(buckets: pl.DataFrame, xlabel: str, ylabel: str, *, by: str | None = None, log_x: bool = False) -> Figure:
    """Bars of counts per bucket (`buckets`: lo, hi, n; one translucent series per `by` value).
    Buckets absent from the rows are empty (a count of zero)."""
    fig = new_figure()
    ax = fig.add_subplot()
    groups = sorted(set(buckets[by].to_list())) if by else [None]
    for index, group in enumerate(groups):
        part = (buckets if group is None else buckets.filter(pl.col(by) == group)).sort("lo")
        lo = [float(v) for v in part["lo"].to_list()]
        widths = [float(h) - a for h, a in zip(part["hi"].to_list(), lo)]
        ax.bar(lo, part["n"].to_list(), width=widths, align="edge", color=colour(str(group or ""), index),
               alpha=0.9 if len(groups) == 1 else 0.55, edgecolor="white", linewidth=0.5,
               label=None if group is None else str(group))
    if log_x:
        ax.set_xscale("log")
        _log_axis(ax.xaxis)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_ylim(bottom=0)
    _whole_numbers(ax.yaxis)
    if by:
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return fig


@styled
def horizontal_bars(labels: Sequence[str], series: dict[str, Sequence[float]], xlabel: str, *,
                    whole: bool = False) -> Figure:
    """Grouped horizontal bars: one row per label, one bar per series (name -> values); `whole`
    for counts (integer ticks)."""
    rows = len(labels)
    fig = new_figure((8.0, 0.8 + TALL_ROW_IN * rows * max(1, len(series)) ** 0.5))
    ax = fig.add_subplot()
    height = 0.8 / max(len(series), 1)
    for index, (name, values) in enumerate(series.items()):
        offsets = [r - 0.4 + height * (index + 0.5) for r in range(rows)]
        ax.barh(offsets, [float(v) for v in values], height=height * 0.92, color=colour(name, index), label=name)
    ax.set_yticks(range(rows), [_short(label) for label in labels])
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    ax.grid(axis="y", visible=False)
    if whole:
        _whole_numbers(ax.xaxis)
    if len(series) > 1:
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return fig


@styled
def heatmap(rows: Sequence[str], columns: Sequence[str], values: Sequence[Sequence[float]], xlabel: str,
            bar_label: str) -> Figure:
    """A grid of counts (rows x columns) with the count written in each non-empty cell."""
    fig = new_figure((8.0, 1.0 + 0.28 * max(len(rows), 2)))
    ax = fig.add_subplot()
    image = ax.imshow(values, aspect="auto", cmap="Blues", interpolation="nearest")
    peak = max((v for row in values for v in row), default=0)
    for r, row in enumerate(values):
        for c, v in enumerate(row):
            if v:
                ax.text(c, r, f"{v:g}", ha="center", va="center", fontsize=7,
                        color="white" if v > peak * 0.6 else "#222222")
    ax.set_xticks(range(len(columns)), columns)
    ax.set_yticks(range(len(rows)), [_short(r) for r in rows])
    ax.set_xlabel(xlabel)
    ax.grid(False)
    fig.colorbar(image, ax=ax, label=bar_label, shrink=0.9)
    return fig


@styled
def funnel(stages: Sequence[str], series: dict[str, Sequence[int]]) -> Figure:
    """Counts per funnel stage, one bar group per run, each bar labelled with its count."""
    fig = new_figure()
    ax = fig.add_subplot()
    width = 0.8 / max(len(series), 1)
    for index, (name, counts) in enumerate(series.items()):
        xs = [s - 0.4 + width * (index + 0.5) for s in range(len(stages))]
        bars = ax.bar(xs, counts, width=width * 0.92, color=colour(name, index), label=name)
        ax.bar_label(bars, labels=[f"{c:,}" for c in counts], fontsize=7, padding=2)
    ax.set_xticks(range(len(stages)), stages)
    ax.set_ylabel("opportunity windows")
    _whole_numbers(ax.yaxis)
    ax.grid(axis="x", visible=False)
    ax.margins(y=0.15)
    if len(series) > 1:
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return fig


@styled
def time_series(lines: dict[str, pl.DataFrame], ylabel: str, *, fill_below_zero: bool = False) -> Figure:
    """One step line per name (`lines`: name -> DataFrame of ns, value)."""
    fig = new_figure()
    ax = fig.add_subplot()
    for index, (name, frame) in enumerate(lines.items()):
        times = _utc(frame["ns"].to_list())
        values = [float(v) for v in frame["value"].to_list()]
        ax.step(times, values, where="post", color=colour(name, index), label=name, linewidth=1.3)
        if fill_below_zero:
            ax.fill_between(times, values, 0, step="post", color=colour(name, index), alpha=0.18)
    ax.axhline(0, color="#888888", linewidth=0.7)
    if fill_below_zero:
        ax.set_ylim(top=0)
        if ax.get_ylim()[0] >= 0:
            ax.set_ylim(-1, 0)
    ax.set_ylabel(ylabel)
    _time_axis(ax)
    if len(lines) > 1:
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0))
    return fig


def _short(text: str, limit: int = 48) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
