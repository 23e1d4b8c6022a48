"""Deterministic replay of a recording through the engine, and `--verify` of a finished run."""

from __future__ import annotations

import logging
import os
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
import orjson
import pyarrow.parquet as pq

from arbkit.config import Config, config_to_dict
from arbkit.core.frame import Frame
from arbkit.engine import Engine
from arbkit.errors import ConfigError, RecordingError
from arbkit.runner.latency import latency_model
from arbkit.runner.outputs import RunOutputs
from arbkit.store import reader

log = logging.getLogger(__name__)

# Compared by --verify: the decisions first, then what follows from them.
VERIFIED_TABLES = (
    "opportunities",
    "risk_decisions",
    "orders",
    "fills",
    "trades",
    "positions",
    "pnl",
    "book_health",
)
_PROGRESS_EVERY = 65_536
# The frames columns `Engine.process_rows` takes, in its argument order (no Frame objects).
ROW_COLUMNS = ("session_id", "ingest_seq", "recv_ns", "venue", "conn_id", "kind", "payload")


@dataclass
class ReplayResult:
    """What a replay did: where it wrote, how much it read, what it found."""

    run_dir: Path
    frames: int
    decode_errors: int
    sessions: list[str]
    rows: dict[str, int]
    hashes: dict[str, str]


def select_pairs(config: Config, names: Sequence[str] | None) -> Config:
    """Keep only the named pairs; raise ConfigError naming an unknown one."""
    if not names:
        return config
    known = {p.name: p for p in config.pairs}
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ConfigError(f"unknown pair {unknown[0]!r} (config has: {', '.join(sorted(known))})")
    return msgspec.structs.replace(config, pairs=[known[n] for n in names])


def count_frames(source: str | Path) -> tuple[list[str], int]:
    """Session ids and total row count of a recording (from Parquet metadata, cheap)."""
    sessions = reader.resolve(source)
    total = sum(f.rows for session in sessions for f in session.files)
    return [s.session_id for s in sessions], total


def replay(
    source: str | Path,
    config: Config,
    run_dir: Path,
    *,
    start_ns: int | None = None,
    end_ns: int | None = None,
    progress: Callable[[int], None] | None = None,
) -> ReplayResult:
    """Replay `source` through a fresh engine and write the run tables into `run_dir`."""
    session_ids, _ = count_frames(source)
    engine = Engine(config, latency=latency_model(config, source))
    outputs = RunOutputs()
    add = outputs.add
    process_rows = engine.process_rows
    done = 0
    reported = 0
    batches = reader.iter_frame_lists(source, start_ns=start_ns, end_ns=end_ns, columns=ROW_COLUMNS)
    for batch in batches:
        add(process_rows(*batch))
        done += len(batch[0])
        if progress is not None and done - reported >= _PROGRESS_EVERY:
            progress(done)
            reported = done
    add(engine.finish())
    outputs.rows["book_health"] = engine.book_health()
    if progress is not None:
        progress(done)
    meta = {
        # Absolute, so `--verify` finds the recording from any working directory.
        "recording": os.path.abspath(source),
        "sessions": session_ids,
        "window": {"start_ns": start_ns, "end_ns": end_ns},
        "config": config_to_dict(config),
        "frames": engine.frames,
        "decode_errors": engine.decode_errors,
        "rows": {t: len(rows) for t, rows in sorted(outputs.rows.items())},
    }
    hashes = outputs.write(run_dir, meta)
    return ReplayResult(
        run_dir, engine.frames, engine.decode_errors, session_ids, meta["rows"], hashes
    )


def load_run(run_dir: Path) -> tuple[dict[str, Any], Config]:
    """Read a run's run.json and rebuild the config it ran with."""
    path = run_dir / "run.json"
    try:
        meta = orjson.loads(path.read_bytes())
    except FileNotFoundError:
        raise RecordingError(f"not a run directory (no run.json): {run_dir}") from None
    except (OSError, orjson.JSONDecodeError) as exc:
        raise RecordingError(f"cannot read {path}: {exc}") from None
    try:
        config = msgspec.convert({**meta["config"], "base_dir": str(run_dir)}, Config)
    except (KeyError, msgspec.ValidationError) as exc:
        raise RecordingError(f"{path}: config cannot be rebuilt: {exc}") from None
    return meta, config


@dataclass
class Difference:
    """The first row where a re-derived run differs from the recorded one."""

    table: str
    index: int
    expected: dict[str, Any] | None
    actual: dict[str, Any] | None
    frames: list[dict[str, Any]]


def verify(run_dir: Path) -> Difference | None:
    """Re-derive a run from its recording and config; return the first differing decision row."""
    import tempfile  # only --verify needs it: keep replay start-up lean

    meta, config = load_run(run_dir)
    window = meta.get("window") or {}
    recording = meta["recording"]
    if not Path(recording).is_absolute() and (run_dir / recording).parent.exists():
        recording = str(run_dir / recording)  # live runs name their recording relative to the run
    with tempfile.TemporaryDirectory(prefix="arbkit-verify-") as tmp:
        fresh = Path(tmp)
        replay(
            recording,
            config,
            fresh,
            start_ns=window.get("start_ns"),
            end_ns=window.get("end_ns"),
        )
        for table in VERIFIED_TABLES:
            old_path, new_path = run_dir / f"{table}.parquet", fresh / f"{table}.parquet"
            if not old_path.exists() and not new_path.exists():
                continue
            if old_path.exists() and new_path.exists():
                if old_path.read_bytes() == new_path.read_bytes():
                    continue
            old = _rows(old_path)
            new = _rows(new_path)
            for i in range(max(len(old), len(new))):
                a = old[i] if i < len(old) else None
                b = new[i] if i < len(new) else None
                if a != b:
                    anchor = _anchor(a or b, (fresh, run_dir))
                    return Difference(table, i, a, b, _frames_for(recording, anchor))
            if old_path.exists() != new_path.exists():
                return Difference(table, 0, None, None, [])
    return None


def _rows(path: Path) -> list[dict[str, Any]]:
    return pq.read_table(path).to_pylist() if path.exists() else []


def _anchor(row: dict[str, Any] | None, run_dirs: Sequence[Path]) -> tuple[int, int] | None:
    """The (ingest_seq, recv_ns) of the frame a decision row goes back to.

    Opportunities name it (their opening frame); risk decisions and orders go through their
    opportunity, fills through their decision's, looked up in the tables of `run_dirs` (first
    hit wins). The time tells sessions apart, since each numbers its frames from 0.
    """
    if row is None:
        return None
    named = [
        (v, row.get(k[: -len("ingest_seq")] + "ns"))
        for k, v in row.items()
        if k.endswith("ingest_seq") and isinstance(v, int)
    ]
    if named:
        return min(named)
    opportunity = row.get("opportunity_id")
    decision = row.get("decision_id")
    for run_dir in run_dirs:
        if opportunity is None and decision is not None:
            opportunity = next(
                (d["opportunity_id"] for d in _rows(run_dir / "risk_decisions.parquet")
                 if d["decision_id"] == decision),
                None,
            )
        if opportunity is not None:
            for window in _rows(run_dir / "opportunities.parquet"):
                if window["opportunity_id"] == opportunity:
                    return window["open_ingest_seq"], window["open_ns"]
    return None


def _frames_for(
    source: str, anchor: tuple[int, int | None] | None, context: int = 3
) -> list[dict[str, Any]]:
    """The frame `anchor` names and the `context` frames before it in its session."""
    if anchor is None:
        return []
    seq, ns = anchor
    recent: deque[Frame] = deque(maxlen=context + 1)
    session = None
    # Decision rows carry engine time, the running maximum of recv_ns (see arbkit.engine).
    clock = 0
    for frame in reader.iter_frames(source):
        clock = max(clock, frame.recv_ns)
        if frame.session_id != session:
            session = frame.session_id
            recent.clear()
        recent.append(frame)
        if frame.ingest_seq == seq and (ns is None or clock == ns):
            return [
                {
                    "session_id": f.session_id,
                    "ingest_seq": f.ingest_seq,
                    "recv_ns": f.recv_ns,
                    "venue": f.venue,
                    "conn_id": f.conn_id,
                    "kind": f.kind,
                    "payload": f.payload[:300].decode("utf-8", "replace"),
                }
                for f in recent
            ]
    return []
