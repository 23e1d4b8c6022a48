"""The stats document: recording health and run statistics, read from the summary views.

Every number is a column of a view (`recording_summary`, `venue_summary`, `run_summary`,
`opportunity_summary`, `funnel`, `denials`); this module only arranges them into one document
with stable keys: dollars as decimal strings, times as ISO-8601 UTC, durations in ms or s.
"""

from __future__ import annotations

import datetime as dt
import math
import os
from collections.abc import Mapping
from decimal import Decimal
from typing import Any

import duckdb

from arbkit.analytics.connection import connect


def json_value(value: Any) -> Any:
    """Turn a DuckDB value into JSON: decimals as exact strings, timestamps as ISO-8601 UTC.

    Floats (milliseconds, seconds, fractions) are rounded to 6 decimals; binary payloads become
    text (bytes that are not UTF-8 as backslash escapes).
    """
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 6)
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("utf-8", "backslashreplace")
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): json_value(v) for k, v in value.items()}
    return value


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[dict[str, Any]]:
    cursor = con.execute(sql)
    names = [d[0] for d in cursor.description]
    return [{n: json_value(v) for n, v in zip(names, row)} for row in cursor.fetchall()]


def _without(row: Mapping[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in keys}


# Views read several times (by the document through others, then by the report on the same
# connection), each computed once into a temporary table of the same name, which DuckDB resolves
# before the view (temp comes first in the search path). In dependency order. They are small (a
# row per session, connection, block of a book, gap, stall, minute or venue), the frames they
# read are not.
COMPUTE_ONCE: tuple[str, ...] = (
    "sessions", "connections", "book_gaps", "seq_gaps", "stalls", "message_rates", "venue_summary",
)


def compute_once(con: duckdb.DuckDBPyConnection, views: tuple[str, ...] = COMPUTE_ONCE) -> None:
    """Keep `views` (in dependency order) as temporary tables on `con`, a connection made by `connect`."""
    (database,) = con.execute("SELECT current_database()").fetchone()
    for view in views:
        con.execute(f'CREATE OR REPLACE TEMP TABLE "{view}" AS SELECT * FROM "{database}".main."{view}"')


def stats_document(con: duckdb.DuckDBPyConnection) -> dict[str, Any]:
    """Build the stats document from a connection made by `connect`.

    The views it reads several times are kept as temporary tables on `con` (`compute_once`).
    """
    compute_once(con)
    summary = _rows(con, "SELECT * FROM recording_summary")[0]
    venues = {row["venue"]: _without(row, "venue")
              for row in _rows(con, "SELECT * FROM venue_summary ORDER BY venue")}
    sessions = _rows(con, """
        SELECT session_id, status, start_time AS start, end_time AS "end", span_s, frames,
               has_manifest, host, arbkit_version
        FROM sessions ORDER BY start_ns, session_id""")
    recording: dict[str, Any] = {
        "sessions": summary["sessions"],
        "clean_sessions": summary["clean_sessions"],
        "crashed_sessions": summary["crashed_sessions"],
        "recovered_sessions": summary["recovered_sessions"],
        "sessions_without_manifest": summary["sessions_without_manifest"],
        "start": summary["start_time"],
        "end": summary["end_time"],
        "span_s": summary["span_s"],
        "frames": summary["frames"],
        "bytes": summary["bytes"],
        "reconnects": summary["reconnects"],
        "downtime_s": summary["downtime_s"],
        "seq_gaps": summary["seq_gaps"],
        "stalls": summary["stalls"],
        "decode_errors": summary["decode_errors"],
        "staleness_p50_ms": {name: v["staleness_p50_ms"] for name, v in venues.items()},
        "staleness_p99_ms": {name: v["staleness_p99_ms"] for name, v in venues.items()},
        "latency_p50_ms": {name: v["latency_p50_ms"] for name, v in venues.items()},
        "latency_p99_ms": {name: v["latency_p99_ms"] for name, v in venues.items()},
        "venues": venues,
        "session_list": sessions,
    }
    runs: dict[str, Any] = {}
    for row in _rows(con, "SELECT * FROM run_summary ORDER BY run"):
        name = row["run"]
        run = _without(row, "run")
        run["fees"] = {"total": row["fees"], "kalshi": row["kalshi_fees"], "polymarket": row["polymarket_fees"]}
        del run["kalshi_fees"], run["polymarket_fees"]
        run["funnel"] = _rows(con, f"""
            SELECT coalesce(sum(detected), 0) AS detected, coalesce(sum(approved), 0) AS approved,
                   coalesce(sum(orders_sent), 0) AS orders_sent, coalesce(sum(both_filled), 0) AS both_filled,
                   coalesce(sum(profitable), 0) AS profitable
            FROM funnel WHERE run = '{_quote(name)}'""")[0]
        run["funnel_by_pair"] = _rows(con, f"""
            SELECT pair, direction, detected, approved, orders_sent, both_filled, profitable
            FROM funnel WHERE run = '{_quote(name)}' ORDER BY pair, direction""")
        run["by_pair"] = _rows(con, f"""
            SELECT pair, direction, opportunities, lifetime_p50_ms, lifetime_p90_ms, peak_edge, peak_profit
            FROM opportunity_summary WHERE run = '{_quote(name)}' ORDER BY pair, direction""")
        run["denials"] = {r["reason"]: r["denied"] for r in _rows(con, f"""
            SELECT reason, denied FROM denials WHERE run = '{_quote(name)}' ORDER BY denied DESC, reason""")}
        runs[name] = run
    return {"recording": recording, "runs": runs}


def _quote(text: str) -> str:
    return text.replace("'", "''")


def stats(
    recording: str | os.PathLike[str],
    runs: str | os.PathLike[str] | Mapping[str, Any] | None = None,
    *,
    stall_s: float | None = None,
    decode: bool = False,
) -> dict[str, Any]:
    """Return the stats document of a recording (and runs): what `arbkit stats --format json` prints."""
    con = connect(recording, runs, stall_s=stall_s, decode=decode)
    try:
        return stats_document(con)
    finally:
        con.close()
