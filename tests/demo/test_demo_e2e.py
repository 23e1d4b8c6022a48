"""`arbkit demo` end to end: every step runs, the summary equals `arbkit stats`, nothing is left."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import psutil
import pytest

ARBKIT = [sys.executable, "-c", "from arbkit.cli import main; main()"]

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> dict:
    """One short demo of two pairs, run as a user would (a subprocess, its own session)."""
    out = tmp_path_factory.mktemp("demo") / "demo"
    process = subprocess.Popen(
        [*ARBKIT, "demo", "--duration", "12", "--pairs", "2", "--seed", "5", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True,
    )
    stdout, stderr = process.communicate(timeout=180)
    leftovers = [p for p in psutil.process_iter() if _sid(p) == process.pid]
    return {"out": out, "code": process.returncode, "stdout": stdout, "stderr": stderr, "leftovers": leftovers}


def _sid(proc: psutil.Process) -> int | None:
    try:
        return os.getsid(proc.pid)
    except (ProcessLookupError, PermissionError):
        return None


def _line(stdout: str, label: str) -> str:
    found = re.search(rf"^\s*{re.escape(label)}\s+(.*)$", stdout, re.MULTILINE)
    assert found, f"no {label!r} line in:\n{stdout}"
    return found.group(1)


def test_demo_exits_0_prints_every_step_and_leaves_no_process(demo):
    assert demo["code"] == 0, demo["stderr"]
    stdout = demo["stdout"]
    for step in ("sandbox", "live", "replay", "verify", "report"):
        assert re.search(rf"^{step}\s", stdout, re.MULTILINE), step
    assert "verified: replaying the recording re-derives the live run's decisions byte for byte" in stdout
    assert demo["leftovers"] == []


def test_demo_writes_a_new_folder_with_latest_pointing_at_it(demo):
    latest = demo["out"] / "latest"
    assert latest.is_symlink()
    folder = latest.resolve()
    assert folder.parent == demo["out"].resolve()
    assert (folder / "sandbox" / "arbkit.toml").is_file()
    assert list((folder / "live" / "recording" / "sessions").glob("*.json"))
    assert (folder / "replay" / "run.json").is_file() and (folder / "live" / "run.json").is_file()


def test_demo_prints_the_path_of_a_self_contained_report(demo):
    html = Path(_line(demo["stdout"], "report:")).read_text(encoding="utf-8")
    assert html.lstrip().lower().startswith("<!doctype html")
    assert not re.search(r"""(src|href)=["']https?://""", html)


def test_demo_summary_equals_arbkit_stats_on_the_same_recording_and_run(demo):
    folder = (demo["out"] / "latest").resolve()
    done = subprocess.run(
        [*ARBKIT, "stats", str(folder / "live" / "recording"), "--run", str(folder / "replay"), "--format", "json"],
        capture_output=True, text=True, timeout=120, check=True,
    )
    doc = json.loads(done.stdout)
    venues, run = doc["recording"]["venues"], doc["runs"]["replay"]
    stdout = demo["stdout"]

    def by_venue(label: str) -> dict[str, str]:
        return dict(re.findall(r"(kalshi|polymarket) ([\d,.]+)", _line(stdout, label)))

    assert by_venue("frames") == {v: f"{d['frames']:,}" for v, d in venues.items()}
    assert by_venue("reconnects") == {v: f"{d['reconnects']:,}" for v, d in venues.items()}
    assert by_venue("staleness p99") == {v: f"{d['staleness_p99_ms']:,.0f}" for v, d in venues.items()}
    assert _line(stdout, "opportunities") == f"{run['opportunities']:,} windows"
    assert _line(stdout, "fills") == f"{run['fills']:,}"
    assert Decimal(_line(stdout, "paper P&L").lstrip("$")) == Decimal(run["pnl"])
    assert sum(d["frames"] for d in venues.values()) > 1000


def test_demo_suggests_next_commands_that_work(demo):
    stdout = demo["stdout"]
    commands = [line.strip() for line in stdout.split("next, try:")[1].splitlines() if line.strip().startswith("arbkit ")]
    assert [c.split()[1] for c in commands] == ["stats", "query"]
    assert "make notebooks" in stdout
    for command in commands:
        done = subprocess.run([*ARBKIT, *shlex.split(command)[1:]], capture_output=True, text=True,
                              timeout=120, check=False)
        assert done.returncode == 0, (command, done.stderr)


def test_an_unusable_out_folder_is_one_line_and_exit_2(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    done = subprocess.run([*ARBKIT, "demo", "--out", str(blocker / "demo")], capture_output=True, text=True,
                          timeout=60, check=False)
    assert done.returncode == 2
    assert done.stderr.startswith("Error: --out: cannot write the demo under") and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
