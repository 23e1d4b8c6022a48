"""The console entry point exits without interpreter teardown but like a normal exit otherwise."""

from __future__ import annotations

import subprocess
import sys

import pytest

from arbkit import __version__

ARBKIT = [sys.executable, "-c", "from arbkit.cli import main; main()"]


@pytest.mark.e2e
def test_output_written_before_exit_reaches_a_pipe():
    result = subprocess.run([*ARBKIT, "--version"], capture_output=True, timeout=60, check=False)

    assert result.returncode == 0
    assert result.stdout.decode() == f"arbkit, version {__version__}\n"


@pytest.mark.e2e
def test_a_user_error_still_exits_2_with_one_line(tmp_path):
    result = subprocess.run(
        [*ARBKIT, "replay", "--from", str(tmp_path / "missing"), "--config", str(tmp_path / "a.toml"),
         "--out", str(tmp_path / "run")],
        capture_output=True, timeout=60, check=False,
    )

    assert result.returncode == 2
    assert result.stderr.decode().count("\n") == 1 and result.stderr.startswith(b"Error: ")
