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
from recording_checks import flushed_rows, frames_by_session, sealed_files, stray_temp_files

from arbkit.sandbox.server import SandboxThread

SEAL_WAIT_S = 40.0


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


@pytest.mark.e2e
@pytest.mark.timeout(120)
def test_a_second_sigint_during_the_final_seal_exits_at_once_and_the_next_start_recovers_it(
    rotating_sandbox, tmp_path, arbkit_cmd, run_arbkit
):
    root = tmp_path / "recordings"
    process = start_recording(arbkit_cmd, rotating_sandbox, root)
    try:
        sealing = wait_for_a_seal(root, process, after_s=3.0)
        process.send_signal(signal.SIGINT)  # stop: drain, then the final seal
        wait_for_a_seal(root, process, seen=sealing)
        process.send_signal(signal.SIGINT)  # and now, mid-seal (of another segment): out
        _, err = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()

    assert process.returncode == 130
    lines = err.decode().strip().splitlines()
    assert lines[-1].startswith("Error: interrupted twice") and "Traceback" not in err.decode()
    before = sealed_files(root)  # what was sealed is whole
    journal = flushed_rows(root)
    [(session, flushed)] = [(s, rows) for s, rows in journal.items() if rows]

    again = run_arbkit("record", "--config", str(rotating_sandbox), "--out", str(root), "--duration", "2")

    assert again.returncode == 0, again.stderr.decode()
    assert stray_temp_files(root) == []
    after = sealed_files(root)
    assert {path: after[path] for path in before} == before
    recorded = frames_by_session(root)
    sealed = dict(recorded[session])
    assert all(sealed.get(seq) == payload for seq, payload in flushed)
    assert [seq for seq, _ in recorded[session]] == list(range(len(recorded[session])))


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
    before = sealed_files(root)  # published files are whole; the half-written one is a .tmp
    journal = flushed_rows(root)
    [(session, flushed)] = journal.items()

    again = run_arbkit("record", "--config", str(rotating_sandbox), "--out", str(root), "--duration", "2")

    assert again.returncode == 0, again.stderr.decode()
    assert stray_temp_files(root) == []
    after = sealed_files(root)
    assert {path: after[path] for path in before} == before
    recorded = frames_by_session(root)
    sealed = dict(recorded[session])
    assert len(flushed) > 100
    assert all(sealed.get(seq) == payload for seq, payload in flushed)
    assert [seq for seq, _ in recorded[session]] == list(range(len(recorded[session])))
