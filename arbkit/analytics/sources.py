"""The `src` schema every view reads: relations over the exact files of a recording and its runs.

`register_sources` resolves a recording (as `replay --from` does) and run directories into
explicit file lists and creates, in schema `src`:

- `src.frames`: the frames columns plus the derived ones (`msg_type`, `market`, `venue_seq`,
  `venue_ts_ms`, `condition_id`, `sid`, `payload_bytes`) and the hive `date`. Files are grouped by which derived columns
  they carry; a missing one is computed from the payload in SQL, the same rules as
  `arbkit/store/derive.py` (a test holds both to the same answers), so files written by another
  tool in the documented schema answer every view. Everything stays lazy over Parquet.
- `src.manifests`: one row per session manifest found (small, read here).
- `src.params`: one row of connection-wide settings (the stall threshold override, whether a
  decode pass ran).
- `src.decode_errors`: the rows of the decode pass (empty unless asked for).
- `src.runs` and `src.<table>` for each run table of `arbkit.runner.outputs.SCHEMAS`, with a
  leading `run` column; empty (typed) when no run is given.
- `src.sweep`, `src.sweep_params`, `src.sweep_sessions`: an `arbkit sweep` result
  (arbkit.analytics.sweep); empty (typed) when no sweep is given.

Nothing else in the package names a file: views are SQL over `src`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa

from arbkit.analytics.sweep import register_sweep
from arbkit.config import Recorder
from arbkit.errors import RecordingError, UserError
from arbkit.runner.outputs import SCHEMAS
from arbkit.store import manifest as mf
from arbkit.store import remote
from arbkit.store.reader import FileInfo, SessionFiles, resolve
from arbkit.store.schema import DERIVED_COLUMNS

RUN_TABLES: tuple[str, ...] = tuple(sorted(SCHEMAS))
RUN_FILE = "run.json"
DEFAULT_STALE_AFTER_S = Recorder().stale_after_s
# Derived columns the views read; older versions of the store sealed fewer of them.
OPTIONAL_COLUMNS: tuple[str, ...] = DERIVED_COLUMNS

# The payload as text, once per row (NULL when it is not valid UTF-8).
_TEXT = "try(decode(payload))"

# SQL for each derived column of a file that lacks it; `_t` is the payload text. Same rules as
# arbkit/store/derive.py: lifecycle rows get NULL; a payload that is not a JSON object or array
# is `text`; an array is `array`; `market` and `condition_id` only when exactly one is named.
# DuckDB evaluates both sides of AND, but a CASE branch only on the rows that reach it: every
# JSON function sits behind a CASE that has checked json_valid, so a malformed payload is NULL.
_IS_JSON = "coalesce(CASE WHEN json_valid(_t) THEN json_type(_t) IN ('OBJECT', 'ARRAY') END, false)"
_STR = "CASE WHEN json_type(_t, '{path}') = 'VARCHAR' THEN json_extract_string(_t, '{path}') END"
_INT = (
    "CASE WHEN json_type(_t, '{path}') IN ('BIGINT', 'UBIGINT') "
    "THEN TRY_CAST(json_extract_string(_t, '{path}') AS BIGINT) END"
)
_POLY_ASSETS = (
    "list_distinct(list_filter(list_concat("
    "[json_extract_string(_t, '$.asset_id')], json_extract_string(_t, '$.price_changes[*].asset_id')"
    "), lambda x: x IS NOT NULL))"
)
_POLY_ARRAY_ASSETS = (
    "list_distinct(list_filter(list_concat("
    "json_extract_string(_t, '$[*].asset_id'), json_extract_string(_t, '$[*].price_changes[*].asset_id')"
    "), lambda x: x IS NOT NULL))"
)

# A top-level integer of a Kalshi JSON object; json_type(_t) only on rows known to be JSON.
_KALSHI_INT = f"""CASE WHEN kind IN ('in', 'out') AND venue = 'kalshi' AND {_IS_JSON}
    THEN CASE WHEN json_type(_t) = 'OBJECT' THEN {{int}} END END"""

# A Kalshi frame's top-level `sid` right after its `type` (a string without escapes).
_SID_FIRST = r'^\{"type":"[^"\\]*","sid":(\d+)[,}]'


def _one(list_sql: str) -> str:
    return f"CASE WHEN len({list_sql}) = 1 THEN ({list_sql})[1] END"


_DERIVE_SQL: dict[str, str] = {
    "msg_type": f"""CASE
        WHEN kind NOT IN ('in', 'out') THEN NULL
        WHEN NOT {_IS_JSON} THEN 'text'
        WHEN json_type(_t) = 'ARRAY' THEN 'array'
        WHEN venue = 'kalshi' THEN coalesce({_STR.format(path='$.type')},
            CASE WHEN kind = 'out' THEN {_STR.format(path='$.cmd')} END)
        ELSE coalesce({_STR.format(path='$.event_type')},
            CASE WHEN kind = 'out' THEN coalesce(nullif({_STR.format(path='$.operation')}, ''),
                                                {_STR.format(path='$.type')}) END)
        END""",
    "market": f"""CASE
        WHEN kind NOT IN ('in', 'out') OR NOT {_IS_JSON} THEN NULL
        WHEN venue = 'kalshi' THEN
            CASE WHEN json_type(_t) = 'OBJECT' THEN {_STR.format(path='$.msg.market_ticker')} END
        WHEN json_type(_t) = 'ARRAY' THEN {_one(_POLY_ARRAY_ASSETS)}
        ELSE coalesce({_STR.format(path='$.asset_id')}, {_one(_POLY_ASSETS)})
        END""",
    "venue_seq": _KALSHI_INT.format(int=_INT.format(path='$.seq')),
    "venue_ts_ms": f"""CASE
        WHEN kind NOT IN ('in', 'out') OR NOT {_IS_JSON} THEN NULL
        WHEN venue = 'kalshi' THEN CASE WHEN json_type(_t) = 'OBJECT' THEN
            coalesce({_INT.format(path='$.msg.ts_ms')}, {_INT.format(path='$.sending_ts_ms')}) END
        WHEN json_type(_t) = 'ARRAY' THEN list_max(list_transform(
            json_extract_string(_t, '$[*].timestamp'), lambda x: TRY_CAST(x AS BIGINT)))
        ELSE TRY_CAST(json_extract_string(_t, '$.timestamp') AS BIGINT)
        END""",
    # The Polymarket condition id a frame names (`market` of its events), if exactly one.
    "condition_id": f"""CASE
        WHEN kind NOT IN ('in', 'out') OR venue <> 'polymarket' OR NOT {_IS_JSON} THEN NULL
        WHEN json_type(_t) = 'ARRAY' THEN {_one(
            "list_distinct(list_filter(json_extract_string(_t, '$[*].market'), lambda x: x IS NOT NULL))")}
        ELSE {_STR.format(path='$.market')}
        END""",
    # Top level only: a command reply names the sid it is about inside `msg`. Kalshi writes
    # `{"type":...,"sid":N,` first: read there, it costs a fraction of the JSON functions, each
    # of which parses the whole payload again (seq_gaps on a 10M-frame recording sealed before
    # `sid` existed: 16 s of CPU with the JSON functions alone).
    "sid": f"""CASE WHEN kind IN ('in', 'out') AND venue = 'kalshi' THEN
        CASE WHEN regexp_matches(_t, '{_SID_FIRST}') AND json_valid(_t)
             THEN TRY_CAST(regexp_extract(_t, '{_SID_FIRST}', 1) AS BIGINT)
             ELSE {_KALSHI_INT.format(int=_INT.format(path='$.sid'))} END END""",
    "payload_bytes": "octet_length(payload)",
}

_DERIVED_TYPES = {
    "msg_type": "VARCHAR",
    "market": "VARCHAR",
    "venue_seq": "BIGINT",
    "venue_ts_ms": "BIGINT",
    "condition_id": "VARCHAR",
    "sid": "BIGINT",
    "payload_bytes": "BIGINT",
}
_FRAME_TYPES = {
    "session_id": "VARCHAR",
    "ingest_seq": "BIGINT",
    "recv_ns": "BIGINT",
    "mono_ns": "BIGINT",
    "venue": "VARCHAR",
    "conn_id": "INTEGER",
    "kind": "VARCHAR",
    "payload": "BLOB",
}


@dataclass
class Sources:
    """What a connection reads: the files (for the access allow-list) and what was found."""

    frame_files: list[Path] = field(default_factory=list)
    run_files: list[Path] = field(default_factory=list)
    sweep_files: list[Path] = field(default_factory=list)
    sessions: list[SessionFiles] = field(default_factory=list)
    runs: dict[str, Path] = field(default_factory=dict)

    @property
    def files(self) -> list[Path]:
        """Every file the views may read."""
        return [*self.frame_files, *self.run_files, *self.sweep_files]


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _file_list(paths: list[Path]) -> str:
    return "[" + ", ".join(_literal(str(p)) for p in paths) + "]"


def _is_hive(path: Path) -> bool:
    parts = path.parts
    return len(parts) >= 3 and parts[-3].startswith("date=") and parts[-2].startswith("venue=")


def _frames_group_sql(reader: str, present: frozenset[str], hive: bool) -> str:
    columns = [f"CAST({c} AS {t}) AS {c}" for c, t in _FRAME_TYPES.items()]
    for name in OPTIONAL_COLUMNS:
        kind = _DERIVED_TYPES[name]
        expr = name if name in present else _DERIVE_SQL[name]
        columns.append(f"CAST({expr} AS {kind}) AS {name}")
    date = "CAST(date AS DATE)" if hive else "CAST(make_timestamp(recv_ns // 1000) AS DATE)"
    columns.append(f"{date} AS date")
    inner = f"*, {_TEXT} AS _t" if present != set(OPTIONAL_COLUMNS) else "*"
    return f"SELECT {', '.join(columns)} FROM (SELECT {inner} FROM {reader})"


def _remote_reader(con: duckdb.DuckDBPyConnection, name: str, files: list[FileInfo], hive: bool) -> str:
    """Register files on object storage as a pyarrow dataset DuckDB scans lazily (columns and
    filters pushed down); DuckDB's own S3 extension is not needed."""
    import pyarrow.dataset as ds

    partitioning = ds.partitioning(pa.schema([pa.field("date", pa.string())]), flavor="hive") if hive else None
    try:
        dataset = ds.dataset([str(f.path) for f in files], filesystem=files[0].filesystem, format="parquet",
                             partitioning=partitioning)
    except (OSError, pa.ArrowException) as exc:
        raise RecordingError(f"cannot read {remote.SCHEME}{files[0].path}: {' '.join(str(exc).split())}") from None
    con.register(name, dataset)
    return name


def _empty_sql(types: Mapping[str, str]) -> str:
    return "SELECT " + ", ".join(f"CAST(NULL AS {t}) AS {c}" for c, t in types.items()) + " WHERE false"


def _frames_sql(con: duckdb.DuckDBPyConnection, sessions: list[SessionFiles]) -> tuple[str, list[Path]]:
    """The SELECT of `src.frames`, and the local files it reads."""
    # Files are grouped by the derived columns they carry, hive layout and where they are.
    groups: dict[tuple[frozenset[str], bool, bool], list[FileInfo]] = {}
    seen: set[Path | str] = set()
    for session in sessions:
        for info in session.files:
            if info.path in seen:
                continue
            seen.add(info.path)
            present = frozenset(c for c in OPTIONAL_COLUMNS if c in info.names)
            is_remote = info.filesystem is not None
            if not is_remote:
                info = replace(info, path=Path(info.path).resolve())
            groups.setdefault((present, _is_hive(Path(info.path)), is_remote), []).append(info)
    if not groups:
        return _empty_sql({**_FRAME_TYPES, **_DERIVED_TYPES, "date": "DATE"}), []
    parts = []
    for n, ((present, hive, is_remote), infos) in enumerate(sorted(
            groups.items(), key=lambda item: (sorted(item[0][0]), item[0][1], item[0][2]))):
        if is_remote:
            reader = _remote_reader(con, f"_remote_frames_{n}", infos, hive)
        else:
            paths = [Path(i.path) for i in infos]
            reader = f"read_parquet({_file_list(paths)}, hive_partitioning = {'true' if hive else 'false'})"
        parts.append(_frames_group_sql(reader, present, hive))
    files = sorted({Path(i.path) for (_, _, is_remote), infos in groups.items() if not is_remote for i in infos})
    # Sessions filter files that hold several sessions; a file is read once, so keep only them.
    wanted = sorted({s.session_id for s in sessions})
    sql = " UNION ALL ".join(parts)
    multi = any(len(info.session_ids) > 1 for s in sessions for info in s.files)
    if multi:
        sql = f"SELECT * FROM ({sql}) WHERE session_id IN ({', '.join(_literal(s) for s in wanted)})"
    return sql, files


_MANIFEST_SCHEMA = pa.schema([
    pa.field("session_id", pa.string()),
    pa.field("status", pa.string()),
    pa.field("start_ns", pa.int64()),
    pa.field("end_ns", pa.int64()),
    pa.field("host", pa.string()),
    pa.field("arbkit_version", pa.string()),
    pa.field("pairs", pa.list_(pa.string())),
    pa.field("stale_after_s", pa.float64()),
    pa.field("manifest_frames", pa.int64()),
    pa.field("manifest_path", pa.string()),
])


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _read_manifest(where: Path | str) -> dict[str, Any]:
    if isinstance(where, str) and remote.is_remote(where):
        manifest = json.loads(remote.read_bytes(remote.split(where)))
        if not isinstance(manifest, dict) or not isinstance(manifest.get("session_id"), str):
            raise ValueError(f"{where} is not an arbkit session manifest")
        return manifest
    return mf.read_manifest(Path(where))


def _manifest_row(session: SessionFiles) -> dict[str, Any] | None:
    if session.manifest is None:
        return None
    try:
        manifest = _read_manifest(session.manifest)
    except (OSError, ValueError) as exc:
        raise RecordingError(f"cannot read manifest {session.manifest}: {exc}") from None
    config = manifest.get("config") if isinstance(manifest.get("config"), dict) else {}
    pairs = config.get("pairs") if isinstance(config.get("pairs"), list) else []
    recorder = config.get("recorder") if isinstance(config.get("recorder"), dict) else {}
    stale = recorder.get("stale_after_s")
    return {
        "session_id": session.session_id,
        "status": manifest.get("status") if isinstance(manifest.get("status"), str) else None,
        "start_ns": _int_or_none(manifest.get("start_ns")),
        "end_ns": _int_or_none(manifest.get("end_ns")),
        "host": manifest.get("host") if isinstance(manifest.get("host"), str) else None,
        "arbkit_version": manifest.get("arbkit_version")
        if isinstance(manifest.get("arbkit_version"), str) else None,
        "pairs": [p["name"] for p in pairs if isinstance(p, dict) and isinstance(p.get("name"), str)],
        "stale_after_s": float(stale) if isinstance(stale, int | float) and not isinstance(stale, bool) else None,
        "manifest_frames": _int_or_none(manifest.get("frames")),
        "manifest_path": str(session.manifest),
    }


def _manifests_table(sessions: list[SessionFiles]) -> pa.Table:
    rows = [row for row in map(_manifest_row, sessions) if row is not None]
    return pa.Table.from_pylist(rows, schema=_MANIFEST_SCHEMA)


_RUNS_SCHEMA = pa.schema([
    pa.field("run", pa.string()),
    pa.field("run_dir", pa.string()),
    pa.field("mode", pa.string()),
    pa.field("recording", pa.string()),
    pa.field("sessions", pa.list_(pa.string())),
    pa.field("frames", pa.int64()),
    pa.field("decode_errors", pa.int64()),
    pa.field("arbkit_version", pa.string()),
    pa.field("config", pa.string()),
])


def normalize_runs(runs: str | os.PathLike[str] | Mapping[str, Any] | None) -> dict[str, Path]:
    """Turn `runs` (None, one run directory, or {name: directory}) into {name: directory}."""
    if runs is None:
        return {}
    if isinstance(runs, Mapping):
        named = {str(name): Path(os.fspath(path)).expanduser() for name, path in runs.items()}
    else:
        path = Path(os.fspath(runs)).expanduser()
        named = {path.resolve().name: path}
    for name, path in named.items():
        if not (path / RUN_FILE).is_file():
            raise UserError(f"not a run directory (no {RUN_FILE}): {path}")
    return named


def _run_row(name: str, path: Path) -> dict[str, Any]:
    try:
        meta = json.loads((path / RUN_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UserError(f"cannot read {path / RUN_FILE}: {exc}") from None
    if not isinstance(meta, dict):
        raise UserError(f"{path / RUN_FILE} is not an arbkit run.json")
    sessions = meta.get("sessions") if isinstance(meta.get("sessions"), list) else []
    return {
        "run": name,
        "run_dir": str(path.resolve()),
        "mode": meta.get("mode") if isinstance(meta.get("mode"), str) else None,
        "recording": meta.get("recording") if isinstance(meta.get("recording"), str) else None,
        "sessions": [str(s) for s in sessions],
        "frames": _int_or_none(meta.get("frames")),
        "decode_errors": _int_or_none(meta.get("decode_errors")),
        "arbkit_version": meta.get("arbkit_version") if isinstance(meta.get("arbkit_version"), str) else None,
        "config": json.dumps(meta.get("config"), sort_keys=True) if "config" in meta else None,
    }


def _run_table_sql(con: duckdb.DuckDBPyConnection, table: str, runs: dict[str, Path],
                   files: list[Path]) -> str:
    schema = SCHEMAS[table]
    empty = pa.Table.from_batches([], schema=pa.schema([pa.field("run", pa.string()), *schema]))
    con.register(f"_empty_{table}", empty)
    columns = ", ".join(f'"{name}"' for name in schema.names)
    parts = [f"SELECT run, {columns} FROM _empty_{table}"]
    for name, path in runs.items():
        file = (path / f"{table}.parquet").resolve()
        if not file.is_file():
            continue  # a run written before this table existed: it has no rows of it
        files.append(file)
        parts.append(f"SELECT {_literal(name)} AS run, {columns} FROM read_parquet({_literal(str(file))})")
    return " UNION ALL BY NAME ".join(parts)


def register_sources(
    con: duckdb.DuckDBPyConnection,
    recording: str | os.PathLike[str] | None,
    runs: str | os.PathLike[str] | Mapping[str, Any] | None = None,
    *,
    stall_s: float | None = None,
    decode_errors: pa.Table | None = None,
    sweep: str | os.PathLike[str] | None = None,
) -> Sources:
    """Create schema `src` on `con` for a recording (None: no frames), its runs and a sweep
    directory; return the files it reads."""
    sources = Sources(sessions=resolve(recording) if recording is not None else [], runs=normalize_runs(runs))
    con.execute("CREATE SCHEMA src")
    frames_sql, sources.frame_files = _frames_sql(con, sources.sessions)
    con.execute(f"CREATE VIEW src.frames AS {frames_sql}")
    con.register("_manifests", _manifests_table(sources.sessions))
    con.execute("CREATE VIEW src.manifests AS SELECT * FROM _manifests")
    params = pa.table({
        "stall_s": pa.array([stall_s], pa.float64()),
        "default_stale_after_s": pa.array([DEFAULT_STALE_AFTER_S], pa.float64()),
        "decode_checked": pa.array([decode_errors is not None], pa.bool_()),
    })
    con.register("_params", params)
    con.execute("CREATE VIEW src.params AS SELECT * FROM _params")
    con.register("_decode_errors", decode_errors if decode_errors is not None else DECODE_ERRORS_SCHEMA.empty_table())
    con.execute("CREATE VIEW src.decode_errors AS SELECT * FROM _decode_errors")
    con.register("_runs", pa.Table.from_pylist(
        [_run_row(name, path) for name, path in sources.runs.items()], schema=_RUNS_SCHEMA))
    con.execute("CREATE VIEW src.runs AS SELECT * FROM _runs")
    for table in RUN_TABLES:
        con.execute(f"CREATE VIEW src.{table} AS {_run_table_sql(con, table, sources.runs, sources.run_files)}")
    sources.sweep_files = register_sweep(con, sweep)
    return sources


DECODE_ERRORS_SCHEMA = pa.schema([
    pa.field("session_id", pa.string()),
    pa.field("venue", pa.string()),
    pa.field("conn_id", pa.int32()),
    pa.field("ingest_seq", pa.int64()),
    pa.field("recv_ns", pa.int64()),
    pa.field("errors", pa.int64()),
    pa.field("reason", pa.string()),
])

__all__ = ["DECODE_ERRORS_SCHEMA", "RUN_TABLES", "Sources", "normalize_runs", "register_sources"]
