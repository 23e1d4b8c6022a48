"""`arbkit stats` and `arbkit query`: the analytics views from the command line."""

from __future__ import annotations

import csv
import io
import json
import sys
from pathlib import Path
from typing import Any

import click

from arbkit.cli._common import parse_runs
from arbkit.errors import UserError

_STATS_FORMATS = ("table", "json", "csv")
_QUERY_FORMATS = ("table", "json", "csv", "parquet")
# Rows a table shows on the terminal; the other formats write every row.
_TABLE_ROWS = 200
# Sections shown transposed in the table format, by the column that names their columns.
_WIDE = {"venues": "venue", "runs": "run"}


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.3f}" if abs(value) < 1e15 else str(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}" if abs(value) < 10**15 else str(value)
    if isinstance(value, list | dict):
        return json.dumps(value)
    return str(value)


def _table(title: str | None, rows: list[dict[str, Any]], columns: list[str] | None = None) -> Any:
    from rich.table import Table

    columns = columns or (list(rows[0]) if rows else [])
    table = Table(title=title, title_justify="left", show_lines=False)
    for name in columns:
        table.add_column(name, overflow="fold")
    for row in rows[:_TABLE_ROWS]:
        table.add_row(*(_cell(row.get(name)) for name in columns))
    return table


def _csv_block(rows: list[dict[str, Any]], columns: list[str] | None = None) -> str:
    out = io.StringIO()
    columns = columns or (list(rows[0]) if rows else [])
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([json.dumps(v) if isinstance(v, list | dict) else ("" if v is None else v)
                         for v in (row.get(c) for c in columns)])
    return out.getvalue()


def _stats_sections(doc: dict[str, Any]) -> list[tuple[str, list[dict[str, Any]]]]:
    """The stats document as named tables (for the table and CSV formats)."""
    rec = doc["recording"]
    overview = [{"name": k, "value": v} for k, v in rec.items()
                if not isinstance(v, dict | list)]
    sections = [
        ("recording", overview),
        ("venues", [{"venue": name, **values} for name, values in rec["venues"].items()]),
        ("sessions", rec["session_list"]),
    ]
    if doc["runs"]:
        sections.append(("runs", [
            {"run": name, **{k: v for k, v in run.items() if not isinstance(v, dict | list)},
             **{"fees" if k == "total" else f"{k}_fees": v for k, v in run["fees"].items()}}
            for name, run in doc["runs"].items()
        ]))
        sections.append(("opportunities_by_pair", [
            {"run": name, **row} for name, run in doc["runs"].items() for row in run["by_pair"]]))
        sections.append(("funnel", [
            {"run": name, **row} for name, run in doc["runs"].items() for row in run["funnel_by_pair"]]))
        sections.append(("denials", [
            {"run": name, "reason": reason, "denied": n}
            for name, run in doc["runs"].items() for reason, n in run["denials"].items()]))
    return sections


def _write_rows(rows: list[dict[str, Any]], columns: list[str], fmt: str, out: Path | None) -> None:
    if fmt == "table":
        from rich.console import Console

        console = Console(file=sys.stdout, width=None if sys.stdout.isatty() else 200)
        console.print(_table(None, rows, columns))
        if len(rows) > _TABLE_ROWS:
            console.print(f"... {len(rows) - _TABLE_ROWS:,} more rows (--format csv or json shows all)")
        return
    text = json.dumps(rows, indent=2) + "\n" if fmt == "json" else _csv_block(rows, columns)
    if out is None:
        click.echo(text, nl=False)
    else:
        _write_text(out, text)


def _write_text(out: Path, text: str) -> None:
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UserError(f"cannot write {out}: {exc.strerror or exc}") from None


def register(cli: click.Group) -> None:
    @cli.command()
    @click.argument("path")
    @click.option("--run", "runs", multiple=True, metavar="RUN_DIR",
                  help="A run directory (repeat to compare runs; NAME=DIR names it).")
    @click.option("--format", "fmt", type=click.Choice(_STATS_FORMATS), default="table", show_default=True)
    @click.option("--stall-s", type=float, help="Stall threshold in seconds (default: the session's recorder.stale_after_s).")
    @click.option("--decode", is_flag=True, help="Also decode every frame to count decode errors (slow on big recordings).")
    def stats(path: str, runs: tuple[str, ...], fmt: str, stall_s: float | None, decode: bool) -> None:
        """Recording health and run statistics as tables."""
        from arbkit.analytics import stats as build

        doc = build(path, parse_runs(runs), stall_s=stall_s, decode=decode)
        if fmt == "json":
            click.echo(json.dumps(doc, indent=2))
            return
        sections = _stats_sections(doc)
        if fmt == "csv":
            click.echo("\n".join(f"# {name}\n{_csv_block(rows)}" for name, rows in sections), nl=False)
            return
        from rich.console import Console

        console = Console(file=sys.stdout, width=None if sys.stdout.isatty() else 200)
        for name, rows in sections:
            if not rows:
                continue
            if name in _WIDE:
                # One column per venue or run: their many figures read better down a column.
                key = _WIDE[name]
                rows = [{"": field, **{str(r[key]): r[field] for r in rows}} for field in rows[0] if field != key]
            console.print(_table(name.replace("_", " "), rows))

    @cli.command()
    @click.argument("path")
    @click.argument("sql", required=False)
    @click.option("--run", "runs", multiple=True, metavar="RUN_DIR",
                  help="A run directory (repeat to compare runs; NAME=DIR names it).")
    @click.option("--format", "fmt", type=click.Choice(_QUERY_FORMATS), default="table", show_default=True)
    @click.option("-o", "--output", "out", type=click.Path(dir_okay=False, path_type=Path),
                  help="Write the result to this file (required for parquet).")
    @click.option("--views", "list_views", is_flag=True, help="List the views and their columns.")
    @click.option("--stall-s", type=float, help="Stall threshold in seconds for the stalls view.")
    @click.option("--decode", is_flag=True, help="Run the decode pass that fills decode_errors.")
    def query(path: str, sql: str | None, runs: tuple[str, ...], fmt: str, out: Path | None,
              list_views: bool, stall_s: float | None, decode: bool) -> None:
        """Ad-hoc read-only SQL over recordings and runs."""
        import duckdb

        from arbkit.analytics import connect
        from arbkit.analytics.readonly import check_query, one_line
        from arbkit.analytics.stats import json_value

        if list_views == (sql is not None):
            raise UserError("query needs either SQL or --views")
        if fmt == "parquet" and out is None:
            raise UserError("--format parquet needs -o FILE")
        con = connect(path, parse_runs(runs), stall_s=stall_s, decode=decode, read_only=True)
        try:
            if list_views:
                sql = """SELECT view_name AS view, string_agg(column_name || ' ' || data_type, ', '
                                ORDER BY column_index) AS columns
                         FROM duckdb_views() v JOIN duckdb_columns() c
                           ON c.table_name = v.view_name AND c.schema_name = v.schema_name
                         WHERE v.schema_name = 'main' AND NOT v.internal AND NOT starts_with(view_name, '_')
                         GROUP BY view_name ORDER BY view_name"""
            else:
                check_query(con, sql)
            try:
                if fmt == "parquet":
                    table = con.sql(sql).to_arrow_table()
                else:
                    cursor = con.execute(sql)
                    columns = [d[0] for d in cursor.description]
                    rows = [dict(zip(columns, map(json_value, row))) for row in cursor.fetchall()]
            except duckdb.Error as exc:
                raise UserError(f"query failed: {one_line(exc)}") from None
        finally:
            con.close()
        if fmt == "parquet":
            import pyarrow.parquet as pq

            try:
                pq.write_table(table, out)
            except OSError as exc:
                raise UserError(f"cannot write {out}: {exc.strerror or exc}") from None
            return
        _write_rows(rows, columns, fmt, out)
