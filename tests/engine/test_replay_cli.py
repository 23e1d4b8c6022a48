"""`arbkit replay` on the command line: user errors, --start/--end and --pairs."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import orjson
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from engine_recordings import MS, PAIR, T0, Recording, config_text, standard_opening
from window_check import assert_window_matches_full, first_frame_at_or_after, rows

from arbkit.cli import cli
from arbkit.config import load_config
from arbkit.store.session import SessionWriter

SECOND = 1_000_000_000


def invoke(*args: str):
    return CliRunner().invoke(cli, ["replay", *args])


def assert_one_line_user_error(result, *named: str) -> None:
    assert result.exit_code == 2, result.output
    # A UserError ends in SystemExit(2); anything else would be the uncaught exception.
    assert isinstance(result.exception, SystemExit)
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    assert "Traceback" not in result.output
    for text in named:
        assert text in lines[0]


def iso(ns: int) -> str:
    """Whole-second UTC time in ISO-8601 form, as a user types it."""
    when = dt.datetime.fromtimestamp(ns // SECOND, tz=dt.timezone.utc)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ")


def frame_times(root) -> list[int]:
    """Every recorded frame's recv_ns, read straight from the Parquet files."""
    table = ds.dataset(str(root / "frames"), format="parquet", partitioning="hive").to_table(
        columns=["recv_ns"]
    )
    return table.column("recv_ns").to_pylist()


def test_missing_from_path_is_one_line_exit_2(generated, tmp_path):
    result = invoke("--from", str(tmp_path / "nowhere"), "--config", str(generated.config_path),
                    "--out", str(tmp_path / "run"))

    assert_one_line_user_error(result, str(tmp_path / "nowhere"))
    assert not (tmp_path / "run" / "run.json").exists()


@pytest.mark.parametrize("shape", ["empty_directory", "session_without_frames"])
def test_a_path_with_no_frames_is_one_line_exit_2(generated, tmp_path, shape):
    # Arrange
    source = tmp_path / "source"
    source.mkdir()
    if shape == "session_without_frames":
        SessionWriter(source, config={}, session_id="20260921T141320Z-000000").close()

    # Act
    result = invoke("--from", str(source), "--config", str(generated.config_path),
                    "--out", str(tmp_path / "run"))

    # Assert
    assert_one_line_user_error(result, "no frames", str(source))


def test_a_config_with_an_unknown_key_is_one_line_exit_2_naming_the_key(generated, tmp_path):
    # Arrange
    config = tmp_path / "arbkit.toml"
    config.write_text(
        generated.config_path.read_text() + "\n[detector]\nmin_edge = 0.01\nmin_edgee = 0.02\n"
    )

    # Act
    result = invoke("--from", str(generated.root), "--config", str(config),
                    "--out", str(tmp_path / "run"))

    # Assert
    assert_one_line_user_error(result, "min_edgee", str(config))


def test_an_unknown_pairs_name_is_one_line_exit_2_naming_it(generated, tmp_path):
    result = invoke("--from", str(generated.root), "--config", str(generated.config_path),
                    "--out", str(tmp_path / "run"), "--pairs", "No such pair")

    assert_one_line_user_error(result, "'No such pair'")


def test_an_out_directory_that_cannot_be_created_is_one_line_exit_2(generated, tmp_path):
    # Arrange: a file where the run directory's parent should be.
    blocker = tmp_path / "file"
    blocker.write_text("")

    # Act
    result = invoke("--from", str(generated.root), "--config", str(generated.config_path),
                    "--out", str(blocker / "run"))

    # Assert
    assert_one_line_user_error(result, str(blocker / "run"))


def test_end_replays_only_earlier_frames_and_keeps_every_window_closed_before_it(
    generated, tmp_path
):
    # Arrange
    times = frame_times(generated.root)
    end_ns = min(times) + 100 * SECOND
    full = pq.read_table(generated.run_dir / "opportunities.parquet").to_pylist()

    # Act
    result = invoke("--from", str(generated.root), "--config", str(generated.config_path),
                    "--out", str(tmp_path / "run"), "--end", str(end_ns))

    # Assert
    assert result.exit_code == 0, result.output
    meta = orjson.loads((tmp_path / "run" / "run.json").read_bytes())
    assert meta["frames"] == sum(1 for t in times if t < end_ns) < len(times)
    assert meta["window"] == {"start_ns": None, "end_ns": end_ns}
    windows = pq.read_table(tmp_path / "run" / "opportunities.parquet").to_pylist()
    # The books up to --end are the same as in the full replay, so are the windows closed by then.
    closed = [w for w in windows if w["close_reason"] != "end_of_data"]
    assert closed == [w for w in full if w["close_ns"] < end_ns]
    assert closed, "the first 100 s hold some windows"
    assert all(w["close_ns"] < end_ns for w in windows)


def test_start_and_end_in_iso_form_select_the_frames_between_and_the_run_verifies(
    generated, tmp_path
):
    # Arrange
    times = frame_times(generated.root)
    start_ns = (min(times) // SECOND + 60) * SECOND
    end_ns = start_ns + 30 * SECOND

    # Act
    result = invoke("--from", str(generated.root), "--config", str(generated.config_path),
                    "--out", str(tmp_path / "run"), "--start", iso(start_ns), "--end", iso(end_ns))
    verified = invoke("--verify", str(tmp_path / "run"))

    # Assert
    assert result.exit_code == 0, result.output
    meta = orjson.loads((tmp_path / "run" / "run.json").read_bytes())
    assert meta["window"] == {"start_ns": start_ns, "end_ns": end_ns}
    assert meta["frames"] == sum(1 for t in times if start_ns <= t < end_ns)
    for table, column in (("opportunities", "open_ns"), ("risk_decisions", "ns"),
                          ("fills", "ns"), ("pnl", "ns")):
        values = pq.read_table(tmp_path / "run" / f"{table}.parquet").column(column)
        if len(values):
            assert start_ns <= pc.min(values).as_py() and pc.max(values).as_py() < end_ns
    assert verified.exit_code == 0, verified.output


def test_pairs_restricts_the_decision_tables_to_those_pairs(generated, tmp_path):
    # Arrange
    names = [p.name for p in load_config(generated.config_path).pairs][1:3]
    full = {
        t: pq.read_table(generated.run_dir / f"{t}.parquet").to_pylist()
        for t in ("opportunities", "risk_decisions")
    }

    # Act: one name per option, and both comma-separated.
    repeated = invoke("--from", str(generated.root), "--config", str(generated.config_path),
                      "--out", str(tmp_path / "run"), "--pairs", names[0], "--pairs", names[1])

    # Assert
    assert repeated.exit_code == 0, repeated.output
    run = tmp_path / "run"
    for table in ("opportunities", "risk_decisions", "orders", "fills", "trades", "positions"):
        pairs = set(pq.read_table(run / f"{table}.parquet").column("pair").to_pylist())
        assert pairs and pairs <= set(names), table
    # Detection is per pair: the same windows as in the full replay, row for row.
    windows = pq.read_table(run / "opportunities.parquet").to_pylist()
    assert windows == [w for w in full["opportunities"] if w["pair"] in names]
    meta = orjson.loads((run / "run.json").read_bytes())
    assert [p["name"] for p in meta["config"]["pairs"]] == names


def test_pairs_restricts_book_health_to_the_books_of_those_pairs(generated, tmp_path):
    # Arrange
    config = load_config(generated.config_path)
    pair = config.pairs[0]

    # Act
    result = invoke("--from", str(generated.root), "--config", str(generated.config_path),
                    "--out", str(tmp_path / "run"), "--pairs", pair.name, "--end",
                    str(min(frame_times(generated.root)) + 10 * SECOND))

    # Assert
    assert result.exit_code == 0, result.output
    books = pq.read_table(tmp_path / "run" / "book_health.parquet").select(["venue", "market"])
    assert sorted(map(tuple, (r.values() for r in books.to_pylist()))) == sorted(
        [("kalshi", pair.kalshi_ticker), ("polymarket", pair.polymarket_yes_token),
         ("polymarket", pair.polymarket_no_token)]
    )


def test_pairs_takes_a_name_holding_a_comma_whole(tmp_path):
    # Arrange
    rec = Recording()
    standard_opening(rec)
    rec.poly_change(T0 + 1_000 * MS, "BUY", "0.50", "100")
    rec.write(tmp_path / "rec")
    name = "Fed decision: hold, no change"
    config = tmp_path / "arbkit.toml"
    config.write_text(config_text().replace(PAIR, name))

    # Act
    result = invoke("--from", str(tmp_path / "rec"), "--config", str(config),
                    "--out", str(tmp_path / "run"), "--pairs", name)

    # Assert
    assert result.exit_code == 0, result.output
    [window] = pq.read_table(tmp_path / "run" / "opportunities.parquet").to_pylist()
    assert window["pair"] == name


def test_a_window_replay_makes_every_decision_the_full_replay_makes_inside_it(generated, tmp_path):
    # Arrange: a window from the middle of the recording, starting where a full replay has an
    # opportunity open (it opened before --start, so it and its trade stay out of the window).
    full = generated.run_dir
    times = frame_times(generated.root)
    windows = rows(full, "opportunities")
    straddling = next(w for w in windows[len(windows) // 3:] if w["duration_ns"] > 50_000_000)
    start_ns = straddling["open_ns"] + 1
    end_ns = start_ns + 60 * SECOND

    # Act
    result = invoke("--from", str(generated.root), "--config", str(generated.config_path),
                    "--out", str(tmp_path / "run"), "--start", str(start_ns), "--end", str(end_ns))

    # Assert
    assert result.exit_code == 0, result.output
    counts = assert_window_matches_full(
        full, tmp_path / "run", first_frame_at_or_after(times, start_ns), end_ns, start_ns
    )
    assert counts["decisions"] > 3 and counts["trades"] > 0, counts
    got = {w["opportunity_id"] for w in rows(tmp_path / "run", "opportunities")}
    assert straddling["opportunity_id"] not in got
    health = {(r["venue"], r["market"]): r for r in rows(tmp_path / "run", "book_health")}
    assert all(r["ignored_updates"] == 0 and r["updates"] > 0 for r in health.values())
    meta = orjson.loads((tmp_path / "run" / "run.json").read_bytes())
    assert meta["warmup_frames"] == sum(1 for t in times if t < start_ns)


def test_start_at_or_after_end_is_one_line_exit_2_and_leaves_no_run_directory(generated, tmp_path):
    times = frame_times(generated.root)
    at = str(min(times) + 10 * SECOND)

    result = invoke("--from", str(generated.root), "--config", str(generated.config_path),
                    "--out", str(tmp_path / "run"), "--start", at, "--end", at)

    assert_one_line_user_error(result, "--start", "--end")
    assert not (tmp_path / "run").exists()


def test_a_window_with_no_frames_says_so_and_leaves_no_run_directory(generated, tmp_path):
    after = max(frame_times(generated.root)) + SECOND

    result = invoke("--from", str(generated.root), "--config", str(generated.config_path),
                    "--out", str(tmp_path / "run"), "--start", str(after))

    assert_one_line_user_error(result, "no frames", "--start")
    assert not (tmp_path / "run").exists()


def test_replay_ends_with_a_summary_table_and_the_run_directory(tmp_path):
    # Arrange: one opportunity that trades, and two malformed Kalshi frames.
    rec = Recording()
    standard_opening(rec)
    rec._add(T0 + 500 * MS, "kalshi", "in", b'{"type":"orderbook_delta","sid":1,"seq":')
    rec._add(T0 + 600 * MS, "kalshi", "in", b'{"type":"orderbook_delta","sid":1,"seq":')
    rec.poly_change(T0 + 1_000 * MS, "BUY", "0.50", "100")
    rec.poly_text(T0 + 3_000 * MS)
    rec.write(tmp_path / "rec")
    config = tmp_path / "arbkit.toml"
    config.write_text(config_text())

    # Act
    result = invoke("--from", str(tmp_path / "rec"), "--config", str(config), "--out", str(tmp_path / "run"))

    # Assert
    assert result.exit_code == 0, result.output
    out = result.stdout
    lines = {" ".join(line.strip("│ ").split("│")[0].split()): line for line in out.splitlines()}
    trades = rows(tmp_path / "run", "trades")
    pnl = rows(tmp_path / "run", "pnl")[-1]
    assert len(trades) == 1 and trades[0]["matched_size"] > 0
    assert "6" in lines["frames kalshi"] and "5" in lines["frames polymarket"], out
    assert "2 malformed frames (kalshi)" in lines["decode errors"], out
    assert lines["windows opened"].split()[-2] == "1"
    assert lines["approved"].split()[-2] == "1" and lines["filled"].split()[-2] == "1"
    assert f"{trades[0]['matched_size'].normalize():f} contracts" in lines["matched size"]
    assert f"${pnl['fees']:f}" in lines["fees"] and f"${pnl['total']:f}" in lines["P&L"], out
    assert out.rstrip().endswith(f"run written to {tmp_path / 'run'}")


def test_run_json_records_the_code_version_with_the_git_commit(generated):
    import subprocess

    import arbkit

    meta = orjson.loads((generated.run_dir / "run.json").read_bytes())
    checkout = Path(arbkit.__file__).resolve().parent.parent
    head = subprocess.run(["git", "-C", str(checkout), "rev-parse", "HEAD"], capture_output=True, text=True)

    assert meta["code_version"]["arbkit"] == arbkit.__version__
    if head.returncode == 0:  # a git checkout (a wheel install has no commit to name)
        assert meta["code_version"]["git_commit"] == head.stdout.strip()
        assert isinstance(meta["code_version"]["git_dirty"], bool)


@pytest.mark.parametrize("start_ms", [1_020, 1_060])
def test_a_trade_in_flight_at_start_stays_out_while_the_next_decision_counts_its_position(tmp_path, start_ms):
    # Arrange: an opportunity opens at 1.000 s and its orders arrive 50 ms later; --start falls
    # between (or just after, before the next frame). The window closes at 2 s and a second one
    # opens at 3 s, inside the window.
    rec = Recording()
    standard_opening(rec)
    rec.poly_change(T0 + 1_000 * MS, "BUY", "0.50", "100")
    rec.poly_change(T0 + 2_000 * MS, "BUY", "0.50", "0")
    rec.poly_change(T0 + 3_000 * MS, "BUY", "0.50", "100")
    rec.poly_text(T0 + 4_000 * MS)
    rec.write(tmp_path / "rec")
    config = tmp_path / "arbkit.toml"
    config.write_text(config_text())
    start_ns = T0 + start_ms * MS
    common = ("--from", str(tmp_path / "rec"), "--config", str(config))

    # Act
    full = invoke(*common, "--out", str(tmp_path / "full"))
    window = invoke(*common, "--out", str(tmp_path / "window"), "--start", str(start_ns))

    # Assert
    assert full.exit_code == 0 and window.exit_code == 0, window.output
    first, second = rows(tmp_path / "full", "risk_decisions")
    assert first["ns"] < start_ns <= second["ns"] and first["approved"] and second["approved"]
    assert rows(tmp_path / "window", "risk_decisions") == [second]  # same id, same size: same risk state
    assert {t["decision_id"] for t in rows(tmp_path / "window", "trades")} == {second["decision_id"]}
    assert {w["opportunity_id"] for w in rows(tmp_path / "window", "opportunities")} == {second["opportunity_id"]}
    times = [t for t, *_ in rec.rows]
    assert_window_matches_full(tmp_path / "full", tmp_path / "window", first_frame_at_or_after(times, start_ns),
                               T0 + 10_000 * MS, start_ns)
    # Snapshots from --start on are the full replay's (the first trade's when it lands after it).
    assert rows(tmp_path / "window", "pnl")[0] == next(p for p in rows(tmp_path / "full", "pnl") if p["ns"] >= start_ns)


def test_frames_nested_20000_deep_are_counted_and_the_replay_writes_its_outputs(tmp_path):
    # Such a frame once escaped the Kalshi decoder as a RecursionError traceback (issue 16).
    deep = b"[" * 20_000 + b"]" * 20_000
    rec = Recording()
    standard_opening(rec)
    rec.rows.append((T0 + SECOND, "kalshi", 1, "in", deep))
    rec.rows.append((T0 + SECOND + MS, "polymarket", 1, "in", b'{"event_type":' + deep + b"}"))
    root = rec.write(tmp_path / "rec")
    config = tmp_path / "arbkit.toml"
    config.write_text(config_text())

    result = invoke("--from", str(root), "--config", str(config), "--out", str(tmp_path / "run"))

    assert result.exit_code == 0, result.output
    assert "Traceback" not in result.output
    meta = orjson.loads((tmp_path / "run" / "run.json").read_bytes())
    assert (meta["frames"], meta["decode_errors"]) == (len(rec.rows), 2)
    assert (tmp_path / "run" / "book_health.parquet").exists()
