"""Recording storage: frames schema, crash-safe session journal, sealed Parquet, reader."""

from arbkit.store.reader import iter_frame_batches, iter_frames, resolve
from arbkit.store.recovery import recover
from arbkit.store.schema import FRAMES_SCHEMA, SEALED_SCHEMA
from arbkit.store.session import SessionWriter, write_session

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
