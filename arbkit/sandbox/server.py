"""The sandbox venue servers: Kalshi- and Polymarket-compatible WebSocket endpoints on loopback.

Plain HTTP requests to the same ports get the venues' market-discovery REST answers (rest.py).

One scenario drives both servers. In paced mode the scenario's simulated clock follows real time
(anchored at `epoch_ms`, by default the start time); in manual mode it only moves when a test
calls `advance()`, which makes every payload a client sees reproducible. Each connection has a
protocol session (`kalshi.py`, `polymarket.py`) and one writer task that sends its frames in
order; the frames that writer has handed to the socket are the connection's `frames_sent`.
Scripted faults run per connection from a `FaultPlan`. The default fault schedule also turns on
the scenario's fidelity options (`scenario.fidelity`: sub-penny and fractional markets, a tick
size change, resolutions near the end when the feed's duration is known, new markets), so the
demo and `sandbox serve --faults default` exercise every message the decoders accept.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from http import HTTPStatus
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from websockets.asyncio.server import ServerConnection, serve
from websockets.exceptions import ConcurrencyError, ConnectionClosed
from websockets.http11 import Request, Response

from arbkit.sandbox import files
from arbkit.sandbox.kalshi import MALFORMED as KALSHI_MALFORMED
from arbkit.sandbox.kalshi import WS_PATH as KALSHI_PATH
from arbkit.sandbox.kalshi import KalshiSession, check_era
from arbkit.sandbox.polymarket import MALFORMED as POLY_MALFORMED
from arbkit.sandbox.polymarket import WS_PATH as POLY_PATH
from arbkit.sandbox.polymarket import PolymarketSession
from arbkit.sandbox.rest import KALSHI_PREFIX as KALSHI_REST_PATH
from arbkit.sandbox.rest import SandboxRest
from arbkit.sandbox.scenario import Scenario, ScenarioConfig, fidelity

log = logging.getLogger(__name__)

KALSHI = "kalshi"
POLYMARKET = "polymarket"
AUTH_WINDOW_MS = 10_000
MAX_LAG_NS = 500_000_000  # paced mode: how far simulated time may fall behind real time
ABRUPT_FLUSH_S = 10.0  # abrupt disconnect: longest wait for buffered frames to reach the client
MAX_PENDING = 500_000  # frames queued for one connection before it is closed as too slow
STEP_SLICE_S = 0.01  # paced mode: longest run of scenario steps before other tasks get a turn

FAULT_SEQ_GAP = "seq_gap"
FAULT_ERROR_25 = "error_25"
FAULT_MALFORMED = "malformed"
FAULT_BURST = "burst"
FAULT_STALL = "stall"
FAULT_CLEAN_CLOSE = "clean_close"
FAULT_ABRUPT = "abrupt_disconnect"
TERMINAL_FAULTS = (FAULT_CLEAN_CLOSE, FAULT_ABRUPT)


@dataclass(frozen=True)
class FaultPlan:
    """When and which scripted faults fire.

    Faults cycle through each venue's `order` across that venue's connections (a terminal fault
    ends a connection; the next connection carries on with the next fault). A connection's first
    fault fires `first_delay_s` after it subscribes, the next ones `interval_s` apart until every
    type has fired once, then `period_s` apart, for as long as the sandbox serves: a client that
    connects late (or stays long) keeps seeing faults. The order is fixed, so a schedule is
    deterministic for a seed.
    """

    first_delay_s: float = 3.0
    interval_s: float = 3.0
    period_s: float = 10.0
    stall_s: float = 5.0
    burst_frames: int = 2000
    close_code: int = 1001
    close_reason: str = "sandbox scheduled close"
    kalshi: tuple[str, ...] = (FAULT_SEQ_GAP, FAULT_MALFORMED, FAULT_ERROR_25, FAULT_BURST,
                               FAULT_CLEAN_CLOSE, FAULT_ABRUPT)
    polymarket: tuple[str, ...] = (FAULT_MALFORMED, FAULT_STALL, FAULT_BURST, FAULT_CLEAN_CLOSE,
                                   FAULT_ABRUPT)

    def compressed(self, factor: float) -> FaultPlan:
        """The same plan with every delay divided by `factor` (for fast tests)."""
        return replace(self, first_delay_s=self.first_delay_s / factor,
                       interval_s=self.interval_s / factor, period_s=self.period_s / factor,
                       stall_s=self.stall_s / factor)


def fault_plan(faults: str | FaultPlan | None) -> FaultPlan | None:
    """Resolve the `--faults` option (`none` or `default`) or pass a plan through."""
    if faults is None or isinstance(faults, FaultPlan):
        return faults
    if faults == "none":
        return None
    if faults == "default":
        return FaultPlan()
    raise ValueError(f"unknown fault schedule {faults!r} (none|default)")


class _Conn:
    """One accepted connection: its session, send queue and counters."""

    def __init__(self, venue: str, index: int, ws: ServerConnection, session) -> None:
        self.venue = venue
        self.index = index
        self.ws = ws
        self.session = session
        self.pending: deque = deque()
        self.wake = asyncio.Event()
        self.frames_sent = 0
        self.open_ns = time.time_ns()
        self.first_send_ns: int | None = None
        self.last_send_ns: int | None = None
        self.close_ns: int | None = None
        self.stalled = False
        self.closing = False

    def push(self, frames: list[bytes]) -> None:
        if frames and not self.closing:
            self.pending.extend(frames)
            self.wake.set()
            if len(self.pending) > MAX_PENDING:
                # Bounded memory for a client that stopped reading; what was queued is dropped
                # unsent (and uncounted).
                log.warning("sandbox %s connection %d: client too slow, closing", self.venue, self.index)
                self.pending.clear()
                self.push_control(("close", 1011, "client too slow"))

    def push_control(self, op: tuple) -> None:
        if not self.closing:
            self.closing = True
            self.pending.append(op)
            self.wake.set()

    async def writer(self) -> None:
        ws = self.ws
        pending = self.pending
        try:
            while True:
                await self.wake.wait()
                self.wake.clear()
                while pending:
                    item = pending.popleft()
                    if type(item) is bytes:
                        await ws.send(item, text=True)
                        now = time.time_ns()
                        if self.first_send_ns is None:
                            self.first_send_ns = now
                        self.last_send_ns = now
                        self.frames_sent += 1
                    elif item[0] == "close":
                        await ws.close(item[1], item[2])
                        return
                    else:
                        # Flushes what is buffered, then closes TCP without a close frame: every
                        # frame counted above reaches the client. Waiting for the socket to be
                        # gone keeps websockets from queueing a close frame behind the flush.
                        ws.transport.close()
                        try:
                            await asyncio.wait_for(ws.wait_closed(), ABRUPT_FLUSH_S)
                        except TimeoutError:
                            ws.transport.abort()  # the client stopped reading altogether
                        return
        except ConnectionClosed:
            return

    def stats(self) -> dict:
        return {
            "venue": self.venue,
            "conn": self.index,
            "frames_sent": self.frames_sent,
            "first_send_ns": self.first_send_ns,
            "last_send_ns": self.last_send_ns,
            "open_ns": self.open_ns,
            "close_ns": self.close_ns,
        }


class Sandbox:
    """Both sandbox venues on free loopback ports; an async context manager.

    `paced=True` runs the scenario in real time; `paced=False` moves it only on `advance()`.
    `faults` is "none", "default" or a `FaultPlan`. `with_fidelity` turns the scenario's
    fidelity options on (None: with `faults="default"`), timed for `duration_s` seconds of feed
    (resolutions need it). The work folder gets the key (0600), `arbkit.toml`,
    `ground_truth.parquet`, `connections.jsonl` and `faults.jsonl`.
    """

    def __init__(self, workdir: Path | str, *, pairs: int = 4, seed: int = 0, rate: float = 200.0,
                 faults: str | FaultPlan | None = "none", kalshi_era: str = "c",
                 epoch_ms: int | None = None, ping_interval_s: float = 10.0, paced: bool = True,
                 private_key: rsa.RSAPrivateKey | None = None,
                 scenario_config: ScenarioConfig | None = None, host: str = "127.0.0.1",
                 on_fault: Callable[[dict], None] | None = None, with_fidelity: bool | None = None,
                 duration_s: float | None = None) -> None:
        self.workdir = Path(workdir)
        self.on_fault = on_fault  # called with each fault's log row as it fires
        self.faults = fault_plan(faults)
        self.kalshi_era = kalshi_era
        self.ping_interval_s = ping_interval_s
        self.paced = paced
        self.host = host
        self._private_key = private_key
        self._epoch_ms = epoch_ms
        base = replace(scenario_config or ScenarioConfig(), pairs=pairs, seed=seed, rate=rate)
        if faults == "default" if with_fidelity is None else with_fidelity:
            base = fidelity(base, duration_s, kalshi_era)
        self._scenario_config = base
        check_era(base, kalshi_era)
        self.scenario: Scenario | None = None
        self.key_id = str(uuid.uuid4())
        self.kalshi_url = ""
        self.polymarket_url = ""
        self.kalshi_rest_url = ""
        self.polymarket_rest_url = ""
        self.rest: SandboxRest | None = None  # REST endpoints on the same ports (rest.py)
        self.config_path = self.workdir / files.CONFIG_FILE
        self.ground_truth_path = self.workdir / files.GROUND_TRUTH_FILE
        self.key_path = self.workdir / files.KEY_FILE
        self._conns: list[_Conn] = []
        self._closed_stats: list[dict] = []
        self._fault_log: list[dict] = []
        self._counts = {KALSHI: 1, POLYMARKET: 1}  # accept order per venue, from 1 like the recorder
        self._fault_cursor = {KALSHI: 0, POLYMARKET: 0}
        self._servers: list = []
        self._tasks: list[asyncio.Task] = []
        self._conn_tasks: set[asyncio.Task] = set()
        self._gt_written = -1
        self._gt_due = 0.0
        self._stopped = False

    # ---- lifecycle ----------------------------------------------------------------------

    async def __aenter__(self) -> Sandbox:
        await self.start()
        return self

    async def __aexit__(self, *exc) -> None:
        await self.stop()

    async def start(self) -> None:
        """Generate the key, start both servers, write the config and ground truth."""
        files.make_folder(self.workdir, "sandbox workdir")
        epoch_ms = self._epoch_ms if self._epoch_ms is not None else time.time_ns() // 1_000_000
        self.scenario = Scenario(replace(self._scenario_config, epoch_ms=epoch_ms))
        self.rest = SandboxRest(self.scenario)
        if self._private_key is None:
            self._private_key = files.new_private_key()
        self._public_key = self._private_key.public_key()
        files.write_private_key(self.key_path, self._private_key)
        common = {"ping_interval": None, "compression": None, "max_size": 2**22}
        kalshi = await serve(self._kalshi_handler, self.host, 0,
                             process_request=self._kalshi_request, **common)
        poly = await serve(self._poly_handler, self.host, 0, process_request=self._poly_request, **common)
        self._servers = [kalshi, poly]
        kport = kalshi.sockets[0].getsockname()[1]
        pport = poly.sockets[0].getsockname()[1]
        self.kalshi_url = f"ws://{self.host}:{kport}{KALSHI_PATH}"
        self.polymarket_url = f"ws://{self.host}:{pport}{POLY_PATH}"
        self.kalshi_rest_url = f"http://{self.host}:{kport}{KALSHI_REST_PATH}"
        self.polymarket_rest_url = f"http://{self.host}:{pport}"
        files.write_text_atomic(self.config_path, files.config_text(
            self.scenario,
            kalshi_ws_url=self.kalshi_url,
            kalshi_rest_url=self.kalshi_rest_url,
            polymarket_ws_url=self.polymarket_url,
            polymarket_rest_url=self.polymarket_rest_url,
            key_id=self.key_id,
            private_key_path=files.KEY_FILE,
        ))
        self._write_ground_truth(force=True)
        if self.paced:
            self._tasks.append(asyncio.create_task(self._pace()))
        log.info("sandbox kalshi %s polymarket %s", self.kalshi_url, self.polymarket_url)

    async def stop(self) -> None:
        """Stop serving; close every connection; write the final ground truth."""
        if self._stopped:
            return
        self._stopped = True
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for server in self._servers:
            server.close()
        for server in self._servers:
            await server.wait_closed()
        if self._conn_tasks:
            await asyncio.gather(*list(self._conn_tasks), return_exceptions=True)
        self._write_ground_truth(force=True, final=True)

    # ---- introspection ------------------------------------------------------------------

    def connection_stats(self) -> list[dict]:
        """Per connection (closed and open): venue, conn index, frames_sent, send times."""
        rows = list(self._closed_stats) + [c.stats() for c in list(self._conns)]
        return sorted(rows, key=lambda r: (r["venue"], r["conn"]))

    def fault_log(self) -> list[dict]:
        """Every fault fired so far, in order."""
        return list(self._fault_log)

    def public_key(self) -> rsa.RSAPublicKey:
        """The key the Kalshi server verifies signatures against."""
        return self._public_key

    # ---- scenario -----------------------------------------------------------------------

    async def advance(self, steps: int) -> None:
        """Run `steps` scenario events now (manual mode) and wait until they are sent."""
        for _ in range(steps):
            self._step()
        self._write_ground_truth()
        await self.drain()

    async def drain(self, timeout: float = 10.0) -> None:
        """Wait until every open connection's queue has been handed to its socket."""
        deadline = time.monotonic() + timeout
        while any(c.pending for c in self._conns) and time.monotonic() < deadline:
            await asyncio.sleep(0.002)

    def _step(self) -> None:
        t, k_items, p_items = self.scenario.step()
        if k_items:
            for conn in self._conns:
                if conn.venue == KALSHI and not conn.stalled and not conn.closing:
                    conn.push(conn.session.on_items(t, k_items))
        if p_items:
            cache: dict = {}
            for conn in self._conns:
                if conn.venue == POLYMARKET and not conn.stalled and not conn.closing:
                    conn.push(conn.session.on_items(t, p_items, cache))

    async def _pace(self) -> None:
        loop = asyncio.get_running_loop()
        scenario = self.scenario
        start = loop.time()
        epoch_ns = scenario.epoch_ns
        warned = False
        while True:
            now = loop.time()
            target = epoch_ns + int((now - start) * 1e9)
            behind = target - scenario.next_ns
            if behind > MAX_LAG_NS:
                # Overloaded: let simulated time slip rather than build an ever larger backlog.
                start += (behind - MAX_LAG_NS) / 1e9
                target -= behind - MAX_LAG_NS
                if not warned:
                    log.warning("sandbox cannot keep up with rate %s; simulated time slips",
                                self.scenario.config.rate)
                    warned = True
            deadline = now + STEP_SLICE_S
            while scenario.next_ns <= target:
                self._step()
                if loop.time() > deadline:
                    break
            self._write_ground_truth()
            await asyncio.sleep(0.002 if scenario.next_ns > target else 0)

    def _write_ground_truth(self, force: bool = False, final: bool = False) -> None:
        if not force:
            done = len(self.scenario.completed_dislocations())
            if done == self._gt_written or time.monotonic() < self._gt_due:
                return
        rows = self.scenario.completed_dislocations()
        if final:
            now = self.scenario.now_ns
            for d in self.scenario.active_dislocations():
                rows.append(replace(d, end_ns=now))  # the feed ended, so did the dislocation
        files.write_ground_truth(self.ground_truth_path, self.scenario, rows)
        self._gt_written = len(self.scenario.completed_dislocations())
        self._gt_due = time.monotonic() + 0.5

    # ---- Kalshi -------------------------------------------------------------------------

    def _kalshi_request(self, connection: ServerConnection, request: Request) -> Response | Awaitable[Response] | None:
        if request.path.startswith(KALSHI_REST_PATH + "/"):
            return self.rest.respond(KALSHI, request.path)
        if request.path.split("?", 1)[0] != KALSHI_PATH:
            return connection.respond(HTTPStatus.NOT_FOUND, "Not Found\n")
        reason = self._auth_failure(request)
        if reason:
            log.info("kalshi sandbox: rejected upgrade: %s", reason)
            return connection.respond(HTTPStatus.UNAUTHORIZED, f"Unauthorized: {reason}\n")
        return None

    def _auth_failure(self, request: Request) -> str | None:
        headers = request.headers
        key = headers.get("KALSHI-ACCESS-KEY")
        stamp = headers.get("KALSHI-ACCESS-TIMESTAMP")
        signature = headers.get("KALSHI-ACCESS-SIGNATURE")
        if not (key and stamp and signature):
            return "missing KALSHI-ACCESS-* headers"
        if key != self.key_id:
            return "unknown key"
        if not stamp.isdigit() or abs(time.time_ns() // 1_000_000 - int(stamp)) > AUTH_WINDOW_MS:
            return "timestamp outside the allowed window"
        try:
            raw = base64.b64decode(signature, validate=True)
            self._public_key.verify(
                raw, (stamp + "GET" + KALSHI_PATH).encode(),
                padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH),
                hashes.SHA256())
        except (InvalidSignature, binascii.Error, ValueError):
            return "bad signature"
        return None

    async def _kalshi_handler(self, ws: ServerConnection) -> None:
        conn = self._open(KALSHI, ws, KalshiSession(self.scenario, self.kalshi_era))
        extra = [asyncio.create_task(self._pinger(ws))]
        try:
            await self._serve(conn, extra, self._kalshi_message)
        finally:
            self._close(conn)

    def _kalshi_message(self, conn: _Conn, message) -> None:
        conn.push(conn.session.handle(message))

    async def _pinger(self, ws: ServerConnection) -> None:
        while True:
            await asyncio.sleep(self.ping_interval_s)
            try:
                await ws.ping(b"heartbeat")
            except ConcurrencyError:
                pass  # the previous heartbeat is still unanswered
            except ConnectionClosed:
                return

    # ---- Polymarket ---------------------------------------------------------------------

    def _poly_request(self, connection: ServerConnection, request: Request) -> Response | Awaitable[Response] | None:
        if request.path.split("?", 1)[0] != POLY_PATH:
            return self.rest.respond(POLYMARKET, request.path)
        return None

    async def _poly_handler(self, ws: ServerConnection) -> None:
        conn = self._open(POLYMARKET, ws, PolymarketSession(self.scenario))
        try:
            await self._serve(conn, [], self._poly_message)
        finally:
            self._close(conn)

    def _poly_message(self, conn: _Conn, message) -> None:
        frames, close = conn.session.handle(message)
        conn.push(frames)
        if close is not None:
            conn.push_control(("close", *close))

    # ---- connections --------------------------------------------------------------------

    def _open(self, venue: str, ws: ServerConnection, session) -> _Conn:
        conn = _Conn(venue, self._counts[venue], ws, session)
        self._counts[venue] += 1
        self._conns.append(conn)
        return conn

    async def _serve(self, conn: _Conn, extra: list[asyncio.Task], on_message) -> None:
        task = asyncio.current_task()
        self._conn_tasks.add(task)
        writer = asyncio.create_task(conn.writer())
        tasks = [writer, *extra]
        if self.faults is not None:
            tasks.append(asyncio.create_task(self._fault_loop(conn)))
        try:
            reader = asyncio.create_task(self._read(conn, on_message))
            await asyncio.wait([reader, writer], return_when=asyncio.FIRST_COMPLETED)
            if not reader.done():
                # The writer ended the connection (close or abrupt disconnect).
                reader.cancel()
            tasks.append(reader)
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            self._conn_tasks.discard(task)

    async def _read(self, conn: _Conn, on_message) -> None:
        try:
            async for message in conn.ws:
                if not conn.closing:
                    on_message(conn, message)
        except ConnectionClosed:
            pass

    def _close(self, conn: _Conn) -> None:
        conn.close_ns = time.time_ns()
        if conn in self._conns:
            self._conns.remove(conn)
        stats = conn.stats()
        self._closed_stats.append(stats)
        files.append_jsonl(self.workdir / files.CONNECTIONS_FILE, stats)

    # ---- faults -------------------------------------------------------------------------

    async def _fault_loop(self, conn: _Conn) -> None:
        plan = self.faults
        order = plan.kalshi if conn.venue == KALSHI else plan.polymarket
        if not order:
            return
        while not self._has_data(conn):
            await asyncio.sleep(0.02)
        delay = plan.first_delay_s if self._fault_cursor[conn.venue] < len(order) else plan.period_s
        while True:
            await asyncio.sleep(delay)
            while not self._has_data(conn):
                await asyncio.sleep(0.02)
            cursor = self._fault_cursor[conn.venue]
            fault = order[cursor % len(order)]
            detail = self._fire(conn, fault)
            if detail is None:
                await asyncio.sleep(0.05)  # not applicable right now; retry shortly
                delay = 0
                continue
            self._fault_cursor[conn.venue] = cursor + 1
            row = {"venue": conn.venue, "conn": conn.index, "fault": fault, "time_ns": time.time_ns(), **detail}
            self._fault_log.append(row)
            files.append_jsonl(self.workdir / files.FAULTS_FILE, row)
            log.info("sandbox fault %s on %s connection %d", fault, conn.venue, conn.index)
            if self.on_fault is not None:
                self.on_fault(row)
            if fault in TERMINAL_FAULTS:
                return
            delay = plan.interval_s if cursor + 1 < len(order) else plan.period_s
            if fault == FAULT_STALL:
                await asyncio.sleep(plan.stall_s)
                conn.stalled = False
                # Fresh books, so a client that sat the stall out is consistent again.
                conn.push(conn.session.snapshots() if conn.venue == KALSHI else conn.session.books())

    def _has_data(self, conn: _Conn) -> bool:
        if conn.venue == KALSHI:
            return bool(conn.session.book_sids())
        return bool(conn.session.assets)

    def _fire(self, conn: _Conn, fault: str) -> dict | None:
        plan = self.faults
        session = conn.session
        if fault == FAULT_SEQ_GAP:
            sid = session.skip_seq()
            return None if sid is None else {"sid": sid}
        if fault == FAULT_ERROR_25:
            result = session.overflow()
            if result is None:
                return None
            conn.push([result[1]])
            return {"sid": result[0]}
        if fault == FAULT_MALFORMED:
            conn.push([KALSHI_MALFORMED if conn.venue == KALSHI else POLY_MALFORMED])
            return {}
        if fault == FAULT_BURST:
            frames = session.burst(plan.burst_frames)
            if not frames:
                return None
            conn.push(frames)
            return {"frames": len(frames)}
        if fault == FAULT_STALL:
            conn.stalled = True
            return {"duration_s": plan.stall_s}
        if fault == FAULT_CLEAN_CLOSE:
            conn.push_control(("close", plan.close_code, plan.close_reason))
            return {"code": plan.close_code}
        if fault == FAULT_ABRUPT:
            conn.push_control(("abrupt",))
            return {}
        raise ValueError(f"unknown fault {fault!r}")


async def run_sandbox(workdir: Path | str, pairs: int = 4, seed: int = 0, rate: float = 200.0,
                      faults: str | FaultPlan | None = "none", duration: float | None = None, *,
                      kalshi_era: str = "c", stop: asyncio.Event | None = None,
                      on_ready=None, on_fault=None, scenario_config: ScenarioConfig | None = None,
                      with_fidelity: bool | None = None) -> list[dict]:
    """Serve until `stop` is set or `duration` seconds pass; return the connection stats.

    `on_ready(sandbox)` is called once both servers listen and the files are written;
    `on_fault(row)` as each scripted fault fires. The fidelity events are timed for `duration`.
    """
    async with Sandbox(workdir, pairs=pairs, seed=seed, rate=rate, faults=faults,
                       kalshi_era=kalshi_era, on_fault=on_fault, scenario_config=scenario_config,
                       with_fidelity=with_fidelity, duration_s=duration) as sandbox:
        if on_ready is not None:
            on_ready(sandbox)
        stop = stop or asyncio.Event()
        try:
            await asyncio.wait_for(stop.wait(), timeout=duration)
        except TimeoutError:
            pass
    return sandbox.connection_stats()


class SandboxThread:
    """A `Sandbox` running on its own event loop in a background thread.

    For synchronous callers (and tests of other components): `start()` returns once both
    servers listen; `stop()` shuts down and joins. Takes the same keyword arguments as `Sandbox`.
    """

    def __init__(self, workdir: Path | str, **kwargs) -> None:
        self._args = (workdir, kwargs)
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._stop: asyncio.Event | None = None
        self._error: BaseException | None = None
        self.sandbox: Sandbox | None = None

    def start(self, timeout: float = 30.0) -> SandboxThread:
        """Start serving in the background; raise if the servers did not come up."""
        self._thread = threading.Thread(target=self._run, name="arbkit-sandbox", daemon=True)
        self._thread.start()
        if not self._ready.wait(timeout):
            raise RuntimeError("sandbox did not start in time")
        if self._error is not None:
            raise self._error
        return self

    def _run(self) -> None:
        try:
            asyncio.run(self._main())
        except BaseException as exc:  # surfaced to the caller of start()
            self._error = exc
            self._ready.set()

    async def _main(self) -> None:
        workdir, kwargs = self._args
        self._loop = asyncio.get_running_loop()
        self._stop = asyncio.Event()
        async with Sandbox(workdir, **kwargs) as sandbox:
            self.sandbox = sandbox
            self._ready.set()
            await self._stop.wait()

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the servers and wait for the thread to end."""
        if self._loop is not None and self._stop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
        if self._thread is not None:
            self._thread.join(timeout)

    def __enter__(self) -> SandboxThread:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def kalshi_url(self) -> str:
        return self.sandbox.kalshi_url

    @property
    def polymarket_url(self) -> str:
        return self.sandbox.polymarket_url

    @property
    def config_path(self) -> Path:
        return self.sandbox.config_path

    def connection_stats(self) -> list[dict]:
        """Per-connection sent-frame counts (see `Sandbox.connection_stats`)."""
        return self.sandbox.connection_stats()

    def fault_log(self) -> list[dict]:
        """Faults fired so far."""
        return self.sandbox.fault_log()
