"""The decode pass: which received frames arbkit's own venue decoders cannot decode, and why.

Frames go through the replay reader in recorded order and each connection gets a fresh decoder
from `arbkit.venues.make_decoder`, as the engine does, so a frame counts here exactly when it
would count as a decode error in a replay. Costs a full read of the payloads (seconds per
million frames), which is why it only runs when asked for.
"""

from __future__ import annotations

import os

import pyarrow as pa

from arbkit.analytics.sources import DECODE_ERRORS_SCHEMA
from arbkit.core.events import DecodeError
from arbkit.store.reader import iter_frame_lists
from arbkit.venues import Decoder, make_decoder

_COLUMNS = ["session_id", "venue", "conn_id", "kind", "ingest_seq", "recv_ns", "payload"]


def decode_errors(recording: str | os.PathLike[str]) -> pa.Table:
    """Decode every received frame of a recording; return one row per frame that fails."""
    rows: dict[str, list] = {name: [] for name in DECODE_ERRORS_SCHEMA.names}
    decoders: dict[tuple[str, str, int], Decoder] = {}
    for batch in iter_frame_lists(recording, columns=_COLUMNS):
        for session_id, venue, conn_id, kind, ingest_seq, recv_ns, payload in zip(*batch):
            key = (session_id, venue, conn_id)
            if kind == "open" or key not in decoders:
                decoders[key] = make_decoder(venue)
            if kind != "in":
                continue
            errors = [e for e in decoders[key].decode(payload, recv_ns) if type(e) is DecodeError]
            if errors:
                rows["session_id"].append(session_id)
                rows["venue"].append(venue)
                rows["conn_id"].append(conn_id)
                rows["ingest_seq"].append(ingest_seq)
                rows["recv_ns"].append(recv_ns)
                rows["errors"].append(len(errors))
                rows["reason"].append(errors[0].reason)
    return pa.table(rows, schema=DECODE_ERRORS_SCHEMA)
