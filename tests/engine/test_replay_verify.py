"""`arbkit replay --verify RUN_DIR`: re-derive a run and fail on the first differing decision."""

from __future__ import annotations

import shutil
from decimal import Decimal

import pyarrow as pa
import pyarrow.parquet as pq
from click.testing import CliRunner
from engine_recordings import MS, T0, Recording, config_text, standard_opening

from arbkit.cli import cli
from arbkit.runner.outputs import SCHEMAS, write_table


def tamper(run_dir, table: str, index: int, column: str, value) -> dict:
    """Rewrite one cell of a run table with the table's own schema; return the original row."""
    rows = pq.read_table(run_dir / f"{table}.parquet").to_pylist()
    original = dict(rows[index])
    rows[index][column] = value
    # write_table takes engine units: ints of the column's last decimal place.
    scales = {f.name: f.type.scale for f in SCHEMAS[table] if pa.types.is_decimal(f.type)}
    write_table(
        run_dir / f"{table}.parquet",
        table,
        [
            {k: int(v.scaleb(scales[k])) if k in scales and v is not None else v
             for k, v in row.items()}
            for row in rows
        ],
    )
    return original


def test_verify_confirms_a_fresh_run(generated):
    # Act
    result = CliRunner().invoke(cli, ["replay", "--verify", str(generated.run_dir)])

    # Assert
    assert result.exit_code == 0, result.output
    assert "verified" in result.stdout


def test_a_run_table_rewritten_unchanged_still_verifies(generated, tmp_path):
    # Arrange: the tampering below rewrites through the run's own writer; with no value
    # changed that gives the same bytes, so a failure below is the changed value's doing.
    run = shutil.copytree(generated.run_dir, tmp_path / "run")
    rows = pq.read_table(run / "opportunities.parquet").to_pylist()
    tamper(run, "opportunities", 0, "peak_profit", rows[0]["peak_profit"])

    # Act
    result = CliRunner().invoke(cli, ["replay", "--verify", str(run)])

    # Assert
    assert result.exit_code == 0, result.output


def test_verify_fails_on_a_changed_peak_profit_and_prints_the_row_and_its_frames(
    generated, tmp_path
):
    # Arrange
    run = shutil.copytree(generated.run_dir, tmp_path / "run")
    original = tamper(run, "opportunities", 3, "peak_profit", Decimal("123.456789"))

    # Act
    result = CliRunner().invoke(cli, ["replay", "--verify", str(run)])

    # Assert
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[0] == "DIFFERENT: opportunities row 3"
    assert "Decimal('123.456789')" in lines[1] and original["opportunity_id"] in lines[1]
    assert f"Decimal('{original['peak_profit']}')" in lines[2]
    frames = [line for line in lines if line.startswith("  frame: ")]
    assert frames, "the frames that led to the row are printed"
    assert f"'ingest_seq': {original['open_ingest_seq']}," in frames[-1]


def test_verify_fails_on_a_changed_risk_decision_reason_and_prints_the_frames_behind_it(
    generated, tmp_path
):
    # Arrange
    run = shutil.copytree(generated.run_dir, tmp_path / "run")
    decisions = pq.read_table(run / "risk_decisions.parquet").to_pylist()
    index = len(decisions) // 2
    original = tamper(run, "risk_decisions", index, "reason", "cooldown")
    opened = {
        row["opportunity_id"]: row["open_ingest_seq"]
        for row in pq.read_table(run / "opportunities.parquet").to_pylist()
    }[original["opportunity_id"]]

    # Act
    result = CliRunner().invoke(cli, ["replay", "--verify", str(run)])

    # Assert
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[0] == f"DIFFERENT: risk_decisions row {index}"
    assert "'reason': 'cooldown'" in lines[1]
    assert f"'reason': '{original['reason']}'" in lines[2]
    frames = [line for line in lines if line.startswith("  frame: ")]
    assert frames, "the frames that led to the decision are printed"
    assert f"'ingest_seq': {opened}," in frames[-1]


def small_run_files(directory):
    """A hand-built recording with one approved, filled window, and its config file."""
    rec = Recording()
    standard_opening(rec)
    opened = rec.poly_change(T0 + 1_000 * MS, "BUY", "0.50", "100")
    rec.poly_change(T0 + 2_000 * MS, "BUY", "0.50", "0")
    rec.write(directory / "rec")
    (directory / "arbkit.toml").write_text(config_text())
    return opened


def test_a_run_of_a_relative_recording_path_verifies_from_another_directory(
    tmp_path, monkeypatch
):
    # Arrange
    work = tmp_path / "work"
    work.mkdir()
    small_run_files(work)
    monkeypatch.chdir(work)
    made = CliRunner().invoke(
        cli, ["replay", "--from", "rec", "--config", "arbkit.toml", "--out", "run"]
    )
    monkeypatch.chdir(tmp_path)

    # Act
    result = CliRunner().invoke(cli, ["replay", "--verify", "work/run"])

    # Assert
    assert made.exit_code == 0, made.output
    assert result.exit_code == 0, result.output


def test_verify_fails_on_a_changed_fill_and_prints_the_frames_behind_its_decision(tmp_path):
    # Arrange
    opened = small_run_files(tmp_path)
    made = CliRunner().invoke(cli, [
        "replay", "--from", str(tmp_path / "rec"), "--config", str(tmp_path / "arbkit.toml"),
        "--out", str(tmp_path / "run"),
    ])
    tamper(tmp_path / "run", "fills", 1, "fee", Decimal("0.76"))

    # Act
    result = CliRunner().invoke(cli, ["replay", "--verify", str(tmp_path / "run")])

    # Assert
    assert made.exit_code == 0, made.output
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[0] == "DIFFERENT: fills row 1"
    assert "'fee': Decimal('0.760000')" in lines[1] and "'fee': Decimal('0.750000')" in lines[2]
    frames = [line for line in lines if line.startswith("  frame: ")]
    assert f"'ingest_seq': {opened}," in frames[-1]


def test_verify_prints_the_frames_of_the_session_the_changed_row_came_from(tmp_path):
    # Arrange: two sessions a day apart with the same frames; both number them from 0.
    day = 86_400_000 * MS
    sessions = ("20260921T141320Z-aaaaaa", "20260922T141320Z-bbbbbb")
    for i, session_id in enumerate(sessions):
        rec = Recording()
        standard_opening(rec, T0 + i * day)
        rec.poly_change(T0 + i * day + 1_000 * MS, "BUY", "0.50", "100")
        rec.poly_change(T0 + i * day + 2_000 * MS, "BUY", "0.50", "0")
        rec.write(tmp_path / "rec", session_id)
    (tmp_path / "arbkit.toml").write_text(config_text())
    made = CliRunner().invoke(cli, [
        "replay", "--from", str(tmp_path / "rec"), "--config", str(tmp_path / "arbkit.toml"),
        "--out", str(tmp_path / "run"),
    ])
    original = tamper(tmp_path / "run", "opportunities", 1, "peak_profit", Decimal("9"))

    # Act
    result = CliRunner().invoke(cli, ["replay", "--verify", str(tmp_path / "run")])

    # Assert
    assert made.exit_code == 0, made.output
    assert result.exit_code == 1
    frames = [line for line in result.stderr.splitlines() if line.startswith("  frame: ")]
    assert frames and all(f"'session_id': '{sessions[1]}'" in line for line in frames)
    assert f"'recv_ns': {original['open_ns']}," in frames[-1]


def _small_run(tmp_path):
    rec = Recording()
    standard_opening(rec)
    rec.poly_change(T0 + 1_000 * MS, "BUY", "0.50", "100")
    rec.write(tmp_path / "rec")
    (tmp_path / "arbkit.toml").write_text(config_text())
    result = CliRunner().invoke(cli, ["replay", "--from", str(tmp_path / "rec"), "--config",
                                      str(tmp_path / "arbkit.toml"), "--out", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    return tmp_path / "run"


def _one_line_error(result, *named: str) -> None:
    assert result.exit_code == 2, result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.stderr
    for text in named:
        assert text in lines[0]


def test_verify_of_a_run_with_a_corrupt_table_names_the_file_and_exits_2(tmp_path):
    run = _small_run(tmp_path)
    path = run / "fills.parquet"
    path.write_bytes(path.read_bytes()[:40])

    result = CliRunner().invoke(cli, ["replay", "--verify", str(run)])

    _one_line_error(result, str(path))


def test_verify_of_a_run_with_a_corrupt_page_but_intact_footer_names_the_file_and_exits_2(tmp_path):
    run = _small_run(tmp_path)
    path = run / "orders.parquet"
    data = bytearray(path.read_bytes())
    data[4:60] = b"\xff" * 56  # the first column chunk, not the footer
    path.write_bytes(bytes(data))

    result = CliRunner().invoke(cli, ["replay", "--verify", str(run)])

    _one_line_error(result, str(path))


def test_verify_of_a_run_with_a_missing_table_names_the_file_and_exits_2(tmp_path):
    run = _small_run(tmp_path)
    (run / "trades.parquet").unlink()

    result = CliRunner().invoke(cli, ["replay", "--verify", str(run)])

    _one_line_error(result, str(run / "trades.parquet"), "missing")
