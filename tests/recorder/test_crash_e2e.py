"""`kill -9` mid-recording loses at most the last flush interval; the next start seals the rest."""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import time
from pathlib import Path

import pyarrow as pa
import pytest

from arbkit.store.reader import iter_frames


def _flushed_rows(journal_dir: Path) -> list[tuple[int, bytes]]:
    """(ingest_seq, payload) of every complete batch in a session's journal segments."""
    rows = []
    for segment in sorted(journal_dir.glob("*.arrows"), key=lambda p: int(p.stem)):
        try:
            with pa.OSFile(str(segment)) as source:
                reader = pa.ipc.open_stream(source)
                while True:
                    try:
                        batch = reader.read_next_batch()
                    except StopIteration:
                        break
                    rows.extend(zip(batch["ingest_seq"].to_pylist(), batch["payload"].to_pylist()))
        except (pa.ArrowException, OSError):
            pass  # a torn tail: only complete batches count as flushed
    return rows


def _wait_for_flushes(root: Path, batches: int, timeout: float) -> Path:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for journal in (root / "journal").glob("*"):
            if _batch_count(journal) >= batches:
                return journal
        time.sleep(0.2)
    raise AssertionError(f"no journal with {batches} flushed batches under {root}")


def _batch_count(journal: Path) -> int:
    count = 0
    for segment in journal.glob("*.arrows"):
        try:
            with pa.OSFile(str(segment)) as source:
                count += sum(1 for _ in pa.ipc.open_stream(source))
        except (pa.ArrowException, OSError):
            pass
    return count


@pytest.mark.e2e
@pytest.mark.timeout(120)
def test_kill_9_then_restart_seals_every_flushed_frame_of_the_killed_session(sandbox, tmp_path, arbkit_cmd, run_arbkit):
    root = tmp_path / "recordings"
    config = str(sandbox.config_path)
    victim = subprocess.Popen([*arbkit_cmd, "record", "--config", config, "--out", str(root)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        journal = _wait_for_flushes(root, batches=3, timeout=40)
    finally:
        os.kill(victim.pid, signal.SIGKILL)
        victim.wait(10)
    killed_session = journal.name
    flushed = _flushed_rows(journal)
    assert len(flushed) > 100

    result = run_arbkit("record", "--config", config, "--out", str(root), "--duration", "3")

    assert result.returncode == 0, result.stderr.decode()
    assert not journal.exists()
    frames = list(iter_frames(root))
    recovered = [(f.ingest_seq, f.payload) for f in frames if f.session_id == killed_session]
    assert recovered[: len(flushed)] == flushed
    assert len(recovered) == len(flushed)  # nothing invented past the last flush
    sessions = {f.session_id for f in frames}
    assert len(sessions) == 2
    for session in sessions:
        seqs = [f.ingest_seq for f in frames if f.session_id == session]
        assert all(b > a for a, b in itertools.pairwise(seqs))
    manifest = json.loads((root / "sessions" / f"{killed_session}.json").read_text())
    assert manifest["session_id"] == killed_session


@pytest.mark.e2e
@pytest.mark.timeout(60)
@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_stop_signal_seals_the_session_and_leaves_no_journal(sandbox, tmp_path, arbkit_cmd, stop_signal):
    root = tmp_path / "recordings"
    process = subprocess.Popen([*arbkit_cmd, "record", "--config", str(sandbox.config_path), "--out", str(root)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        journal = _wait_for_flushes(root, batches=2, timeout=40)
    finally:
        process.send_signal(stop_signal)
        out, err = process.communicate(timeout=30)

    assert process.returncode == 0, err.decode()
    assert not journal.exists()
    frames = list(iter_frames(root))
    closes = [json.loads(f.payload) for f in frames if f.kind == "close"]
    assert {c["cause"] for c in closes} == {"recorder stopping"}
    assert {f.venue for f in frames if f.kind == "close"} == {"kalshi", "polymarket"}
    assert journal.name in out.decode()
