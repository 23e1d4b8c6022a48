"""The `sweep_*` views over hand-made sweep files: what one row is, sums over sessions, curve roles."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from arbkit.analytics import connect
from arbkit.analytics.readonly import check_query
from arbkit.errors import UserError

A, B = "20260101T000000Z-aaaaaa", "20260102T000000Z-bbbbbb"


def stats(pnl: str, available: str, *, opportunities: int = 4, approvals: int = 4, fills: int = 3) -> dict:
    return {"opportunities": opportunities, "approvals": approvals, "fills": fills, "matched_size": D("30"),
            "legging_loss": D("0.5"), "fees_kalshi": D("0.07"), "fees_polymarket": D("0.01234"),
            "pnl": D(pnl), "available": D(available), "capture_rate": float(D(pnl) / D(available)), "run_s": 1.5}


def grid_rows() -> list[dict]:
    """2 sessions x (latency.kalshi_ms 0, 250 x detector.min_edge 0.005, 0.02); B at (250, 0.02) failed."""
    rows = []
    for session in (A, B):
        for latency, edge, pnl in ((0.0, "0.005", "2"), (0.0, "0.02", "1"), (250.0, "0.005", "0.5"),
                                   (250.0, "0.02", "0.25")):
            point = {"latency.kalshi_ms": latency, "detector.min_edge": D(edge)}
            if session == B and latency == 250.0 and edge == "0.02":
                rows.append({"session": session, **point, "error": "RecordingError: <b>gone</b>"})
            else:
                rows.append({"session": session, **point, **stats(pnl, "10")})
    return rows


def query(sweep_dir, sql: str) -> list[dict]:
    con = connect(None, sweep=sweep_dir)
    try:
        return con.sql(sql).pl().to_dicts()
    finally:
        con.close()


def test_without_a_sweep_the_views_are_empty_but_typed(tmp_path, hand_sweep):
    con = connect(None)
    try:
        assert con.execute("SELECT count(*) FROM sweep_points").fetchall() == [(0,)]
        summary = con.sql("SELECT tasks, done, x_parameter, lines FROM report_sweep_summary").fetchall()
        kinds = dict(con.sql("SELECT column_name, column_type FROM (DESCRIBE sweep_points)").fetchall())
    finally:
        con.close()
    assert summary == [(0, 0, None, 0)]
    assert kinds["pnl"] == "DECIMAL(18,6)" and kinds["fill_rate"] == "DOUBLE"


def test_sweep_points_are_the_files_rows_with_their_point_named(tmp_path, hand_sweep):
    sweep = hand_sweep(tmp_path / "sweep", grid_rows())

    rows = query(sweep, "SELECT * FROM sweep_points ORDER BY task_index")

    assert [r["task_id"] for r in rows] == [f"t{i:02d}" for i in range(8)]
    assert rows[1]["point"] == "latency.kalshi_ms=0, detector.min_edge=0.02"
    assert rows[1]["parameters"] == [
        {"parameter": "latency.kalshi_ms", "value": "0", "number": 0.0},
        {"parameter": "detector.min_edge", "value": "0.02", "number": 0.02},
    ]
    assert rows[0]["pnl"] == D("2") and rows[0]["fees"] == D("0.08234") and rows[0]["fill_rate"] == 0.75
    failed = rows[7]
    assert (failed["status"], failed["error"], failed["pnl"], failed["fill_rate"]) == (
        "failed", "RecordingError: <b>gone</b>", None, None)


def test_the_curve_sums_sessions_per_point_and_marks_a_point_with_a_failed_task(tmp_path, hand_sweep):
    sweep = hand_sweep(tmp_path / "sweep", grid_rows())

    curve = query(sweep, "SELECT * FROM report_sweep_curve ORDER BY series_rank, x")

    assert [(r["series"], r["x_value"], r["series_rank"]) for r in curve] == [
        ("detector.min_edge=0.005", "0", 1), ("detector.min_edge=0.005", "250", 1),
        ("detector.min_edge=0.02", "0", 2), ("detector.min_edge=0.02", "250", 2),
    ]
    first = curve[0]
    assert (first["tasks"], first["done"], first["sessions"], first["complete"]) == (2, 2, 2, True)
    assert (first["pnl"], first["available"], first["fees"]) == (D("4"), D("20"), D("0.16468"))
    assert (first["fills"], first["approvals"], first["fill_rate"], first["capture_rate"]) == (6, 8, 0.75, 0.2)
    last = curve[3]
    assert (last["done"], last["failed"], last["complete"], last["pnl"]) == (1, 1, False, D("0.25"))


def test_summary_names_the_axis_the_lines_and_what_is_incomplete(tmp_path, hand_sweep):
    sweep = hand_sweep(tmp_path / "sweep", grid_rows())

    [summary] = query(sweep, "SELECT * FROM report_sweep_summary")

    assert summary == summary | {
        "tasks": 8, "done": 7, "failed": 1, "sessions": 2, "points": 4, "parameters": 2,
        "x_parameter": "latency.kalshi_ms", "x_unit": "ms", "x_is_latency": True, "x_values": 2,
        "series_parameters": "detector.min_edge", "moving_parameters": "", "fixed_parameters": "",
        "lines": 2, "incomplete_points": 1, "points_without_x": 0,
    }


def test_roles_latency_first_then_what_moves_with_it_what_is_fixed_and_the_series(tmp_path, hand_sweep):
    rows = []
    for latency in (0.0, 50.0, 500.0):
        for edge in ("0.01", "0.03"):
            point = {"detector.min_edge": D(edge), "latency.kalshi_ms": latency, "latency.polymarket_ms": latency,
                     "risk.cooldown_ms": 0, "latency.model": "constant"}
            rows.append({"session": A, **point, **stats("1", "2")})
    sweep = hand_sweep(tmp_path / "sweep", rows)

    roles = query(sweep, 'SELECT parameter, role, unit, distinct_values FROM sweep_parameters ORDER BY "position"')

    assert roles == [
        {"parameter": "detector.min_edge", "role": "series", "unit": "$ per contract pair", "distinct_values": 2},
        {"parameter": "latency.kalshi_ms", "role": "x", "unit": "ms", "distinct_values": 3},
        {"parameter": "latency.polymarket_ms", "role": "moves with x", "unit": "ms", "distinct_values": 3},
        {"parameter": "risk.cooldown_ms", "role": "fixed", "unit": "ms", "distinct_values": 1},
        {"parameter": "latency.model", "role": "fixed", "unit": None, "distinct_values": 1},
    ]


def test_without_a_latency_the_first_numeric_parameter_is_the_axis_and_without_one_there_is_none(
        tmp_path, hand_sweep):
    edges = hand_sweep(tmp_path / "edges", [
        {"session": A, "latency.model": model, "detector.min_edge": D(edge), **stats("1", "2")}
        for model in ("constant", "empirical") for edge in ("0.01", "0.02")])
    words = hand_sweep(tmp_path / "words", [
        {"session": A, "latency.model": model, **stats("1", "2")} for model in ("constant", "empirical")])

    [by_edge] = query(edges, "SELECT x_parameter, x_is_latency, series_parameters FROM report_sweep_summary")
    [by_nothing] = query(words, "SELECT x_parameter, series_parameters, lines FROM report_sweep_summary")

    assert by_edge == {"x_parameter": "detector.min_edge", "x_is_latency": False, "series_parameters": "latency.model"}
    assert by_nothing == {"x_parameter": None, "series_parameters": "latency.model", "lines": 0}


def test_a_point_leaving_a_key_at_the_config_says_so(tmp_path, hand_sweep):
    sweep = hand_sweep(tmp_path / "sweep", [
        {"session": A, "latency.kalshi_ms": 100.0, **stats("1", "2")},
        {"session": A, "latency.kalshi_ms": 200.0, **stats("1", "2")},
        {"session": A, "detector.min_edge": D("0.05"), **stats("1", "2")},
    ])

    points = [r["point"] for r in query(sweep, "SELECT point FROM sweep_points ORDER BY task_index")]
    [summary] = query(sweep, "SELECT points_without_x, x_parameter FROM report_sweep_summary")

    assert points[2] == "latency.kalshi_ms=(config), detector.min_edge=0.05"
    assert summary == {"points_without_x": 1, "x_parameter": "latency.kalshi_ms"}


def test_sessions_say_where_they_were_read_from(tmp_path, hand_sweep):
    sweep = hand_sweep(tmp_path / "sweep", grid_rows())

    sessions = query(sweep, "SELECT session, source, tasks, done, failed, run_s FROM sweep_sessions")

    assert sessions == [
        {"session": A, "source": f"/recordings/{A}", "tasks": 4, "done": 4, "failed": 0, "run_s": 6.0},
        {"session": B, "source": f"/recordings/{B}", "tasks": 4, "done": 3, "failed": 1, "run_s": 4.5},
    ]


def test_a_read_only_connection_reads_the_sweep_and_nothing_else(tmp_path, hand_sweep):
    sweep = hand_sweep(tmp_path / "sweep", grid_rows())
    con = connect(None, sweep=sweep, read_only=True)
    try:
        check_query(con, "SELECT count(*) FROM sweep_points")
        assert con.execute("SELECT count(*) FROM sweep_points").fetchall() == [(8,)]
        with pytest.raises(Exception, match="disabled|Permission"):
            con.sql(f"SELECT * FROM read_csv('{tmp_path / 'x.csv'}')").fetchall()
    finally:
        con.close()


@pytest.mark.parametrize("make, message", [
    (lambda p: p / "nowhere", "not an arbkit sweep directory (no such directory)"),
    (lambda p: p, "not an arbkit sweep directory (no sweep.parquet)"),
])
def test_a_directory_without_a_sweep_is_a_user_error(tmp_path, make, message):
    with pytest.raises(UserError, match=message.replace("(", r"\(").replace(")", r"\)")):
        connect(None, sweep=make(tmp_path))


def test_a_parquet_file_that_is_not_a_sweep_is_a_user_error(tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    (tmp_path / "sweep.parquet").write_bytes(b"not parquet")
    with pytest.raises(UserError, match="cannot read"):
        connect(None, sweep=tmp_path)
    pq.write_table(pa.table({"x": [1]}), tmp_path / "sweep.parquet")
    with pytest.raises(UserError, match="not an arbkit sweep result: no column 'task_id'"):
        connect(None, sweep=tmp_path)
