"""Column layout of the frames table (DESIGN §3): the journal schema and the sealed schema.

Sealed files keep every frames column, `venue` included, as plain strings, so a single file is
self-describing and the replay reader needs no path parsing. The hive directory keys are
`date=YYYY-MM-DD/venue=<venue>`; `date` lives only in the path. Readers that agree:
DuckDB `read_parquet(..., hive_partitioning=true)`, Polars `scan_parquet(hive_partitioning=True)`
and `pyarrow.dataset.dataset(root, partitioning="hive")` all see `venue` as one string column.
(`pyarrow.parquet.read_table(dir)` infers partition keys as dictionaries and reports a type
conflict on `venue`; pass `partitioning=None`, or use `pyarrow.dataset` as above.)
"""

from __future__ import annotations

import pyarrow as pa

FRAMES_SCHEMA = pa.schema(
    [
        pa.field("session_id", pa.string()),
        pa.field("ingest_seq", pa.int64()),
        pa.field("recv_ns", pa.int64()),
        pa.field("mono_ns", pa.int64()),
        pa.field("venue", pa.string()),
        pa.field("conn_id", pa.int32()),
        pa.field("kind", pa.string()),
        pa.field("payload", pa.binary()),
    ]
)

DERIVED_FIELDS = [
    pa.field("msg_type", pa.string()),
    pa.field("market", pa.string()),
    pa.field("venue_seq", pa.int64()),
    pa.field("venue_ts_ms", pa.int64()),
    # Polymarket condition id; added later, so older sealed files lack it (readers see nulls).
    pa.field("condition_id", pa.string()),
    # Added later still (older sealed files lack them): the Kalshi subscription id a frame
    # belongs to, and the payload's length, so analytics never read payloads for either.
    pa.field("sid", pa.int64()),
    pa.field("payload_bytes", pa.int32()),
]

SEALED_SCHEMA = pa.schema(list(FRAMES_SCHEMA) + DERIVED_FIELDS)

FRAME_COLUMNS: tuple[str, ...] = tuple(FRAMES_SCHEMA.names)
DERIVED_COLUMNS: tuple[str, ...] = tuple(f.name for f in DERIVED_FIELDS)

# Low-cardinality strings: Parquet dictionary pages make them nearly free on disk.
DICTIONARY_COLUMNS = ["session_id", "venue", "kind", "msg_type", "market", "condition_id", "sid"]
# Monotonic integers compress far better as deltas than as plain or dictionary pages.
DELTA_COLUMNS = ["ingest_seq", "recv_ns", "mono_ns", "venue_seq", "venue_ts_ms"]

__all__ = [
    "DELTA_COLUMNS",
    "DERIVED_COLUMNS",
    "DICTIONARY_COLUMNS",
    "FRAMES_SCHEMA",
    "FRAME_COLUMNS",
    "SEALED_SCHEMA",
]
