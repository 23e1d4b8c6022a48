"""`arbkit report`: one self-contained HTML file a researcher can send to a colleague.

    write_report("recordings/", runs="runs/r1")             # -> reports/recordings-<stamp>.html
    write_report("recordings/", runs={"50ms": "runs/a", "200ms": "runs/b"}, out="cmp.html")
    write_report(None, sweep="sweeps/latency")               # the sensitivity of a sweep alone

The report reads the analytics views (`arbkit.analytics.connect`) and the stats document
(`arbkit.analytics.stats`), so its numbers are those of `arbkit stats` and `arbkit query`; it
computes nothing itself. Figures are inline SVG, styles inline, and a few lines of optional script
sort tables: the file loads nothing from anywhere.
"""

from __future__ import annotations

import datetime as dt
import os
import re
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup, escape

from arbkit import __version__, analytics
from arbkit.analytics.stats import compute_once
from arbkit.errors import StorageError, UserError
from arbkit.report import figures
from arbkit.report import sweep as sweep_report
from arbkit.report.model import Report, Section
from arbkit.report.sections import SECTIONS, Context, caveats

Runs = str | os.PathLike[str] | Mapping[str, Any] | None

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("arbkit.report", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
_BACKTICKS = re.compile(r"`([^`]+)`")


def _code(text: str) -> Markup:
    """Escape prose, then show its `backticked` commands and names as code."""
    return Markup(_BACKTICKS.sub(r"<code>\1</code>", str(escape(text))))


_ENV.filters["code"] = _code


def _name(recording: str | os.PathLike[str]) -> str:
    text = os.fspath(recording).rstrip("/")
    base = Path(re.split(r"[*?\[]", text)[0].rstrip("/") or ".").resolve().name or "recording"
    return re.sub(r"[^A-Za-z0-9._-]+", "-", base)


def build_report(recording: str | os.PathLike[str] | None, runs: Runs = None, title: str | None = None,
                 sweep: str | os.PathLike[str] | None = None) -> Report:
    """Read every section from the views of a recording, its runs and a sweep; time each section.

    With `sweep` (an `arbkit sweep --out` directory) a Sensitivity section is added; with a sweep
    and no recording the report is that section and the caveats.
    """
    if recording is None and (sweep is None or runs):
        raise UserError("a report needs a recording (runs are read with the recording they replayed) or a sweep")
    started = time.perf_counter()
    con = analytics.connect(recording, runs, sweep=sweep)
    try:
        document = analytics.stats_document(con)
        # Read by two sections; the stats document left the other shared views as tables.
        compute_once(con, ("feed_latency_quantiles",))
        names = [row[0] for row in con.execute("SELECT run FROM runs ORDER BY run").fetchall()]
        ctx = Context(con, document, names)
        setup = Section("setup", "Connect and stats", seconds=time.perf_counter() - started)
        builders: list[Callable[[Context], Section]] = list(SECTIONS) if recording is not None else [caveats]
        if sweep is not None:
            builders.insert(builders.index(caveats), sweep_report.sensitivity(sweep, recording is not None))
            sweep_line = sweep_report.subtitle(ctx, sweep)
        sections = []
        for build in builders:
            if build.__name__ == "comparison" and not ctx.several:
                continue
            begun = time.perf_counter()
            section = build(ctx)
            section.seconds = time.perf_counter() - begun
            sections.append(section)
    finally:
        con.close()
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    if recording is None:
        assert sweep is not None  # refused on entry otherwise
        return Report(title or f"arbkit sweep report: {_name(sweep)}", sweep_line, stamp, __version__, sections,
                      [setup, *sections])
    rec = document["recording"]
    what = f"{len(names)} runs" if len(names) > 1 else (f"run {names[0]}" if names else "no run")
    subtitle = (f"Recording {os.fspath(recording)} · {rec['sessions'] or 0} session(s) · "
                f"{', '.join(sorted(rec['venues'])) or 'no venue'} · {what}")
    if sweep is not None:
        subtitle += f" · {sweep_line}"
    return Report(title or f"arbkit report: {_name(recording)}", subtitle, stamp, __version__, sections,
                  [setup, *sections])


def render(report: Report) -> str:
    """Render a report as one HTML document."""
    return _ENV.get_template("report.html").render(report=report)


def default_path(recording: str | os.PathLike[str], now: dt.datetime | None = None) -> Path:
    """`reports/<name>-<UTC stamp>.html` for a recording."""
    when = now or dt.datetime.now(dt.timezone.utc)
    return Path("reports") / f"{_name(recording)}-{when:%Y%m%dT%H%M%SZ}.html"


def write_report(recording: str | os.PathLike[str] | None, runs: Runs = None,
                 out: str | os.PathLike[str] | None = None, title: str | None = None,
                 sweep: str | os.PathLike[str] | None = None) -> Path:
    """Write the HTML report of a recording (and runs, and a sweep) and return its path.

    `runs` is None, one run directory, or {name: directory} to compare several runs side by side;
    `sweep` an `arbkit sweep --out` directory (recording None: a report of the sweep alone).
    The default path is `reports/<name>-<UTC stamp>.html`, named after the recording or the sweep.
    """
    html = render(build_report(recording, runs, title, sweep))
    named = recording if recording is not None else sweep
    assert named is not None  # build_report has refused a report of neither
    path = Path(out) if out is not None else default_path(named)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(html, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        raise StorageError(f"cannot write report {path}: {exc}") from exc
    return path


__all__ = ["Report", "build_report", "default_path", "figures", "render", "write_report"]
