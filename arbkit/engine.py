"""The engine: one synchronous object that live paper trading and replay share (DESIGN §2, §4).

`Engine.process(frame)` takes one recorded row (a received frame, a frame we sent, or a
connection event) and returns the output rows it caused. Its clock is the running maximum of the
rows' `recv_ns`; nothing here reads wall time. `recv_ns` is the recorder's wall clock, which NTP
can step back: a row received "earlier" than one before it is processed at the later time, so
engine time never runs backwards (a book's last update never predates one already seen, a stale
window cannot look fresh again, a dated fee change already applied is not undone, queued orders
and the staleness grid only move forward). Rows keep their order; only their time is clamped. Work that is due later (paper orders arriving after their latency)
runs before the first frame whose `recv_ns` is at or after its due time, in live and replay alike.

Pipeline per received frame: decode (one decoder per connection) → books → detector → risk →
paper orders → (later) fills → portfolio.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Sequence
from typing import Any, Final

import msgspec
import orjson

from arbkit.config import Config
from arbkit.core.book import Book, BookManager
from arbkit.core.detector import CLOSED, OPENED, Detector, DetectorEvent
from arbkit.core.events import (
    INVALID_DISCONNECT,
    KALSHI,
    POLYMARKET,
    VENUES,
    BookInvalid,
    BookSnapshot,
    DecodeError,
    Event,
    LevelDelta,
    LevelSet,
    Resolution,
    SeqGap,
)
from arbkit.core.fills import FillSimulator, TradeOutcome
from arbkit.core.frame import KIND_CLOSE, KIND_IN, KIND_OPEN, KIND_OUT, STOP_CAUSE, Frame
from arbkit.core.latency import LatencyModel, latency_model_from_config
from arbkit.core.portfolio import PnlRow, Portfolio, PositionRow
from arbkit.core.risk import RiskManager, RiskState
from arbkit.venues import Decoder, make_decoder

Output = tuple[str, dict[str, Any]]

# Within a compiled native int's 63 bits (2116 in epoch ns), so compared without boxing.
_FOREVER: Final = 2**62 - 1
_NOT_SAMPLED: Final = -_FOREVER
# Final: compiled, these are C statics rather than a module-dict lookup at every row.
_KIND_IN: Final = KIND_IN
_KIND_OUT: Final = KIND_OUT
_KIND_OPEN: Final = KIND_OPEN
_KIND_CLOSE: Final = KIND_CLOSE
_POSITIONS: Final = PositionRow.table
_PNL: Final = PnlRow.table


class _Connection:
    __slots__ = ("venue", "decoder", "decode_levels", "markets", "books", "open_ns", "pairs")

    def __init__(
        self, venue: str, decoder: Decoder, open_ns: int, pairs: dict[str, tuple[int, ...]]
    ) -> None:
        self.venue = venue
        self.decoder = decoder
        self.decode_levels = decoder.decode_levels
        # Markets this connection delivered book events for (invalidated when it closes).
        self.markets: set[str] = set()
        # The same books as objects -> `pairs` of their market: one lookup per frame.
        self.books: dict[Book, tuple[int, ...]] = {}
        self.open_ns = open_ns
        # market -> indices of the pairs reading its book, for this venue (a decoder's events
        # are all of its own venue).
        self.pairs = pairs

    def set_decoder(self, decoder: Decoder) -> None:
        """Decode what the connection receives from now on with `decoder`."""
        self.decoder = decoder
        self.decode_levels = decoder.decode_levels

    def add_book(self, book: Book) -> tuple[int, ...]:
        """Note that the connection delivered events for `book`; return its pairs' indices."""
        self.markets.add(book.market)
        indices = self.books[book] = self.pairs.get(book.market, ())
        return indices


class _BookStats:
    """Health of one book: sequence gaps, invalidations, and its staleness sampled on a fixed
    grid of engine time (every `STALENESS_SAMPLE_NS`), which weighs every moment equally.

    Samples go into a log histogram with four buckets per octave (~19% wide), so the
    percentiles are within that of the sampled values; the maximum is exact for the samples.

    Between two updates of the book its samples are one arithmetic run (grid point minus the
    same last update), so a run is added once, when the book's last update is seen to change
    (`note`) or when the figures are read (`settle`), not grid point by grid point.
    """

    __slots__ = (
        "gaps",
        "invalid_reasons",
        "samples",
        "count",
        "max_sample",
        "book",
        "seen_ns",
        "pending_from",
    )

    def __init__(self) -> None:
        self.gaps = 0
        self.invalid_reasons: dict[str, int] = {}
        self.samples = [0] * _BUCKETS
        self.count = 0
        self.max_sample = 0
        # The book, once it exists (a BookManager never replaces a Book).
        self.book: Book | None = None
        # The book's last update as of the pending run (None: no update, no samples yet), and
        # the first grid point of that run, which reaches every grid point sampled since.
        self.seen_ns: int | None = None
        self.pending_from = 0

    def note(self, last_update_ns: int | None, first: int, step: int) -> None:
        """Before sampling the grid points from `first`: start a new run if the book's last
        update changed, adding the run it ends."""
        if last_update_ns != self.seen_ns:
            self.settle(first, step)
            self.seen_ns = last_update_ns
            self.pending_from = first

    def settle(self, upto: int, step: int) -> None:
        """Add the pending run's samples at the grid points before `upto`."""
        seen = self.seen_ns
        start = self.pending_from
        if seen is not None and start < upto:
            self.add_range(start - seen, step, (upto - start) // step)
            self.pending_from = upto

    def add_range(self, first: int, step: int, count: int) -> None:
        """Add the samples first, first + step, ... (count of them) without a loop over them."""
        last = first + (count - 1) * step
        samples = self.samples
        if count == 1 or count == 2:
            # Books updated more often than the grid leave runs of a sample or two: add them as is.
            samples[_bucket(first)] += 1
            if count == 2:
                samples[_bucket(last)] += 1
            self.count += count
            if last > self.max_sample:
                self.max_sample = last
            return
        # How many of the samples lie below each bucket's upper end: none below the first's.
        below = 0
        for bucket in range(_bucket(first), _bucket(last) + 1):
            upto = -((first - _bucket_low(bucket + 1)) // step)
            if upto > count:
                upto = count
            samples[bucket] += upto - below
            below = upto
        self.count += count
        self.max_sample = max(self.max_sample, last)

    def percentiles(self, quantiles: Sequence[float]) -> list[int | None]:
        """The sampled staleness at each quantile (a bucket's middle), None before any sample."""
        if not self.count:
            return [None] * len(quantiles)
        results: list[int | None] = []
        for q in quantiles:
            needed, seen = q * self.count, 0
            for bucket, n in enumerate(self.samples):
                seen += n
                if n and seen >= needed:
                    results.append(min(_bucket_mid(bucket), self.max_sample))
                    break
        return results


STALENESS_SAMPLE_NS = 100_000_000  # book staleness is sampled every 100 ms of engine time
_BUCKETS = 64 * 4


def _bucket(value: int) -> int:
    """Log bucket of a non-negative value: two mantissa bits under the leading one."""
    bits = value.bit_length()
    if bits <= 3:
        return value
    return bits * 4 + ((value >> (bits - 3)) & 3) - 8


def _bucket_low(index: int) -> int:
    """The smallest value in bucket `index` (the inverse of `_bucket`)."""
    if index <= 7:
        return index
    bits, mantissa = divmod(index + 8, 4)
    return (4 + mantissa) << (bits - 3)


def _bucket_mid(index: int) -> int:
    """The middle of bucket `index`, the value its samples are reported as."""
    return (_bucket_low(index) + _bucket_low(index + 1)) // 2


class Engine:
    """Turns frames, in recorded order, into decision outputs; deterministic for a config."""

    def __init__(self, config: Config, latency: LatencyModel | None = None) -> None:
        """Build the engine; `latency` overrides the config's model (e.g. an empirical one)."""
        self.config = config
        self.books = BookManager()
        self.detector = Detector(config.pairs, config.detector)
        self.rng = random.Random(config.latency.seed)
        self.risk = RiskManager(config.risk, config.detector)
        self.portfolio = Portfolio(self.detector.pairs)
        self.fills = FillSimulator(
            self.detector.pairs,
            latency or latency_model_from_config(config.latency),
            self.rng,
            config.fills.on_unmatched,
        )
        # Open connections by (session, venue, conn_id), in the order they opened; a session's
        # rows come after the previous session's connections are closed, so these are all of
        # the current session.
        self._connections: dict[tuple[str, str, int], _Connection] = {}
        # The same by venue then conn_id: two lookups of interned values, no key to build.
        self._live: dict[str, dict[int, _Connection]] = {}
        self._session: str | None = None
        # venue -> market -> indices (ascending) of the pairs reading that book; equal tuples
        # are one object, so books of the same pairs compare by identity.
        self._pair_index: dict[str, dict[str, tuple[int, ...]]] = {}
        for i, spec in enumerate(self.detector.pairs):
            for venue, market in spec.markets():
                known = self._pair_index.setdefault(venue, {}).get(market, ())
                if i not in known:
                    self._pair_index[venue][market] = (*known, i)
        # venue -> market -> health of every book a pair reads.
        self._health: dict[str, dict[str, _BookStats]] = {
            venue: {market: _BookStats() for market in markets}
            for venue, markets in self._pair_index.items()
        }
        for venue in VENUES:
            self._health.setdefault(venue, {})
        self._tracked = _tracked(self._health)
        interned: dict[tuple[int, ...], tuple[int, ...]] = {}
        for venue_pairs in self._pair_index.values():
            for market, indices in venue_pairs.items():
                venue_pairs[market] = interned.setdefault(indices, indices)
        # Arrival time of the next queued paper order (kept in step with every submit and run).
        self._due = _FOREVER
        # Next point of the staleness sampling grid (set by the first frame).
        self._next_sample = _NOT_SAMPLED
        self.frames = 0
        self.decode_errors = 0
        # (venue, what went wrong) -> count, e.g. ("kalshi", "malformed"): for run summaries.
        self.decode_error_kinds: dict[tuple[str, str], int] = {}
        # Book counters (updates, snapshots, ignored, invalidations) when a window began, so
        # book_health counts the window only; empty for a whole replay.
        self._health_base: dict[tuple[str, str], tuple[int, int, int, int]] = {}
        # (venue, market) -> whether the book was valid just before the recorder's stop closed
        # its connection: the stop's own disconnect says nothing about the book.
        self._valid_at_stop: dict[tuple[str, str], bool] = {}
        self.last_ns = 0
        self.last_ingest_seq = -1

    # -- frames ----------------------------------------------------------------------------

    def process(self, frame: Frame) -> list[Output]:
        """Process one recorded row; return the output rows it caused, in order."""
        return self.process_row(
            frame.session_id,
            frame.ingest_seq,
            frame.recv_ns,
            frame.venue,
            frame.conn_id,
            frame.kind,
            frame.payload,
        )

    def process_row(
        self,
        session_id: str,
        ingest_seq: int,
        recv_ns: int,
        venue: str,
        conn_id: int,
        kind: str,
        payload: bytes,
    ) -> list[Output]:
        """`process` without building a Frame."""
        return self.process_rows(
            [session_id], [ingest_seq], [recv_ns], [venue], [conn_id], [kind], [payload]
        )

    def process_rows(
        self,
        session_ids: list[str],
        ingest_seqs: list[int],
        recv_ns: list[int],
        venues: list[str],
        conn_ids: list[int],
        kinds: list[str],
        payloads: list[bytes],
    ) -> list[Output]:
        """Process consecutive recorded rows given as aligned column lists: the replay hot path.

        Return the output rows they caused, in order, as `process` on each row in turn would.
        """
        outputs: list[Output] = []
        if not payloads:
            return outputs
        live = self._live
        detector = self.detector
        books = self.books
        # Typed here: a zip of seven lists is past typeshed's overloads, which would make them
        # Any. The int columns are read as the Python ints they are (`now`, `seq`, `conn_id`),
        # with native copies where compared: compiled, an int is boxed anew (allocated) at each
        # hand-over to code that takes an object, such as decoders, books and dict keys.
        times: list[Any] = recv_ns
        seqs: list[Any] = ingest_seqs
        ids: list[Any] = conn_ids
        session_id: str
        now: Any = None
        seq: Any = None
        # The engine clock: the largest recv_ns so far, as the Python int and as a native copy.
        clock: Any = self.last_ns
        clock_ns: int = clock
        venue: str
        conn_id: Any
        kind: str
        payload: bytes
        for session_id, seq, now, venue, conn_id, kind, payload in zip(
            session_ids, seqs, times, venues, ids, kinds, payloads
        ):
            now_ns: int = now
            if now_ns < clock_ns:
                # The wall clock stepped back: engine time holds until it catches up.
                now = clock
                now_ns = clock_ns
            else:
                clock = now
                clock_ns = now_ns
            ingest_seq: int = seq
            if self._due <= now_ns:
                self._run_due(now_ns, outputs)
            if now_ns >= self._next_sample:
                self._sample_staleness(now_ns)
            if session_id is not self._session and session_id != self._session:
                self._new_session(session_id, now_ns, ingest_seq, outputs)
            if kind == _KIND_IN:
                by_id = live.get(venue)
                conn = by_id.get(conn_id) if by_id is not None else None
                if conn is None:
                    # No `open` row (before --start, or none recorded): up from now.
                    conn = self._open(session_id, venue, conn_id, now_ns)
                # A received frame, inlined (the hot path): decode, books, then the detector on
                # the pairs whose books changed. The decoders apply the level updates of most
                # frames as they read them; other level updates are applied from their events,
                # and frames of more (snapshots, gaps, resolutions, ...) take the general path,
                # `_received_any`.
                touched: list[Book] = []
                applied: list[BookInvalid] = []
                events = conn.decode_levels(payload, now, books, touched, applied)
                invalid: list[BookInvalid] | None = applied
                if events is not None:
                    invalid = books.apply_levels(conn.venue, now, events, touched)
                    if invalid is None:
                        self._received_any(conn, events, now_ns, ingest_seq, outputs)
                if invalid is not None:
                    if invalid:
                        self._book_events(invalid, now_ns, ingest_seq, outputs)
                    # Usually one tuple of pair indices (a level update, or a Polymarket frame
                    # changing both tokens of one pair); a set only when several pairs changed.
                    first: tuple[int, ...] | None = None
                    union: set[int] | None = None
                    known = conn.books
                    for book in touched:
                        indices = known.get(book)
                        if indices is None:
                            indices = conn.add_book(book)
                        if indices and indices is not first:
                            if first is None:
                                first = indices
                            else:
                                if union is None:
                                    union = set(first)
                                union.update(indices)
                    if first is not None:
                        ordered = first if union is None else sorted(union)
                        ticked = detector.on_pairs_changed(ordered, now_ns, ingest_seq, books)
                        if ticked:
                            self._detector_events(ticked, outputs)
            elif kind == _KIND_OUT:
                found = self._connections.get((session_id, venue, conn_id))
                self._sent(found or self._open(session_id, venue, conn_id, now_ns), payload)
            elif kind == _KIND_OPEN:
                self._open(session_id, venue, conn_id, now_ns)
            elif kind == _KIND_CLOSE:
                if _is_stop(payload):
                    self._note_stop((session_id, venue, conn_id))
                self._close((session_id, venue, conn_id), now_ns, ingest_seq, outputs)
            if now_ns >= detector.next_tick_ns:
                ticked = detector.on_tick(now_ns, ingest_seq, self.books)
                if ticked:
                    self._detector_events(ticked, outputs)
        # Nothing reads these while a batch runs: set them once for its last row.
        self.frames += len(payloads)
        self.last_ns = now
        self.last_ingest_seq = seq
        return outputs

    def finish(self) -> list[Output]:
        """Close everything still open at the end of the data; return the final outputs.

        Orders still in flight arrive against the books as they were last seen, so every
        approved trade ends with an outcome.
        """
        outputs: list[Output] = []
        self._detector_events(self.detector.close_all(self.last_ns, self.last_ingest_seq), outputs)
        self._run_due(_FOREVER, outputs)
        self._snapshot(self.last_ns, outputs)
        return outputs

    def _run_due(self, now_ns: int, outputs: list[Output]) -> None:
        finished = False
        for order in self.fills.due(now_ns):
            rows = self.fills.execute(order, self.books, order.arrival_ns)
            self.portfolio.apply(rows)
            for row in rows:
                outputs.append((row.table, msgspec.structs.asdict(row)))
                if row.__class__ is TradeOutcome:
                    finished = True
                    last = row.ns
        due = self.fills.next_due_ns()
        self._due = _FOREVER if due is None else due
        if finished:
            self._snapshot(last, outputs)

    def _sample_staleness(self, now_ns: int) -> None:
        """Sample every tracked book's staleness at the grid points up to `now_ns`.

        Runs before the frame at `now_ns` is applied: between two frames no book changes, so
        every grid point since the last frame sees the books as they are now.
        """
        step = STALENESS_SAMPLE_NS
        first = self._next_sample
        if first != _NOT_SAMPLED:
            for venue, market, stats in self._tracked:
                book = stats.book
                if book is None:
                    book = stats.book = self.books.get(venue, market)
                    if book is None:
                        continue
                # Engine time never steps back, so a book's last update predates `first`. The
                # same object as when last noted means no update since (most books, most points).
                last = book.last_update_ns
                if last is not stats.seen_ns:
                    stats.note(last, first, step)
        self._next_sample = (now_ns // step + 1) * step

    def _snapshot(self, now_ns: int, outputs: list[Output]) -> None:
        positions, pnl = self.portfolio.snapshot_outputs(now_ns, self.books)
        for row in positions:
            outputs.append((_POSITIONS, row))
        outputs.append((_PNL, pnl))

    # -- connections -----------------------------------------------------------------------

    def _new_session(
        self, session_id: str, recv_ns: int, ingest_seq: int, outputs: list[Output]
    ) -> None:
        if self._session is not None:
            # A session that ended without close rows (a crash) leaves no connection standing.
            for key in [k for k in self._connections if k[0] == self._session]:
                self._close(key, recv_ns, ingest_seq, outputs)
        self._valid_at_stop.clear()  # a new session's books say how things stand now
        self._session = session_id

    def _open(self, session_id: str, venue: str, conn_id: int, open_ns: int) -> _Connection:
        use_yes_price = self.config.venues.kalshi.use_yes_price if venue == KALSHI else False
        decoder = make_decoder(venue, use_yes_price)
        conn = _Connection(venue, decoder, open_ns, self._pair_index.get(venue, {}))
        self._connections[(session_id, venue, conn_id)] = conn
        self._live.setdefault(venue, {})[conn_id] = conn
        return conn

    def _close(
        self, key: tuple[str, str, int], recv_ns: int, ingest_seq: int, outputs: list[Output]
    ) -> None:
        conn = self._connections.pop(key, None)
        if conn is None:
            return
        del self._live[key[1]][key[2]]
        if not conn.markets:
            return
        invalid = self.books.invalidate_markets(conn.venue, conn.markets, INVALID_DISCONNECT, recv_ns)
        self._book_events(invalid, recv_ns, ingest_seq, outputs)

    def _note_stop(self, key: tuple[str, str, int]) -> None:
        conn = self._connections.get(key)
        if conn is None:
            return
        for market in conn.markets:
            book = self.books.get(conn.venue, market)
            self._valid_at_stop[(conn.venue, market)] = bool(book and book.valid)

    def _sent(self, conn: _Connection, payload: bytes) -> None:
        # The subscribe command we sent says how Kalshi will quote NO: record it, replay it.
        if conn.venue != KALSHI:
            return
        try:
            command = orjson.loads(payload)
        except orjson.JSONDecodeError:
            return
        if isinstance(command, dict) and command.get("cmd") == "subscribe":
            params = command.get("params")
            if isinstance(params, dict) and "use_yes_price" in params:
                # Sent before any book arrives on the connection: a fresh decoder loses nothing.
                conn.set_decoder(make_decoder(KALSHI, bool(params["use_yes_price"])))

    def venue_up_since(self, venue: str) -> int | None:
        """The earliest open time among the venue's open connections, or None when none is up."""
        times = [
            c.open_ns
            for k, c in self._connections.items()
            if c.venue == venue and k[0] == self._session
        ]
        return min(times) if times else None

    # -- frames received -------------------------------------------------------------------

    def _received_any(
        self,
        conn: _Connection,
        events: list[Event],
        recv_ns: int,
        ingest_seq: int,
        outputs: list[Output],
    ) -> None:
        """Apply a received frame's events of any kind (`process_rows` inlines level updates).

        Resolutions are settled before the frame's books change.
        """
        pairs = conn.pairs
        markets = conn.markets
        first: tuple[int, ...] | None = None
        union: set[int] | None = None
        event: Any
        for event in events:
            cls = type(event)
            if cls is LevelDelta or cls is LevelSet or cls is BookSnapshot:
                market = event.market
                markets.add(market)
                indices = pairs.get(market)
                if indices is not None and indices is not first:
                    if first is None:
                        first = indices
                    else:
                        if union is None:
                            union = set(first)
                        union.update(indices)
            elif cls is DecodeError:
                self.decode_errors += 1
                error = (event.venue, _error_kind(event.reason))
                self.decode_error_kinds[error] = self.decode_error_kinds.get(error, 0) + 1
            elif cls is SeqGap:
                for market in event.markets:
                    stats = self._health[event.venue].get(market)
                    if stats is not None:  # only the pairs' books are tracked
                        stats.gaps += 1
            elif cls is Resolution:
                self._resolution(event, outputs)
        invalid = self.books.apply(events)
        if invalid:
            self._book_events(invalid, recv_ns, ingest_seq, outputs)
        if first is not None:
            ordered = first if union is None else sorted(union)
            ticked = self.detector.on_pairs_changed(ordered, recv_ns, ingest_seq, self.books)
            if ticked:
                self._detector_events(ticked, outputs)

    def _pairs_changed(
        self, books: Iterable[tuple[str, str]], recv_ns: int, ingest_seq: int, outputs: list[Output]
    ) -> None:
        pair_index = self._pair_index
        found: list[tuple[int, ...]] = []
        for venue, market in books:
            pairs = pair_index.get(venue)
            indices = None if pairs is None else pairs.get(market)
            if indices is not None:
                found.append(indices)
        if not found:
            return
        # Books of the same pairs share one interned tuple: no set needed then.
        first = found[0]
        ordered = first if all(f is first for f in found) else sorted(set().union(*found))
        ticked = self.detector.on_pairs_changed(ordered, recv_ns, ingest_seq, self.books)
        if ticked:
            self._detector_events(ticked, outputs)

    def _book_events(
        self, invalid: Sequence[BookInvalid], recv_ns: int, ingest_seq: int, outputs: list[Output]
    ) -> None:
        for event in invalid:
            stats = self._health[event.venue].get(event.market)
            if stats is not None:
                stats.invalid_reasons[event.reason] = stats.invalid_reasons.get(event.reason, 0) + 1
        self._pairs_changed([(e.venue, e.market) for e in invalid], recv_ns, ingest_seq, outputs)

    def _resolution(self, event: Resolution, outputs: list[Output]) -> None:
        if self.portfolio.on_resolution(event):
            self._snapshot(event.recv_ns, outputs)

    # -- decisions -------------------------------------------------------------------------

    def _detector_events(self, events: list[DetectorEvent], outputs: list[Output]) -> None:
        for event in events:
            if event.kind == CLOSED:
                outputs.append(("opportunities", _window_row(event)))
            elif event.kind == OPENED:
                self._on_opened(event, outputs)
            # A new peak needs no row of its own: the window's row carries its peak when it closes.

    def _on_opened(self, event: DetectorEvent, outputs: list[Output]) -> None:
        pair_books = self.detector.pair_books(event.window.pair, self.books)
        up_since = {KALSHI: self.venue_up_since(KALSHI), POLYMARKET: self.venue_up_since(POLYMARKET)}
        state = RiskState(pair_books, self.portfolio, self.fills, up_since)
        decision = self.risk.check(event, state, event.now_ns)
        outputs.append((decision.table, msgspec.structs.asdict(decision)))
        if decision.approved:
            for order in self.fills.submit(decision, pair_books, event.now_ns):
                outputs.append((order.table, msgspec.structs.asdict(order)))
            due = self.fills.next_due_ns()
            self._due = _FOREVER if due is None else due

    def begin_window(self) -> None:
        """Start counting for a replay window: what came before it warmed the state only.

        The books, connections, detector, risk, fills and portfolio carry on untouched (the
        window's decisions depend on them); frame, decode-error and book-health counts restart.
        """
        self.frames = 0
        self.decode_errors = 0
        self.decode_error_kinds.clear()
        for venue, stats_by_market in self._health.items():
            for market in stats_by_market:
                stats_by_market[market] = _BookStats()
                self._health_base[(venue, market)] = _counters(self.books.get(venue, market))
        self._tracked = _tracked(self._health)

    def book_health(self) -> list[dict[str, Any]]:
        """One row per book of the configured pairs: updates, gaps, invalidations and their
        reasons, staleness percentiles sampled every 100 ms of engine time, and whether the
        book was valid when the data ended (before the recorder's own stop disconnects)."""
        rows = []
        if self._next_sample != _NOT_SAMPLED:
            for _, _, stats in self._tracked:
                stats.settle(self._next_sample, STALENESS_SAMPLE_NS)
        for venue in sorted(self._health):
            for market in sorted(self._health[venue]):
                stats = self._health[venue][market]
                book = self.books.get(venue, market)
                counts = _counters(book)
                base = self._health_base.get((venue, market), (0, 0, 0, 0))
                updates, snapshots, ignored, invalidations = (
                    now - then for now, then in zip(counts, base)
                )
                valid = self._valid_at_stop.get((venue, market), bool(book and book.valid))
                p50, p90, p99 = stats.percentiles((0.5, 0.9, 0.99))
                rows.append(
                    {
                        "venue": venue,
                        "market": market,
                        "updates": updates,
                        "snapshots": snapshots,
                        "ignored_updates": ignored,
                        "seq_gaps": stats.gaps,
                        "invalidations": invalidations,
                        "invalid_reasons": orjson.dumps(
                            stats.invalid_reasons, option=orjson.OPT_SORT_KEYS
                        ).decode(),
                        "staleness_samples": stats.count,
                        "staleness_p50_ns": p50,
                        "staleness_p90_ns": p90,
                        "staleness_p99_ns": p99,
                        "staleness_max_ns": stats.max_sample if stats.count else None,
                        "valid_at_end": valid,
                    }
                )
        return rows




def _tracked(health: dict[str, dict[str, _BookStats]]) -> list[tuple[str, str, _BookStats]]:
    return [
        (venue, market, stats)
        for venue, stats_by_market in health.items()
        for market, stats in stats_by_market.items()
    ]


def _counters(book: Book | None) -> tuple[int, int, int, int]:
    if book is None:
        return (0, 0, 0, 0)
    return (book.updates, book.snapshots, book.ignored, book.invalidations)


def _is_stop(payload: bytes) -> bool:
    """Whether a `close` row is the recorder's own stop (its payload names the cause)."""
    if STOP_CAUSE.encode() not in payload:
        return False
    try:
        info = orjson.loads(payload)
    except orjson.JSONDecodeError:
        return False
    return isinstance(info, dict) and info.get("cause") == STOP_CAUSE


def _error_kind(reason: str) -> str:
    """What a decode error was, in a word or two: `malformed` for bytes that are not JSON."""
    head = reason.split(":", 1)[0]
    if "JSON" in head or "undecodable" in head or "UTF-8" in head or head == "empty frame":
        return "malformed"
    return f"unreadable {head}"


def _window_row(event: DetectorEvent) -> dict[str, Any]:
    w = event.window
    return {
        "opportunity_id": w.opportunity_id,
        "pair": w.pair,
        "direction": w.direction,
        "open_ns": w.open_ns,
        "close_ns": w.close_ns,
        "duration_ns": w.duration_ns,
        "open_ingest_seq": w.open_ingest_seq,
        "close_ingest_seq": w.close_ingest_seq,
        "close_reason": w.close_reason,
        "open_edge_at_min_size": w.open_edge_at_min_size,
        "open_size": w.open_size,
        "open_profit": w.open_profit,
        "peak_ns": w.peak_ns,
        "peak_ingest_seq": w.peak_ingest_seq,
        "peak_size": w.peak_size,
        "peak_profit": w.peak_profit,
        "peak_edge": w.peak_edge,
        "kalshi_staleness_ns": w.kalshi_staleness_ns,
        "polymarket_staleness_ns": w.polymarket_staleness_ns,
        "polymarket_book": w.polymarket_book,
    }
