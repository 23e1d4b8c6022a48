"""Recording into a filesystem that really fills up (issue 16): a size-limited tmpfs mounted by
the test. Needs root (CI runs as root); skipped with the reason anywhere a mount is refused.

The recorder must stop with one clear error line and a non-zero exit, leave every sealed file
intact and readable, and leave the journal for the next start, which (once there is room again)
recovers every flushed frame without rewriting any file already sealed.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from recording_checks import assert_the_next_start_recovers, sealed_files, stray_temp_files

from arbkit.sandbox.server import SandboxThread

SMALL = "1m"


@pytest.fixture
def small_filesystem(tmp_path: Path) -> Iterator[Path]:
    """A 1 MB tmpfs mounted at tmp_path/small for the test, unmounted after it."""
    if os.geteuid() != 0:
        pytest.skip("mounting a size-limited tmpfs needs root (CI runs as root)")
    mount_point = tmp_path / "small"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={SMALL}", "tmpfs", str(mount_point)],
        capture_output=True, timeout=10, check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.decode().strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], capture_output=True, timeout=10, check=False)


@pytest.fixture
def busy_sandbox(tmp_path: Path) -> Iterator[tuple[SandboxThread, Path]]:
    """A fault-free sandbox at 400 frames/s and a config that rotates the journal every 2 s."""
    thread = SandboxThread(tmp_path / "sandbox", pairs=3, seed=11, rate=400.0, faults="none").start()
    try:
        config = thread.config_path.with_name("rotating.toml")
        config.write_text(thread.config_path.read_text() + "\n[recorder]\nrotation_s = 2\n")
        yield thread, config
    finally:
        thread.stop()


@pytest.mark.e2e
@pytest.mark.timeout(150)
def test_a_full_disk_stops_with_one_error_line_and_the_next_start_recovers_every_flushed_frame(
    small_filesystem, busy_sandbox, arbkit_cmd, run_arbkit
):
    _, config = busy_sandbox
    root = small_filesystem / "recordings"

    result = subprocess.run(
        [*arbkit_cmd, "record", "--config", str(config), "--out", str(root), "--duration", "90"],
        capture_output=True, timeout=120, check=False,
    )

    # One clear line, a non-zero exit, no traceback.
    assert result.returncode == 2, result.stderr.decode()
    lines = result.stderr.decode().strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), lines
    assert "No space left on device" in lines[0]
    # Every sealed file is whole; no half-written seal output is left behind.
    assert sealed_files(root)
    assert stray_temp_files(root) == []

    # Room again (the mount grows; its files stay): the next start recovers the journal.
    grown = subprocess.run(["mount", "-o", "remount,size=64m", str(small_filesystem)],
                           capture_output=True, timeout=10, check=False)
    assert grown.returncode == 0, grown.stderr.decode()
    flushed = assert_the_next_start_recovers(run_arbkit, config, root)

    assert len(flushed) > 100
