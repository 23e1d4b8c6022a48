"""Shared test fixtures."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED_SAMPLES = REPO.parent / "shared" / "samples"


@pytest.fixture
def shared_samples() -> Path:
    """The venue sample frames beside the checkout; skip when absent (a user's checkout)."""
    if not SHARED_SAMPLES.is_dir():
        pytest.skip("../shared/samples is not present")
    return SHARED_SAMPLES
