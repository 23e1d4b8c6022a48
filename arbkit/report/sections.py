"""The report's sections, each built from the analytics views of one connection.

Every number shown is a column of a view (`arbkit/analytics/views/*.sql`, the `report_*` ones
written for this report) or of the stats document; this module only selects rows, formats them
and hands them to the figures. A section with nothing to show says why, in plain language.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import duckdb
import polars as pl

from arbkit.report import figures as fg
from arbkit.report.model import Block, Bullets, Cell, Facts, Figure, Note, Section, Table, number, text

NO_RUN = ("No run was given, so there are no opportunities, trades or P&L to show. Replay the recording "
          "(`arbkit replay --from PATH --config arbkit.toml --out RUN_DIR`) and pass `--run RUN_DIR` to add them.")
VENUES = ("kalshi", "polymarket")


@dataclass
class Context:
    """What every section reads: the connection, the stats document and the runs' names."""

    con: duckdb.DuckDBPyConnection
    stats: dict[str, Any]
    runs: list[str]

    def rows(self, sql: str, *params: Any) -> pl.DataFrame:
        """Rows of a SELECT over the views as a Polars DataFrame."""
        return self.con.sql(sql, params=list(params) or None).pl()

    @property
    def several(self) -> bool:
        """True when more than one run is compared."""
        return len(self.runs) > 1


# --- formatting: text only, never arithmetic on the numbers -------------------------------------


def utc(ns: int | None) -> str:
    """A Unix-ns time as `YYYY-MM-DD HH:MM:SS.mmm UTC`."""
    if ns is None:
        return "–"
    when = dt.datetime.fromtimestamp(ns // 1_000_000_000, tz=dt.timezone.utc)
    return f"{when:%Y-%m-%d %H:%M:%S}.{ns % 1_000_000_000 // 1_000_000:03d} UTC"


def span_text(start_ns: int | None, end_ns: int | None) -> str:
    """`2026-01-06 20:00:00 → 23:59:59 UTC` (the end's date only when it differs)."""
    if start_ns is None or end_ns is None:
        return "–"
    start, end = utc(start_ns)[:19], utc(end_ns)[:19]
    return f"{start} → {end[11:] if end[:10] == start[:10] else end} UTC"


def time_cell(ns: int | None) -> Cell:
    """A UTC time cell (the column heading says UTC) that sorts by its nanoseconds."""
    return Cell(utc(ns).removesuffix(" UTC"), None if ns is None else str(ns), nowrap=True)


def dollars(value: Any, places: int = 2) -> str:
    """Dollars with a sign and grouped thousands (`-$1,234.56`)."""
    if value is None:
        return "–"
    amount = Decimal(str(value))
    sign = "-" if amount < 0 else ""
    return f"{sign}${abs(amount):,.{places}f}"


def money(value: Any, places: int = 2) -> Cell:
    """A right-aligned dollar cell that sorts by its exact value."""
    return Cell(dollars(value, places), None if value is None else str(value), numeric=True)


def ms(value: Any, places: int = 1) -> Cell:
    """A right-aligned milliseconds cell."""
    return number(None if value is None else float(value), places)


def percent(fraction: Any, places: int = 1) -> str:
    """A 0..1 fraction as a percentage (`97.4 %`)."""
    return "–" if fraction is None else f"{float(fraction) * 100:.{places}f} %"


def duration(seconds: Any) -> str:
    """Seconds as `2 h 03 min`, `4 min 05 s` or `12.3 s`."""
    if seconds is None:
        return "–"
    whole = int(seconds)
    if whole >= 3600:
        return f"{whole // 3600} h {whole % 3600 // 60:02d} min"
    if whole >= 60:
        return f"{whole // 60} min {whole % 60:02d} s"
    return f"{float(seconds):.1f} s"


def short_id(market: str, limit: int = 20) -> str:
    """A long Polymarket asset id shortened to its ends (`7101677…5416`)."""
    return market if len(market) <= limit else f"{market[:8]}…{market[-6:]}"


def table(title: str, frame: pl.DataFrame, columns: list[tuple[str, str, Callable[[Any], Cell]]], *,
          caption: str = "", empty: str = "", collapsed: bool = False) -> Table:
    """A table of view rows: `columns` are (heading, column, formatter)."""
    rows = [[fmt(row[col]) for _, col, fmt in columns] for row in frame.iter_rows(named=True)]
    return Table(title, [heading for heading, _, _ in columns], rows, caption=caption, empty=empty,
                 collapsed=collapsed)


def _without_run(ctx: Context, section: Section) -> bool:
    """Say in `section` that it needs a run, when none was given; True then."""
    if ctx.runs:
        return False
    section.blocks.append(Note(NO_RUN, "empty"))
    return True


def _share(value: Any) -> Cell:
    """A 0..1 fraction as a right-aligned percentage cell (one decimal)."""
    return Cell(percent(value), None if value is None else str(value), numeric=True)


def _one_run(ctx: Context, frame: pl.DataFrame, run: str) -> pl.DataFrame:
    return frame.filter(pl.col("run") == run) if "run" in frame.columns else frame


def _run_columns(ctx: Context) -> list[tuple[str, str, Callable[[Any], Cell]]]:
    return [("run", "run", text)] if ctx.several else []


# --- sections -----------------------------------------------------------------------------------


def summary(ctx: Context) -> Section:
    """Header: what was recorded and replayed, the headline numbers, and the runs' parameters."""
    rec = ctx.stats["recording"]
    section = Section("summary", "Summary", "What was recorded, when, and what the replay found. "
                      "Headline numbers are those of `arbkit stats --format json` on the same data.")
    sessions = ctx.rows("SELECT * FROM sessions ORDER BY start_ns, session_id")
    pairs = ctx.rows("SELECT * FROM report_pairs")
    versions = sorted({v for v in sessions["arbkit_version"].to_list() if v})
    bounds = ctx.rows("SELECT start_ns, end_ns FROM recording_summary")
    span = span_text(bounds["start_ns"][0], bounds["end_ns"][0]) if bounds.height else "–"
    facts: list[tuple[str, str, str | None, str | None]] = [
        ("Recording span", span, None, None),
        ("Duration", duration(rec["span_s"]), None, None),
        ("Sessions", _sessions_line(rec), "recording.sessions", str(rec["sessions"])),
        ("Venues", ", ".join(sorted(rec["venues"])) or "none", None, None),
        ("Pairs", f"{pairs.height:,}", None, None),
        ("Frames", f"{rec['frames'] or 0:,}", "recording.frames", str(rec["frames"] or 0)),
        ("Reconnects", f"{rec['reconnects'] or 0:,}", "recording.reconnects", str(rec["reconnects"] or 0)),
        ("Recorded by arbkit", ", ".join(versions) or "unknown", None, None),
    ]
    for run in ctx.runs:
        doc = ctx.stats["runs"].get(run, {})
        label = f" ({run})" if ctx.several else ""
        facts += [
            (f"Opportunity windows{label}", f"{doc.get('opportunities') or 0:,}", f"runs.{run}.opportunities",
             str(doc.get("opportunities") or 0)),
            (f"Fills{label}", f"{doc.get('fills') or 0:,}", f"runs.{run}.fills", str(doc.get("fills") or 0)),
            (f"Final P&L{label}", dollars(doc.get("pnl") or 0, 4), f"runs.{run}.pnl", str(doc.get("pnl") or 0)),
        ]
    section.blocks.append(Facts(facts))
    section.blocks.append(table("Sessions", sessions, [
        ("session", "session_id", text), ("status", "status", text), ("start (UTC)", "start_ns", time_cell),
        ("end (UTC)", "end_ns", time_cell), ("span", "span_s", lambda v: Cell(duration(v), str(v), numeric=True)),
        ("frames", "frames", number), ("host", "host", text), ("arbkit", "arbkit_version", text),
    ], caption="`complete` sessions stopped cleanly; `recovered` ones died and had their journal sealed "
               "by a later start; `recording` ones died and were not recovered yet.",
        empty="The recording has no sessions."))
    section.blocks.append(table("Pairs", pairs, [
        ("pair", "pair", text), ("sessions recording it", "sessions", number), ("runs trading it", "runs", number),
    ], empty="No pair is named by the sessions' manifests or the runs' configs.", collapsed=pairs.height > 12))
    if _without_run(ctx, section):
        return section
    runs = ctx.rows("SELECT * FROM runs ORDER BY run")
    section.blocks.append(table("Runs", runs, [
        ("run", "run", text), ("mode", "mode", text), ("directory", "run_dir", text),
        ("frames processed", "frames", number), ("frames not decodable", "decode_errors", number),
        ("arbkit", "arbkit_version", text),
    ]))
    section.blocks.append(parameters_table(ctx, only_differing=False))
    fees = ctx.rows("SELECT * FROM report_fee_schedules ORDER BY run, pair, in_force_from NULLS FIRST")
    section.blocks.append(table("Fee schedules", fees, [
        *_run_columns(ctx), ("pair", "pair", text),
        ("in force from", "in_force_from", lambda v: text("start of recording" if v is None else v)),
        ("Kalshi fee multiplier", "kalshi_fee_multiplier", text),
        ("Polymarket fee rate", "polymarket_fee_rate", text),
    ], caption="Taker fees: Kalshi ceil_to_cent(M × 0.07 × C × P × (1 − P)) per price level, Polymarket "
               "C × rate × p × (1 − p) rounded half-up to 5 decimals. A blank value keeps the one before.",
        collapsed=fees.height > 12))
    return section


def _sessions_line(rec: dict[str, Any]) -> str:
    parts = [f"{rec['sessions'] or 0:,}"]
    if rec.get("recovered_sessions"):
        parts.append(f"{rec['recovered_sessions']} recovered after a crash")
    if rec.get("crashed_sessions"):
        parts.append(f"{rec['crashed_sessions']} crashed")
    if rec.get("sessions_without_manifest"):
        parts.append(f"{rec['sessions_without_manifest']} without manifest")
    return parts[0] + (f" ({', '.join(parts[1:])})" if len(parts) > 1 else "")


def parameters_table(ctx: Context, *, only_differing: bool) -> Table:
    """The runs' parameters, one column per run; values that differ between runs highlighted."""
    params = ctx.rows("SELECT * FROM report_parameters ORDER BY section, parameter, run")
    if only_differing:
        params = params.filter(pl.col("differs"))
    keys: dict[tuple[str, str], dict[str, Any]] = {}
    for row in params.iter_rows(named=True):
        keys.setdefault((row["section"], row["parameter"]), {})[row["run"]] = row
    rows = []
    for (section, parameter), by_run in keys.items():
        cells = [text(section), text(parameter)]
        for run in ctx.runs:
            row = by_run.get(run)
            cells.append(Cell("–" if row is None else str(row["value"]),
                              changed=row is None or bool(row["differs"]) and ctx.several))
        rows.append(cells)
    title = "Parameters that differ between the runs" if only_differing else "Run parameters"
    empty = ("Every parameter is the same in all runs." if only_differing
             else "The runs' run.json files carry no parameters.")
    caption = ("The settings that decide what a replay finds and trades ([detector], [risk], [fills], "
               "[latency] of the run's config). Sizes in contracts, money in dollars, times as named.")
    if ctx.several:
        caption += " Highlighted values differ between the runs."
    return Table(title, ["section", "parameter", *ctx.runs], rows, caption=caption, empty=empty, sortable=False)


def comparison(ctx: Context) -> Section:
    """Several runs side by side: parameter diff, summary per run, funnels, P&L curves."""
    section = Section("comparison", "Run comparison",
                      f"{len(ctx.runs)} runs of the same recording side by side. Every later section also shows "
                      "each run separately (one colour per run).")
    section.blocks.append(parameters_table(ctx, only_differing=True))
    summary_rows = ctx.rows("SELECT * FROM run_summary ORDER BY run")
    section.blocks.append(table("Headline figures per run", summary_rows, [
        ("run", "run", text), ("windows", "opportunities", number), ("approved", "approved", number),
        ("denied", "denied", number), ("fills", "fills", number), ("trades", "trades", number),
        ("fees", "fees", money), ("legging loss", "legging_loss", money), ("final P&L", "pnl", money),
    ], caption="Dollars after fees."))
    section.blocks.append(_funnel_figure(ctx))
    curve = _pnl_figure(ctx)
    if curve is not None:
        section.blocks.append(curve)
    return section


def health(ctx: Context) -> Section:
    """Recording health: coverage, rates, reconnects, gaps and stalls, latency, staleness, errors."""
    section = Section("health", "Recording health",
                      "How complete and how fresh the recorded market data is. Everything here comes from the "
                      "recorded frames alone; no replay is needed.")
    venues = ctx.rows("SELECT * FROM venue_summary ORDER BY venue")
    if venues.height == 0:
        section.blocks.append(Note("The recording holds no frames, so there is nothing to report on.", "empty"))
        return section
    missing = [v for v in VENUES if v not in venues["venue"].to_list()]
    if missing:
        section.blocks.append(Note(
            f"Only {', '.join(venues['venue'].to_list())} was recorded: there are no frames of "
            f"{', '.join(missing)}, so its rows are absent below and no cross-venue opportunity can exist.",
            "warning"))
    section.blocks.append(_per_venue(venues))
    section.blocks += _coverage(ctx)
    section.blocks += _rates(ctx)
    section.blocks += _gaps_and_stalls(ctx)
    section.blocks += _latency(ctx)
    section.blocks += _staleness(ctx)
    section.blocks += _decode_errors(ctx)
    return section


def _fraction(value: Any) -> Cell:
    return Cell(percent(value, 2), None if value is None else str(value), numeric=True)


def _per_venue(venues: pl.DataFrame) -> Table:
    """The `venue_summary` view turned on its side: one row per measure, one column per venue."""
    measures: list[tuple[str, str, Callable[[Any], Cell]]] = [
        ("frames (all kinds)", "frames", number), ("frames received", "frames_in", number),
        ("payload bytes", "bytes", number), ("uptime", "uptime_fraction", _fraction),
        ("connections", "connections", number), ("reconnects", "reconnects", number),
        ("downtime (s)", "downtime_s", lambda v: number(v, 3)), ("Kalshi sequence gaps", "seq_gaps", number),
        ("stalls", "stalls", number), ("frames received per second", "frames_per_s", lambda v: number(v, 1)),
        ("busiest minute (frames)", "peak_frames_per_minute", number),
        ("feed latency p50 (ms)", "latency_p50_ms", ms), ("feed latency p99 (ms)", "latency_p99_ms", ms),
        ("book staleness p50 (ms)", "staleness_p50_ms", ms), ("book staleness p99 (ms)", "staleness_p99_ms", ms),
    ]
    rows = venues.iter_rows(named=True)
    by_venue = {row["venue"]: row for row in rows}
    table_rows = [[text(label), *(fmt(by_venue[v][column]) for v in by_venue)] for label, column, fmt in measures]
    return Table("Per venue", ["measure", *by_venue], table_rows, sortable=False,
                 caption="Uptime: time with a connection open over the sessions' span. Book staleness: time between "
                         "consecutive updates of a book. Feed latency: receive time minus the venue's timestamp.")


def _coverage(ctx: Context) -> list[Block]:
    connections = ctx.rows("""SELECT venue, open_ns, coalesce(close_ns, last_ns) AS close_ns
                              FROM connections WHERE open_ns IS NOT NULL ORDER BY venue, open_ns""")
    reconnects = ctx.rows("SELECT * FROM reconnects ORDER BY down_ns, venue")
    stalls = ctx.rows("SELECT * FROM stalls ORDER BY from_ns, venue")
    coverage = ctx.rows("SELECT * FROM coverage ORDER BY session_id, venue")
    blocks: list[Block] = []
    if connections.height:
        outages = reconnects.select("venue", "down_ns", "up_ns").with_row_index("n", offset=1)
        fig = fg.coverage_timeline(connections, outages, stalls.select("venue", "from_ns", "to_ns"))
        blocks.append(Figure("Coverage timeline", fg.to_svg(fig, "Connected time per venue with disconnections"),
                             "Bars: a connection open (time in UTC). Red: disconnected until the next connection "
                             "opened, numbered as in the reconnect table below, which gives each cause. Amber: a "
                             "stall, an open connection that delivered no book data for longer than the threshold."))
    blocks.append(table("Coverage per session and venue", coverage, [
        ("session", "session_id", text), ("venue", "venue", text),
        ("span", "span_s", lambda v: Cell(duration(v), None if v is None else str(v), numeric=True)),
        ("connected (s)", "connected_s", lambda v: number(v, 2)), ("downtime (s)", "downtime_s", lambda v: number(v, 3)),
        ("uptime", "uptime_fraction", _fraction), ("connections", "connections", number),
        ("reconnects", "reconnects", number),
    ], empty="No connection was recorded."))
    blocks.append(table("Reconnects", reconnects.with_row_index("n", offset=1), [
        ("#", "n", number), ("venue", "venue", text), ("new connection", "conn_id", number), ("down at (UTC)", "down_ns", time_cell),
        ("back at (UTC)", "up_ns", time_cell), ("downtime (ms)", "downtime_ms", ms), ("cause", "cause", text),
    ], caption="One row per time a venue came back. Close code 1006 is an abrupt disconnect without a close "
               "frame; `stale` means the recorder dropped a connection that had gone silent.",
        empty="No venue disconnected during the recording: there were no reconnects.",
        collapsed=reconnects.height > 15))
    conns = ctx.rows("SELECT * FROM connections ORDER BY open_ns NULLS LAST, venue, conn_id")
    blocks.append(table("Connections", conns, [
        ("venue", "venue", text), ("connection", "conn_id", number), ("url", "url", text),
        ("opened (UTC)", "open_ns", time_cell), ("closed (UTC)", "close_ns", time_cell),
        ("close code", "close_code", number), ("close reason", "close_reason", text), ("cause", "close_cause", text),
        ("uptime (s)", "uptime_s", lambda v: number(v, 1)), ("frames in", "frames_in", number),
    ], caption="Every connection the recorder opened, with the venue's close code and reason and the recorder's "
               "own cause where it closed the connection itself.", collapsed=True))
    return blocks


def _rates(ctx: Context) -> list[Block]:
    rates = ctx.rows("SELECT * FROM report_message_rates ORDER BY venue, bucket_ns")
    if rates.height == 0:
        return [Note("No frame was received, so there are no message rates.", "empty")]
    width = rates["bucket_s"][0]
    fig = fg.message_rates(rates)
    types = ctx.rows("""SELECT venue, msg_type, sum(frames) AS frames, sum(bytes) AS bytes
                        FROM message_rates GROUP BY ALL ORDER BY venue, frames DESC""")
    return [
        Figure("Message rates", fg.to_svg(fig, "Frames received per second over time per venue"),
               f"Frames received per second, averaged over {width:g}-second buckets."),
        table("Message rates per bucket", rates, [
            ("venue", "venue", text), ("bucket start (UTC)", "bucket_ns", time_cell), ("frames", "frames", number),
            ("frames per second", "frames_per_s", lambda v: number(v, 1)),
        ], collapsed=True),
        table("Frames received per message type", types, [
            ("venue", "venue", text), ("message type", "msg_type", text), ("frames", "frames", number),
            ("bytes", "bytes", number),
        ], collapsed=types.height > 10),
    ]


def _gaps_and_stalls(ctx: Context) -> list[Block]:
    gaps = ctx.rows("SELECT * FROM seq_gaps ORDER BY recv_ns")
    stalls = ctx.rows("SELECT * FROM stalls ORDER BY from_ns")
    return [
        table("Kalshi sequence gaps", gaps, [
            ("at (UTC)", "recv_ns", time_cell), ("connection", "conn_id", number), ("subscription", "sid", number),
            ("expected seq", "expected_seq", number), ("got seq", "got_seq", number), ("missed", "missed", number),
        ], caption="A frame whose seq is not the previous one's + 1: the book is invalid until a new snapshot.",
            empty="No Kalshi sequence gap: every subscription's seq numbers were consecutive.",
            collapsed=gaps.height > 15),
        table("Stalls", stalls, [
            ("venue", "venue", text), ("connection", "conn_id", number), ("from (UTC)", "from_ns", time_cell),
            ("to (UTC)", "to_ns", time_cell), ("duration (ms)", "duration_ms", ms), ("ended by", "ended_by", text),
            ("threshold (s)", "threshold_s", lambda v: number(v, 1)),
        ], caption="Intervals longer than the stall threshold with no book data on a connection that stayed open.",
            empty="No stall: every open connection kept delivering book data within the threshold.",
            collapsed=stalls.height > 15),
    ]


def _latency(ctx: Context) -> list[Block]:
    summary = ctx.rows("SELECT * FROM report_feed_latency_summary ORDER BY venue")
    if summary.height == 0:
        return [Note("No recorded frame carries the venue's own timestamp, so feed latency cannot be measured.",
                     "empty")]
    quantiles = ctx.rows("SELECT * FROM feed_latency_quantiles ORDER BY venue, percentile")
    fig = fg.quantile_curve(quantiles, "latency_ms", "feed latency (ms)")
    return [
        Figure("Feed latency distribution", fg.to_svg(fig, "Feed latency percentiles per venue"),
               "Receive time minus the venue's own timestamp, by percentile of frames. It includes the offset "
               "between the venue's clock and ours (it can be negative): compare a venue with itself over time, "
               "not the two venues with each other."),
        table("Feed latency per venue", summary, [
            ("venue", "venue", text), ("frames with a timestamp", "frames", number), ("min (ms)", "min_ms", ms),
            ("p50 (ms)", "p50_ms", ms), ("p90 (ms)", "p90_ms", ms), ("p99 (ms)", "p99_ms", ms),
            ("max (ms)", "max_ms", ms),
        ]),
    ]


def _staleness(ctx: Context) -> list[Block]:
    books = ctx.rows("SELECT * FROM report_book_staleness")
    if books.height == 0:
        return [Note("No book update was recorded, so book staleness cannot be measured.", "empty")]
    labels = [_book_label(row) for row in books.iter_rows(named=True)]
    shown = min(books.height, 30)
    fig = fg.staleness_bars(labels[:shown], books.head(shown))
    book_cell = [Cell(label) for label in labels]
    rows = [[book_cell[i], text(row["venue"]), Cell(short_id(row["market"]), title=row["market"], nowrap=True), number(row["updates"]), ms(row["p50_ms"]),
             ms(row["p90_ms"]), ms(row["p99_ms"]), ms(row["max_ms"]), ms(row["time_weighted_mean_ms"])]
            for i, row in enumerate(books.iter_rows(named=True))]
    more = f" The {shown} books with the highest p99 of {books.height} are drawn." if books.height > shown else ""
    return [
        Figure("Book staleness per book", fg.to_svg(fig, "Time between book updates per book"),
               "Time between consecutive updates of each book (milliseconds, log scale): the bar reaches the "
               "p99, the tick marks the median and the dot the longest gap." + more),
        Table("Book staleness", ["book", "venue", "market", "updates", "p50 (ms)", "p90 (ms)", "p99 (ms)",
                                 "max (ms)", "time-weighted mean (ms)"], rows,
              caption="Per book from the frames alone. A Polymarket book is one token (the YES and NO tokens of a "
                      "pair are both listed). Time-weighted mean: the average age of the book over time.",
              collapsed=books.height > 12),
    ]


def _book_label(row: dict[str, Any]) -> str:
    if row.get("pair"):
        return f"{row['pair']} · {row['side']}"
    return f"{row['venue']} {short_id(row['market'] or '?')}"


def _decode_errors(ctx: Context) -> list[Block]:
    errors = ctx.rows("""SELECT venue, reason, count(*) AS frames, sum(errors) AS errors
                         FROM decode_errors GROUP BY ALL ORDER BY frames DESC""")
    per_run = ctx.rows("SELECT run, decode_errors FROM runs ORDER BY run")
    blocks: list[Block] = []
    if errors.height:
        blocks.append(table("Decode errors", errors, [
            ("venue", "venue", text), ("reason", "reason", text), ("frames", "frames", number),
            ("errors", "errors", number),
        ], caption="Frames arbkit's decoders could not read; they are counted and skipped, never fatal."))
    if per_run.height:
        blocks.append(table("Frames the replay could not decode", per_run, [
            ("run", "run", text), ("frames", "decode_errors", number),
        ], caption="Counted by the engine during the replay; such a frame changes no book."))
    if not blocks:
        blocks.append(Note("Decode errors are counted by a replay (pass --run) or by a decode pass "
                           "(`arbkit stats --decode`); neither is part of this report.", "info"))
    return blocks


def opportunities(ctx: Context) -> Section:
    """Opportunity windows: per pair and direction, lifetimes, edges, time of day, the best ones."""
    section = Section("opportunities", "Opportunities",
                      "Windows in which buying YES on one venue and NO on the other paid at least min_edge per "
                      "contract pair after both taker fees (DESIGN §6). Counts are windows, not ticks.")
    if _without_run(ctx, section):
        return section
    summary = ctx.rows("SELECT * FROM opportunity_summary ORDER BY run, opportunities DESC, pair, direction")
    if summary.height == 0:
        section.blocks.append(Note(_why_no_windows(ctx), "empty"))
        return section
    labels = sorted({(r["pair"], r["direction"]) for r in summary.iter_rows(named=True)})
    series = {run: [_lookup(summary, run, pair=p, direction=d, column="opportunities") for p, d in labels]
              for run in ctx.runs}
    fig = fg.horizontal_bars([f"{p} · {_direction(d, short=True)}" for p, d in labels], series,
                             "opportunity windows", whole=True)
    section.blocks.append(Figure("Windows per pair and direction", fg.to_svg(fig, "Opportunity windows per pair"),
                                 "One bar per pair and direction" + (", one colour per run." if ctx.several else ".")))
    section.blocks.append(table("Windows per pair and direction", summary, [
        *_run_columns(ctx), ("pair", "pair", text), ("direction", "direction", lambda v: text(_direction(v))),
        ("windows", "opportunities", number), ("lifetime p50 (ms)", "lifetime_p50_ms", ms),
        ("lifetime p90 (ms)", "lifetime_p90_ms", ms), ("best peak edge ($/pair)", "peak_edge", lambda v: money(v, 4)),
        ("peak profit available", "peak_profit", money),
    ], caption="Peak profit available: the sum over windows of the profit at each window's best moment, after "
               "fees, if it could all have been taken.", collapsed=summary.height > 12))
    lifetimes = ctx.rows("SELECT run, lo_ms AS lo, hi_ms AS hi, windows AS n FROM report_lifetime_histogram")
    fig = fg.histogram(lifetimes, "window lifetime (ms, log scale)", "opportunity windows",
                       by="run" if ctx.several else None, log_x=True)
    section.blocks.append(Figure("Lifetime distribution", fg.to_svg(fig, "Histogram of window lifetimes"),
                                 "How long windows stayed open, from the frame that opened one to the frame that "
                                 "closed it (quarter-decade buckets)."))
    section.blocks.append(table("Lifetime buckets", lifetimes, [
        *_run_columns(ctx), ("from (ms)", "lo", lambda v: number(v, 1)), ("to (ms)", "hi", lambda v: number(v, 1)),
        ("windows", "n", number),
    ], collapsed=True))
    edges = ctx.rows("SELECT run, lo_cents AS lo, hi_cents AS hi, windows AS n FROM report_edge_histogram")
    fig = fg.histogram(edges, "peak edge (cents per contract pair, after fees)", "opportunity windows",
                       by="run" if ctx.several else None)
    section.blocks.append(Figure("Peak-edge distribution", fg.to_svg(fig, "Histogram of peak edges"),
                                 "Each window's edge at its most profitable moment."))
    section.blocks.append(table("Peak-edge buckets", edges, [
        *_run_columns(ctx), ("from (¢/pair)", "lo", lambda v: number(v, 2)), ("to (¢/pair)", "hi", lambda v: number(v, 2)),
        ("windows", "n", number),
    ], collapsed=True))
    section.blocks += _heatmaps(ctx)
    section.blocks += _top(ctx)
    return section


def _why_no_windows(ctx: Context) -> str:
    params = ctx.rows("""SELECT run, parameter, value FROM report_parameters
                         WHERE section = 'detector' AND parameter IN ('min_edge', 'min_size') ORDER BY run""")
    settings = {(r["run"], r["parameter"]): r["value"] for r in params.iter_rows(named=True)}
    run = ctx.runs[0]
    venues = ctx.stats["recording"]["venues"]
    reason = (f"The run{'s' if ctx.several else ''} found no opportunity window: at no moment did buying YES on one "
              f"venue and NO on the other reach min_edge = ${settings.get((run, 'min_edge'), '?')} per contract "
              f"pair at min_size = {settings.get((run, 'min_size'), '?')} contracts after both taker fees.")
    if len(venues) < 2:
        reason += f" Only {', '.join(venues) or 'no venue'} was recorded, and a window needs both venues' books."
    return reason + " Lifetime, edge and time-of-day figures need at least one window."


def _heatmaps(ctx: Context) -> list[Block]:
    hours = ctx.rows("SELECT * FROM report_opportunities_by_hour")
    blocks: list[Block] = []
    for run in ctx.runs:
        part = _one_run(ctx, hours, run)
        if part.height == 0:
            continue
        pairs = sorted(set(part["pair"].to_list()))
        grid = [[0] * 24 for _ in pairs]
        for row in part.iter_rows(named=True):
            grid[pairs.index(row["pair"])][row["hour_utc"]] = row["windows"]
        fig = fg.heatmap(pairs, [f"{h:02d}" for h in range(24)], grid, "hour of day the window opened (UTC)",
                         "opportunity windows")
        title = "Time of day" + (f" ({run})" if ctx.several else "")
        blocks.append(Figure(title, fg.to_svg(fig, "Opportunity windows per pair and hour of day"),
                             "Windows per pair by the UTC hour they opened in; the count is written in each cell."))
    return blocks


def _top(ctx: Context) -> list[Block]:
    top = ctx.rows("SELECT * FROM report_top_opportunities ORDER BY run, rank")
    return [table("Top opportunities" + (f" ({run})" if ctx.several else ""), _one_run(ctx, top, run), [
        ("#", "rank", number), ("opened (UTC)", "open_ns", time_cell), ("pair", "pair", text),
        ("direction", "direction", lambda v: Cell(_direction(v, short=True), title=_direction(v), nowrap=True)),
        ("lifetime (ms)", "lifetime_ms", ms),
        ("peak size", "peak_size", lambda v: number(v, 2)), ("peak edge ($/pair)", "peak_edge", lambda v: money(v, 4)),
        ("peak profit", "peak_profit", money), ("Kalshi book age (ms)", "kalshi_staleness_ms", ms),
        ("Polymarket book age (ms)", "polymarket_staleness_ms", ms), ("closed because", "close_reason", text),
    ], caption="The 25 windows with the highest peak profit (after fees). Direction: K yes + P no buys YES on "
               "Kalshi and NO on Polymarket. Book age: time since each book's last update when the window opened.") for run in ctx.runs]


def _direction(value: str | None, *, short: bool = False) -> str:
    names = {"buy_kalshi_yes_poly_no": ("YES on Kalshi + NO on Polymarket", "K yes + P no"),
             "buy_poly_yes_kalshi_no": ("YES on Polymarket + NO on Kalshi", "P yes + K no")}
    return names[value][short] if value in names else (value or "–")


def _lookup(frame: pl.DataFrame, run: str, *, column: str, **keys: Any) -> Any:
    part = frame.filter(pl.col("run") == run)
    for name, value in keys.items():
        part = part.filter(pl.col(name) == value)
    return part[column][0] if part.height else 0


def execution(ctx: Context) -> Section:
    """What the paper trader did with the windows: funnel, denials, capture, legging, fees."""
    section = Section("execution", "Execution",
                      "What the paper trader did with the windows: risk decisions, two IOC orders per approved "
                      "window filled against the recorded books after the modelled latency, and what it cost.")
    if _without_run(ctx, section):
        return section
    section.blocks.append(_funnel_figure(ctx))
    funnel = ctx.rows("SELECT * FROM funnel ORDER BY run, pair, direction")
    section.blocks.append(table("Funnel per pair and direction", funnel, [
        *_run_columns(ctx), ("pair", "pair", text), ("direction", "direction", lambda v: text(_direction(v))),
        ("detected", "detected", number), ("approved", "approved", number), ("orders sent", "orders_sent", number),
        ("both legs filled", "both_filled", number), ("profitable", "profitable", number),
    ], empty="No window was detected, so the funnel is empty.", collapsed=funnel.height > 12))
    denials = ctx.rows("SELECT * FROM denials ORDER BY run, denied DESC, reason")
    section.blocks.append(table("Denial reasons", denials, [
        *_run_columns(ctx), ("reason", "reason", text), ("windows denied", "denied", number),
    ], caption="Why risk checks turned windows down.", empty="Risk approved every window it was asked about."))
    section.blocks += _capture(ctx)
    section.blocks += _legging(ctx)
    section.blocks += _fees(ctx)
    return section


def _funnel_figure(ctx: Context) -> Figure:
    totals = ctx.rows("SELECT * FROM report_funnel_totals ORDER BY run, step")
    stages = [s for s in dict.fromkeys(totals["stage"].to_list())]
    series = {run: _one_run(ctx, totals, run)["windows"].to_list() for run in ctx.runs}
    fig = fg.funnel(stages, series)
    return Figure("Funnel", fg.to_svg(fig, "Windows detected, approved, sent, filled and profitable"),
                  "Opportunity windows at each step: detected, approved by risk, orders sent, both legs filled "
                  "(some size matched), profitable (trade P&L after fees > 0).")


def _capture(ctx: Context) -> list[Block]:
    totals = ctx.rows("SELECT * FROM report_capture_totals ORDER BY run")
    by_pair = ctx.rows("SELECT * FROM report_capture_by_pair ORDER BY run, available DESC, pair")
    if by_pair.height == 0:
        return [Note("No window was detected, so there is nothing to capture.", "empty")]
    blocks: list[Block] = [table("Capture rate", totals, [
        *_run_columns(ctx), ("windows", "opportunities", number), ("traded", "traded", number),
        ("available at peak", "available", money), ("available in traded windows", "available_traded", money),
        ("realised", "realised", money),
        ("capture", "capture_ratio", _share),
        ("capture of traded", "traded_capture_ratio",
         _share),
    ], caption="Realised trade P&L against the profit available at each window's peak (after fees). The peak "
               "is hindsight: no trader knows it at the time.")]
    pairs = sorted(set(by_pair["pair"].to_list()))
    for run in ctx.runs:
        part = _one_run(ctx, by_pair, run)
        series = {"available at peak": [_lookup(part, run, pair=p, column="available") for p in pairs],
                  "realised": [_lookup(part, run, pair=p, column="realised") for p in pairs]}
        fig = fg.horizontal_bars(pairs, series, "dollars (after fees)")
        title = "Available vs realised per pair" + (f" ({run})" if ctx.several else "")
        blocks.append(Figure(title, fg.to_svg(fig, "Profit available at peak and realised per pair"),
                             "Per pair: the sum of windows' peak profit against the realised P&L of their trades."))
    blocks.append(table("Capture per pair", by_pair, [
        *_run_columns(ctx), ("pair", "pair", text), ("windows", "opportunities", number), ("traded", "traded", number),
        ("available at peak", "available", money), ("realised", "realised", money),
        ("capture", "capture_ratio", _share),
    ], collapsed=by_pair.height > 12))
    return blocks


def _legging(ctx: Context) -> list[Block]:
    totals = ctx.rows("SELECT * FROM report_legging_totals ORDER BY run")
    events = ctx.rows("SELECT * FROM legging ORDER BY run, ns")
    blocks: list[Block] = [table("Legging", totals, [
        *_run_columns(ctx), ("events", "events", number), ("one leg only", "one_leg", number),
        ("unmatched contracts", "unmatched", lambda v: number(v, 2)),
        ("unwound contracts", "unwound", lambda v: number(v, 2)), ("unwind fees", "unwind_fees", money),
        ("legging loss", "loss", money), ("held naked (contracts)", "held", lambda v: number(v, 2)),
    ], caption="A leg that filled less than the other leaves an unmatched remainder, unwound at the then-best "
               "price or held (fills.on_unmatched). Loss is positive when unwinding cost money.")]
    blocks.append(table("Legging events", events, [
        *_run_columns(ctx), ("at (UTC)", "ns", time_cell), ("pair", "pair", text),
        ("Kalshi filled", "kalshi_filled", lambda v: number(v, 2)),
        ("Polymarket filled", "polymarket_filled", lambda v: number(v, 2)),
        ("unmatched on", "remainder_venue", text), ("unmatched", "unmatched_size", lambda v: number(v, 2)),
        ("action", "action", text), ("unwind proceeds", "unwind_proceeds", money), ("loss", "legging_loss", money),
    ], empty="Every trade's legs matched: no one-leg or partial fill, so no legging loss.",
        collapsed=events.height > 10))
    return blocks


def _fees(ctx: Context) -> list[Block]:
    drag = ctx.rows("SELECT * FROM fee_drag ORDER BY run, venue")
    blocks: list[Block] = []
    if drag.height:
        labels = [f"{r['venue']} ({r['run']})" if ctx.several else r["venue"] for r in drag.iter_rows(named=True)]
        fig = fg.horizontal_bars(labels, {"fees paid": drag["fees_paid"].to_list()}, "dollars")
        blocks.append(Figure("Fee drag per venue", fg.to_svg(fig, "Taker fees paid per venue"),
                             "Taker fees paid on each venue's fills."))
    blocks.append(table("Fee drag", drag, [
        *_run_columns(ctx), ("venue", "venue", text), ("fills", "fills", number), ("fees paid", "fees_paid", money),
        ("gross edge taken", "gross_edge", money),
        ("fees / gross edge", "fee_share", _share),
    ], caption="Gross edge taken: the trades' P&L before any fee. Fees / gross edge: the share of it each venue's "
               "fees took.", empty="Nothing was filled, so no fee was paid."))
    return blocks


def pnl(ctx: Context) -> Section:
    """Paper P&L: cumulative curve, drawdown, per pair."""
    section = Section("pnl", "P&L",
                      "Paper P&L net of fees: locked-in profit of matched pairs, legging results, and naked legs "
                      "marked to market.")
    if _without_run(ctx, section):
        return section
    if not any(ctx.stats["runs"].get(run, {}).get("trades") for run in ctx.runs):
        section.blocks.append(Note("No trade was made, so P&L stayed at $0.00 and there is no curve to draw.",
                                   "empty"))
        return section
    summary = ctx.rows("SELECT * FROM report_pnl_summary ORDER BY run")
    section.blocks.append(table("P&L summary", summary, [
        *_run_columns(ctx), ("final P&L", "total", lambda v: money(v, 4)), ("highest", "peak", money),
        ("max drawdown", "max_drawdown", money), ("max drawdown at (UTC)", "max_drawdown_ns", time_cell),
        ("snapshots", "snapshots", number),
    ], caption="Drawdown: P&L minus its highest value so far."))
    curve = _pnl_figure(ctx)
    if curve is not None:
        section.blocks.append(curve)
    points = ctx.rows("SELECT run, ns, drawdown AS value FROM report_pnl_curve ORDER BY run, ns")
    fig = fg.time_series({run: _one_run(ctx, points, run) for run in ctx.runs}, "drawdown ($)", fill_below_zero=True)
    section.blocks.append(Figure("Drawdown", fg.to_svg(fig, "Drawdown over time"),
                                 "Total P&L minus its running maximum (dollars, 0 at a new high)."))
    curve = ctx.rows("SELECT * FROM report_pnl_curve ORDER BY run, ns")
    section.blocks.append(table("P&L curve points", curve, [
        *_run_columns(ctx), ("at (UTC)", "ns", time_cell), ("total P&L", "total", lambda v: money(v, 4)),
        ("realised", "realised", lambda v: money(v, 4)), ("drawdown", "drawdown", lambda v: money(v, 4)),
    ], caption="The points both curves are drawn from (at most 1,500 per run: the last snapshot of each time "
               "bucket, with the bucket's deepest drawdown).", collapsed=True))
    by_pair = ctx.rows("SELECT * FROM report_pnl_by_pair ORDER BY run, pnl DESC, pair")
    pairs = sorted(set(by_pair["pair"].to_list()))
    if pairs:
        series = {run: [_lookup(by_pair, run, pair=p, column="pnl") for p in pairs] for run in ctx.runs}
        fig = fg.horizontal_bars(pairs, series, "trade P&L ($, after fees)")
        section.blocks.append(Figure("P&L per pair", fg.to_svg(fig, "Trade P&L per pair"),
                                     "Locked-in plus legging P&L of each pair's trades; naked legs still held are "
                                     "marked only in the total curve."))
    section.blocks.append(table("P&L per pair", by_pair, [
        *_run_columns(ctx), ("pair", "pair", text), ("trades", "trades", number),
        ("matched pairs", "matched", lambda v: number(v, 2)), ("locked-in", "locked_in", money),
        ("legging", "legging", money), ("trade P&L", "pnl", money), ("fees", "fees", money),
        ("held naked", "held", lambda v: number(v, 2)),
    ], empty="No pair traded.", collapsed=by_pair.height > 12))
    return section


def _pnl_figure(ctx: Context) -> Figure | None:
    points = ctx.rows("SELECT run, ns, total AS value FROM report_pnl_curve ORDER BY run, ns")
    if points.height == 0:
        return None
    fig = fg.time_series({run: _one_run(ctx, points, run) for run in ctx.runs}, "cumulative P&L ($, after fees)")
    return Figure("Cumulative P&L", fg.to_svg(fig, "Cumulative P&L over time"),
                  "Total paper P&L after fees at each portfolio snapshot (time in UTC)"
                  + (", one line per run." if ctx.several else "."))


def caveats(ctx: Context) -> Section:
    """What a paper replay cannot know, stated plainly, plus what this data set lacks."""
    section = Section("caveats", "Caveats",
                      "Read every P&L figure above as an upper bound on what a real bot would have made.")
    points = [
        "Queue position: paper orders fill against the recorded book as if they were first in line. A real order "
        "joins a queue and may get less, or nothing.",
        "Other traders: anyone else taking the same liquidity between the recorded update and our order's arrival is "
        "invisible. The replay only stops our own orders from taking the same level twice until the book refreshes.",
        "Venue rejections: real venues can reject or cancel orders (rate limits, balance, self-trade rules, a market "
        "halted or closed); paper orders are never rejected.",
        "Latency is a model (constant plus seeded jitter, or samples from a recording), not a measurement of the "
        "path a real order would take.",
        "Fees are the configured schedules; rebates, promotions and a schedule changed without a dated override in "
        "the config are not reflected.",
        "Feed latency includes the offset between the venue's clock and ours, and book staleness is measured from "
        "when frames arrived, not from when the venue changed its book.",
        "Settlement: matched pairs pay $1 at resolution, but naked legs are only marked to market; a resolution "
        "not in the recording is not known.",
    ]
    rec = ctx.stats["recording"]
    if rec.get("recovered_sessions") or rec.get("crashed_sessions"):
        points.append("Some sessions ended in a crash: data after the last journal flush (at most about one second) "
                      "is missing from them.")
    if (rec.get("reconnects") or 0) > 0:
        points.append(f"The recording has {rec['reconnects']:,} reconnects; while a venue was down, no window on it "
                      "could be seen or traded.")
    section.blocks.append(Bullets(points))
    return section


SECTIONS: list[Callable[[Context], Section]] = [summary, comparison, health, opportunities, execution, pnl, caveats]
