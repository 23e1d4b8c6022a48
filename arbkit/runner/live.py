"""`arbkit live --paper`: record both venues and run the engine on the same frames as they arrive.

The recorder's `on_frame` hook hands every row to the engine right after it is appended, so the
live engine sees exactly the sequence a later replay of the session reads (DESIGN §4 parity).
Paper only: nothing here can send an order. Run tables land in the run directory, the recording
in its `recording/` folder, and `run.json` names that session so `arbkit replay --verify` can
re-derive the run.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from arbkit.config import Config, config_to_dict
from arbkit.core.events import KALSHI, POLYMARKET
from arbkit.core.fees import micros_to_decimal
from arbkit.core.fixedpoint import price_to_decimal, size_to_decimal
from arbkit.core.frame import Frame
from arbkit.engine import Engine
from arbkit.runner.latency import latency_model
from arbkit.runner.outputs import RunOutputs
from arbkit.runner.record import Recorder, RecordSummary, run_recorder
from arbkit.runner.status import short_error
from arbkit.runner.summary import RunSummary

RECORDING_DIR = "recording"
_REFRESH_S = 0.25


@dataclass
class LiveResult:
    """What a live paper run produced."""

    run_dir: Path
    summary: RecordSummary
    frames: int
    rows: dict[str, int]
    run_summary: RunSummary


class PaperSession:
    """One live paper run: a recorder whose frames drive an engine, and an optional dashboard."""

    def __init__(
        self,
        config: Config,
        run_dir: Path,
        *,
        duration_s: float | None = None,
        console: Console | None = None,
        status_stream: Any = None,
    ) -> None:
        self.config = config
        self.run_dir = Path(run_dir)
        self.engine = Engine(config, latency=latency_model(config, None))
        self.outputs = RunOutputs(self.run_dir)
        self.counts: dict[str, int] = {}
        self.frames_by_venue: dict[str, int] = {}
        self.console = console
        self.recorder = Recorder(
            config,
            self.run_dir / RECORDING_DIR,
            duration_s=duration_s,
            on_frame=self._on_frame,
            status_stream=None if console is not None else status_stream,
        )
        self._live: Live | None = None
        self._next_refresh = 0.0
        self._started: float | None = None

    def _on_frame(self, frame: Frame) -> None:
        self.frames_by_venue[frame.venue] = self.frames_by_venue.get(frame.venue, 0) + 1
        outputs = self.engine.process(frame)
        if outputs:
            self.outputs.add(outputs)
            for table, row in outputs:
                self.counts[table] = self.counts.get(table, 0) + 1
                if table == "risk_decisions" and row["approved"]:
                    self.counts["approved"] = self.counts.get("approved", 0) + 1
        if self._live is not None:
            now = time.monotonic()
            if now >= self._next_refresh:
                self._next_refresh = now + _REFRESH_S
                self._live.update(self.render(), refresh=True)

    def run(self) -> LiveResult:
        """Record and trade on paper until stopped; write the run tables and run.json."""
        self._started = time.monotonic()
        with self.outputs:
            if self.console is not None:
                with Live(self.render(), console=self.console, auto_refresh=False, transient=False) as live:
                    self._live = live
                    try:
                        summary = asyncio.run(run_recorder(self.recorder))
                    finally:
                        self._live = None
            else:
                summary = asyncio.run(run_recorder(self.recorder))
            self.outputs.add(self.engine.finish())
            self.outputs.add(("book_health", row) for row in self.engine.book_health())
            meta = {
                "recording": f"{RECORDING_DIR}/{summary.session_id}",
                "sessions": [summary.session_id],
                "window": {"start_ns": None, "end_ns": None},
                "config": config_to_dict(self.config),
                "frames": self.engine.frames,
                "decode_errors": self.engine.decode_errors,
                "rows": self.outputs.counts,
                "mode": "live_paper",
            }
            self.outputs.write(meta)
        run_summary = self.outputs.tally.summary(
            dict(sorted(self.frames_by_venue.items())), self.engine.decode_error_kinds
        )
        return LiveResult(self.run_dir, summary, self.engine.frames, meta["rows"], run_summary)

    # -- dashboard -------------------------------------------------------------------------

    def render(self) -> Group:
        """The dashboard, sized to the console (80x24 at least): a header with the session and
        elapsed time, connection health, books per pair, open opportunities and paper P&L.

        Long pair names wrap rather than being cut; when the pairs and open windows need more
        rows than the terminal has, the rest are counted in one line.
        """
        height = self.console.size.height if self.console is not None else 24
        # Fixed lines: header 1, connections 4 (title, head, two venues), books and opportunities
        # 2 each (title, head), paper 3 (title, head, row); the rest is shared by the two lists,
        # then trimmed while wrapped names still make it too tall.
        spare = max(2, height - 12)
        windows = len(self.engine.detector.open_windows())
        window_rows = min(windows, spare // 2)
        book_rows = min(len(self.engine.detector.pairs), spare - window_rows)
        while True:
            group = Group(
                self._header(), self._connections(), self._books(book_rows),
                self._opportunities(window_rows), self._paper(),
            )
            if self.console is None or book_rows + window_rows <= 1:
                return group
            if len(self.console.render_lines(group, pad=False)) <= height:
                return group
            if book_rows > 1 and (book_rows >= window_rows or window_rows == 0):
                book_rows -= 1
            else:
                window_rows -= 1

    def _header(self) -> Text:
        session = self.recorder.session_id or "starting"
        elapsed = 0 if self._started is None else int(time.monotonic() - self._started)
        return Text(
            f"arbkit live --paper  session {session}  elapsed {elapsed // 3600}:"
            f"{elapsed // 60 % 60:02d}:{elapsed % 60:02d}  frames {self.engine.frames:,}",
            style="bold",
        )

    def _connections(self) -> Table:
        table = _table("connections")
        table.add_column("venue", no_wrap=True)
        table.add_column("state", no_wrap=True)
        table.add_column("frames", justify="right", no_wrap=True)
        table.add_column("reconnects", justify="right", no_wrap=True)
        table.add_column("errors", justify="right", no_wrap=True)
        table.add_column("last error", overflow="fold", ratio=1)
        for venue, stats in self.recorder.stats.items():
            table.add_row(
                venue,
                stats.state,
                f"{stats.frames_in:,}",
                str(stats.reconnects),
                str(stats.errors),
                short_error(stats.last_error) if stats.last_error else "",
            )
        return table

    def _books(self, limit: int) -> Table:
        table = _table("books (best YES bid and ask per venue)")
        table.add_column("pair", overflow="fold", ratio=1)
        for column in ("kalshi bid", "kalshi ask", "poly bid", "poly ask"):
            table.add_column(column, justify="right", no_wrap=True)
        table.add_column("valid", no_wrap=True)
        books = self.engine.books
        pairs = self.engine.detector.pairs
        shown = _fit(pairs, limit)
        for spec in shown:
            kalshi = books.get(KALSHI, spec.kalshi_ticker)
            poly = books.get(POLYMARKET, spec.polymarket_yes_token)
            valid = [v for v, b in (("kalshi", kalshi), ("poly", poly)) if b is not None and b.valid]
            table.add_row(
                spec.name,
                _price(kalshi.best_bid if kalshi else None),
                _price(kalshi.best_ask if kalshi else None),
                _price(poly.best_bid if poly else None),
                _price(poly.best_ask if poly else None),
                "both" if len(valid) == 2 else (valid[0] if valid else "none"),
            )
        if len(shown) < len(pairs):
            table.add_row(f"(and {len(pairs) - len(shown)} more pairs)", "", "", "", "", "")
        return table

    def _opportunities(self, limit: int) -> Table:
        table = _table("open opportunities")
        table.add_column("pair", overflow="fold", ratio=1)
        table.add_column("direction", no_wrap=True)
        table.add_column("open for", justify="right", no_wrap=True)
        table.add_column("peak edge", justify="right", no_wrap=True)
        table.add_column("size", justify="right", no_wrap=True)
        table.add_column("profit", justify="right", no_wrap=True)
        now = self.engine.last_ns
        windows = self.engine.detector.open_windows()
        shown = _fit(windows, limit)
        for window in shown:
            table.add_row(
                window.pair,
                window.direction,  # the run tables' value, so the two read the same
                f"{(now - window.open_ns) / 1e9:.1f} s",
                f"${micros_to_decimal(window.peak_edge)}",
                f"{size_to_decimal(window.peak_size).normalize():f}",
                f"${micros_to_decimal(window.peak_profit)}",
            )
        if len(shown) < len(windows):
            table.add_row(f"(and {len(windows) - len(shown)} more)", "", "", "", "", "")
        return table

    def _paper(self) -> Table:
        table = _table("paper trading")
        for column in ("windows", "approved", "orders", "fills", "realised", "locked in", "fees"):
            table.add_column(column, justify="right", no_wrap=True)
        last = self.outputs.tally.last_pnl or {}
        table.add_row(
            str(self.counts.get("opportunities", 0) + len(self.engine.detector.open_windows())),
            str(self.counts.get("approved", 0)),
            str(self.counts.get("orders", 0)),
            str(self.counts.get("fills", 0)),
            _money(last.get("realised")),
            _money(last.get("locked_in")),
            _money(last.get("fees")),
        )
        return table


def _fit(items: list[Any], rows: int) -> list[Any]:
    """The first items to show in `rows` rows, keeping one for the count of the rest if needed."""
    return items if len(items) <= rows else items[: max(0, rows - 1)]


def _table(title: str) -> Table:
    """A borderless table with its title on the left: the dashboard's rows are its height."""
    return Table(
        title=title, title_justify="left", title_style="bold", box=None, expand=True,
        pad_edge=False, padding=(0, 1), header_style="underline",
    )


def _price(ticks: int | None) -> str:
    return "-" if ticks is None else str(price_to_decimal(ticks))


def _money(micros: int | None) -> str:
    return "-" if micros is None else f"${micros_to_decimal(micros)}"


def live_paper(
    config: Config,
    run_dir: Path,
    *,
    duration_s: float | None = None,
    console: Console | None = None,
    status_stream: Any = None,
) -> LiveResult:
    """Run `arbkit live --paper` until SIGINT/SIGTERM or `duration_s`."""
    session = PaperSession(
        config, run_dir, duration_s=duration_s, console=console, status_stream=status_stream
    )
    return session.run()
