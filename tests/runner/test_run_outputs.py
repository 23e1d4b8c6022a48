"""Run tables streamed to Parquet in bounded row groups: the same rows, and for a table below a
row group the same bytes, as one write of the whole table."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from arbkit.config import load_config
from arbkit.engine import Engine
from arbkit.runner.outputs import ROW_GROUP_ROWS, SCHEMAS, RunOutputs, _column, write_table
from arbkit.runner.replay import ROW_COLUMNS
from arbkit.sandbox.generate import generate_recording
from arbkit.store.reader import iter_frame_lists

META = {"mode": "replay", "frames": 0, "decode_errors": 0, "sessions": []}


@pytest.fixture(scope="module")
def engine_outputs(tmp_path_factory):
    """Every output row of a replay of a small sandbox recording, in engine order."""
    root = tmp_path_factory.mktemp("recording")
    result = generate_recording(root, frames=15_000, pairs=4, seed=5, rate=150.0)
    engine = Engine(load_config(result.config_path))
    outputs = []
    for batch in iter_frame_lists(root, columns=ROW_COLUMNS):
        outputs.extend(engine.process_rows(*batch))
    outputs.extend(engine.finish())
    outputs.extend(("book_health", row) for row in engine.book_health())
    return outputs


def one_write(path, table, rows):
    """The table as a single `pq.write_table` of all its rows writes it (the layout before
    streaming)."""
    schema = SCHEMAS[table]
    columns = [_column([row.get(f.name) for row in rows], f.type) for f in schema]
    pq.write_table(pa.Table.from_arrays(columns, schema=schema), path, compression="zstd",
                   write_statistics=True)


def test_a_replay_written_in_small_row_groups_reads_back_the_same_rows(engine_outputs, tmp_path):
    # Arrange
    small, whole = tmp_path / "small", tmp_path / "whole"
    counts = {}
    for table, _ in engine_outputs:
        counts[table] = counts.get(table, 0) + 1
    # Several row groups of 5 rows, the last one partial.
    assert counts["opportunities"] > 5 and counts["positions"] > 3 * 5

    # Act
    for run_dir, size in ((small, 5), (whole, ROW_GROUP_ROWS)):
        with RunOutputs(run_dir, row_group_rows=size) as outputs:
            for start in range(0, len(engine_outputs), 50):
                outputs.add(engine_outputs[start:start + 50])
            outputs.write(META)

    # Assert
    for table in SCHEMAS:
        streamed = pq.ParquetFile(small / f"{table}.parquet")
        n = counts.get(table, 0)
        groups = [streamed.metadata.row_group(i).num_rows for i in range(streamed.num_row_groups)]
        assert groups == ([5] * (n // 5) + ([n % 5] if n % 5 else [])) or (n == 0 and groups == [0])
        assert streamed.read().equals(pq.read_table(whole / f"{table}.parquet"))
        assert pq.ParquetFile(whole / f"{table}.parquet").num_row_groups == 1


def test_a_table_below_a_row_group_has_the_bytes_of_one_write_of_it(engine_outputs, tmp_path):
    # Arrange
    rows = {table: [] for table in SCHEMAS}
    for table, row in engine_outputs:
        rows[table].append(row)
    rows["trades"] = []  # a table without rows is one empty row group, as before

    # Act
    with RunOutputs(tmp_path / "run") as outputs:
        outputs.add((table, row) for table in SCHEMAS for row in rows[table])
        outputs.write(META)

    # Assert
    for table in SCHEMAS:
        one_write(tmp_path / f"{table}.parquet", table, rows[table])
        written = (tmp_path / "run" / f"{table}.parquet").read_bytes()
        assert written == (tmp_path / f"{table}.parquet").read_bytes(), table


def test_rows_held_across_batches_and_row_groups_keep_their_order(tmp_path):
    # Arrange: 1,500-row groups out of 1,024-row batches, so groups end inside a batch.
    rows = [{"ns": i, "total": -i, "fees": i % 7} for i in range(3_500)]

    # Act
    write_table(tmp_path / "pnl.parquet", "pnl", rows, row_group_rows=1_500)

    # Assert
    written = pq.ParquetFile(tmp_path / "pnl.parquet")
    assert [written.metadata.row_group(i).num_rows for i in range(written.num_row_groups)] == [
        1_500, 1_500, 500
    ]
    table = written.read(columns=["ns", "total", "fees"])
    assert table.column("ns").to_pylist() == list(range(3_500))
    assert [int(v.scaleb(6)) for v in table.column("total").to_pylist()] == [-i for i in range(3_500)]
    assert written.schema_arrow == SCHEMAS["pnl"]


def test_a_run_that_fails_leaves_no_table_and_no_partial_file(tmp_path):
    # Arrange
    run_dir = tmp_path / "run"
    rows = [("pnl", {"ns": i, "total": i}) for i in range(2_100)]

    # Act
    with pytest.raises(RuntimeError), RunOutputs(run_dir, row_group_rows=2_000) as outputs:
        outputs.add(rows[:1_500])
        # A batch of rows is held on disk, under a name no reader takes for a table...
        assert [p.name for p in run_dir.iterdir()] == [".pnl.rows.tmp"]
        outputs.add(rows[1_500:])
        # ...and a full row group is written, to a file not yet named as the table.
        assert sorted(p.name for p in run_dir.iterdir()) == [".pnl.rows.tmp", "pnl.parquet.tmp"]
        raise RuntimeError("the replay failed")

    # Assert
    assert list(run_dir.iterdir()) == []
