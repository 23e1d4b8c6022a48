"""Open a report in headless Chromium (Debian's `chromium`, driven by Playwright) and say what it saw.

Playwright never downloads a browser here: it drives the system Chromium through
`executable_path`. Where there is no Chromium (or no Playwright) the browser tests skip and say so;
CI installs Chromium first (.ci/run), so there they always run.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass, field
from pathlib import Path

CANDIDATES = ("/usr/bin/chromium", "/usr/bin/chromium-browser", "/usr/lib/chromium/chromium")


def find_chromium() -> str | None:
    """The Chromium to drive: $ARBKIT_CHROMIUM, Debian's, or one on PATH; None when there is none."""
    wanted = os.environ.get("ARBKIT_CHROMIUM")
    if wanted:
        return wanted if os.access(wanted, os.X_OK) else None
    for path in CANDIDATES:
        if os.access(path, os.X_OK):
            return path
    return shutil.which("chromium") or shutil.which("chromium-browser")


def why_unavailable() -> str | None:
    """Why the browser check cannot run here (None when it can)."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (it is in the dev extra: `make venv`)"
    if find_chromium() is None:
        return ("no Chromium found (/usr/bin/chromium or $ARBKIT_CHROMIUM); "
                "`apt-get install -y chromium` installs it, and .ci/run does so in CI")
    return None


@dataclass
class PageCheck:
    """What a report looked like in the browser."""

    requests: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    section_headings: dict[str, bool] = field(default_factory=dict)  # text -> visible
    figures: list[tuple[float, float, int]] = field(default_factory=list)  # width, height, drawn elements
    sorted_column: tuple[list[str], list[str]] | None = None  # a text column after two clicks on its heading


def open_report(html: Path, screenshot: Path | None = None, *, javascript: bool = True) -> PageCheck:
    """Load `html` from disk, collect requests, console errors, headings and figure sizes."""
    from playwright.sync_api import sync_playwright

    check = PageCheck()
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=find_chromium(), args=["--no-sandbox"], timeout=60_000)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900}, java_script_enabled=javascript)
            page = context.new_page()
            page.on("request", lambda request: check.requests.append(request.url))
            page.on("console", lambda msg: check.console_errors.append(msg.text) if msg.type == "error" else None)
            page.on("pageerror", lambda error: check.console_errors.append(str(error)))
            page.goto(html.resolve().as_uri(), wait_until="load", timeout=60_000)
            for heading in page.locator("h2").all():
                check.section_headings[heading.inner_text().strip()] = heading.is_visible()
            for svg in page.locator("svg.figure").all():
                svg.scroll_into_view_if_needed()
                box = svg.bounding_box() or {"width": 0.0, "height": 0.0}
                drawn = svg.evaluate("e => e.querySelectorAll('path, text, use, rect').length")
                check.figures.append((box["width"], box["height"], drawn))
            if javascript:
                check.sorted_column = _sort_once(page)
            if screenshot is not None:
                screenshot.parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()
    return check


def _sort_once(page) -> tuple[list[str], list[str]] | None:
    """Click twice on the first column of the first sortable table whose first column is text:
    return its cells after the first (ascending) and the second (descending) click."""
    for table in page.locator("table.sortable").all():
        first = table.locator("tbody tr td:first-child")
        if first.first.get_attribute("data-sort") is not None or len(set(first.all_inner_texts())) < 2:
            continue
        heading = table.locator("thead th").first
        heading.click()
        ascending = first.all_inner_texts()
        heading.click()
        return ascending, first.all_inner_texts()
    return None
