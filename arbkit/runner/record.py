"""`arbkit record`: capture every raw frame from both venues into a crash-safe session.

`Recorder` owns one session: it recovers journals a crashed run left, opens a `SessionWriter`,
starts one connection task per venue connection (`runner.connections`) plus a storage tick, and
on stop (SIGINT/SIGTERM, `duration_s`, `stop()`) closes every socket — recording the close
rows — and seals the session. A permanent problem (credentials rejected, unknown market) or a
storage failure stops the same way and is raised after sealing what can be sealed.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import os
import random
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from arbkit.config import Config, config_to_dict
from arbkit.core.events import KALSHI, POLYMARKET
from arbkit.errors import ConfigError, CredentialsError, StorageError
from arbkit.runner.connections import (
    Backoff,
    FrameCallback,
    Ingest,
    KalshiConnection,
    PolymarketConnection,
    VenueConnection,
    VenueStats,
    WsOptions,
)
from arbkit.runner.status import StatusLine, show_status
from arbkit.store.recovery import recover
from arbkit.store.session import SessionWriter
from arbkit.venues.kalshi.auth import load_private_key

log = logging.getLogger(__name__)

# Often enough that a busy session's journal batches stay near CHUNK_BYTES (see store.session).
TICK_INTERVAL_S = 0.02
STOP_GRACE_S = 5.0


@dataclass
class RecordSummary:
    """What a finished recording run produced."""

    session_id: str
    root: Path
    frames_in: dict[str, int]
    reconnects: dict[str, int]
    bytes_on_disk: int
    recovered: list[str] = field(default_factory=list)
    last_errors: dict[str, str] = field(default_factory=dict)  # venue -> its last connection error


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


class Recorder:
    """Record the venues of `config` into a new session under `root` until stopped.

    `on_frame` sees every row as a `Frame` right after it is appended, in ingest order (the hook
    `arbkit live --paper` runs the engine from). `venues` limits recording to some venues.
    """

    def __init__(
        self,
        config: Config,
        root: Path | str,
        *,
        duration_s: float | None = None,
        on_frame: FrameCallback | None = None,
        status_stream: TextIO | None = None,
        status_interactive: bool = False,
        status_interval_s: float = 10.0,
        seed: int | None = None,
        venues: tuple[str, ...] = (KALSHI, POLYMARKET),
    ) -> None:
        self.config = config
        self.root = Path(root)
        self.duration_s = duration_s
        self.on_frame = on_frame
        self.status_stream = status_stream
        self.status_interactive = status_interactive
        self.status_interval_s = status_interval_s
        self.stats = {KALSHI: VenueStats(KALSHI), POLYMARKET: VenueStats(POLYMARKET)}
        self.connections: list[VenueConnection] = []
        self.session_id: str | None = None
        self.writer: SessionWriter | None = None
        self._rng = random.Random(seed)
        self._stop: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop_requested = False
        self._status_line: StatusLine | None = None
        self.tickers = _unique([p.kalshi_ticker for p in config.pairs]) if KALSHI in venues else []
        assets = []
        for pair in config.pairs if POLYMARKET in venues else ():
            assets.append(pair.polymarket_yes_token)
            if config.venues.polymarket.subscribe_no_token:
                assets.append(pair.polymarket_no_token)
        self.assets = _unique(assets)

    def stop(self) -> None:
        """Ask the recorder to stop and seal; safe from any thread or a signal handler."""
        self._stop_requested = True
        if self._loop is not None and self._stop is not None:
            self._loop.call_soon_threadsafe(self._stop.set)

    @property
    def stop_requested(self) -> bool:
        """Whether `stop()` was called (a signal or a caller) rather than the duration running out."""
        return self._stop_requested

    def _credentials(self) -> tuple[str, Any]:
        kalshi = self.config.venues.kalshi
        key_id = kalshi.resolved_key_id()
        if not key_id:
            where = f"environment variable {kalshi.key_id_env}" if kalshi.key_id_env else "key_id"
            raise CredentialsError(f"Kalshi key id missing: set {where} in [venues.kalshi]")
        key_path = self.config.key_path()
        if key_path is None:
            raise CredentialsError("Kalshi private key missing: set private_key_path in [venues.kalshi]")
        return key_id, load_private_key(key_path)

    def _build(self, ingest: Ingest, stop: asyncio.Event, credentials: tuple[str, Any] | None) -> None:
        rec = self.config.recorder
        ws_options = WsOptions(permessage_deflate=rec.permessage_deflate)

        def common(venue: str) -> dict[str, Any]:
            return {
                "ingest": ingest,
                "stats": self.stats[venue],
                "conn_ids": conn_ids[venue],
                "stop": stop,
                "backoff": Backoff(rec.backoff_initial_s, rec.backoff_max_s, random.Random(self._rng.random())),
                "ws_options": ws_options,
            }

        conn_ids = {KALSHI: itertools.count(1), POLYMARKET: itertools.count(1)}
        if self.tickers and credentials is not None:
            kalshi = self.config.venues.kalshi
            self.connections.append(
                KalshiConnection(
                    url=kalshi.ws_url,
                    key_id=credentials[0],
                    private_key=credentials[1],
                    tickers=self.tickers,
                    channels=kalshi.channels,
                    use_yes_price=kalshi.use_yes_price,
                    **common(KALSHI),
                )
            )
            self.stats[KALSHI].connections = 1
        per_conn = max(1, rec.assets_per_connection)
        shards = [self.assets[i : i + per_conn] for i in range(0, len(self.assets), per_conn)]
        polymarket = self.config.venues.polymarket
        for shard, assets in enumerate(shards):
            self.connections.append(
                PolymarketConnection(
                    url=polymarket.ws_url,
                    assets=assets,
                    shard=shard,
                    custom_feature_enabled=polymarket.custom_feature_enabled,
                    ping_interval_s=rec.ping_interval_s,
                    stale_after_s=rec.stale_after_s,
                    **common(POLYMARKET),
                )
            )
        self.stats[POLYMARKET].connections = len(shards)

    async def run(self) -> RecordSummary:
        """Record until stopped; raise `UserError` or `StorageError` after sealing on failure."""
        if not self.config.pairs:
            raise ConfigError("the config has no [[pairs]]: nothing to record")
        credentials = self._credentials() if self.tickers else None
        self._loop = asyncio.get_running_loop()
        self._stop = stop = asyncio.Event()
        if self._stop_requested:
            stop.set()
        try:
            recovered = recover(self.root)
        except OSError as exc:
            raise StorageError(f"cannot recover journals under {self.root}: {exc}") from None
        if recovered:
            log.warning("recovered and sealed %d crashed session(s): %s", len(recovered), ", ".join(recovered))
        rec = self.config.recorder
        try:
            writer = SessionWriter(
                self.root,
                config=config_to_dict(self.config),
                flush_interval_s=rec.flush_interval_s,
                rotation_s=rec.rotation_s,
            )
        except OSError as exc:
            raise StorageError(f"cannot start a session under {self.root}: {exc}") from None
        self.session_id = writer.session_id
        self.writer = writer
        ingest = Ingest(writer.append, writer.session_id, self.on_frame, row_writer=writer.row_writer)
        self._build(ingest, stop, credentials)
        failure: BaseException | None = None
        tasks = [asyncio.create_task(c.run(), name=f"{c.venue}-{i}") for i, c in enumerate(self.connections)]
        ticker = asyncio.create_task(self._tick(writer), name="storage-tick")
        status = self._start_status()
        timer = self._loop.call_later(self.duration_s, stop.set) if self.duration_s is not None else None
        try:
            failure = await self._wait(tasks + [ticker], stop)
        finally:
            stop.set()
            for stats in self.stats.values():
                stats.stopping = True
            if timer is not None:
                timer.cancel()
            await self._drain(tasks)
            ticker.cancel()
            await asyncio.gather(ticker, return_exceptions=True)
            failure = self._seal(writer, failure)
            if status is not None and self._status_line is not None:
                # After sealing, so its last line shows the bytes the summary does.
                self._status_line.final = failure is None
                status.cancel()
                await asyncio.gather(status, return_exceptions=True)
        if failure is not None:
            raise failure
        return RecordSummary(
            session_id=writer.session_id,
            root=self.root,
            frames_in={v: s.frames_in for v, s in self.stats.items()},
            reconnects={v: s.reconnects for v, s in self.stats.items()},
            bytes_on_disk=self._bytes_on_disk(),
            recovered=list(recovered),
            last_errors={v: s.last_error for v, s in self.stats.items() if s.last_error},
        )

    async def _wait(self, tasks: list[asyncio.Task[None]], stop: asyncio.Event) -> BaseException | None:
        stopper = asyncio.create_task(stop.wait())
        try:
            done, _ = await asyncio.wait([*tasks, stopper], return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopper.cancel()
        for task in done:
            if task is not stopper and not task.cancelled() and task.exception() is not None:
                return task.exception()
        return None

    async def _drain(self, tasks: list[asyncio.Task[None]]) -> None:
        if not tasks:
            return
        _, pending = await asyncio.wait(tasks, timeout=STOP_GRACE_S)
        for task in pending:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _seal(self, writer: SessionWriter, failure: BaseException | None) -> BaseException | None:
        try:
            writer.close()
        except (StorageError, OSError) as exc:
            # The caller reports the failure; the journal stays for recovery on the next start.
            log.info("sealing failed: %s", exc)
            if failure is None:
                return exc if isinstance(exc, StorageError) else StorageError(f"sealing failed: {exc}")
        return failure

    async def _tick(self, writer: SessionWriter) -> None:
        while True:
            await asyncio.sleep(TICK_INTERVAL_S)
            try:
                writer.tick()
            except OSError as exc:
                raise StorageError(f"writing the recording failed: {exc}") from None

    def _bytes_on_disk(self) -> int:
        if self.writer is None:
            return 0
        try:
            return self.writer.bytes_on_disk
        except OSError:
            return 0

    def _start_status(self) -> asyncio.Task[None] | None:
        if self.status_stream is None:
            return None
        line = self._status_line = StatusLine(self.stats, self._bytes_on_disk)
        interval = 0.5 if self.status_interactive else self.status_interval_s
        return asyncio.create_task(show_status(line, self.status_stream, self.status_interactive, interval))


FORCED_EXIT_CODE = 130  # as a shell reports a process ended by SIGINT


async def run_recorder(
    recorder: Recorder, on_forced_exit: Callable[[], None] | None = None
) -> RecordSummary:
    """Run `recorder` until stopped, with SIGINT/SIGTERM asking it to stop and seal.

    A second SIGINT forces exit at once, whatever the recorder is doing (draining, sealing):
    `on_forced_exit` runs (to say so), then the process exits with FORCED_EXIT_CODE without
    sealing. Nothing recorded is lost: sealed files are only ever published whole, and the next
    start recovers the journal, every flushed frame of it, as after a crash.
    """
    interrupts = 0

    def on_signal(signum: int, _frame: object) -> None:
        # A Python-level handler, not the loop's: it also runs while the loop is blocked in a
        # synchronous seal, which is when a user is most likely to press Ctrl-C twice.
        nonlocal interrupts
        if signum == signal.SIGINT:
            interrupts += 1
            if interrupts > 1:
                if on_forced_exit is not None:
                    on_forced_exit()
                os._exit(FORCED_EXIT_CODE)
        recorder.stop()

    previous: dict[int, Any] = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, on_signal)
    try:
        return await recorder.run()
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def record(
    config: Config,
    root: Path | str,
    *,
    duration_s: float | None = None,
    on_frame: FrameCallback | None = None,
    status_stream: TextIO | None = None,
    on_forced_exit: Callable[[], None] | None = None,
) -> RecordSummary:
    """Record until SIGINT/SIGTERM or `duration_s`; seal the session and summarise it.

    A second SIGINT exits at once without sealing (see `run_recorder`).
    """
    interactive = status_stream is not None and status_stream.isatty()
    recorder = Recorder(
        config,
        root,
        duration_s=duration_s,
        on_frame=on_frame,
        status_stream=status_stream,
        status_interactive=interactive,
    )
    return asyncio.run(run_recorder(recorder, on_forced_exit))
