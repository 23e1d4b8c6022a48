"""A generated recording with two sessions (different rates, so different markets' paths)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from arbkit.sandbox.generate import generate_recording

SESSION_FRAMES = 12_000
EPOCH_MS = (1_767_225_600_000, 1_767_312_000_000)  # two UTC days apart, so two sessions


@dataclass(frozen=True)
class TwoSessions:
    root: Path
    config_path: Path
    session_ids: tuple[str, str]


@pytest.fixture(scope="session")
def two_sessions(tmp_path_factory: pytest.TempPathFactory) -> TwoSessions:
    """Two generated sessions of the same seeded markets under one recordings root."""
    root = tmp_path_factory.mktemp("two-sessions")
    first = generate_recording(root, frames=SESSION_FRAMES, pairs=3, seed=5, rate=150.0, epoch_ms=EPOCH_MS[0])
    second = generate_recording(root, frames=SESSION_FRAMES, pairs=3, seed=5, rate=110.0, epoch_ms=EPOCH_MS[1])
    assert first.session_id != second.session_id
    return TwoSessions(root, second.config_path, (first.session_id, second.session_id))
