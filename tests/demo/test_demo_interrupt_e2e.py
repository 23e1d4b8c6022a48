"""Ctrl-C during `arbkit demo`: nothing keeps running, and the recording it made replays."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

ARBKIT = [sys.executable, "-c", "from arbkit.cli import main; main()"]

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def _wait_for_journal_bytes(recording: Path, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        journal = recording / "journal"
        if journal.is_dir() and sum(f.stat().st_size for f in journal.rglob("*") if f.is_file()) > 20_000:
            return
        time.sleep(0.2)
    raise AssertionError(f"no recorded frames under {recording} within {timeout} s")


def _session_processes(sid: int) -> list[psutil.Process]:
    alive = []
    for proc in psutil.process_iter():
        try:
            if os.getsid(proc.pid) == sid:
                alive.append(proc)
        except (ProcessLookupError, psutil.Error):
            continue
    return alive


def _listening(url: str) -> bool:
    host, port = re.match(r"ws://([^:/]+):(\d+)", url).groups()
    with socket.socket() as sock:
        sock.settimeout(1)
        return sock.connect_ex((host, int(port))) == 0


def _start_demo(out: Path, duration_s: int) -> subprocess.Popen[str]:
    """Start `arbkit demo` in its own session, so every process it might leave is findable."""
    return subprocess.Popen(
        [*ARBKIT, "demo", "--duration", str(duration_s), "--pairs", "2", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True, text=True,
    )


@pytest.mark.timeout(120)
def test_ctrl_c_during_the_live_phase_leaves_no_process_or_port_and_a_replayable_recording(tmp_path):
    # Arrange: a demo that would run for a minute.
    out = tmp_path / "demo"
    process = _start_demo(out, duration_s=60)
    try:
        first = "".join(process.stdout.readline() for _ in range(2))
        urls = re.findall(r"ws://\S+", first)
        assert len(urls) == 2, first
        _wait_for_journal_bytes(out / "latest" / "live" / "recording", timeout=40)
    finally:
        # Act: Ctrl-C as a terminal sends it.
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=40)
    stdout = first + stdout

    # Assert: the demo says what happened, and nothing of it is left running or listening.
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr
    assert "interrupted" in stderr and "recording is sealed" in stderr
    assert _session_processes(process.pid) == []
    assert not any(_listening(url) for url in urls)

    recording = out / "latest" / "live" / "recording"
    assert not any(f.is_file() for f in (recording / "journal").rglob("*")), "journal left unsealed"
    assert "arbkit replay --from" in stdout
    config = out / "latest" / "sandbox" / "arbkit.toml"

    replayed = subprocess.run(
        [*ARBKIT, "replay", "--from", str(recording), "--config", str(config), "--out", str(tmp_path / "run")],
        capture_output=True, text=True, timeout=60, check=False,
    )
    assert replayed.returncode == 0, replayed.stderr
    frames = int(re.search(r"replayed (\d+) frames", replayed.stdout).group(1))
    assert frames > 100


@pytest.mark.timeout(120)
def test_ctrl_c_after_the_live_phase_stops_at_once_and_keeps_the_recording(tmp_path):
    # Arrange: a short demo, interrupted once it has verified (while it computes stats and the report).
    out = tmp_path / "demo"
    process = _start_demo(out, duration_s=3)
    seen = []
    try:
        for line in process.stdout:
            seen.append(line)
            if line.startswith("verify"):
                break
    finally:
        process.send_signal(signal.SIGINT)
        stdout, stderr = process.communicate(timeout=40)

    # Assert
    assert any(line.startswith("verify") for line in seen), "".join(seen) + stdout
    assert process.returncode == 130, stderr
    assert "Traceback" not in stderr and "interrupted" in stderr
    assert _session_processes(process.pid) == []
    recording = out / "latest" / "live" / "recording"
    assert not any(f.is_file() for f in (recording / "journal").rglob("*"))
    assert list((recording / "sessions").glob("*.json"))
