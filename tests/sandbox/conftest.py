"""Fixtures for the sandbox tests."""

from __future__ import annotations

import pytest

from arbkit.sandbox.files import new_private_key


@pytest.fixture(scope="session")
def rsa_key():
    """One RSA key for the whole session: generating one per test is slow."""
    return new_private_key()
