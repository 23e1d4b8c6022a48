"""Live venue connections: one asyncio task per WebSocket, all feeding one ingest path.

`Ingest` is the only place a row gets its `ingest_seq` and receive times; every connection calls
it the moment a frame comes off the socket, for every frame it sends, and for each lifecycle
event (`open`, `close`, `error`). A connection task reconnects forever with exponential backoff
and jitter; only a permanent problem (credentials rejected, unknown market) ends it with a
`UserError`. `arbkit record` and `arbkit live --paper` share this code: the latter passes an
`on_frame` callback that sees every row right after it is appended, in ingest order.
"""

from __future__ import annotations

import asyncio
import functools
import itertools
import json
import logging
import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import msgspec
import websockets
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidStatus, InvalidURI

from arbkit.core.events import KALSHI, POLYMARKET
from arbkit.core.frame import (
    KIND_CLOSE,
    KIND_ERROR,
    KIND_IN,
    KIND_OPEN,
    KIND_OUT,
    STOP_CAUSE,
    Frame,
)
from arbkit.errors import ConfigError, CredentialsError, UserError
from arbkit.venues.kalshi import commands as kalshi_commands
from arbkit.venues.kalshi.auth import WS_PATH, sign_headers
from arbkit.venues.kalshi.decode import TERMINAL_ERROR_CODES
from arbkit.venues.polymarket import commands as polymarket_commands

log = logging.getLogger(__name__)
# websockets logs every handshake header at DEBUG, the Kalshi key id included: never let it.
_ws_log = logging.getLogger(__name__ + ".ws")
_ws_log.setLevel(logging.INFO)

ORDERBOOK_CHANNEL = "orderbook_delta"
MARKET_NOT_FOUND = 16
_ERROR_TEXT_LIMIT = 300

FrameCallback = Callable[[Frame], None]
# Starts no frame: a text frame is UTF-8, which never holds 0xff.
NO_FRAME = b"\xff"

_time_ns = time.time_ns
_monotonic_ns = time.monotonic_ns


RowWriterFactory = Callable[[str, int, str, Callable[[], int], Callable[[], int]], Callable[[bytes], None]]


class Ingest:
    """Stamp, append and publish rows; the one place receive times and `ingest_seq` are assigned.

    `append` is `SessionWriter.append` (or anything with its signature). `on_frame`, when given,
    is called with each row as a `Frame` right after it is appended. `row_writer`, when given, is
    `SessionWriter.row_writer`: received frames then take one call each (see `receiver`).
    """

    def __init__(
        self,
        append: Callable[[int, int, str, int, str, bytes], int],
        session_id: str,
        on_frame: FrameCallback | None = None,
        *,
        row_writer: RowWriterFactory | None = None,
    ) -> None:
        self._append = append
        self._row_writer = row_writer
        self.session_id = session_id
        self.on_frame = on_frame

    def __call__(self, venue: str, conn_id: int, kind: str, payload: bytes) -> int:
        """Append one row stamped now and return its `ingest_seq`."""
        recv_ns = _time_ns()
        mono_ns = _monotonic_ns()
        seq = self._append(recv_ns, mono_ns, venue, conn_id, kind, payload)
        on_frame = self.on_frame
        if on_frame is not None:
            on_frame(Frame(self.session_id, seq, recv_ns, mono_ns, venue, conn_id, kind, payload))
        return seq

    def receiver(self, venue: str, conn_id: int) -> Callable[[bytes], object]:
        """Return the function that records each frame received on one connection (`in` rows)."""
        if self.on_frame is not None:
            return functools.partial(self, venue, conn_id, KIND_IN)
        if self._row_writer is not None:
            return self._row_writer(venue, conn_id, KIND_IN, _time_ns, _monotonic_ns)
        append = self._append

        # The hot path of the recorder: one plain call per frame, nothing else to publish.
        def receive(payload: bytes) -> object:
            return append(_time_ns(), _monotonic_ns(), venue, conn_id, KIND_IN, payload)

        return receive


@dataclass(slots=True)
class VenueStats:
    """Live counters of one venue, read by the status display."""

    venue: str
    connections: int = 0  # configured concurrent connections (Polymarket shards)
    open: int = 0
    frames_in: int = 0
    frames_out: int = 0
    reconnects: int = 0
    errors: int = 0
    last_error: str = ""
    stopping: bool = False

    @property
    def state(self) -> str:
        """`open`, `connecting`, `k/n open` while some shards are down, or `stopped`."""
        if self.stopping:
            return "stopped" if self.open == 0 else "stopping"
        if self.connections and self.open == self.connections:
            return "open"
        if self.open == 0:
            return "connecting"
        return f"{self.open}/{self.connections} open"


@dataclass
class Backoff:
    """Exponential backoff with jitter: first retry after ~`initial_s`, capped at `max_s`."""

    initial_s: float
    max_s: float
    rng: random.Random = field(default_factory=random.Random)
    attempt: int = 0

    def next_delay(self) -> float:
        """Return the next wait and advance; jitter spreads reconnects of many connections."""
        base = min(self.max_s, self.initial_s * (2 ** min(self.attempt, 30)))
        self.attempt += 1
        return self.rng.uniform(base / 2, base)

    def reset(self) -> None:
        """Start over after a connection proved healthy."""
        self.attempt = 0


@dataclass(frozen=True)
class WsOptions:
    """Options of the WebSocket client shared by all connections."""

    permessage_deflate: bool = False
    max_size: int | None = 64 * 2**20
    max_queue: int = 1024
    open_timeout_s: float = 10.0
    close_timeout_s: float = 2.0
    ping_interval_s: float | None = 20.0
    ping_timeout_s: float | None = 20.0

    def connect_kwargs(self) -> dict[str, Any]:
        """Keyword arguments for `websockets.asyncio.client.connect`."""
        return {
            "compression": "deflate" if self.permessage_deflate else None,
            "max_size": self.max_size,
            "max_queue": self.max_queue,
            "open_timeout": self.open_timeout_s,
            "close_timeout": self.close_timeout_s,
            "ping_interval": self.ping_interval_s,
            "ping_timeout": self.ping_timeout_s,
            "proxy": None,
            "logger": _ws_log,
        }


def _json(obj: dict[str, Any]) -> bytes:
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False).encode()


def _describe(exc: BaseException) -> str:
    text = str(exc) or exc.__class__.__name__
    if len(text) > _ERROR_TEXT_LIMIT:
        text = text[: _ERROR_TEXT_LIMIT - 3] + "..."
    return f"{exc.__class__.__name__}: {text}"


class VenueConnection:
    """One WebSocket to one venue, reconnected until `stop` is set.

    Subclasses say how to authenticate (`headers`), what to send after opening (`after_open`),
    how to react to a received frame (`on_message`) and what to check periodically
    (`housekeeping`). Everything received, sent and every lifecycle event becomes a row.
    """

    venue = ""
    housekeeping_interval_s = 0.25
    # A subclass that can predict its next frames sets `expects_frames`, keeps `expected` at the
    # first bytes of the next one and `expected_after` at those of the ones after it: a frame
    # that starts with `expected` is recorded without calling `on_message` (it needs no reaction).
    expects_frames = False
    expected = NO_FRAME
    expected_after: Iterator[bytes] = iter(())

    def __init__(
        self,
        *,
        url: str,
        ingest: Ingest,
        stats: VenueStats,
        conn_ids: itertools.count[int],
        stop: asyncio.Event,
        backoff: Backoff,
        ws_options: WsOptions,
    ) -> None:
        self.url = url
        self.ingest = ingest
        self.stats = stats
        self._conn_ids = conn_ids
        self._stop = stop
        self._backoff = backoff
        self._ws_options = ws_options
        self._close_cause: str | None = None
        self._got_data = False  # book data since the connection opened (Polymarket: since housekeeping)
        self._healthy = False  # book data at some point on this connection
        self._pending_sends: set[asyncio.Task[None]] = set()

    # -- hooks -----------------------------------------------------------------------------

    def headers(self) -> dict[str, str] | None:
        """Extra handshake headers (never recorded)."""
        return None

    def permanent_status(self, status: int) -> UserError | None:
        """The error to stop with when the handshake is refused with `status`, if permanent."""
        return None

    def open_info(self) -> dict[str, Any]:
        """Extra fields of the `open` row."""
        return {}

    async def after_open(self, ws: ClientConnection, conn_id: int) -> None:
        """Send whatever the venue needs first (subscriptions)."""

    def on_message(self, ws: ClientConnection, conn_id: int, data: bytes) -> None:
        """React to one received frame (already recorded); raise `UserError` to stop for good."""

    def housekeeping(self, ws: ClientConnection, conn_id: int, now_mono: float) -> None:
        """Periodic checks while the socket is open (keep-alive, watchdogs, timeouts)."""

    # -- machinery -------------------------------------------------------------------------

    def row(self, conn_id: int, kind: str, payload: bytes) -> int:
        """Record one row for this venue."""
        return self.ingest(self.venue, conn_id, kind, payload)

    def record_error(self, conn_id: int, stage: str, error: str) -> None:
        """Record an `error` row; the text must never hold secrets (ours never do)."""
        self.stats.errors += 1
        self.stats.last_error = error
        self.row(conn_id, KIND_ERROR, _json({"stage": stage, "error": error}))
        log.info("%s conn %d %s error: %s", self.venue, conn_id, stage, error)

    async def send(self, ws: ClientConnection, conn_id: int, payload: bytes) -> None:
        """Send a text frame and record it as `out` (recorded first: the row is the send time)."""
        self.row(conn_id, KIND_OUT, payload)
        self.stats.frames_out += 1
        try:
            await ws.send(payload, text=True)
        except ConnectionClosed:
            pass  # the reader sees the close and records it
        except OSError as exc:
            self.record_error(conn_id, "send", _describe(exc))

    def send_soon(self, ws: ClientConnection, conn_id: int, payload: bytes) -> None:
        """Queue a send from synchronous code; sends keep the order they were queued in."""
        task = asyncio.get_running_loop().create_task(self.send(ws, conn_id, payload))
        self._pending_sends.add(task)
        task.add_done_callback(self._pending_sends.discard)

    def close_soon(self, ws: ClientConnection, cause: str) -> None:
        """Start a clean close; the reader keeps recording until the server's close arrives."""
        if self._close_cause is None:
            self._close_cause = cause
            log.info("%s closing connection: %s", self.venue, cause)
            task = asyncio.get_running_loop().create_task(ws.close(1000, cause[:120]))
            self._pending_sends.add(task)
            task.add_done_callback(self._pending_sends.discard)

    async def run(self) -> None:
        """Connect, record, reconnect until stopped; raise `UserError` for a permanent problem."""
        first = True
        while not self._stop.is_set():
            if not first:
                self.stats.reconnects += 1
                if await self._wait_stop(self._backoff.next_delay()):
                    break
            first = False
            await self._attempt(next(self._conn_ids))

    async def _wait_stop(self, delay: float) -> bool:
        try:
            await asyncio.wait_for(self._stop.wait(), delay)
        except TimeoutError:
            return False
        return True

    async def _attempt(self, conn_id: int) -> None:
        try:
            ws = await connect(self.url, additional_headers=self.headers(), **self._ws_options.connect_kwargs())
        except InvalidStatus as exc:
            status = exc.response.status_code
            self.record_error(conn_id, "handshake", _describe(exc))
            permanent = self.permanent_status(status)
            if permanent is not None:
                raise permanent from None
            return
        except InvalidURI as exc:
            self.record_error(conn_id, "connect", _describe(exc))
            raise ConfigError(f"{self.venue}: invalid ws_url {self.url!r}") from None
        except (OSError, TimeoutError, websockets.exceptions.WebSocketException) as exc:
            self.record_error(conn_id, "connect", _describe(exc))
            return
        self._close_cause = None
        self._got_data = False
        self._healthy = False
        self._pending_sends = set()
        info: dict[str, Any] = {"url": self.url}
        local = ws.local_address
        if local:
            info["local"] = f"{local[0]}:{local[1]}"
        info.update(self.open_info())
        self.row(conn_id, KIND_OPEN, _json(info))
        self.stats.open += 1
        try:
            await self._serve(ws, conn_id)
        finally:
            self.stats.open -= 1
        if self._got_data or self._healthy:
            self._backoff.reset()

    async def _serve(self, ws: ClientConnection, conn_id: int) -> None:
        helpers = [
            asyncio.create_task(self._close_on_stop(ws)),
            asyncio.create_task(self._housekeeping_loop(ws, conn_id)),
        ]
        fatal: UserError | None = None
        closed: ConnectionClosed | None = None
        try:
            await self.after_open(ws, conn_id)
            recv = ws.recv
            receive = self.ingest.receiver(self.venue, conn_id)
            stats = self.stats
            venue = self.venue
            on_message = self.on_message
            expects = self.expects_frames
            while True:
                try:
                    data = await recv(False)
                except ConnectionClosed as exc:
                    closed = exc
                    break
                receive(data)
                stats.frames_in += 1
                if expects and data.startswith(self.expected):
                    self.expected = next(self.expected_after)
                    continue  # predicted, so nothing to react to
                try:
                    on_message(ws, conn_id, data)
                except UserError as exc:
                    fatal = exc
                    self.close_soon(ws, "permanent error")
                except Exception as exc:  # a bug in reacting must never stop the recording
                    log.exception("%s: error handling a frame", venue)
                    self.record_error(conn_id, "handler", _describe(exc))
        finally:
            for task in helpers:
                task.cancel()
            await asyncio.gather(*helpers, return_exceptions=True)
        for task in list(self._pending_sends):
            task.cancel()
        self._record_close(conn_id, closed)
        if fatal is not None:
            raise fatal

    def _record_close(self, conn_id: int, exc: ConnectionClosed | None) -> None:
        rcvd = exc.rcvd if exc is not None else None
        sent = exc.sent if exc is not None else None
        info = {
            "code": rcvd.code if rcvd is not None else 1006,
            "reason": rcvd.reason if rcvd is not None else "",
            "close_frame_received": rcvd is not None,
            "sent_code": sent.code if sent is not None else None,
            "cause": self._close_cause,
        }
        self.row(conn_id, KIND_CLOSE, _json(info))
        log.info("%s conn %d closed: %s", self.venue, conn_id, info)

    async def _close_on_stop(self, ws: ClientConnection) -> None:
        await self._stop.wait()
        self.close_soon(ws, STOP_CAUSE)

    async def _housekeeping_loop(self, ws: ClientConnection, conn_id: int) -> None:
        while True:
            await asyncio.sleep(self.housekeeping_interval_s)
            try:
                self.housekeeping(ws, conn_id, time.monotonic())
            except UserError:
                raise
            except Exception as exc:
                log.exception("%s: housekeeping failed", self.venue)
                self.record_error(conn_id, "housekeeping", _describe(exc))


class _Envelope(msgspec.Struct, gc=False):
    """The fields of a Kalshi frame the recorder acts on; `msg` stays raw unless needed."""

    type: str = ""
    id: int | None = None
    sid: int | None = None
    seq: int | None = None
    msg: msgspec.Raw = msgspec.field(default_factory=msgspec.Raw)


class _ReplyMsg(msgspec.Struct, gc=False):
    channel: str | None = None
    sid: int | None = None
    code: int | None = None
    msg: str | None = None
    market_ticker: str | None = None


_decode_envelope = msgspec.json.Decoder(_Envelope).decode
_reply_decoder = msgspec.json.Decoder(_ReplyMsg)


def read_envelope(data: bytes) -> _Envelope | None:
    """Read a Kalshi frame's envelope (with its `msg` as a reply); None if it has none."""
    try:
        frame = _decode_envelope(data)
    # ValueError: invalid UTF-8 in a string; RecursionError: nested deeper than the stack.
    except (msgspec.DecodeError, ValueError, RecursionError):
        return None
    return frame


def read_reply(raw: msgspec.Raw) -> _ReplyMsg:
    """Read the reply fields of a frame's `msg`; all of them None when it has none."""
    try:
        return _reply_decoder.decode(raw)
    # e.g. `ok` to list_subscriptions carries a list; or bad UTF-8, or nesting past the stack.
    except (msgspec.DecodeError, ValueError, RecursionError):
        return _ReplyMsg()


_SEQUENCED = frozenset({"orderbook_delta", "orderbook_snapshot", "ok", "unsubscribed", "error"})
# How an orderbook_delta frame starts, up to its seq digits (compact, and as PROTOCOLS §1 prints it):
# {"type":"orderbook_delta","sid":7,"seq":2,"msg":{...}}
_DELTA_HEADS = (b'{"type":"orderbook_delta","sid":%d,"seq":', b'{"type": "orderbook_delta", "sid": %d, "seq": ')


class KalshiConnection(VenueConnection):
    """Kalshi: signed handshake, one `orderbook_delta` subscription, seq-gap repair.

    `seq` is checked per sid with the decoder's rule (any step other than +1 on a sequenced
    frame is a gap). Nearly every frame is the next delta of the orderbook sid; it is expected
    (see `VenueConnection.expected`) by its first bytes alone
    (`{"type":"orderbook_delta","sid":S,"seq":N+1,`), which already say everything the check
    needs. Any other frame's envelope (`type`, `id`, `sid`, `seq`) is read with a small msgspec
    struct. On a gap the sid's markets are asked for fresh snapshots
    (`get_snapshot`); if they do not all come within `snapshot_timeout_s` the subscription is
    replaced. Errors 10/17/25 end a subscription on the server: it is replaced at once. Error 16
    (unknown market) is permanent.
    """

    venue = KALSHI
    expects_frames = True

    def __init__(
        self,
        *,
        key_id: str,
        private_key: Any,
        tickers: Sequence[str],
        channels: Sequence[str],
        use_yes_price: bool,
        snapshot_timeout_s: float = 5.0,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self._key_id = key_id
        self._private_key = private_key
        self._path = urlsplit(self.url).path or WS_PATH
        self.tickers = list(tickers)
        self.extra_channels = [c for c in channels if c != ORDERBOOK_CHANNEL]
        self.use_yes_price = use_yes_price
        self.snapshot_timeout_s = snapshot_timeout_s
        self.gaps = 0
        self.resubscribes = 0

    def __repr__(self) -> str:  # the key id stays out of any traceback or log line
        return f"KalshiConnection(url={self.url!r}, tickers={len(self.tickers)})"

    def headers(self) -> dict[str, str]:
        return sign_headers(self._key_id, self._private_key, time.time_ns() // 1_000_000, path=self._path)

    def permanent_status(self, status: int) -> UserError | None:
        if status in (401, 403):
            return CredentialsError(
                f"Kalshi rejected the API key (HTTP {status}) at {self.url}: check key_id and "
                "private_key_path in [venues.kalshi], and that the host clock is right"
            )
        return None

    async def after_open(self, ws: ClientConnection, conn_id: int) -> None:
        self._req_ids = itertools.count(1)
        self._requested: dict[int, list[str]] = {}  # subscribe id -> channels asked for
        self._sid_channel: dict[int, str] = {}
        self._last_seq: dict[int, int] = {}
        self._retired: set[int] = set()  # sids we dropped: their last frames are no gap to repair
        self._awaiting: dict[int, tuple[float, set[str]]] = {}  # sid -> (deadline, markets)
        self._disarm()
        await self._subscribe(ws, conn_id, [ORDERBOOK_CHANNEL])
        if self.extra_channels:
            await self._subscribe(ws, conn_id, self.extra_channels)

    def _subscribe_command(self, channels: list[str]) -> bytes:
        req_id = next(self._req_ids)
        self._requested[req_id] = channels
        use_yes = self.use_yes_price if ORDERBOOK_CHANNEL in channels else None
        return kalshi_commands.subscribe(req_id, channels, self.tickers, use_yes_price=use_yes)

    async def _subscribe(self, ws: ClientConnection, conn_id: int, channels: list[str]) -> None:
        await self.send(ws, conn_id, self._subscribe_command(channels))

    def on_message(self, ws: ClientConnection, conn_id: int, data: bytes) -> None:
        self._settle()
        frame = read_envelope(data)
        if frame is None:
            return  # recorded as received; replay's decoder counts it
        self._on_envelope(ws, conn_id, frame)
        sid, seq = frame.sid, frame.seq
        if frame.type == "orderbook_delta" and sid is not None and seq is not None and self._last_seq.get(sid) == seq:
            self._arm(sid, seq, data)

    def _settle(self) -> None:
        """Hand the armed sid's seq back to `_last_seq`, which everything but the fast path uses."""
        if self._delta_sid is not None:
            self._last_seq[self._delta_sid] = int(self.expected[len(self._delta_head) : -1]) - 1
        self._disarm()

    def _disarm(self) -> None:
        self._delta_sid: int | None = None
        self._delta_head = b""
        self.expected = NO_FRAME
        self.expected_after = iter(())

    def _arm(self, sid: int, seq: int, data: bytes) -> None:
        """Expect the next deltas of `sid`, recognised by their first bytes written as this one's."""
        for template in _DELTA_HEADS:
            head = template % sid
            if data.startswith(b"%s%d," % (head, seq)):
                self._delta_sid, self._delta_head = sid, head
                # The prefixes of seq+1, seq+2, ... made on demand, each in one C call.
                self.expected_after = map((head + b"%d,").__mod__, itertools.count(seq + 1))
                self.expected = next(self.expected_after)
                return

    def _on_envelope(self, ws: ClientConnection, conn_id: int, frame: _Envelope) -> None:
        kind = frame.type
        sid = frame.sid
        seq = frame.seq
        if sid is not None and seq is not None and kind in _SEQUENCED and sid not in self._retired:
            last = self._last_seq.get(sid)
            self._last_seq[sid] = seq
            if last is not None and seq != last + 1:
                self._on_gap(ws, conn_id, sid, last + 1, seq)
        if kind == "orderbook_delta":
            self._got_data = True
        elif kind == "orderbook_snapshot":
            self._got_data = True
            if self._awaiting and frame.msg:
                market = read_reply(frame.msg).market_ticker
                if market is not None:
                    self._snapshot_arrived(market)
        elif kind == "subscribed" and frame.msg:
            reply = read_reply(frame.msg)
            if reply.sid is not None:
                self._sid_channel[reply.sid] = reply.channel or ORDERBOOK_CHANNEL
            if frame.id is not None:
                self._requested.pop(frame.id, None)
        elif kind == "unsubscribed" and sid is not None:
            self._last_seq.pop(sid, None)
        elif kind == "error":
            self._on_error(ws, conn_id, frame, read_reply(frame.msg) if frame.msg else _ReplyMsg())

    def _snapshot_arrived(self, market: str) -> None:
        for sid, (deadline, markets) in list(self._awaiting.items()):
            markets.discard(market)
            if not markets:
                del self._awaiting[sid]

    def _on_gap(self, ws: ClientConnection, conn_id: int, sid: int, expected: int, got: int) -> None:
        self.gaps += 1
        if self._sid_channel.get(sid, ORDERBOOK_CHANNEL) != ORDERBOOK_CHANNEL:
            return
        log.info("kalshi sid %d seq gap (expected %d, got %d): asking for snapshots", sid, expected, got)
        # One orderbook sid carries every configured ticker, so a gap invalidates them all.
        if sid in self._awaiting:
            self._awaiting[sid][1].update(self.tickers)
            return
        self._awaiting[sid] = (time.monotonic() + self.snapshot_timeout_s, set(self.tickers))
        command = kalshi_commands.update_subscription(next(self._req_ids), sid, "get_snapshot", self.tickers)
        self.send_soon(ws, conn_id, command)

    def _on_error(self, ws: ClientConnection, conn_id: int, frame: _Envelope, error: _ReplyMsg) -> None:
        if error.code == MARKET_NOT_FOUND:
            market = error.market_ticker
            what = f"market {market!r}" if market else "one of the markets " + ", ".join(self.tickers)
            raise ConfigError(f"Kalshi does not know {what} (error 16 market not found): check kalshi_ticker in [[pairs]]")
        if error.code not in TERMINAL_ERROR_CODES:
            log.warning("kalshi error %s: %s", error.code, error.msg)
            return
        log.info("kalshi error %s (%s): replacing the subscription", error.code, error.msg)
        sid = error.sid if error.sid is not None else frame.sid
        if sid is not None:
            self._replace(ws, conn_id, [sid], alive=False)
        elif frame.id in self._requested:
            # Our subscribe itself failed: ask again for the same channels.
            self.resubscribes += 1
            self.send_soon(ws, conn_id, self._subscribe_command(self._requested.pop(frame.id)))  # type: ignore[arg-type]
        else:
            self._replace(ws, conn_id, list(self._sid_channel), alive=True)

    def _replace(self, ws: ClientConnection, conn_id: int, sids: list[int], *, alive: bool) -> None:
        """Unsubscribe (if the server still has them) and subscribe again to the same channels."""
        self._settle()
        self.resubscribes += 1
        channels: list[str] = []
        for sid in sids:
            self._awaiting.pop(sid, None)
            self._last_seq.pop(sid, None)
            self._retired.add(sid)
            channel = self._sid_channel.pop(sid, ORDERBOOK_CHANNEL)
            if channel not in channels:
                channels.append(channel)
        if not channels:
            channels = [ORDERBOOK_CHANNEL, *self.extra_channels]
        if alive and sids:
            self.send_soon(ws, conn_id, kalshi_commands.unsubscribe(next(self._req_ids), sids))
        orderbook = [c for c in channels if c == ORDERBOOK_CHANNEL]
        others = [c for c in channels if c != ORDERBOOK_CHANNEL]
        for group in (orderbook, others):
            if group:
                self.send_soon(ws, conn_id, self._subscribe_command(group))

    def housekeeping(self, ws: ClientConnection, conn_id: int, now_mono: float) -> None:
        late = [sid for sid, (deadline, _) in self._awaiting.items() if now_mono >= deadline]
        if late:
            log.info("kalshi: no snapshot within %.1fs for sids %s: resubscribing", self.snapshot_timeout_s, late)
            self._replace(ws, conn_id, late, alive=True)


class PolymarketConnection(VenueConnection):
    """Polymarket: one market subscription per connection, text PING keep-alive, stall watchdog.

    The watchdog catches the known silent freeze (socket open, PONGs flowing, no book data; see
    PROTOCOLS §3.6): when none of this connection's assets has had book data for
    `stale_after_s`, the connection is closed and reopened, which re-sends the initial dump.
    """

    venue = POLYMARKET

    def __init__(
        self,
        *,
        assets: Sequence[str],
        shard: int,
        custom_feature_enabled: bool,
        ping_interval_s: float,
        stale_after_s: float,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.assets = list(assets)
        self.shard = shard
        self.custom_feature_enabled = custom_feature_enabled
        self.ping_interval_s = ping_interval_s
        self.stale_after_s = stale_after_s
        self.stalls = 0

    def open_info(self) -> dict[str, Any]:
        return {"shard": self.shard, "assets": len(self.assets)}

    async def after_open(self, ws: ClientConnection, conn_id: int) -> None:
        now = time.monotonic()
        self._last_data = now
        # PING only after the subscription: a PING first gets the socket closed with 1008.
        await self.send(
            ws,
            conn_id,
            polymarket_commands.market_subscription(
                self.assets, initial_dump=True, custom_feature_enabled=self.custom_feature_enabled
            ),
        )
        self._next_ping = now + self.ping_interval_s

    def on_message(self, ws: ClientConnection, conn_id: int, data: bytes) -> None:
        # Book data is JSON (an object or an array of events); `PONG` and `INVALID OPERATION` are not.
        if data and (data[0] == 0x5B or data[0] == 0x7B):
            self._got_data = True

    def housekeeping(self, ws: ClientConnection, conn_id: int, now_mono: float) -> None:
        # The watchdog's clock is this pass: book data is noted per frame, timed here.
        if self._got_data:
            self._got_data = False
            self._healthy = True
            self._last_data = now_mono
        if self._close_cause is not None:
            return
        if now_mono - self._last_data >= self.stale_after_s:
            self.stalls += 1
            self.close_soon(ws, f"stale: no book data for {self.stale_after_s:g}s")
            return
        if now_mono >= self._next_ping:
            self._next_ping = now_mono + self.ping_interval_s
            self.send_soon(ws, conn_id, polymarket_commands.PING)
