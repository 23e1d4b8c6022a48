"""The short summary a replay or live run ends with: what went in, what came out."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from arbkit.core.fees import micros_to_decimal
from arbkit.core.fixedpoint import size_to_decimal


@dataclass(frozen=True)
class RunSummary:
    """Frames per venue, decode errors by kind, and the run's funnel and money.

    `windows` counts opportunity windows, `approved` the risk decisions that approved one,
    `filled` the trades that matched any size; fees and P&L are the run's own (a window replay
    does not count what its warm-up traded).
    """

    frames_by_venue: dict[str, int]
    decode_errors: dict[tuple[str, str], int]
    windows: int
    approved: int
    filled: int
    matched_size: Decimal
    fees: Decimal
    pnl: Decimal


class RunTally:
    """The running figures of a run's output rows that its summary reads, so that no row
    needs keeping for it."""

    __slots__ = ("windows", "approved", "filled", "matched_size", "last_pnl")

    def __init__(self) -> None:
        self.windows = 0
        self.approved = 0
        self.filled = 0
        self.matched_size = 0  # millionths of a contract
        self.last_pnl: dict[str, Any] | None = None

    def add(self, table: str, row: dict[str, Any]) -> None:
        """Count one output row of `table`."""
        if table == "opportunities":
            self.windows += 1
        elif table == "risk_decisions":
            if row["approved"]:
                self.approved += 1
        elif table == "trades":
            matched = row["matched_size"]
            if matched > 0:
                self.filled += 1
                self.matched_size += matched
        elif table == "pnl":
            self.last_pnl = row

    def summary(
        self,
        frames_by_venue: dict[str, int],
        decode_errors: dict[tuple[str, str], int],
        pnl_before: dict[str, Any] | None = None,
    ) -> RunSummary:
        """Summarise the run; `pnl_before` is the last P&L snapshot before its window."""
        last = self.last_pnl or {}
        base = pnl_before or {}
        return RunSummary(
            frames_by_venue=dict(frames_by_venue),
            decode_errors=dict(sorted(decode_errors.items())),
            windows=self.windows,
            approved=self.approved,
            filled=self.filled,
            matched_size=size_to_decimal(self.matched_size).normalize(),
            fees=micros_to_decimal(last.get("fees", 0) - base.get("fees", 0)),
            pnl=micros_to_decimal(last.get("total", 0) - base.get("total", 0)),
        )


def describe_errors(decode_errors: dict[tuple[str, str], int]) -> str:
    """`2 malformed frames (kalshi), 1 unreadable book frame (polymarket)`, or `none`."""
    if not decode_errors:
        return "none"
    return ", ".join(
        f"{n} {kind} frame{'s' if n != 1 else ''} ({venue})"
        for (venue, kind), n in decode_errors.items()
    )
