"""Session fixtures: one generated sandbox recording and one replay of it serve several tests."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from arbkit.config import load_config
from arbkit.runner.replay import replay
from arbkit.sandbox.generate import generate_recording

# 8 pairs at 150 frames/s per venue: ~270 simulated seconds in 80k rows, enough time for ~35
# injected dislocations (one every ~6 s) while a replay stays around a second or two.
GENERATED_FRAMES = 80_000
GENERATED_PAIRS = 8
GENERATED_SEED = 3
GENERATED_RATE = 150.0


@dataclass(frozen=True)
class Generated:
    """A generated recording: its root, config file, ground truth, and one replay of it."""

    root: Path
    config_path: Path
    ground_truth_path: Path
    run_dir: Path


@pytest.fixture(scope="session")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Generated:
    """A sandbox recording with injected dislocations, replayed once with its own config."""
    root = tmp_path_factory.mktemp("generated")
    result = generate_recording(
        root,
        frames=GENERATED_FRAMES,
        pairs=GENERATED_PAIRS,
        seed=GENERATED_SEED,
        rate=GENERATED_RATE,
    )
    run_dir = tmp_path_factory.mktemp("generated-run")
    replay(root, load_config(result.config_path), run_dir)
    return Generated(root, result.config_path, result.ground_truth_path, run_dir)
