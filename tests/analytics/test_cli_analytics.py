"""`arbkit stats` and `arbkit query` through the CLI: formats, read-only refusals, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from analytics_recordings import hand_rows, write_sealed
from click.testing import CliRunner
from test_run_views import write_run

from arbkit.analytics import stats
from arbkit.cli import cli


@pytest.fixture(scope="module")
def recording(tmp_path_factory):
    return write_sealed(tmp_path_factory.mktemp("cli") / "recordings", hand_rows())


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    return write_run(tmp_path_factory.mktemp("cli-runs") / "r1")


def invoke(*args):
    return CliRunner().invoke(cli, [str(a) for a in args])


def one_line_error(result, *words):
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert "Traceback" not in result.output
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


def test_stats_json_is_the_analytics_stats_document(recording, run_dir):
    result = invoke("stats", recording, "--run", run_dir, "--format", "json")

    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == json.loads(json.dumps(stats(recording, run_dir)))


def test_stats_json_has_the_contract_keys(recording, run_dir):
    doc = json.loads(invoke("stats", recording, "--run", f"base={run_dir}", "--format", "json").stdout)

    rec = doc["recording"]
    assert rec["frames"] == len(hand_rows().rows)
    assert rec["venues"]["kalshi"]["frames"] + rec["venues"]["polymarket"]["frames"] == rec["frames"]
    assert rec["reconnects"] == 2 and rec["seq_gaps"] == 1 and rec["stalls"] == 3
    assert set(rec["staleness_p99_ms"]) == {"kalshi", "polymarket"}
    run = doc["runs"]["base"]
    assert (run["opportunities"], run["fills"], run["pnl"]) == (3, 4, "0.630000")
    assert set(run["funnel"]) == {"detected", "approved", "orders_sent", "both_filled", "profitable"}


def test_stats_table_and_csv_show_every_section(recording, run_dir):
    table = invoke("stats", recording, "--run", run_dir)
    csv = invoke("stats", recording, "--run", run_dir, "--format", "csv")

    assert table.exit_code == 0 and csv.exit_code == 0
    for title in ("recording", "venues", "sessions", "runs", "funnel", "denials"):
        assert title in table.stdout
    blocks = [b for b in csv.stdout.split("\n\n") if b]
    assert [b.splitlines()[0] for b in blocks] == [
        "# recording", "# venues", "# sessions", "# runs", "# opportunities_by_pair", "# funnel", "# denials"]
    assert blocks[1].splitlines()[1].startswith("venue,frames,bytes")


def test_stats_of_a_missing_path_is_one_line_and_exit_2(tmp_path):
    one_line_error(invoke("stats", tmp_path / "nope"), "recording not found")


def test_stats_with_a_run_dir_that_is_not_a_run_is_one_line(recording, tmp_path):
    one_line_error(invoke("stats", recording, "--run", tmp_path), "not a run directory")


def test_query_prints_table_json_and_csv(recording):
    sql = "SELECT venue, count(*) AS n FROM reconnects GROUP BY venue ORDER BY venue"

    table = invoke("query", recording, sql)
    as_json = invoke("query", recording, sql, "--format", "json")
    as_csv = invoke("query", recording, sql, "--format", "csv")

    assert table.exit_code == 0 and "polymarket" in table.stdout
    assert json.loads(as_json.stdout) == [{"venue": "kalshi", "n": 1}, {"venue": "polymarket", "n": 1}]
    assert as_csv.stdout == "venue,n\nkalshi,1\npolymarket,1\n"


def test_query_writes_parquet_and_json_files(recording, run_dir, tmp_path):
    out = tmp_path / "fills.parquet"
    result = invoke("query", recording, "SELECT run, venue, fee FROM fills ORDER BY ns, venue", "--run", run_dir,
                    "--format", "parquet", "-o", out)

    assert result.exit_code == 0, result.output
    table = pq.read_table(out)
    assert table.num_rows == 4 and table.schema.field("fee").type == pa.decimal128(18, 6)
    assert invoke("query", recording, "SELECT 1 AS x", "--format", "json", "-o", tmp_path / "x.json").exit_code == 0
    assert json.loads((tmp_path / "x.json").read_text()) == [{"x": 1}]


def test_query_views_lists_every_view_with_its_columns(recording):
    result = invoke("query", recording, "--views", "--format", "json")

    views = {row["view"]: row["columns"] for row in json.loads(result.stdout)}
    assert "reconnects" in views and "funnel" in views and "frames" in views
    assert views["reconnects"].startswith("session_id VARCHAR, venue VARCHAR, conn_id INTEGER")
    assert not any(name.startswith("_") for name in views)


def outside_parquet(tmp_path):
    path = tmp_path / "outside.parquet"
    pq.write_table(pa.table({"secret": [42]}), path)
    return path


# One statement per kind that writes, reaches outside, or changes settings.
REFUSED = {
    "create table": "CREATE TABLE t AS SELECT 1",
    "create view": "CREATE VIEW v AS SELECT 1",
    "create macro": "CREATE MACRO m(x) AS x",
    "insert": "INSERT INTO frames SELECT * FROM frames",
    "update": "UPDATE frames SET kind = 'x'",
    "delete": "DELETE FROM frames",
    "drop": "DROP VIEW frames",
    "alter": "ALTER VIEW frames RENAME TO f2",
    "copy to": "COPY (SELECT 1) TO '{out}/copied.csv'",
    "copy from": "COPY frames FROM '{out}/copied.csv'",
    "attach": "ATTACH '{out}/other.duckdb'",
    "detach": "DETACH memory",
    "install": "INSTALL httpfs",
    "load": "LOAD httpfs",
    "export": "EXPORT DATABASE '{out}/exported'",
    "import": "IMPORT DATABASE '{out}/exported'",
    "set": "SET enable_external_access = true",
    "reset": "RESET allowed_paths",
    "pragma": "PRAGMA enable_profiling",
    "call": "CALL pragma_version()",
    "checkpoint": "CHECKPOINT",
    "transaction": "BEGIN TRANSACTION",
    "vacuum": "VACUUM",
    "use": "USE src",
    "second statement": "SELECT 1; DROP VIEW frames",
}


@pytest.mark.parametrize("kind", sorted(REFUSED))
def test_query_refuses_every_statement_that_is_not_a_read(recording, tmp_path, kind):
    sql = REFUSED[kind].format(out=tmp_path)

    one_line_error(invoke("query", recording, sql), "read-only")
    assert list(tmp_path.iterdir()) == []


READS_OUTSIDE = {
    "read_csv": "SELECT * FROM read_csv('/etc/passwd')",
    "read_text": "SELECT * FROM read_text('/etc/hostname')",
    "read_blob": "SELECT * FROM read_blob('/etc/hostname')",
    "read_parquet": "SELECT * FROM read_parquet('{outside}')",
    "replacement scan": "SELECT * FROM '{outside}'",
    "glob": "SELECT * FROM glob('/etc/*')",
    "read_json": "SELECT * FROM read_json('/etc/hostname')",
    "parquet metadata": "SELECT * FROM parquet_metadata('{outside}')",
}


@pytest.mark.parametrize("kind", sorted(READS_OUTSIDE))
def test_query_cannot_read_files_outside_the_recording_and_runs(recording, tmp_path, kind):
    sql = READS_OUTSIDE[kind].format(outside=outside_parquet(tmp_path))

    one_line_error(invoke("query", recording, sql), "query failed")


def test_query_may_read_the_recordings_own_files_directly(recording):
    files = sorted(str(p) for p in (recording / "frames").rglob("*.parquet"))
    result = invoke("query", recording, f"SELECT count(*) AS n FROM read_parquet('{files[0]}')", "--format", "json")

    assert result.exit_code == 0, result.output


@pytest.mark.parametrize("sql, words", [
    ("SELEC 1", ("bad SQL", "syntax error")),
    ("SELECT * FROM no_such_view", ("query failed", "no_such_view")),
    ("", ("no SQL statement",)),
])
def test_bad_sql_is_one_line_and_exit_2(recording, sql, words):
    one_line_error(invoke("query", recording, sql), *words)


def test_query_usage_errors_are_one_line(recording):
    one_line_error(invoke("query", recording), "either SQL or --views")
    one_line_error(invoke("query", recording, "SELECT 1", "--format", "parquet"), "-o FILE")
    one_line_error(invoke("query", recording, "SELECT 1", "--stall-s", "0"), "stall threshold")


def readme_queries():
    text = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    section = text.split("## Analytics", 1)[1].split("\n## ", 1)[0]
    block = section.split("```sql\n", 1)[1].split("```", 1)[0]
    return [q.strip() for q in block.split(";") if q.strip()]


def test_the_readmes_example_queries_run(recording, run_dir):
    queries = readme_queries()

    assert len(queries) == 3
    for sql in queries:
        # `--` ends the options: the SQL starts with a comment.
        result = invoke("query", "--run", run_dir, "--format", "json", recording, "--", sql)
        assert result.exit_code == 0, (sql, result.output)
        assert json.loads(result.stdout), sql
