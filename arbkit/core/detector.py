"""The cross-venue arbitrage detector: optimal size after fees, and opportunity windows (DESIGN §6).

Units: sizes are int millionths of a contract, prices int ticks of $0.0001, money int
micro-dollars and edges int micro-dollars per contract pair (see `arbkit.core.fees`). Profits are
computed exactly in fine units ($1e-10, price tick × size millionth) and rounded *down* to
micro-dollars once; an edge is `profit × SIZE_SCALE // size` of that rounded profit.

Sizing. Buying `s` contracts on each side of a direction costs the walked asks of both ladders plus
each venue's taker fee per price level filled, and pays $1 per matched pair. `best_trade` finds the
size with the highest profit (ties: the smaller size; no profitable size: size 0). Sizes
considered are multiples of the pair's `size_step` (one whole contract by default, Kalshi's order
granularity; 0.01 for a fractional market) that are at least `min_size`. Between two level
boundaries of either ladder the profit is linear except for the fees' rounding (Kalshi rounds each
level's fee up to the cent, Polymarket half-up to $0.00001), so inside such a segment only the sizes
within that rounding slack of the segment's better end can be best; those are evaluated exactly,
at most `MAX_SCAN` of them per segment, nearest the better end. The result is the exact optimum
over all step sizes unless a segment's net slope is so flat that more than `MAX_SCAN` sizes fall
inside the slack; even then it is short of the optimum by less than one cent plus $0.00001. The walk
stops at the first segment where the two asks sum to $1 or more: fees never fall as size grows, so
past the first step size reaching into that segment no larger size can do better.

Windows. For each pair and direction a window opens on the frame where the edge at exactly
`min_size` (exact, not rounded) reaches `min_edge` with both books valid and fresh, stays open while
that holds and closes on the first frame where it does not: `book_invalid` when either book is
invalid, else `stale` when either book's last update is more than `max_staleness_ms` before the
frame, else `edge_gone`; `close_all` closes the rest with `end_of_data`. The peak is the first frame
with the highest best-trade profit.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Iterable, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple

import msgspec

from arbkit.core.book import Book, BookManager
from arbkit.core.events import Level
from arbkit.core.fees import FINE_PER_MICRO, FeeParams, decimal_to_micros
from arbkit.core.fixedpoint import PRICE_ONE, SIZE_SCALE, decimal_to_size
from arbkit.core.pairs import BUY_KALSHI_YES_POLY_NO, DIRECTIONS, PairBooks, PairSpec
from arbkit.errors import ConfigError

if TYPE_CHECKING:
    from arbkit.config import Detector as DetectorConfig
    from arbkit.config import Pair

CLOSE_EDGE_GONE = "edge_gone"
CLOSE_BOOK_INVALID = "book_invalid"
CLOSE_STALE = "stale"
CLOSE_END_OF_DATA = "end_of_data"

OPENED = "opened"
PEAK = "peak"
CLOSED = "closed"

MAX_SCAN = 64

_NEVER = 2**63 - 1

_CENT_FINE = 100 * FINE_PER_MICRO * 100  # $0.01 in fine units
_POLY_UNIT_FINE = 10 * FINE_PER_MICRO  # $0.00001 in fine units


class Sizing(NamedTuple):
    """A trade size (millionths), its profit (micro-dollars) and edge (micro-dollars/contract)."""

    size: int
    profit: int
    edge: int


NO_TRADE = Sizing(0, 0, 0)


def _sizing(size: int, profit_fine: int) -> Sizing:
    profit = profit_fine // FINE_PER_MICRO
    return Sizing(size, profit, profit * SIZE_SCALE // size)


def profit_fine_at(
    size: int, kalshi_asks: Sequence[Level], poly_asks: Sequence[Level], fees: FeeParams
) -> int | None:
    """Return the exact profit in fine units ($1e-10) of buying `size` on both ladders.

    None when either ladder has less than `size` in total.
    """
    kalshi = _ladder_cost_fine(size, kalshi_asks, fees.kalshi)
    if kalshi is None:
        return None
    poly = _ladder_cost_fine(size, poly_asks, fees.polymarket)
    if poly is None:
        return None
    return size * PRICE_ONE - kalshi - poly


def _ladder_cost_fine(size: int, asks: Sequence[Level], fee: Callable[[int, int], int]) -> int | None:
    """Cost in fine units of buying `size` up one ladder, with the venue's fee per level."""
    cost = 0
    left = size
    if not left:
        return 0
    for price, avail in asks:
        take = avail if avail < left else left
        cost += price * take + fee(take, price) * FINE_PER_MICRO
        left -= take
        if not left:
            return cost
    return None


def edge_at(
    size: int, kalshi_asks: Sequence[Level], poly_asks: Sequence[Level], fees: FeeParams
) -> Sizing | None:
    """Return the profit and edge of buying exactly `size` (> 0) on both ladders, or None if
    either ladder is too thin."""
    profit = profit_fine_at(size, kalshi_asks, poly_asks, fees)
    return None if profit is None else _sizing(size, profit)


def best_trade(
    kalshi_asks: Sequence[Level],
    poly_asks: Sequence[Level],
    fees: FeeParams,
    min_size: int = 0,
    step: int = SIZE_SCALE,
    max_size: int | None = None,
) -> Sizing:
    """Return the profit-maximising size to buy on both ask ladders (best first), after fees.

    `kalshi_asks` are the asks of the side bought on Kalshi (YES or NO), `poly_asks` those of the
    other side on Polymarket. Sizes are multiples of `step` in [min_size, max_size]. Returns
    `NO_TRADE` when no such size has a positive profit.
    """
    if not kalshi_asks or not poly_asks:
        return NO_TRADE
    k_num, k_den = fees.k_num, fees.k_den
    p_num, p_den = fees.p_num, fees.p_den
    p_den2 = 2 * p_den
    # Width of the band the rounded fees can move profit away from its linear trend.
    slack = (_CENT_FINE if k_num else 0) + (_POLY_UNIT_FINE if p_num else 0)
    # Unrounded fee slopes per millionth in fine units are k_num*kq/kd and p_num*pq/pd.
    kd = k_den // _CENT_FINE
    pd = p_den // _POLY_UNIT_FINE
    kdpd = kd * pd
    slack_scaled = slack * kdpd
    lo_n = max(1, -(-min_size // step))
    n_kalshi, n_poly = len(kalshi_asks), len(poly_asks)
    ki = pi = 0
    kp, ks = kalshi_asks[0]
    pp, ps = poly_asks[0]
    k_start = p_start = 0
    k_base = p_base = 0  # cost + fees (fine) of the levels already used up
    seg_start = 0
    best_n = 0
    best_f = 0
    while True:
        gross = PRICE_ONE - kp - pp
        if gross <= 0:
            # Profit only falls from here on, but the first step size past this point still
            # holds some contracts bought below it and may beat every smaller size.
            n = max(-(-seg_start // step), lo_n)
            s = n * step
            if max_size is None or s <= max_size:
                f = profit_fine_at(s, kalshi_asks, poly_asks, fees)
                if f is not None and f > best_f:
                    best_f = f
                    best_n = n
            break
        k_end = k_start + ks
        p_end = p_start + ps
        seg_end = k_end if k_end < p_end else p_end
        capped = max_size is not None and max_size <= seg_end
        if capped:
            seg_end = max_size  # type: ignore[assignment]
        first = -(-seg_start // step)
        if first < lo_n:
            first = lo_n
        last = seg_end // step
        if first <= last:
            kq = kp * (PRICE_ONE - kp)
            pq = pp * (PRICE_ONE - pp)
            if first < last:
                # Net slope per millionth, scaled by kd * pd to stay integral.
                slope = gross * kdpd - k_num * kq * pd - p_num * pq * kd
                if slope:
                    reach = slack_scaled // (abs(slope) * step)
                    if reach >= MAX_SCAN:
                        reach = MAX_SCAN - 1
                else:
                    reach = MAX_SCAN - 1 if slack else 0
                if slope > 0:
                    if last - reach > first:
                        first = last - reach
                elif first + reach < last:
                    last = first + reach
            for n in range(first, last + 1):
                s = n * step
                ck = s - k_start
                cp = s - p_start
                f = (
                    s * PRICE_ONE
                    - k_base
                    - kp * ck
                    + (k_num * ck * kq // -k_den) * _CENT_FINE
                    - p_base
                    - pp * cp
                    - (2 * p_num * cp * pq + p_den) // p_den2 * _POLY_UNIT_FINE
                )
                if f > best_f:
                    best_f = f
                    best_n = n
        if capped:
            break
        if k_end == seg_end:
            k_base += kp * ks + fees.kalshi(ks, kp) * FINE_PER_MICRO
            ki += 1
            if ki == n_kalshi:
                break
            kp, ks = kalshi_asks[ki]
            k_start = k_end
        if p_end == seg_end:
            p_base += pp * ps + fees.polymarket(ps, pp) * FINE_PER_MICRO
            pi += 1
            if pi == n_poly:
                break
            pp, ps = poly_asks[pi]
            p_start = p_end
        seg_start = seg_end
    if not best_n:
        return NO_TRADE
    return _sizing(best_n * step, best_f)


def profit_bound_fine(
    kalshi_asks: Sequence[Level], poly_asks: Sequence[Level], fees: FeeParams
) -> int:
    """Return an upper bound, in fine units, on the profit of buying any size on both ladders.

    Fees are taken unrounded: Kalshi's rounding up never undercuts that, Polymarket's rounding
    half-up by at most half a $0.00001 unit per level filled. Each stretch where both ladders
    stay on one level adds its size times its net margin per contract when that is positive;
    past the first stretch whose asks sum to $1 or more no margin is positive.
    """
    if not kalshi_asks or not poly_asks:
        return 0
    k_num, k_den, p_num, p_den = fees.k_num, fees.k_den, fees.p_num, fees.p_den
    den = k_den * p_den
    k_scale = _CENT_FINE * k_num * p_den
    p_scale = _POLY_UNIT_FINE * p_num * k_den
    total = 0  # scaled by den
    ki = pi = 0
    kp, k_left = kalshi_asks[0]
    pp, p_left = poly_asks[0]
    while True:
        gross = PRICE_ONE - kp - pp
        if gross <= 0:
            break
        net = gross * den - k_scale * kp * (PRICE_ONE - kp) - p_scale * pp * (PRICE_ONE - pp)
        length = k_left if k_left < p_left else p_left
        if net > 0:
            total += net * length
        k_left -= length
        p_left -= length
        if not k_left:
            ki += 1
            if ki == len(kalshi_asks):
                break
            kp, k_left = kalshi_asks[ki]
        if not p_left:
            pi += 1
            if pi == len(poly_asks):
                break
            pp, p_left = poly_asks[pi]
    slack = len(poly_asks) * _POLY_UNIT_FINE // 2 if p_num else 0
    return -(-total // den) + slack


class OpportunityWindow(msgspec.Struct, kw_only=True):
    """One opportunity window; updated in place while open (peak, then close fields).

    Sizes are millionths, money micro-dollars, edges micro-dollars per contract pair, times ns.
    `open_edge_at_min_size` is the (rounded) edge at `min_size` on the opening frame; `open_size`,
    `open_profit`, `open_edge` the best trade then. `polymarket_book` is the token whose book
    supplied the Polymarket side at open.
    """

    opportunity_id: str
    pair: str
    direction: str
    open_ns: int
    open_ingest_seq: int
    open_edge_at_min_size: int
    open_size: int
    open_profit: int
    open_edge: int
    kalshi_staleness_ns: int
    polymarket_staleness_ns: int
    polymarket_book: str
    peak_ns: int
    peak_ingest_seq: int
    peak_size: int
    peak_profit: int
    peak_edge: int
    close_ns: int | None = None
    close_ingest_seq: int | None = None
    close_reason: str | None = None
    duration_ns: int | None = None


class DetectorEvent(NamedTuple):
    """A window opened, reached a new peak, or closed on the frame (now_ns, ingest_seq).

    `sizing` is the best trade on that frame (None for `closed`). `window` is the live window
    object: turn the event into output rows before processing the next frame.
    """

    kind: str
    window: OpportunityWindow
    now_ns: int
    ingest_seq: int
    sizing: Sizing | None


def opportunity_id(pair: str, direction: str, open_ingest_seq: int, open_ns: int) -> str:
    """Return the window id: a stable hash of what identifies it (same in every process)."""
    key = f"{pair}|{direction}|{open_ingest_seq}|{open_ns}".encode()
    return hashlib.blake2b(key, digest_size=8).hexdigest()


class Detector:
    """Tracks opportunity windows for every configured pair and both directions."""

    def __init__(self, pairs: Iterable[PairSpec | Pair], config: DetectorConfig) -> None:
        self.pairs: list[PairSpec] = [
            p if isinstance(p, PairSpec) else PairSpec.from_config(p) for p in pairs
        ]
        self._index = {spec.name: i for i, spec in enumerate(self.pairs)}
        if len(self._index) != len(self.pairs):
            raise ConfigError("pairs: duplicate pair name")
        try:
            self.min_edge = decimal_to_micros(config.min_edge)
        except ValueError:
            raise ConfigError(
                f"detector.min_edge: not a whole number of micro-dollars: {config.min_edge}"
            ) from None
        try:
            self.min_size = decimal_to_size(config.min_size)
        except ValueError:
            raise ConfigError(f"detector.min_size: too many decimals: {config.min_size}") from None
        if self.min_size <= 0:
            raise ConfigError(f"detector.min_size must be positive: {config.min_size}")
        for spec in self.pairs:
            if self.min_size % spec.size_step:
                raise ConfigError(
                    f"detector.min_size {config.min_size} is not a whole number of the size step "
                    f"of pair {spec.name!r}"
                )
        if config.max_staleness_ms < 0:
            raise ConfigError("detector.max_staleness_ms must not be negative")
        self.max_staleness_ns = config.max_staleness_ms * 1_000_000
        self._threshold = self.min_edge * FINE_PER_MICRO * self.min_size
        # With a positive min_edge a direction whose best asks sum to $1 or more cannot qualify.
        self._quick_reject = self.min_edge > 0
        self._by_market: dict[tuple[str, str], tuple[str, ...]] = {}
        for spec in self.pairs:
            for key in spec.markets():
                self._by_market[key] = self._by_market.get(key, ()) + (spec.name,)
        self._fee_changes = sorted(
            (since, i) for i, spec in enumerate(self.pairs) for since in spec.fees.change_times
        )
        self._fee_next = 0
        self._open: dict[tuple[int, int], OpportunityWindow] = {}
        self._open_legs: dict[tuple[int, int], tuple[Book, Book]] = {}
        # Open windows per pair: a pair with none can only open one, which top of book rules out
        # on most frames without walking a ladder.
        self._open_count = [0] * len(self.pairs)
        # The last ladders sized per (pair, direction): [kalshi asks, polymarket asks, fees,
        # profit at min_size, best trade, profit bound (micro-dollars)], the last two None until
        # needed. Ladders are replaced, never mutated, when their book side changes, so the same
        # objects mean the same answer.
        self._sized: dict[tuple[int, int], list[Any]] = {}
        # No open window can be stale at or before this instant (books only get fresher).
        self._stale_after_ns: int | None = None
        # `on_tick` can do nothing for a frame before this time (no fee change due, no open
        # window possibly stale), so a caller may skip it until then.
        self.next_tick_ns = _NEVER
        self._set_next_tick()
        self._manager: BookManager | None = None
        self._views: list[PairBooks] = []

    def _set_next_tick(self) -> None:
        changes = self._fee_changes
        due = changes[self._fee_next][0] if self._fee_next < len(changes) else _NEVER
        if self._stale_after_ns is not None and self._stale_after_ns < due:
            due = self._stale_after_ns + 1
        self.next_tick_ns = due

    def pairs_for_market(self, venue: str, market: str) -> tuple[str, ...]:
        """Return the names of the pairs that read the book of (venue, market)."""
        return self._by_market.get((venue, market), ())

    def pair_books(self, name: str, books: BookManager) -> PairBooks:
        """Return the ladders view of pair `name` over `books`."""
        return self._bind(books)[self._index[name]]

    def open_windows(self) -> list[OpportunityWindow]:
        """Return the open windows in the order they opened."""
        return list(self._open.values())

    def _bind(self, books: BookManager) -> list[PairBooks]:
        if books is not self._manager:
            self._manager = books
            self._views = [PairBooks(spec, books) for spec in self.pairs]
        return self._views

    def on_books_changed(
        self, pair_names: Iterable[str], now_ns: int, ingest_seq: int, books: BookManager
    ) -> list[DetectorEvent]:
        """Re-evaluate both directions of the named pairs after a frame changed their books.

        Name every pair whose books the frame changed or invalidated (`pairs_for_market` of each
        event's market, and of each book `BookManager.invalidate_markets` invalidated); the
        order of names does not matter.
        """
        index = self._index
        names = pair_names if isinstance(pair_names, Collection) else list(pair_names)
        if len(names) == 1:
            return self.on_pairs_changed((index[next(iter(names))],), now_ns, ingest_seq, books)
        return self.on_pairs_changed(sorted({index[n] for n in names}), now_ns, ingest_seq, books)

    def on_pairs_changed(
        self, indices: Iterable[int], now_ns: int, ingest_seq: int, books: BookManager
    ) -> list[DetectorEvent]:
        """`on_books_changed` by position in `pairs`: `indices` ascending, without repeats."""
        views = self._views if books is self._manager else self._bind(books)
        events: list[DetectorEvent] = []
        open_count = self._open_count
        quick = self._quick_reject
        limit = self.max_staleness_ns
        for i in indices:
            view = views[i]
            kalshi = view.kalshi
            yes = view.poly_yes
            no = view.poly_no
            if kalshi is None or yes is None or no is None:
                # Held once found (a manager never replaces a Book): look up only until then.
                view.refresh()
                kalshi = view.kalshi
                yes = view.poly_yes
                no = view.poly_no
            no_side = no if no is not None and no.snapshots > 0 else yes
            if open_count[i] or not quick:
                self._evaluate(i, 0, view, kalshi, no_side, now_ns, ingest_seq, events)
                self._evaluate(i, 1, view, kalshi, yes, now_ns, ingest_seq, events)
                continue
            # No window to close: a direction matters only if it can open, so first try the
            # checks `_evaluate` would reject it with (any order gives the same answer).
            if kalshi is None or not kalshi.valid or now_ns - kalshi.last_update_ns > limit:  # type: ignore[operator]
                continue
            if no_side is not None and no_side.valid and now_ns - no_side.last_update_ns <= limit:  # type: ignore[operator]
                k_ask = kalshi.best_ask
                if no_side is no:
                    p_ask = no_side.best_ask
                else:
                    p_ask = None if no_side.best_bid is None else PRICE_ONE - no_side.best_bid
                if k_ask is not None and p_ask is not None and k_ask + p_ask < PRICE_ONE:
                    self._evaluate(i, 0, view, kalshi, no_side, now_ns, ingest_seq, events)
            if yes is not None and yes.valid and now_ns - yes.last_update_ns <= limit:  # type: ignore[operator]
                k_bid = kalshi.best_bid
                p_ask = yes.best_ask
                if k_bid is not None and p_ask is not None and PRICE_ONE - k_bid + p_ask < PRICE_ONE:
                    self._evaluate(i, 1, view, kalshi, yes, now_ns, ingest_seq, events)
        return events

    def on_tick(self, now_ns: int, ingest_seq: int, books: BookManager) -> list[DetectorEvent]:
        """Close windows whose books went stale; call on every frame processed, after
        `on_books_changed`.

        Also re-evaluates pairs whose fee schedule changed since the last call. O(1) on most
        frames: open windows are only scanned once the oldest book under one could be stale.
        """
        events: list[DetectorEvent] = []
        changes = self._fee_changes
        if self._fee_next < len(changes) and changes[self._fee_next][0] <= now_ns:
            due = set()
            while self._fee_next < len(changes) and changes[self._fee_next][0] <= now_ns:
                due.add(changes[self._fee_next][1])
                self._fee_next += 1
            self._set_next_tick()
            events.extend(self.on_pairs_changed(sorted(due), now_ns, ingest_seq, books))
        if self._stale_after_ns is not None and now_ns > self._stale_after_ns:
            limit = self.max_staleness_ns
            self._stale_after_ns = None
            self._set_next_tick()
            for key, (kalshi, poly) in list(self._open_legs.items()):
                if not kalshi.valid or not poly.valid:
                    reason = CLOSE_BOOK_INVALID
                elif (
                    now_ns - kalshi.last_update_ns > limit  # type: ignore[operator]
                    or now_ns - poly.last_update_ns > limit  # type: ignore[operator]
                ):
                    reason = CLOSE_STALE
                else:
                    self._watch(kalshi, poly)
                    continue
                events.append(self._close(key, self._open[key], now_ns, ingest_seq, reason))
        return events

    def _watch(self, kalshi: Book, poly: Book) -> None:
        oldest = kalshi.last_update_ns
        if poly.last_update_ns < oldest:  # type: ignore[operator]
            oldest = poly.last_update_ns
        due = oldest + self.max_staleness_ns  # type: ignore[operator]
        if self._stale_after_ns is None or due < self._stale_after_ns:
            self._stale_after_ns = due
            if due < self.next_tick_ns:
                self.next_tick_ns = due + 1

    def close_all(self, now_ns: int, ingest_seq: int) -> list[DetectorEvent]:
        """Close every open window with reason `end_of_data`."""
        return [
            self._close(key, window, now_ns, ingest_seq, CLOSE_END_OF_DATA)
            for key, window in list(self._open.items())
        ]

    def _close(
        self,
        key: tuple[int, int],
        window: OpportunityWindow,
        now_ns: int,
        ingest_seq: int,
        reason: str,
    ) -> DetectorEvent:
        del self._open[key]
        del self._open_legs[key]
        self._open_count[key[0]] -= 1
        window.close_ns = now_ns
        window.close_ingest_seq = ingest_seq
        window.close_reason = reason
        window.duration_ns = now_ns - window.open_ns
        return DetectorEvent(CLOSED, window, now_ns, ingest_seq, None)

    def _evaluate(
        self,
        i: int,
        d: int,
        view: PairBooks,
        kalshi: Book | None,
        poly: Book | None,
        now_ns: int,
        ingest_seq: int,
        events: list[DetectorEvent],
    ) -> None:
        key = (i, d)
        window = self._open.get(key)
        if kalshi is None or poly is None or not kalshi.valid or not poly.valid:
            if window is not None:
                events.append(self._close(key, window, now_ns, ingest_seq, CLOSE_BOOK_INVALID))
            return
        k_stale = now_ns - kalshi.last_update_ns  # type: ignore[operator]
        p_stale = now_ns - poly.last_update_ns  # type: ignore[operator]
        if k_stale > self.max_staleness_ns or p_stale > self.max_staleness_ns:
            if window is not None:
                events.append(self._close(key, window, now_ns, ingest_seq, CLOSE_STALE))
            return
        if self._quick_reject:
            # Top of book only: no depth sorted unless the best asks sum to under $1.
            if d == 0:
                k_ask = kalshi.best_ask
                if poly is view.poly_no:
                    p_ask = poly.best_ask
                else:
                    p_ask = None if poly.best_bid is None else PRICE_ONE - poly.best_bid
            else:
                k_ask = None if kalshi.best_bid is None else PRICE_ONE - kalshi.best_bid
                p_ask = poly.best_ask
            if k_ask is None or p_ask is None or k_ask + p_ask >= PRICE_ONE:
                if window is not None:
                    events.append(self._close(key, window, now_ns, ingest_seq, CLOSE_EDGE_GONE))
                return
        spec = self.pairs[i]
        direction = DIRECTIONS[d]
        fees = spec.fees.for_time(now_ns)
        k_asks, p_asks = view.ladders(direction)
        sized = self._sized.get(key)
        if sized is None or sized[0] is not k_asks or sized[1] is not p_asks or sized[2] is not fees:
            at_min = profit_fine_at(self.min_size, k_asks, p_asks, fees)
            sized = self._sized[key] = [k_asks, p_asks, fees, at_min, None, None]
        at_min = sized[3]
        if at_min is None or at_min * SIZE_SCALE < self._threshold:
            if window is not None:
                events.append(self._close(key, window, now_ns, ingest_seq, CLOSE_EDGE_GONE))
            return
        sizing = sized[4]
        if window is not None:
            if self._open_legs[key][1] is not poly:  # the NO token's book became the source
                self._open_legs[key] = (kalshi, poly)
                self._watch(kalshi, poly)
            if sizing is None:
                # Only a new peak needs the best trade; a bound at or under the peak rules it out.
                bound = sized[5]
                if bound is None:
                    bound = sized[5] = profit_bound_fine(k_asks, p_asks, fees) // FINE_PER_MICRO
                if bound <= window.peak_profit:
                    return
                sizing = sized[4] = best_trade(k_asks, p_asks, fees, self.min_size, spec.size_step)
            if sizing.profit > window.peak_profit:
                window.peak_ns = now_ns
                window.peak_ingest_seq = ingest_seq
                window.peak_size = sizing.size
                window.peak_profit = sizing.profit
                window.peak_edge = sizing.edge
                events.append(DetectorEvent(PEAK, window, now_ns, ingest_seq, sizing))
            return
        if sizing is None:
            sizing = sized[4] = best_trade(k_asks, p_asks, fees, self.min_size, spec.size_step)
        window = OpportunityWindow(
            opportunity_id=opportunity_id(spec.name, direction, ingest_seq, now_ns),
            pair=spec.name,
            direction=direction,
            open_ns=now_ns,
            open_ingest_seq=ingest_seq,
            open_edge_at_min_size=_sizing(self.min_size, at_min).edge,
            open_size=sizing.size,
            open_profit=sizing.profit,
            open_edge=sizing.edge,
            kalshi_staleness_ns=k_stale,
            polymarket_staleness_ns=p_stale,
            polymarket_book=poly.market,
            peak_ns=now_ns,
            peak_ingest_seq=ingest_seq,
            peak_size=sizing.size,
            peak_profit=sizing.profit,
            peak_edge=sizing.edge,
        )
        self._open[key] = window
        self._open_legs[key] = (kalshi, poly)
        self._open_count[i] += 1
        self._watch(kalshi, poly)
        events.append(DetectorEvent(OPENED, window, now_ns, ingest_seq, sizing))


__all__ = [
    "BUY_KALSHI_YES_POLY_NO",
    "CLOSE_BOOK_INVALID",
    "CLOSE_EDGE_GONE",
    "CLOSE_END_OF_DATA",
    "CLOSE_STALE",
    "CLOSED",
    "DIRECTIONS",
    "MAX_SCAN",
    "NO_TRADE",
    "OPENED",
    "PEAK",
    "Detector",
    "DetectorEvent",
    "OpportunityWindow",
    "Sizing",
    "best_trade",
    "edge_at",
    "opportunity_id",
    "profit_bound_fine",
    "profit_fine_at",
]
