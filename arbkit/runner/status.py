"""The recorder's progress display: a live one-line status on a terminal, log lines elsewhere."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Mapping
from typing import TextIO

from arbkit.runner.connections import VenueStats


def human_bytes(n: int) -> str:
    size = float(n)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"


def plural(n: int, word: str) -> str:
    """`1 frame`, `2 frames`, `1,200 frames`."""
    return f"{n:,} {word}{'' if n == 1 else 's'}"


def short_error(text: str) -> str:
    """A connection error as a person says it: `connection refused`, not the exception repr."""
    lowered = text.lower()
    for needle, said in (
        ("refused", "connection refused"),
        ("timed out", "timed out"),
        ("timeout", "timed out"),
        ("name or service not known", "host not found"),
        ("nodename nor servname", "host not found"),
        ("unreachable", "network unreachable"),
        ("reset by peer", "connection reset"),
    ):
        if needle in lowered:
            return said
    _, _, detail = text.partition(": ")
    detail = detail or text
    return detail if len(detail) <= 60 else detail[:57] + "..."


class StatusLine:
    """Render recorder counters as one line, with frame rates since the previous render."""

    def __init__(self, stats: Mapping[str, VenueStats], bytes_on_disk: Callable[[], int]) -> None:
        self._stats = stats
        self._bytes_on_disk = bytes_on_disk
        self._last_counts = {venue: s.frames_in for venue, s in stats.items()}
        self._last_time = time.monotonic()
        # Whether a plain (non-terminal) display ends with one more line when it stops: after a
        # clean stop yes (the sealed size), after a failure no (the error is the last word).
        self.final = True

    def render(self) -> str:
        """One line: disk bytes, then per venue state, frames/s, frames and reconnects, and
        the last connection error while a venue is not fully open."""
        now = time.monotonic()
        elapsed = max(now - self._last_time, 1e-9)
        # Most important first: a narrow terminal cuts the end of the line.
        parts = [f"disk {human_bytes(self._bytes_on_disk())}"]
        for venue, s in self._stats.items():
            rate = (s.frames_in - self._last_counts.get(venue, 0)) / elapsed
            self._last_counts[venue] = s.frames_in
            counts = f"{plural(s.frames_in, 'frame')}, {plural(s.reconnects, 'reconnect')}"
            part = f"{venue} {s.state} {rate:,.0f}/s ({counts})"
            if s.last_error and s.state != "open":
                part += f" last error: {short_error(s.last_error)}"
            parts.append(part)
        self._last_time = now
        return " · ".join(parts)


async def show_status(line: StatusLine, stream: TextIO, interactive: bool, interval_s: float) -> None:
    """Refresh the status until cancelled: a rich live line when `interactive`, else plain lines."""
    if not interactive:
        try:
            while True:
                await asyncio.sleep(interval_s)
                stream.write(f"record: {line.render()}\n")
                stream.flush()
        finally:  # the final line: cancelled once the session is sealed, so its bytes are final
            if line.final:
                stream.write(f"record: {line.render()}\n")
                stream.flush()
    from rich.console import Console
    from rich.live import Live
    from rich.text import Text

    def text() -> Text:
        return Text(line.render(), no_wrap=True, overflow="ellipsis")

    console = Console(file=stream)
    with Live(text(), console=console, auto_refresh=False, transient=False) as live:
        try:
            while True:
                await asyncio.sleep(interval_s)
                live.update(text(), refresh=True)
        finally:
            live.update(text(), refresh=True)
