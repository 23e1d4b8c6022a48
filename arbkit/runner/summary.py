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


def summarise(
    rows: dict[str, list[dict[str, Any]]],
    frames_by_venue: dict[str, int],
    decode_errors: dict[tuple[str, str], int],
    pnl_before: dict[str, Any] | None = None,
) -> RunSummary:
    """Summarise a run's output rows; `pnl_before` is the last P&L snapshot before its window."""
    trades = rows.get("trades", [])
    pnl = rows.get("pnl", [])
    last = pnl[-1] if pnl else {}
    base = pnl_before or {}
    return RunSummary(
        frames_by_venue=dict(frames_by_venue),
        decode_errors=dict(sorted(decode_errors.items())),
        windows=len(rows.get("opportunities", [])),
        approved=sum(1 for d in rows.get("risk_decisions", []) if d["approved"]),
        filled=sum(1 for t in trades if t["matched_size"] > 0),
        matched_size=size_to_decimal(sum(t["matched_size"] for t in trades)).normalize(),
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
