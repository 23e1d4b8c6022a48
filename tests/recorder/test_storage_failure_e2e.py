"""A write failure (here: the file size limit, as on a full disk) stops the recorder cleanly."""

from __future__ import annotations

import resource
import signal
import subprocess

import pyarrow.parquet as pq
import pytest

from arbkit.store.reader import iter_frames
from arbkit.store.recovery import recover

LIMIT_BYTES = 256 * 1024


def _limit_file_size() -> None:
    # Writes past the limit fail with EFBIG instead of killing the process with SIGXFSZ.
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (LIMIT_BYTES, LIMIT_BYTES))


@pytest.mark.e2e
@pytest.mark.timeout(90)
def test_a_failing_write_stops_with_one_error_line_and_the_journal_recovers(sandbox, tmp_path, arbkit_cmd):
    root = tmp_path / "recordings"

    result = subprocess.run(
        [*arbkit_cmd, "record", "--config", str(sandbox.config_path), "--out", str(root), "--duration", "60"],
        capture_output=True, timeout=80, preexec_fn=_limit_file_size, check=False,
    )

    assert result.returncode == 2
    lines = result.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error:") and "journal" in lines[0], lines
    for parquet in root.rglob("*.parquet"):
        pq.read_table(parquet, partitioning=None)  # whatever was sealed is intact
    recovered = recover(root)
    assert len(recovered) <= 1
    frames = list(iter_frames(root))
    assert sum(1 for f in frames if f.kind == "in") > 100
    seqs = [f.ingest_seq for f in frames]
    assert seqs == sorted(set(seqs))
