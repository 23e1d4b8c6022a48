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

from arbkit.config import Config, config_to_dict
from arbkit.core.events import KALSHI, POLYMARKET
from arbkit.core.fees import micros_to_decimal
from arbkit.core.fixedpoint import price_to_decimal, size_to_decimal
from arbkit.core.frame import Frame
from arbkit.core.pairs import DIRECTIONS
from arbkit.engine import Engine
from arbkit.runner.latency import latency_model
from arbkit.runner.outputs import RunOutputs
from arbkit.runner.record import Recorder, RecordSummary, run_recorder
from arbkit.runner.summary import RunSummary, summarise

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
        self.outputs = RunOutputs()
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

    def _on_frame(self, frame: Frame) -> None:
        self.frames_by_venue[frame.venue] = self.frames_by_venue.get(frame.venue, 0) + 1
        outputs = self.engine.process(frame)
        if outputs:
            self.outputs.add(outputs)
            for table, _ in outputs:
                self.counts[table] = self.counts.get(table, 0) + 1
        if self._live is not None:
            now = time.monotonic()
            if now >= self._next_refresh:
                self._next_refresh = now + _REFRESH_S
                self._live.update(self.render(), refresh=True)

    def run(self) -> LiveResult:
        """Record and trade on paper until stopped; write the run tables and run.json."""
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
        self.outputs.rows["book_health"] = self.engine.book_health()
        meta = {
            "recording": f"{RECORDING_DIR}/{summary.session_id}",
            "sessions": [summary.session_id],
            "window": {"start_ns": None, "end_ns": None},
            "config": config_to_dict(self.config),
            "frames": self.engine.frames,
            "decode_errors": self.engine.decode_errors,
            "rows": {t: len(rows) for t, rows in sorted(self.outputs.rows.items())},
            "mode": "live_paper",
        }
        self.outputs.write(self.run_dir, meta)
        run_summary = summarise(
            self.outputs.rows, dict(sorted(self.frames_by_venue.items())), self.engine.decode_error_kinds
        )
        return LiveResult(self.run_dir, summary, self.engine.frames, meta["rows"], run_summary)

    # -- dashboard -------------------------------------------------------------------------

    def render(self) -> Group:
        """The dashboard: connection health, books per pair, open opportunities, paper P&L."""
        return Group(self._connections(), self._books(), self._opportunities(), self._paper())

    def _connections(self) -> Table:
        table = Table(title="connections", expand=True)
        for column in ("venue", "state", "frames in", "reconnects", "errors", "last error"):
            table.add_column(column)
        for venue, stats in self.recorder.stats.items():
            table.add_row(
                venue,
                stats.state,
                f"{stats.frames_in:,}",
                str(stats.reconnects),
                str(stats.errors),
                stats.last_error[:60],
            )
        return table

    def _books(self) -> Table:
        table = Table(title="books (YES terms)", expand=True)
        for column in ("pair", "kalshi bid", "kalshi ask", "poly bid", "poly ask", "valid"):
            table.add_column(column)
        books = self.engine.books
        for spec in self.engine.detector.pairs:
            kalshi = books.get(KALSHI, spec.kalshi_ticker)
            poly = books.get(POLYMARKET, spec.polymarket_yes_token)
            table.add_row(
                spec.name[:40],
                _price(kalshi.best_bid if kalshi else None),
                _price(kalshi.best_ask if kalshi else None),
                _price(poly.best_bid if poly else None),
                _price(poly.best_ask if poly else None),
                f"{'K' if kalshi and kalshi.valid else '-'}{'P' if poly and poly.valid else '-'}",
            )
        return table

    def _opportunities(self) -> Table:
        table = Table(title="open opportunities", expand=True)
        for column in ("pair", "direction", "open for", "peak edge", "peak size", "peak profit"):
            table.add_column(column)
        now = self.engine.last_ns
        for window in self.engine.detector.open_windows():
            table.add_row(
                window.pair[:40],
                "K-YES/P-NO" if window.direction == DIRECTIONS[0] else "P-YES/K-NO",
                f"{(now - window.open_ns) / 1e9:.1f} s",
                f"${micros_to_decimal(window.peak_edge)}",
                str(size_to_decimal(window.peak_size).normalize()),
                f"${micros_to_decimal(window.peak_profit)}",
            )
        return table

    def _paper(self) -> Table:
        table = Table(title="paper trading", expand=True)
        for column in ("opportunities", "decisions", "orders", "fills", "realised", "locked in", "fees"):
            table.add_column(column)
        pnl = self.outputs.rows.get("pnl") or [{}]
        last = pnl[-1]
        table.add_row(
            str(self.counts.get("opportunities", 0) + len(self.engine.detector.open_windows())),
            str(self.counts.get("risk_decisions", 0)),
            str(self.counts.get("orders", 0)),
            str(self.counts.get("fills", 0)),
            _money(last.get("realised")),
            _money(last.get("locked_in")),
            _money(last.get("fees")),
        )
        return table


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
