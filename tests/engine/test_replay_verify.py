"""`arbkit replay --verify RUN_DIR`: re-derive a run and fail on the first differing decision."""

from __future__ import annotations

import shutil
from decimal import Decimal

import pyarrow.parquet as pq
from click.testing import CliRunner

from arbkit.cli import cli
from arbkit.runner.outputs import SCHEMAS, write_table

MICRO = Decimal("0.000001")


def tamper(run_dir, table: str, index: int, column: str, value) -> dict:
    """Rewrite one cell of a run table with the table's own schema; return the original row."""
    rows = pq.read_table(run_dir / f"{table}.parquet").to_pylist()
    original = dict(rows[index])
    rows[index][column] = value
    # write_table takes engine units: micro-dollars and size millionths are ints.
    units = {
        f.name: (lambda v: None if v is None else int(v / MICRO))
        for f in SCHEMAS[table] if str(f.type).startswith("decimal128(18, 6)")
    }
    write_table(
        run_dir / f"{table}.parquet",
        table,
        [{k: units[k](v) if k in units else v for k, v in row.items()} for row in rows],
    )
    return original


def test_verify_confirms_a_fresh_run(generated):
    # Act
    result = CliRunner().invoke(cli, ["replay", "--verify", str(generated.run_dir)])

    # Assert
    assert result.exit_code == 0, result.output
    assert "verified" in result.stdout


def test_verify_of_a_copied_run_untouched_still_passes_and_rewriting_a_table_as_is_does_too(
    generated, tmp_path
):
    # Arrange: a rewrite through the same writer with no value changed is byte-identical.
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
