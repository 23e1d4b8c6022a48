"""Check a `--start/--end` replay against the full replay of the same recording (DESIGN §8).

The rule the window replay follows (arbkit/runner/replay.py `_Window`): an opportunity belongs to
the side of `--start` it opened on, with its risk decision, orders, fills and trade; `--end` ends
the data as a stopped recording would. So, from the full replay, the window must hold exactly:
the decisions and orders made inside it, the opportunities that opened inside it (those closed
before `--end` unchanged), and the fills and trades of its decisions done before `--end`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow.parquet as pq


def rows(run_dir: Path, table: str) -> list[dict[str, Any]]:
    """A run table's rows."""
    return pq.read_table(run_dir / f"{table}.parquet").to_pylist()


def first_frame_at_or_after(times: list[int], start_ns: int) -> int:
    """The receive time of the frame the window begins at (the first, in replay order, at or
    after --start)."""
    return next(t for t in times if t >= start_ns)


def assert_window_matches_full(
    full: Path, window: Path, begin_ns: int, end_ns: int, start_ns: int | None = None
) -> dict[str, int]:
    """Assert every decision of `window` equals the full replay's; return how many were compared.

    `begin_ns` is the time of the window's first frame, `start_ns` the --start given (default
    `begin_ns`): snapshots are kept from --start on.
    """
    decisions = [d for d in rows(full, "risk_decisions") if begin_ns <= d["ns"] < end_ns]
    assert rows(window, "risk_decisions") == decisions
    ids = {d["decision_id"] for d in decisions}
    opened = {d["opportunity_id"] for d in decisions}

    assert rows(window, "orders") == [o for o in rows(full, "orders") if o["decision_id"] in ids]

    expected_windows = [w for w in rows(full, "opportunities") if begin_ns <= w["open_ns"] < end_ns]
    got_windows = rows(window, "opportunities")
    closed = [w for w in expected_windows if w["close_ns"] < end_ns and w["close_reason"] != "end_of_data"]
    assert [w for w in got_windows if w["close_reason"] != "end_of_data"] == closed
    open_at_end = {w["opportunity_id"] for w in got_windows if w["close_reason"] == "end_of_data"}
    assert open_at_end == {w["opportunity_id"] for w in expected_windows} - {w["opportunity_id"] for w in closed}
    assert {w["opportunity_id"] for w in got_windows} >= opened

    trades = [t for t in rows(full, "trades") if t["decision_id"] in ids and t["ns"] < end_ns]
    assert [t for t in rows(window, "trades") if t["ns"] < end_ns] == trades
    done = {t["decision_id"] for t in trades}
    assert [f for f in rows(window, "fills") if f["decision_id"] in done] == [
        f for f in rows(full, "fills") if f["decision_id"] in done
    ]
    # P&L snapshots inside the window are the full replay's (cumulative since the recording's start).
    pnl = [p for p in rows(full, "pnl") if (start_ns or begin_ns) <= p["ns"] < end_ns]
    assert [p for p in rows(window, "pnl") if p["ns"] < end_ns][: len(pnl)] == pnl
    return {"decisions": len(decisions), "trades": len(trades), "windows": len(expected_windows)}
