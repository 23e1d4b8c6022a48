"""Signals while the recorder seals (issue 16): SIGTERM or SIGINT let the seal finish, a second
SIGINT forces exit at once, SIGKILL stops it dead. Sealed files are never corrupt, and what the
next start recovers holds every frame the journal had flushed.

"While it seals" is observed, not guessed: a seal writes `.<file>.tmp` under frames/ before
publishing it, so the test polls for one and signals as soon as it appears. The journal rotates
every second, so seals come often (background seals of rotated segments, then the final one).
"""

from __future__ import annotations

import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from recording_checks import (
    assert_the_next_start_recovers,
    flushed_rows,
    frames_by_session,
    sealed_files,
    stray_temp_files,
)

from arbkit.sandbox.server import SandboxThread

SEAL_WAIT_S = 60.0


@pytest.fixture
def rotating_sandbox(tmp_path: Path) -> Iterator[Path]:
    """A fault-free sandbox at 1,000 frames/s; returns a config rotating the journal every 1 s."""
    thread = SandboxThread(tmp_path / "sandbox", pairs=3, seed=11, rate=1000.0, faults="none").start()
    try:
        config = thread.config_path.with_name("rotating.toml")
        config.write_text(thread.config_path.read_text() + "\n[recorder]\nrotation_s = 1\n")
        yield config
    finally:
        thread.stop()


def wait_for_flushed_rows(root: Path, process: subprocess.Popen[bytes], rows: int) -> None:
    """Return once the journal holds `rows` flushed rows."""
    deadline = time.monotonic() + SEAL_WAIT_S
    while True:
        if (root / "journal").is_dir() and sum(len(r) for r in flushed_rows(root).values()) >= rows:
            return
        if process.poll() is not None or time.monotonic() > deadline:
            raise AssertionError(f"no {rows} flushed rows in time")
        time.sleep(0.2)


def start_recording(arbkit_cmd: list[str], config: Path, root: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [*arbkit_cmd, "record", "--config", str(config), "--out", str(root)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )


def wait_for_a_seal(
    root: Path, process: subprocess.Popen[bytes], after_s: float = 0.0, seen: frozenset[Path] = frozenset()
) -> frozenset[Path]:
    """Return the temp files of a seal as soon as one is writing (after `after_s` seconds, and
    not one of the `seen` ones)."""
    start = time.monotonic()
    while time.monotonic() - start < SEAL_WAIT_S:
        if process.poll() is not None:
            raise AssertionError(f"recorder exited early: {process.stderr.read().decode()}")
        if time.monotonic() - start >= after_s and (root / "frames").is_dir():
            writing = frozenset(stray_temp_files(root))
            if writing - seen:
                return writing
        time.sleep(0.001)
    raise AssertionError("no seal seen in time")


@pytest.mark.e2e
@pytest.mark.timeout(90)
@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stop_signal_during_a_seal_lets_it_finish_and_seals_everything(
    rotating_sandbox, tmp_path, arbkit_cmd, stop_signal
):
    root = tmp_path / "recordings"
    process = start_recording(arbkit_cmd, rotating_sandbox, root)
    try:
        wait_for_a_seal(root, process, after_s=2.0)
        journal = flushed_rows(root)
    finally:
        process.send_signal(stop_signal)
        out, err = process.communicate(timeout=40)

    assert process.returncode == 0, err.decode()
    assert "session" in out.decode()
    assert not list((root / "journal").glob("*/*.arrows"))
    assert stray_temp_files(root) == []
    sealed_files(root)  # every file reads whole
    [(session, rows)] = frames_by_session(root).items()
    sealed = dict(rows)
    assert all(sealed.get(seq) == payload for seq, payload in journal.get(session, []))
    assert [seq for seq, _ in rows] == list(range(len(rows)))
    assert len(rows) > 1_000


@pytest.fixture
def sandbox_thread(tmp_path: Path) -> Iterator[SandboxThread]:
    """A fault-free sandbox at 1,000 frames/s (its journal is sealed only when the recorder stops)."""
    thread = SandboxThread(tmp_path / "sandbox", pairs=3, seed=11, rate=1000.0, faults="none").start()
    try:
        yield thread
    finally:
        thread.stop()


def wait_until_a_connection_closes(sandbox: SandboxThread, process: subprocess.Popen[bytes]) -> None:
    """Return once the sandbox sees the recorder close a connection: it is stopping."""
    deadline = time.monotonic() + SEAL_WAIT_S
    while not any(s["close_ns"] for s in sandbox.connection_stats()):
        if process.poll() is not None or time.monotonic() > deadline:
            raise AssertionError("the recorder did not start stopping")
        time.sleep(0.001)


@pytest.mark.e2e
@pytest.mark.timeout(120)
def test_a_second_sigint_while_stopping_exits_at_once_and_the_next_start_recovers_the_session(
    sandbox_thread, tmp_path, arbkit_cmd, run_arbkit
):
    # Two SIGINTs in quick succession reach Python's handler as one (signals do not queue), so
    # the second is sent once the first has visibly started the stop: the recorder is closing
    # its connections, and will then drain and seal ~40k frames (~20 s of journal, unrotated),
    # which keeps it busy well past the moment the second one arrives.
    root = tmp_path / "recordings"
    process = start_recording(arbkit_cmd, sandbox_thread.config_path, root)
    try:
        wait_for_flushed_rows(root, process, rows=40_000)
        process.send_signal(signal.SIGINT)
        wait_until_a_connection_closes(sandbox_thread, process)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()

    assert process.returncode == 130, err.decode()
    lines = err.decode().strip().splitlines()
    assert lines[-1].startswith("Error: interrupted twice") and "Traceback" not in err.decode()
    flushed = assert_the_next_start_recovers(run_arbkit, sandbox_thread.config_path, root)

    assert len(flushed) >= 40_000


@pytest.mark.e2e
@pytest.mark.timeout(120)
def test_sigkill_during_a_seal_corrupts_nothing_and_the_next_start_recovers_every_flushed_frame(
    rotating_sandbox, tmp_path, arbkit_cmd, run_arbkit
):
    root = tmp_path / "recordings"
    process = start_recording(arbkit_cmd, rotating_sandbox, root)
    try:
        wait_for_a_seal(root, process, after_s=2.0)
    finally:
        process.kill()
        process.communicate(timeout=10)
    # Published files are whole (the half-written one is a .tmp); the journal holds the rest.
    flushed = assert_the_next_start_recovers(run_arbkit, rotating_sandbox, root)

    assert len(flushed) > 100
