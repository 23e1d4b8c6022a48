"""`arbkit demo`: the sandbox venues, a live paper run on them, its replay, the proof and a report.

Everything runs in this process: the sandbox serves from a background thread (`SandboxThread`)
while the live paper run records and trades in the main thread, so no process can outlive the
demo, whether it ends normally, fails or is interrupted. Ctrl-C (or SIGTERM) during the live
phase stops the recorder the way `arbkit live` does: every socket is closed and the session is
sealed, so the recording replays; the demo then stops the sandbox and ends without replaying.

Each demo writes a fresh folder `<out>/<UTC stamp>/` (earlier demos are never touched) and points
`<out>/latest` at it, the default the notebooks read:

    sandbox/arbkit.toml     the config (sandbox URLs, key, pairs); replays use it
    live/                   the live paper run; its recording is live/recording/
    replay/                 the replay of that recording (the run the report and stats read)
    report.html             the HTML report
"""

from __future__ import annotations

import datetime as dt
import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from rich.console import Console

from arbkit.analytics import stats
from arbkit.config import load_config
from arbkit.report import write_report
from arbkit.errors import UserError
from arbkit.runner.live import RECORDING_DIR, LiveResult, PaperSession
from arbkit.runner.replay import Difference, ReplayResult, replay, verify
from arbkit.sandbox.server import SandboxThread

LATEST = "latest"
SANDBOX_DIR = "sandbox"
LIVE_DIR = "live"
REPLAY_DIR = "replay"
REPORT_FILE = "report.html"

# Steps reported to the caller's `on_step(step, detail)`, in order.
STEP_SANDBOX = "sandbox"
STEP_LIVE = "live"
STEP_REPLAY = "replay"
STEP_VERIFY = "verify"
STEP_REPORT = "report"


@dataclass(frozen=True)
class DemoPaths:
    """Where one demo writes (see the module docstring)."""

    root: Path

    @property
    def sandbox(self) -> Path:
        return self.root / SANDBOX_DIR

    @property
    def config(self) -> Path:
        return self.sandbox / "arbkit.toml"

    @property
    def live(self) -> Path:
        return self.root / LIVE_DIR

    @property
    def recording(self) -> Path:
        return self.live / RECORDING_DIR

    @property
    def replay(self) -> Path:
        return self.root / REPLAY_DIR

    @property
    def report(self) -> Path:
        return self.root / REPORT_FILE


@dataclass
class DemoResult:
    """What a demo did. `interrupted` means it stopped during the live phase, recording sealed."""

    paths: DemoPaths
    interrupted: bool = False
    faults: list[dict[str, Any]] = field(default_factory=list)
    live: LiveResult | None = None
    replay: ReplayResult | None = None
    difference: Difference | None = None
    report: Path | None = None
    run_name: str = REPLAY_DIR  # the replay's name in `stats["runs"]`
    stats: dict[str, Any] | None = None


def new_demo_folder(out: Path, now: dt.datetime | None = None) -> DemoPaths:
    """Create `<out>/<UTC stamp>/` (a new one each time) and point `<out>/latest` at it."""
    stamp = (now or dt.datetime.now(dt.timezone.utc)).strftime("%Y%m%dT%H%M%SZ")
    try:
        out.mkdir(parents=True, exist_ok=True)
        root, n = out / stamp, 1
        while True:
            try:
                root.mkdir()
                break
            except FileExistsError:  # two demos in one second: keep both
                n += 1
                root = out / f"{stamp}-{n}"
        link = out / f".{LATEST}.{os.getpid()}"
        link.unlink(missing_ok=True)
        link.symlink_to(root.name, target_is_directory=True)
        os.replace(link, out / LATEST)
    except OSError as exc:
        raise UserError(f"--out: cannot write the demo under {out}: {exc.strerror or exc}") from None
    return DemoPaths(root)


def run_demo(
    out: Path,
    *,
    duration_s: float = 60.0,
    pairs: int = 4,
    seed: int = 0,
    faults: str = "default",
    console: Console | None = None,
    status_stream: TextIO | None = None,
    on_step: Callable[[str, str], None] | None = None,
) -> DemoResult:
    """Run the whole demo into a new folder under `out`; return what each step produced.

    `console` shows the live dashboard (None: `status_stream` gets the recorder's status lines).
    `on_step(step, message)` hears what each step is about to do or did, as it happens.
    """
    step = on_step or (lambda _step, _message: None)
    paths = new_demo_folder(out)
    result = DemoResult(paths)
    # Timed for the demo's length, the default faults' fidelity events include resolutions near
    # the end, so the demo's P&L shows settlement.
    sandbox = SandboxThread(paths.sandbox, pairs=pairs, seed=seed, faults=faults, duration_s=duration_s)
    try:
        sandbox.start()
        step(STEP_SANDBOX, f"{pairs} pairs, seed {seed}, {faults} faults: "
                           f"kalshi {sandbox.kalshi_url}  polymarket {sandbox.polymarket_url}")
        config = load_config(paths.config)
        step(STEP_LIVE, f"paper-trading for {duration_s:g} s, recording into {paths.recording}")
        session = PaperSession(
            config, paths.live, duration_s=duration_s, console=console, status_stream=status_stream
        )
        result.live = session.run()
        result.interrupted = session.recorder.stop_requested
        result.faults = sandbox.fault_log()
    finally:
        sandbox.stop()
    if result.interrupted:
        return result
    fired = Counter(str(f.get("fault")) for f in result.faults)
    step(STEP_LIVE, f"{result.live.frames:,} frames through the engine; sandbox faults fired: "
                    + (", ".join(f"{kind} x{n}" for kind, n in sorted(fired.items())) or "none"))

    result.replay = replay(paths.recording, config, paths.replay)
    step(STEP_REPLAY, f"{result.replay.frames:,} frames replayed into {paths.replay}")
    result.difference = verify(paths.live)
    if result.difference is None:
        step(STEP_VERIFY, "verified: replaying the recording re-derives the live run's decisions byte for byte")
    else:
        diff = result.difference
        step(STEP_VERIFY, f"DIFFERENT: the replay differs from the live run at {diff.table} row {diff.index}")

    runs = {result.run_name: paths.replay}
    result.stats = stats(paths.recording, runs)
    result.report = write_report(paths.recording, runs, out=paths.report, title="arbkit demo")
    step(STEP_REPORT, f"{result.report.stat().st_size / 1e6:.1f} MB of self-contained HTML")
    return result

