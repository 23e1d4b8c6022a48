"""Deterministic replay of a recording through the engine, and `--verify` of a finished run."""

from __future__ import annotations

import datetime as dt
import logging
import os
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec
import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from arbkit.config import Config, config_to_dict
from arbkit.core.frame import Frame
from arbkit.engine import Engine, Output
from arbkit.errors import ConfigError, RecordingError, UserError
from arbkit.runner.latency import latency_model
from arbkit.runner.outputs import RunOutputs
from arbkit.runner.summary import RunSummary
from arbkit.store import reader, remote

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
_SNAPSHOTS = frozenset({"positions", "pnl"})
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
    summary: RunSummary
    warmup_frames: int = 0


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
    """Replay `source` through a fresh engine and write the run tables into `run_dir`.

    With `start_ns`, the frames before the window warm the engine and their outputs are
    dropped (see `_Window` for what belongs to the window). `end_ns` ends the data there, as if
    the recording stopped: windows still open close with `end_of_data` and orders in flight
    arrive against the books as last seen.
    """
    if start_ns is not None and end_ns is not None and start_ns >= end_ns:
        raise UserError("--start must be before --end")
    session_ids, _ = count_frames(source)
    engine = Engine(config, latency=latency_model(config, source))
    with RunOutputs(run_dir) as outputs:
        batches = reader.iter_frame_lists(source, end_ns=end_ns, columns=ROW_COLUMNS)
        window: _Window | None = None
        if start_ns is None and end_ns is None:
            done = _replay_all(engine, batches, outputs.add, progress)
            warmup = 0
            add_final = outputs.add
        else:
            window = _Window(engine, start_ns, outputs.add)  # an --end alone: a window from the start
            done = window.run(batches, progress)
            warmup = window.warmup
            add_final = window.add
        if not engine.frames and (start_ns is not None or end_ns is not None):
            window_text = _window_text(start_ns, end_ns)
            raise UserError(f"no frames in the window {window_text} of {source}{_span(warmup, done)}")
        add_final(engine.finish())
        outputs.add(("book_health", row) for row in engine.book_health())
        if progress is not None:
            progress(done)
        meta = {
            # Absolute, so `--verify` finds the recording from any working directory.
            "recording": source if remote.is_remote(str(source)) else os.path.abspath(source),
            "sessions": session_ids,
            "window": {"start_ns": start_ns, "end_ns": end_ns},
            "config": config_to_dict(config),
            "frames": engine.frames,
            "warmup_frames": warmup,
            "decode_errors": engine.decode_errors,
            "rows": outputs.counts,
        }
        hashes = outputs.write(meta)
    return ReplayResult(
        run_dir,
        engine.frames,
        engine.decode_errors,
        session_ids,
        meta["rows"],
        hashes,
        outputs.tally.summary(
            _frames_by_venue(source) if window is None else window.venues,
            engine.decode_error_kinds,
            None if window is None else window.pnl_before,
        ),
        warmup,
    )


def _replay_all(
    engine: Engine,
    batches: Iterable[list[Any]],
    add: Callable[[list[Output]], None],
    progress: Callable[[int], None] | None,
) -> int:
    """The whole recording through the engine (the hot path); return the rows read."""
    process_rows = engine.process_rows
    done = 0
    reported = 0
    for batch in batches:
        add(process_rows(*batch))
        done += len(batch[0])
        if progress is not None and done - reported >= _PROGRESS_EVERY:
            progress(done)
            reported = done
    return done


class _Window:
    """A replay from `--start`: the frames before it run through the engine in full (books,
    connections, sequence state, risk limits, liquidity taken by paper orders, positions), with
    their outputs dropped, so every decision inside the window is the full replay's.

    The window begins at the first frame, in replay order, received at or after `--start`.
    What straddles it: an opportunity belongs to the side of `--start` it opened on, and its
    risk decision, orders, fills and trade go with it, so one opened before `--start` is left
    out even when it closes or trades inside the window. `positions` and `pnl` snapshots are
    kept when taken at or after `--start`, as the full replay has them (cumulative since the
    recording's start, since the risk limits inside the window depend on that history).
    """

    def __init__(
        self, engine: Engine, start_ns: int | None, add: Callable[[list[Output]], None]
    ) -> None:
        self.engine = engine
        self.start_ns = -1 if start_ns is None else start_ns
        self._add = add
        self.warmup = 0
        self.started = False
        self.venues: dict[str, int] = {}  # frames per venue inside the window
        self.pnl_before: dict[str, Any] | None = None  # the last P&L snapshot before it
        # Opportunities and decisions made before the window (their later rows are dropped).
        self._opportunities: set[str] = set()
        self._decisions: set[int] = set()

    def run(self, batches: Iterable[list[Any]], progress: Callable[[int], None] | None) -> int:
        """Process every batch; return the rows read."""
        process_rows = self.engine.process_rows
        done = 0
        reported = 0
        for batch in batches:
            if self.started:
                self.add(process_rows(*batch))
                _count_venues(batch[3], self.venues)
            else:
                times = batch[2]
                cut = next((i for i, t in enumerate(times) if t >= self.start_ns), len(times))
                self._warm(process_rows(*(column[:cut] for column in batch)))
                self.warmup += cut
                if cut < len(times):
                    self.started = True
                    self.engine.begin_window()
                    self.add(process_rows(*(column[cut:] for column in batch)))
                    _count_venues(batch[3][cut:], self.venues)
            done += len(batch[0])
            if progress is not None and done - reported >= _PROGRESS_EVERY:
                progress(done)
                reported = done
        if not self.started:
            self.engine.begin_window()  # nothing inside the window: count nothing
        self.venues = dict(sorted(self.venues.items()))
        return done

    def _warm(self, outputs: list[Output]) -> None:
        for table, row in outputs:
            if table == "risk_decisions":
                self._opportunities.add(row["opportunity_id"])
                self._decisions.add(row["decision_id"])
            elif table == "pnl":
                self.pnl_before = row

    def add(self, outputs: list[Output]) -> None:
        """Keep the outputs that belong to the window."""
        kept: list[Output] = []
        for output in outputs:
            table, row = output
            if table in _SNAPSHOTS:
                if row["ns"] < self.start_ns:
                    # Paper orders due before --start, run on the window's first frame.
                    self._warm([output])
                    continue
            elif self._before(row):
                continue
            kept.append(output)
        self._add(kept)

    def _before(self, row: dict[str, Any]) -> bool:
        opportunity = row.get("opportunity_id")
        if opportunity is not None:
            return opportunity in self._opportunities
        return row.get("decision_id") in self._decisions


def _window_text(start_ns: int | None, end_ns: int | None) -> str:
    def iso(ns: int) -> str:
        when = dt.datetime.fromtimestamp(ns // 1_000_000_000, tz=dt.timezone.utc)
        return when.strftime("%Y-%m-%dT%H:%M:%SZ")

    edges = (("--start", start_ns), ("--end", end_ns))
    return " to ".join(f"{name} {iso(ns)}" for name, ns in edges if ns is not None)


def _span(warmup: int, done: int) -> str:
    """Why a window came out empty: it lies after or before the recorded frames."""
    if done and warmup == done:
        return " (every frame is before --start)"
    return " (the recording has none before --end)" if not done else ""


def _frames_by_venue(source: str | Path) -> dict[str, int]:
    """Frames per venue of a whole recording, from the files' footers where each file holds
    one venue (the recorder's layout), else by reading the venue column."""
    sessions = reader.resolve(source)
    files = [info for session in sessions for info in session.files]
    counts: dict[str, int] = {}
    if all(info.venues is not None and len(info.venues) == 1 for info in files):
        for info in files:
            venue = info.venues[0]  # type: ignore[index]
            counts[venue] = counts.get(venue, 0) + info.rows
    else:
        for (venues,) in reader.iter_frame_lists(source, columns=("venue",)):
            _count_venues(venues, counts)
    return dict(sorted(counts.items()))


def _count_venues(venues: list[str], counts: dict[str, int]) -> None:
    for venue in set(venues):
        counts[venue] = counts.get(venue, 0) + venues.count(venue)


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
    for table in VERIFIED_TABLES:  # before re-deriving: a broken run costs no replay
        path = run_dir / f"{table}.parquet"
        if not path.exists():
            if table in (meta.get("outputs") or {}):
                raise RecordingError(f"run table missing: {path} (run.json lists it)")
            continue
        try:
            pq.read_metadata(path)
        except (OSError, pa.ArrowException) as exc:
            raise RecordingError(f"run table unreadable: {path}: {_one_line(exc)}") from None
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


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())


def _rows(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    try:
        return pq.read_table(path).to_pylist()
    except (OSError, pa.ArrowException) as exc:
        raise RecordingError(f"run table unreadable: {path}: {_one_line(exc)}") from None


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
