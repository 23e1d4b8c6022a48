"""The unit the engine consumes: one row of the frames table (DESIGN §3)."""

from __future__ import annotations

import msgspec

KIND_IN = "in"
KIND_OUT = "out"
KIND_OPEN = "open"
KIND_CLOSE = "close"
KIND_ERROR = "error"
KIND_PING = "ping"
KIND_PONG = "pong"
# The `cause` a recorder writes into the `close` rows of its own stop (not a venue disconnect).
STOP_CAUSE = "recorder stopping"
KINDS = (KIND_IN, KIND_OUT, KIND_OPEN, KIND_CLOSE, KIND_ERROR, KIND_PING, KIND_PONG)


class Frame(msgspec.Struct, frozen=True, gc=False):
    """One raw frame or connection event, exactly as recorded.

    `ingest_seq` is the canonical order within a session; `recv_ns` is the wall-clock receive
    time and the engine's clock; `payload` holds the exact bytes (lifecycle rows: small JSON).
    """

    session_id: str
    ingest_seq: int
    recv_ns: int
    mono_ns: int
    venue: str
    conn_id: int
    kind: str
    payload: bytes
