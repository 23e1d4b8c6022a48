"""Derived columns added when a segment is sealed (DESIGN §3), parsed once so analytics need not.

- `msg_type`: Kalshi `type`, Polymarket `event_type`; `array` for a JSON array frame, `text` for
  a payload that is not a JSON object or array (`PONG`, `INVALID OPERATION`, `PING`). Outgoing
  rows without those keys use the command name (Kalshi `cmd`, Polymarket `operation` or `type`).
  Lifecycle rows (`open`, `close`, `error`, `ping`, `pong`) get null.
- `market`: Kalshi `msg.market_ticker`; Polymarket `asset_id` (top level, inside era-3
  `price_changes`, or across the elements of an array) only when the frame names exactly one.
- `venue_seq`: Kalshi top-level `seq`.
- `venue_ts_ms`: Kalshi `msg.ts_ms`, else the envelope `sending_ts_ms`; Polymarket `timestamp`
  (a string of Unix ms) as an integer, the latest one for an array frame.
- `condition_id`: Polymarket `market` (the condition id of the market the tokens belong to), top
  level or across the elements of an array, only when the frame names exactly one; null for
  Kalshi. Files sealed before it existed lack the column (readers see nulls).
- `sid`: Kalshi top-level `sid`, the subscription a frame belongs to (sequence numbers count
  per sid); null for Polymarket.
- `payload_bytes`: the payload's length in bytes, every row. Files sealed before `sid` and
  `payload_bytes` existed lack them (analytics compute them from the payload).

Replay never reads these columns; a value that does not fit becomes null rather than an error.
The common shapes are decoded by typed msgspec structs that skip every other field (about twice
as fast as building dicts); anything else falls back to a generic orjson parse.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Annotated

import msgspec
import orjson
import pyarrow as pa
import pyarrow.compute as pc

from arbkit.store.schema import FRAMES_SCHEMA, SEALED_SCHEMA

_I64_MIN = -(2**63)
_I64_MAX = 2**63 - 1
# First bytes that can start a JSON object or array (with leading whitespace).
_JSON_START = frozenset(b"{[ \t\r\n")

_Row = tuple[str | None, str | None, int | None, int | None, str | None, int | None]
_NULLS: _Row = (None, None, None, None, None, None)


def _int64(value: object) -> int | None:
    if type(value) is int and _I64_MIN <= value <= _I64_MAX:
        return value
    return None


def _ts_int(value: object) -> int | None:
    # Polymarket sends every number as a string: "timestamp": "1790658674035".
    if type(value) is str:
        try:
            value = int(value)
        except ValueError:
            return None
    return _int64(value)


def _kalshi(obj: dict, kind: str) -> _Row:
    msg_type = obj.get("type")
    if msg_type is None and kind == "out":
        msg_type = obj.get("cmd")
    if type(msg_type) is not str:
        msg_type = None
    market = None
    ts = None
    msg = obj.get("msg")
    if type(msg) is dict:
        market = msg.get("market_ticker")
        if type(market) is not str:
            market = None
        ts = _int64(msg.get("ts_ms"))
    if ts is None:
        ts = _int64(obj.get("sending_ts_ms"))
    return msg_type, market, _int64(obj.get("seq")), ts, None, _int64(obj.get("sid"))


def _poly_assets(obj: dict, assets: set) -> None:
    asset = obj.get("asset_id")
    if type(asset) is str:
        assets.add(asset)
    changes = obj.get("price_changes")
    if type(changes) is list:
        for change in changes:
            if type(change) is dict:
                asset = change.get("asset_id")
                if type(asset) is str:
                    assets.add(asset)


def _polymarket(obj: dict, kind: str) -> _Row:
    msg_type = obj.get("event_type")
    if msg_type is None and kind == "out":
        msg_type = obj.get("operation") or obj.get("type")
    if type(msg_type) is not str:
        msg_type = None
    market = obj.get("asset_id")
    if type(market) is not str:
        assets: set[str] = set()
        _poly_assets(obj, assets)
        market = assets.pop() if len(assets) == 1 else None
    condition = obj.get("market")
    return msg_type, market, None, _ts_int(obj.get("timestamp")), (
        condition if type(condition) is str else None
    ), None


def _polymarket_array(items: list) -> _Row:
    assets: set[str] = set()
    conditions: set[str] = set()
    latest = None
    for item in items:
        if type(item) is dict:
            _poly_assets(item, assets)
            condition = item.get("market")
            if type(condition) is str:
                conditions.add(condition)
            ts = _ts_int(item.get("timestamp"))
            if ts is not None and (latest is None or ts > latest):
                latest = ts
    return "array", _one(assets), None, latest, _one(conditions), None


def _one(values: set[str]) -> str | None:
    return values.pop() if len(values) == 1 else None


_TEXT: _Row = ("text", None, None, None, None, None)
_KALSHI_ARRAY: _Row = ("array", None, None, None, None, None)


_Int64 = Annotated[int, msgspec.Meta(ge=_I64_MIN, le=_I64_MAX)]


class _KalshiMsg(msgspec.Struct, gc=False):
    market_ticker: str | None = None
    ts_ms: _Int64 | None = None


class _KalshiFrame(msgspec.Struct, gc=False):
    type: str | None = None
    cmd: str | None = None
    sid: _Int64 | None = None
    seq: _Int64 | None = None
    sending_ts_ms: _Int64 | None = None
    msg: _KalshiMsg | None = None


class _PolyChange(msgspec.Struct, gc=False):
    asset_id: str | None = None


class _PolyEvent(msgspec.Struct, gc=False):
    event_type: str | None = None
    operation: str | None = None
    type: str | None = None
    asset_id: str | None = None
    market: str | None = None
    timestamp: str | None = None
    price_changes: list[_PolyChange] | None = None


_KALSHI_DECODER = msgspec.json.Decoder(_KalshiFrame)
_POLY_DECODER = msgspec.json.Decoder(_PolyEvent)
_POLY_ARRAY_DECODER = msgspec.json.Decoder(list[_PolyEvent])


def _kalshi_fast(frame: _KalshiFrame, kind: str) -> _Row:
    msg_type = frame.type
    if msg_type is None and kind == "out":
        msg_type = frame.cmd
    msg = frame.msg
    if msg is None:
        return msg_type, None, frame.seq, frame.sending_ts_ms, None, frame.sid
    ts = msg.ts_ms
    return (msg_type, msg.market_ticker, frame.seq, frame.sending_ts_ms if ts is None else ts, None,
            frame.sid)


def _poly_event_assets(event: _PolyEvent, assets: set) -> None:
    if event.asset_id is not None:
        assets.add(event.asset_id)
    if event.price_changes is not None:
        for change in event.price_changes:
            if change.asset_id is not None:
                assets.add(change.asset_id)


def _poly_fast(event: _PolyEvent, kind: str) -> _Row:
    msg_type = event.event_type
    if msg_type is None and kind == "out":
        msg_type = event.operation or event.type
    market = event.asset_id
    if market is None and event.price_changes:
        assets: set[str] = set()
        _poly_event_assets(event, assets)
        market = assets.pop() if len(assets) == 1 else None
    return msg_type, market, None, _ts_int(event.timestamp), event.market, None


def _poly_array_fast(events: list[_PolyEvent]) -> _Row:
    assets: set[str] = set()
    conditions: set[str] = set()
    latest = None
    for event in events:
        _poly_event_assets(event, assets)
        if event.market is not None:
            conditions.add(event.market)
        ts = _ts_int(event.timestamp)
        if ts is not None and (latest is None or ts > latest):
            latest = ts
    return "array", _one(assets), None, latest, _one(conditions), None


def derive_row(venue: str, kind: str, payload: bytes) -> _Row:
    """Return `(msg_type, market, venue_seq, venue_ts_ms, condition_id, sid)` for one frame."""
    if kind != "in" and kind != "out":
        return _NULLS
    if payload:
        first = payload[0]
        try:
            if venue == "kalshi":
                if first == 123:  # "{"
                    return _kalshi_fast(_KALSHI_DECODER.decode(payload), kind)
            elif first == 123:
                return _poly_fast(_POLY_DECODER.decode(payload), kind)
            elif first == 91:  # "["
                return _poly_array_fast(_POLY_ARRAY_DECODER.decode(payload))
        # RecursionError: nested deeper than the stack (msgspec recurses per level); orjson
        # below refuses such a frame cleanly, as text.
        except (msgspec.DecodeError, RecursionError):
            pass  # an unexpected shape or type: the generic parse below decides
    return _derive_generic(venue, kind, payload)


def _derive_generic(venue: str, kind: str, payload: bytes) -> _Row:
    if not payload or payload[0] not in _JSON_START:
        return _TEXT
    try:
        obj = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return _TEXT
    cls = type(obj)
    if cls is dict:
        return _kalshi(obj, kind) if venue == "kalshi" else _polymarket(obj, kind)
    if cls is list:
        return _KALSHI_ARRAY if venue == "kalshi" else _polymarket_array(obj)
    return _TEXT


def derive_columns(
    venues: Sequence[str], kinds: Sequence[str], payloads: Sequence[bytes]
) -> list[pa.Array]:
    """Compute the columns parsed from the payload (all derived columns but `payload_bytes`)
    for parallel lists of venue, kind and payload."""
    msg_type: list[str | None] = []
    market: list[str | None] = []
    venue_seq: list[int | None] = []
    venue_ts: list[int | None] = []
    condition: list[str | None] = []
    sid: list[int | None] = []
    # One append per column beats zip(*rows): transposing a long list of tuples is slow.
    add_type, add_market, add_seq, add_ts, add_condition, add_sid = (
        msg_type.append,
        market.append,
        venue_seq.append,
        venue_ts.append,
        condition.append,
        sid.append,
    )
    for venue, kind, payload in zip(venues, kinds, payloads):
        row = derive_row(venue, kind, payload)
        add_type(row[0])
        add_market(row[1])
        add_seq(row[2])
        add_ts(row[3])
        add_condition(row[4])
        add_sid(row[5])
    return [
        pa.array(msg_type, pa.string()),
        pa.array(market, pa.string()),
        pa.array(venue_seq, pa.int64()),
        pa.array(venue_ts, pa.int64()),
        pa.array(condition, pa.string()),
        pa.array(sid, pa.int64()),
    ]


def derive_batch(batch: pa.RecordBatch) -> pa.RecordBatch:
    """Return `batch` (frames columns) extended with the derived columns, as SEALED_SCHEMA."""
    derived = derive_columns(
        batch.column("venue").to_pylist(),
        batch.column("kind").to_pylist(),
        batch.column("payload").to_pylist(),
    )
    payload = batch.column("payload")
    columns = [batch.column(name) for name in FRAMES_SCHEMA.names]
    return pa.RecordBatch.from_arrays(columns + derived + [pc.binary_length(payload)], schema=SEALED_SCHEMA)
