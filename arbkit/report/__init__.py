"""`arbkit report`: one self-contained HTML file a researcher can send to a colleague.

    write_report("recordings/", runs="runs/r1")             # -> reports/recordings-<stamp>.html
    write_report("recordings/", runs={"50ms": "runs/a", "200ms": "runs/b"}, out="cmp.html")

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
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import jinja2

from arbkit import __version__, analytics
from arbkit.errors import StorageError, UserError
from arbkit.report import figures
from arbkit.report.model import Report, Section
from arbkit.report.sections import SECTIONS, Context

Runs = str | os.PathLike[str] | Mapping[str, Any] | None

_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("arbkit.report", "templates"),
    autoescape=True,
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)


def run_names(run_dirs: Sequence[str | os.PathLike[str]]) -> Runs:
    """Name run directories for `write_report`: None for none, the directory for one, and for
    several {name: directory} with each named by its directory's name (its parents' names added
    where two would be the same)."""
    paths = [Path(p) for p in run_dirs]
    if not paths:
        return None
    if len(paths) == 1:
        return paths[0]
    depth = 1
    while True:
        names = ["/".join(p.resolve().parts[-depth:]) for p in paths]
        if len(set(names)) == len(names) or depth > max(len(p.resolve().parts) for p in paths):
            break
        depth += 1
    if len(set(names)) != len(names):
        raise UserError("the same run directory is given twice: " + ", ".join(str(p) for p in paths))
    return dict(zip(names, paths))


def _name(recording: str | os.PathLike[str]) -> str:
    text = os.fspath(recording).rstrip("/")
    base = Path(re.split(r"[*?\[]", text)[0].rstrip("/") or ".").resolve().name or "recording"
    return re.sub(r"[^A-Za-z0-9._-]+", "-", base)


def build_report(recording: str | os.PathLike[str], runs: Runs = None, title: str | None = None) -> Report:
    """Read every section from the views of a recording and its runs; time each section."""
    started = time.perf_counter()
    con = analytics.connect(recording, runs)
    try:
        document = analytics.stats_document(con)
        names = [row[0] for row in con.execute("SELECT run FROM runs ORDER BY run").fetchall()]
        ctx = Context(con, document, names)
        setup = Section("setup", "Connect and stats", seconds=time.perf_counter() - started)
        sections = []
        for build in SECTIONS:
            if build.__name__ == "comparison" and not ctx.several:
                continue
            begun = time.perf_counter()
            section = build(ctx)
            section.seconds = time.perf_counter() - begun
            sections.append(section)
    finally:
        con.close()
    rec = document["recording"]
    what = f"{len(names)} runs" if len(names) > 1 else (f"run {names[0]}" if names else "no run")
    subtitle = (f"Recording {os.fspath(recording)} · {rec['sessions'] or 0} session(s) · "
                f"{', '.join(sorted(rec['venues'])) or 'no venue'} · {what}")
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
    report = Report(title or f"arbkit report: {_name(recording)}", subtitle, stamp, __version__, sections)
    report.timings = [setup, *sections]  # type: ignore[attr-defined]
    return report


def render(report: Report) -> str:
    """Render a report as one HTML document."""
    return _ENV.get_template("report.html").render(report=report)


def default_path(recording: str | os.PathLike[str], now: dt.datetime | None = None) -> Path:
    """`reports/<name>-<UTC stamp>.html` for a recording."""
    when = now or dt.datetime.now(dt.timezone.utc)
    return Path("reports") / f"{_name(recording)}-{when:%Y%m%dT%H%M%SZ}.html"


def write_report(recording: str | os.PathLike[str], runs: Runs = None, out: str | os.PathLike[str] | None = None,
                 title: str | None = None) -> Path:
    """Write the HTML report of a recording (and runs) and return its path.

    `runs` is None, one run directory, or {name: directory} to compare several runs side by side.
    The default path is `reports/<name>-<UTC stamp>.html`.
    """
    html = render(build_report(recording, runs, title))
    path = Path(out) if out is not None else default_path(recording)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(html, encoding="utf-8")
        os.replace(tmp, path)
    except OSError as exc:
        raise StorageError(f"cannot write report {path}: {exc}") from exc
    return path


__all__ = ["Report", "build_report", "default_path", "figures", "render", "run_names", "write_report"]
