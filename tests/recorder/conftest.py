"""Fixtures for recorder tests: a sandbox on loopback and ways to run the recorder against it."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from arbkit.sandbox.server import SandboxThread

ARBKIT = [sys.executable, "-c", "from arbkit.cli import main; main()"]


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[SandboxThread]:
    """A fault-free sandbox in its own thread, stopped after the test."""
    thread = SandboxThread(tmp_path / "sandbox", pairs=3, seed=11, rate=200.0, faults="none").start()
    try:
        yield thread
    finally:
        thread.stop()


@pytest.fixture
def arbkit_cmd() -> list[str]:
    """The argv prefix that runs the `arbkit` CLI of this checkout in a subprocess."""
    return list(ARBKIT)


@pytest.fixture
def run_arbkit():
    """Run the `arbkit` CLI as a subprocess with a timeout; return the CompletedProcess."""

    def run(*args: str, timeout: float = 60.0) -> subprocess.CompletedProcess[bytes]:
        return subprocess.run([*ARBKIT, *args], capture_output=True, timeout=timeout, check=False)

    return run
