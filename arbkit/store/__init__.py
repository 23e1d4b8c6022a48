"""Recording storage: frames schema, crash-safe session journal, sealed Parquet, reader."""

from __future__ import annotations

import importlib
from typing import Any

from arbkit.store.reader import iter_frame_batches, iter_frames, resolve
from arbkit.store.schema import FRAMES_SCHEMA, SEALED_SCHEMA

__all__ = [
    "FRAMES_SCHEMA",
    "SEALED_SCHEMA",
    "SessionWriter",
    "iter_frame_batches",
    "iter_frames",
    "recover",
    "resolve",
    "write_session",
]

# The writing side loads on first use: a replay only reads, and starts faster without it.
_LAZY = {
    "SessionWriter": "arbkit.store.session",
    "write_session": "arbkit.store.session",
    "recover": "arbkit.store.recovery",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
