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

Evaluation. Only a frame that changes a pair's books can change its windows, apart from staleness
and dated fee changes (`on_tick`). A direction without a window is first ruled out on top of book:
its best asks summing to $1 or more, or, near parity where only the fees decide, its exact profit
at `min_size` when both top levels hold that much (`_fees_rule_out`, its costs kept per price).
Sizing answers are reused while the ladder levels that decided them stay the same (`_Direction`),
so most frames walk no ladder. Beyond that, an evaluation that ends without an event notes how
many levels of each ladder decided it (`_settle`); while each book side still holds the depth list
that ladder came from and has changed only at worse prices than the last of those levels (the
book's `ask_lo`/`bid_hi`), or also at its price when only its price decided (where the profit
bound's walk stopped), evaluating again would end the same way, so it stops there, before any
ladder is sorted or compared.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable
from typing import TYPE_CHECKING, Any, Final, NamedTuple

from arbkit.core.book import NO_ASK_CHANGE, NO_BID_CHANGE, Book, BookManager
from arbkit.core.events import Level
from arbkit.core.fees import FINE_PER_MICRO, FeeParams, decimal_to_micros
from arbkit.core.fixedpoint import PRICE_ONE, SIZE_SCALE, decimal_to_size
from arbkit.core.pairs import BUY_KALSHI_YES_POLY_NO, DIRECTIONS, PairBooks, PairSpec
from arbkit.core.windows import OpportunityWindow
from arbkit.errors import ConfigError

if TYPE_CHECKING:
    from arbkit.config import Detector as DetectorConfig
    from arbkit.config import Pair

CLOSE_EDGE_GONE: Final = "edge_gone"
CLOSE_BOOK_INVALID: Final = "book_invalid"
CLOSE_STALE: Final = "stale"
CLOSE_END_OF_DATA: Final = "end_of_data"

OPENED: Final = "opened"
PEAK: Final = "peak"
CLOSED: Final = "closed"

MAX_SCAN: Final = 64

_NEVER: Final = 2**63 - 1

_CENT_FINE: Final = 100 * FINE_PER_MICRO * 100  # $0.01 in fine units
_POLY_UNIT_FINE: Final = 10 * FINE_PER_MICRO  # $0.00001 in fine units

# Per pair and venue, at most this many top-of-book prices keep their cost at min_size.
_TOP_COSTS: Final = 256


class Sizing(NamedTuple):
    """A trade size (millionths), its profit (micro-dollars) and edge (micro-dollars/contract)."""

    size: int
    profit: int
    edge: int


NO_TRADE = Sizing(0, 0, 0)

# A NamedTuple's own __new__ is Python code (a frame per call, even compiled): results are built
# as tuples of their class directly.
_new_tuple: Final[Any] = tuple.__new__


def _sizing(size: int, profit_fine: int) -> Sizing:
    profit = profit_fine // FINE_PER_MICRO
    sizing: Sizing = _new_tuple(Sizing, (size, profit, profit * SIZE_SCALE // size))
    return sizing


def profit_fine_at(
    size: int, kalshi_asks: list[Level], poly_asks: list[Level], fees: FeeParams
) -> int | None:
    """Return the exact profit in fine units ($1e-10) of buying `size` on both ladders.

    None when either ladder has less than `size` in total.
    """
    return _profit_at(size, kalshi_asks, poly_asks, fees)[0]


def _profit_at(
    size: int, kalshi_asks: list[Level], poly_asks: list[Level], fees: FeeParams
) -> tuple[int | None, int, int]:
    """`profit_fine_at`, and how many levels of each ladder decided it (see `_best`)."""
    kalshi, k_read = _kalshi_cost(size, kalshi_asks, fees)
    if kalshi < 0:
        return None, k_read, 0
    poly, p_read = _poly_cost(size, poly_asks, fees)
    if poly < 0:
        return None, k_read, p_read
    return size * PRICE_ONE - kalshi - poly, k_read, p_read


def _kalshi_cost(size: int, asks: list[Level], fees: FeeParams) -> tuple[int, int]:
    """Cost in fine units of buying `size` up Kalshi asks with the fee per level (-1 if the
    ladder is too thin), and the number of levels read (one past the end when too thin)."""
    if not size:
        return 0, 0
    num = fees.k_num
    den = fees.k_den
    cost = 0
    left = size
    read = 0
    for price, avail in asks:
        read += 1
        take = avail if avail < left else left
        # The fee rounded up to the cent: ceil(raw / den) cents. Small factors first: compiled,
        # a product stays in a machine word only while both its factors are small and not
        # negative (else it is worked out on Python ints).
        cost += price * take + (take * (num * price * (PRICE_ONE - price)) + den - 1) // den * _CENT_FINE
        left -= take
        if not left:
            return cost, read
    return -1, read + 1


def _poly_cost(size: int, asks: list[Level], fees: FeeParams) -> tuple[int, int]:
    """`_kalshi_cost` for Polymarket asks: the fee rounded half-up to $0.00001."""
    if not size:
        return 0, 0
    num = fees.p_num
    den = fees.p_den
    den2 = den + den  # not 2 * den: compiled, a large factor leaves machine words
    cost = 0
    left = size
    read = 0
    for price, avail in asks:
        read += 1
        take = avail if avail < left else left
        raw2 = take * (2 * num * price * (PRICE_ONE - price))
        cost += price * take + (raw2 + den) // den2 * _POLY_UNIT_FINE
        left -= take
        if not left:
            return cost, read
    return -1, read + 1


def edge_at(
    size: int, kalshi_asks: list[Level], poly_asks: list[Level], fees: FeeParams
) -> Sizing | None:
    """Return the profit and edge of buying exactly `size` (> 0) on both ladders, or None if
    either ladder is too thin."""
    profit = profit_fine_at(size, kalshi_asks, poly_asks, fees)
    return None if profit is None else _sizing(size, profit)


def best_trade(
    kalshi_asks: list[Level],
    poly_asks: list[Level],
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
    return _best(kalshi_asks, poly_asks, fees, min_size, step, max_size)[0]


def _best(
    kalshi_asks: list[Level],
    poly_asks: list[Level],
    fees: FeeParams,
    min_size: int,
    step: int,
    max_size: int | None,
) -> tuple[Sizing, int, int]:
    """`best_trade`, and how many levels of each ladder it read: the answer is the same for
    any ladders that agree with these on that many first levels (one more than a ladder's
    length, when it read to the end, means that ladder whole)."""
    if not kalshi_asks or not poly_asks:
        return NO_TRADE, 1, 1
    k_num, k_den = fees.k_num, fees.k_den
    k_den1 = k_den - 1  # ceil(a / k_den) = (a + k_den1) // k_den
    p_num, p_den = fees.p_num, fees.p_den
    p_den2 = p_den + p_den
    # Width of the band the rounded fees can move profit away from its linear trend.
    slack = (_CENT_FINE if k_num else 0) + (_POLY_UNIT_FINE if p_num else 0)
    # Unrounded fee slopes per millionth, in fine units times `scale`: k_weight*kq, p_weight*pq.
    scale = fees.scale
    k_weight = fees.k_weight
    p_weight = fees.p_weight
    slack_scaled = slack * scale
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
    k_read = p_read = 0  # beyond the walk's own levels
    while True:
        gross = PRICE_ONE - kp - pp
        if gross <= 0:
            # Profit only falls from here on, but the first step size past this point still
            # holds some contracts bought below it and may beat every smaller size.
            n = max(-(-seg_start // step), lo_n)
            s = n * step
            if max_size is None or s <= max_size:
                f, k_read, p_read = _profit_at(s, kalshi_asks, poly_asks, fees)
                if f is not None and f > best_f:
                    best_f = f
                    best_n = n
            break
        k_end = k_start + ks
        p_end = p_start + ps
        seg_end = k_end if k_end < p_end else p_end
        capped = False
        if max_size is not None and max_size <= seg_end:
            seg_end = max_size
            capped = True
        first = -(-seg_start // step)
        if first < lo_n:
            first = lo_n
        last = seg_end // step
        if first <= last:
            kq = kp * (PRICE_ONE - kp)
            pq = pp * (PRICE_ONE - pp)
            # The fees' raw amounts per millionth (small factors first, as in `_kalshi_cost`).
            k_raw = k_num * kq
            p_raw2 = 2 * p_num * pq
            if first < last:
                # Net slope per millionth, times `scale` to stay integral.
                slope = gross * scale - k_weight * kq - p_weight * pq
                if slope:
                    reach = slack_scaled // ((slope if slope > 0 else -slope) * step)
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
                    - (ck * k_raw + k_den1) // k_den * _CENT_FINE
                    - p_base
                    - pp * cp
                    - (cp * p_raw2 + p_den) // p_den2 * _POLY_UNIT_FINE
                )
                if f > best_f:
                    best_f = f
                    best_n = n
        if capped:
            break
        if k_end == seg_end:
            # The level's cost with its fee, as `_kalshi_cost` prices it.
            k_base += kp * ks + (ks * (k_num * kp * (PRICE_ONE - kp)) + k_den1) // k_den * _CENT_FINE
            ki += 1
            if ki == n_kalshi:
                break
            kp, ks = kalshi_asks[ki]
            k_start = k_end
        if p_end == seg_end:
            p_base += pp * ps + (ps * (2 * p_num * pp * (PRICE_ONE - pp)) + p_den) // p_den2 * _POLY_UNIT_FINE
            pi += 1
            if pi == n_poly:
                break
            pp, ps = poly_asks[pi]
            p_start = p_end
        seg_start = seg_end
    # The walk read levels 0..ki and 0..pi (ki == length when it ran off the end).
    if k_read <= ki:
        k_read = ki + 1
    if p_read <= pi:
        p_read = pi + 1
    if not best_n:
        return NO_TRADE, k_read, p_read
    return _sizing(best_n * step, best_f), k_read, p_read


def profit_bound_fine(kalshi_asks: list[Level], poly_asks: list[Level], fees: FeeParams) -> int:
    """Return an upper bound, in fine units, on the profit of buying any size on both ladders.

    Fees are taken unrounded: Kalshi's rounding up never undercuts that, Polymarket's rounding
    half-up by at most half a $0.00001 unit per level filled. Each stretch where both ladders
    stay on one level adds its size times its net margin per contract when that is positive;
    past the first stretch whose asks sum to $1 or more no margin is positive.
    """
    return _bound(kalshi_asks, poly_asks, fees)[0]


def _bound(
    kalshi_asks: list[Level], poly_asks: list[Level], fees: FeeParams
) -> tuple[int, int, int, bool, bool]:
    """`profit_bound_fine`, how many levels of each ladder it read (as `_best` counts them),
    and for each ladder whether it read only the price of the last of those levels; it also
    depends on the Polymarket ladder's length.

    A level read for its price alone is where the walk stopped, its asks summing to $1 or more
    (or, margins falling, without a margin) with the other ladder's: its size does not matter,
    and without it the next level, at a higher price, would stop the walk there all the same.
    """
    if not kalshi_asks or not poly_asks:
        return 0, 1, 1, True, True
    # Margins per millionth in fine units, times `scale` (as in `_best`) to stay integral.
    scale = fees.scale
    k_weight = fees.k_weight
    p_weight = fees.p_weight
    # When margins only fall along the walk, the first stretch without one ends it.
    falling = fees.margins_fall
    total = 0  # times scale
    ki = pi = 0
    n_kalshi, n_poly = len(kalshi_asks), len(poly_asks)
    kp, k_left = kalshi_asks[0]
    pp, p_left = poly_asks[0]
    # Whether the walk has read only the price of each ladder's current level so far.
    k_priced = p_priced = True
    while True:
        gross = PRICE_ONE - kp - pp
        if gross <= 0:
            break
        net = gross * scale - k_weight * kp * (PRICE_ONE - kp) - p_weight * pp * (PRICE_ONE - pp)
        length = k_left if k_left < p_left else p_left
        if net > 0:
            total += net * length
        elif falling:
            break
        k_left -= length
        p_left -= length
        k_priced = p_priced = False
        if not k_left:
            ki += 1
            if ki == n_kalshi:
                break
            kp, k_left = kalshi_asks[ki]
            k_priced = True
        if not p_left:
            pi += 1
            if pi == n_poly:
                break
            pp, p_left = poly_asks[pi]
            p_priced = True
    slack = n_poly * _POLY_UNIT_FINE // 2 if fees.p_num else 0
    return -(-total // scale) + slack, ki + 1, pi + 1, k_priced, p_priced


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


def _event(
    kind: str, window: OpportunityWindow, now_ns: int, ingest_seq: int, sizing: Sizing | None
) -> DetectorEvent:
    event: DetectorEvent = _new_tuple(DetectorEvent, (kind, window, now_ns, ingest_seq, sizing))
    return event


def opportunity_id(pair: str, direction: str, open_ingest_seq: int, open_ns: int) -> str:
    """Return the window id: a stable hash of what identifies it (same in every process)."""
    key = f"{pair}|{direction}|{open_ingest_seq}|{open_ns}".encode()
    return hashlib.blake2b(key, digest_size=8).hexdigest()


class _Direction:
    """One direction of one pair: its open window's books and its last sizing answers.

    Each answer (profit at min_size, best trade, profit bound) is kept with the ladders it was
    computed from and, for the first two, how many of their first levels decided it: ladders
    that agree on those levels, with the same fees, give the same answer. Ladders are replaced,
    never mutated, when their book side changes, so the same objects always agree.
    """

    __slots__ = (
        "pair",
        "d",
        "slot",
        "window",
        "kalshi",
        "poly",
        "fees",
        "at_k",
        "at_p",
        "at_k_read",
        "at_p_read",
        "at_min",
        "best_k",
        "best_p",
        "best_k_read",
        "best_p_read",
        "sizing",
        "bound_k",
        "bound_p",
        "bound_k_read",
        "bound_p_read",
        "bound_k_priced",
        "bound_p_priced",
        "bound",
        "k_src",
        "p_src",
        "k_front",
        "p_front",
        "p_len",
        "top_fees",
        "top_k",
        "top_k_cost",
        "top_p",
        "top_p_cost",
    )

    def __init__(self, pair: int, d: int) -> None:
        self.pair = pair
        self.d = d
        self.slot = 2 * pair + d
        # The open window (also in `Detector._open`, which keeps the order windows opened in) and
        # the books it reads; None while closed.
        self.window: OpportunityWindow | None = None
        self.kalshi: Book | None = None
        self.poly: Book | None = None
        # The fees of every answer below; the ladders of an answer are None until it is known.
        self.fees: FeeParams | None = None
        # Profit at min_size in fine units (None when a ladder is too thin).
        self.at_k: list[Level] | None = None
        self.at_p: list[Level] | None = None
        self.at_k_read = 0
        self.at_p_read = 0
        self.at_min: int | None = None
        self.best_k: list[Level] | None = None
        self.best_p: list[Level] | None = None
        self.best_k_read = 0
        self.best_p_read = 0
        self.sizing = NO_TRADE
        # Upper bound on the best trade's profit in micro-dollars.
        self.bound_k: list[Level] | None = None
        self.bound_p: list[Level] | None = None
        self.bound_k_read = 0
        self.bound_p_read = 0
        # Whether the bound read only the price of the last level it read (see `_bound`).
        self.bound_k_priced = False
        self.bound_p_priced = False
        self.bound = 0
        # The last evaluation's outcome (no event) holds while the books' sides it read are
        # still the depth lists `k_src`/`p_src` they built (None: no such outcome), changed only
        # beyond the front prices, and, when `p_len` >= 0, the Polymarket side has at most that
        # many levels (see `Detector._settle`).
        self.k_src: list[Level] | None = None
        self.p_src: list[Level] | None = None
        # Any, as the book's `ask_lo`/`bid_hi`: compiled, comparing two objects boxes neither.
        self.k_front: Any = 0
        self.p_front: Any = 0
        self.p_len = -1
        # The fees and top-of-book prices of the costs at min_size `Detector._fees_rule_out` last
        # read for this direction (-1: none), and those costs.
        self.top_fees: FeeParams | None = None
        self.top_k = -1
        self.top_k_cost = 0
        self.top_p = -1
        self.top_p_cost = 0


def _agrees(ladder: list[Level], known: list[Level] | None, read: int) -> bool:
    """True when `ladder` has the same first `read` levels as `known` (see `_best`)."""
    if ladder is known:
        return True
    if known is None:
        return False
    # `ladder[:read] == known[:read]` without copying either: usually the first level differs.
    n = len(ladder)
    if n > read:
        n = read
    m = len(known)
    if m > read:
        m = read
    if n != m:
        return False
    for i in range(n):
        if ladder[i] != known[i]:
            return False
    return True


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
        self.max_staleness_ns: int = config.max_staleness_ms * 1_000_000
        threshold = self.min_edge * FINE_PER_MICRO * self.min_size
        # A profit at min_size p (fine) reaches min_edge when p * SIZE_SCALE >= threshold, that
        # is p >= _at_threshold; near parity p is small or negative, and compiled, multiplying
        # it would leave machine integers. Top of book rules out when its two costs exceed
        # `_top_limit`.
        self._at_threshold = -(-threshold // SIZE_SCALE)
        self._top_limit = self.min_size * PRICE_ONE - self._at_threshold
        # The fees of a pair without dated overrides, which never change (else None).
        self._fixed_fees: list[FeeParams | None] = [
            None if spec.fees.change_times else spec.fees.base for spec in self.pairs
        ]
        # Per pair: the fees of the costs below, and the cost (fine) of min_size at one level of
        # Kalshi and of Polymarket by price.
        self._top_fees: list[FeeParams | None] = [None] * len(self.pairs)
        self._k_top: list[dict[int, int]] = [{} for _ in self.pairs]
        self._p_top: list[dict[int, int]] = [{} for _ in self.pairs]
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
        # Directions by slot 2 * pair + d; open windows by slot, in the order they opened.
        self._dirs = [_Direction(i, d) for i in range(len(self.pairs)) for d in (0, 1)]
        self._open: dict[int, OpportunityWindow] = {}
        # No open window can be stale at or before this instant (each evaluation that keeps a
        # window open watches its books' last updates, which a wall clock stepped back can lower).
        self._stale_after_ns: int | None = None
        # `on_tick` can do nothing for a frame before this time (no fee change due, no open
        # window possibly stale), so a caller may skip it until then.
        self.next_tick_ns = _NEVER
        self._set_next_tick()
        self._manager: BookManager | None = None
        self._views: list[PairBooks] = []
        # Per pair, (Kalshi book, NO token book, YES token book) once all three exist and the NO
        # book has had a snapshot, when top of book may rule out opening: from then on those
        # are the legs for good (a manager never replaces a Book, snapshots never un-happen).
        self._settled: list[tuple[Book, Book, Book] | None] = []
        # The same while the pair has no window open, else None: such a pair can only open one,
        # which top of book rules out on most frames without walking a ladder.
        self._quiet: list[tuple[Book, Book, Book] | None] = []

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
            self._settled = [None] * len(self.pairs)
            self._quiet = [None] * len(self.pairs)
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
        if books is not self._manager:
            self._bind(books)
        events: list[DetectorEvent] = []
        # Compiled, a tuple (what the engine passes on most frames) is iterated natively.
        if isinstance(indices, tuple):
            for i in indices:
                self._changed(i, now_ns, ingest_seq, events)
        else:
            for i in indices:
                self._changed(i, now_ns, ingest_seq, events)
        return events

    def _changed(self, i: int, now_ns: int, ingest_seq: int, events: list[DetectorEvent]) -> None:
        legs = self._quiet[i]
        if legs is None:
            self._pair_changed(i, now_ns, ingest_seq, events)
            return
        # The hot path (most frames): no window to close, so a direction matters only if
        # it can open, and its best asks summing to $1 or more rule that out.
        kalshi, no, yes = legs
        # Top prices stay the books' own int objects (Any) for the size lookups: compiled, an
        # int would be boxed anew for each.
        k_top: Any = kalshi.best_ask
        p_top: Any = no.best_ask
        if k_top is not None and p_top is not None:
            k_price: int = k_top
            p_price: int = p_top
            if k_price + p_price < PRICE_ONE:
                state = self._dirs[2 * i]
                if not self._fees_rule_out(state, k_price, kalshi.asks[k_top], p_price, no.asks[p_top], now_ns):
                    self._evaluate(state, self._views[i], kalshi, no, now_ns, ingest_seq, events)
        k_top = kalshi.best_bid
        p_top = yes.best_ask
        if k_top is not None and p_top is not None:
            k_bid: int = k_top
            y_ask: int = p_top
            # Kalshi NO costs 1 − bid, so the asks sum to under $1 when YES asks under that bid.
            if y_ask < k_bid:
                state = self._dirs[2 * i + 1]
                if not self._fees_rule_out(
                    state, PRICE_ONE - k_bid, kalshi.bids[k_top], y_ask, yes.asks[p_top], now_ns
                ):
                    self._evaluate(state, self._views[i], kalshi, yes, now_ns, ingest_seq, events)

    def _fees_rule_out(
        self, state: _Direction, k_price: int, k_size: int, p_price: int, p_size: int, now_ns: int
    ) -> bool:
        """True when direction `state`, its best asks at (`k_price`, `p_price`), cannot open: both
        top levels hold `min_size`, so its profit at that size, fees included, is read off them
        exactly (as `_profit_at` would walk it) and falls short of `min_edge`."""
        size = self.min_size
        if k_size < size or p_size < size:
            return False
        i = state.pair
        fees = self._fixed_fees[i]
        if fees is None:
            fees = self.pairs[i].fees.for_time(now_ns)
        if fees is not self._top_fees[i]:
            self._top_fees[i] = fees
            self._k_top[i] = {}
            self._p_top[i] = {}
        if fees is not state.top_fees:
            state.top_fees = fees
            state.top_k = state.top_p = -1
        # Top of book moves over few prices, so each one's cost is worked out once; the last
        # ones the direction read are also kept on it, as most frames move neither.
        if k_price == state.top_k:
            kalshi = state.top_k_cost
        else:
            known = self._k_top[i].get(k_price)
            if known is None:
                kalshi = k_price * size + fees.kalshi(size, k_price) * FINE_PER_MICRO
                _remember(self._k_top[i], k_price, kalshi)
            else:
                kalshi = known
            state.top_k = k_price
            state.top_k_cost = kalshi
        if p_price == state.top_p:
            poly = state.top_p_cost
        else:
            known = self._p_top[i].get(p_price)
            if known is None:
                poly = p_price * size + fees.polymarket(size, p_price) * FINE_PER_MICRO
                _remember(self._p_top[i], p_price, poly)
            else:
                poly = known
            state.top_p = p_price
            state.top_p_cost = poly
        return kalshi + poly > self._top_limit

    def _pair_changed(
        self, i: int, now_ns: int, ingest_seq: int, events: list[DetectorEvent]
    ) -> None:
        view = self._views[i]
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
        dirs = self._dirs
        if not self._quick_reject:
            self._evaluate(dirs[2 * i], view, kalshi, no_side, now_ns, ingest_seq, events)
            self._evaluate(dirs[2 * i + 1], view, kalshi, yes, now_ns, ingest_seq, events)
            return
        buy_yes = dirs[2 * i]
        buy_no = dirs[2 * i + 1]
        settled = self._settled
        if settled[i] is None and kalshi is not None and no_side is no and no is not None and yes is not None:
            legs = settled[i] = (kalshi, no, yes)
            if buy_yes.window is None and buy_no.window is None:
                self._quiet[i] = legs
        # A direction without a window matters only if it can open: as on the hot path, top
        # of book rules that out first (`_evaluate` rejects any direction that fails this).
        if buy_yes.window is not None:
            self._evaluate(buy_yes, view, kalshi, no_side, now_ns, ingest_seq, events)
        elif kalshi is not None and no_side is not None:
            # Top prices as the books' own objects for the size lookups, as in `_changed`.
            k_top: Any = kalshi.best_ask
            # Polymarket NO asks are the NO book's, or the YES book's bids at 1 − p.
            p_top: Any = no_side.best_ask if no_side is no else no_side.best_bid
            if k_top is not None and p_top is not None:
                k_ask: int = k_top
                p_ask: int = p_top if no_side is no else PRICE_ONE - p_top
                if k_ask + p_ask < PRICE_ONE:
                    p_size = no_side.asks[p_top] if no_side is no else no_side.bids[p_top]
                    if not self._fees_rule_out(buy_yes, k_ask, kalshi.asks[k_top], p_ask, p_size, now_ns):
                        self._evaluate(buy_yes, view, kalshi, no_side, now_ns, ingest_seq, events)
        if buy_no.window is not None:
            self._evaluate(buy_no, view, kalshi, yes, now_ns, ingest_seq, events)
        elif kalshi is not None and yes is not None:
            k_top = kalshi.best_bid
            p_top = yes.best_ask
            if k_top is not None and p_top is not None:
                k_bid: int = k_top
                y_ask: int = p_top
                if y_ask < k_bid and not self._fees_rule_out(
                    buy_no, PRICE_ONE - k_bid, kalshi.bids[k_top], y_ask, yes.asks[p_top], now_ns
                ):
                    self._evaluate(buy_no, view, kalshi, yes, now_ns, ingest_seq, events)

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
            for slot, window in list(self._open.items()):
                state = self._dirs[slot]
                kalshi = state.kalshi
                poly = state.poly
                if kalshi is None or poly is None or not kalshi.valid or not poly.valid:
                    reason = CLOSE_BOOK_INVALID
                else:
                    k_seen = kalshi.last_update_ns
                    p_seen = poly.last_update_ns
                    if (
                        k_seen is None
                        or p_seen is None
                        or now_ns - k_seen > limit
                        or now_ns - p_seen > limit
                    ):
                        reason = CLOSE_STALE
                    else:
                        self._watch(k_seen, p_seen)
                        continue
                events.append(self._close(state, window, now_ns, ingest_seq, reason))
        return events

    def _watch(self, k_seen: int, p_seen: int) -> None:
        """Note that an open window's books were last updated at `k_seen` and `p_seen`."""
        due = (k_seen if k_seen < p_seen else p_seen) + self.max_staleness_ns
        if self._stale_after_ns is None or due < self._stale_after_ns:
            self._stale_after_ns = due
            if due < self.next_tick_ns:
                self.next_tick_ns = due + 1

    def close_all(self, now_ns: int, ingest_seq: int) -> list[DetectorEvent]:
        """Close every open window with reason `end_of_data`."""
        return [
            self._close(self._dirs[slot], window, now_ns, ingest_seq, CLOSE_END_OF_DATA)
            for slot, window in list(self._open.items())
        ]

    def _close(
        self,
        state: _Direction,
        window: OpportunityWindow,
        now_ns: int,
        ingest_seq: int,
        reason: str,
    ) -> DetectorEvent:
        del self._open[state.slot]
        state.window = None
        state.kalshi = state.poly = None
        # The outcome noted for the window no longer holds without it.
        state.k_src = state.p_src = None
        if self._dirs[state.slot ^ 1].window is None:
            i = state.pair
            self._quiet[i] = self._settled[i]
        window.close_ns = now_ns
        window.close_ingest_seq = ingest_seq
        window.close_reason = reason
        window.duration_ns = now_ns - window.open_ns
        return _event(CLOSED, window, now_ns, ingest_seq, None)

    def _size(
        self, state: _Direction, k_asks: list[Level], p_asks: list[Level], fees: FeeParams, step: int
    ) -> Sizing:
        sizing, k_read, p_read = _best(k_asks, p_asks, fees, self.min_size, step, None)
        state.sizing = sizing
        state.best_k = k_asks
        state.best_p = p_asks
        state.best_k_read = k_read
        state.best_p_read = p_read
        return sizing

    def _evaluate(
        self,
        state: _Direction,
        view: PairBooks,
        kalshi: Book | None,
        poly: Book | None,
        now_ns: int,
        ingest_seq: int,
        events: list[DetectorEvent],
    ) -> None:
        window = state.window
        if kalshi is None or poly is None or not kalshi.valid or not poly.valid:
            if window is not None:
                events.append(self._close(state, window, now_ns, ingest_seq, CLOSE_BOOK_INVALID))
            return
        k_seen = kalshi.last_update_ns
        p_seen = poly.last_update_ns
        limit = self.max_staleness_ns
        # A valid book has had a snapshot, so it has been updated.
        if k_seen is None or p_seen is None or now_ns - k_seen > limit or now_ns - p_seen > limit:
            if window is not None:
                events.append(self._close(state, window, now_ns, ingest_seq, CLOSE_STALE))
            return
        d = state.d
        # Polymarket's ladder is its book's asks unless it is the YES book's bids at 1 − p.
        p_asks_side = d == 1 or poly is view.poly_no
        i = state.pair
        fees = self._fixed_fees[i]
        if fees is None:
            fees = self.pairs[i].fees.for_time(now_ns)
        k_src = state.k_src
        if k_src is not None and fees is state.fees:
            # The last outcome holds if every level it read is still the same (`_settle`); those
            # include both tops whenever the top-of-book check below mattered to it.
            if d == 0:
                same = kalshi.ask_built is k_src and kalshi.ask_lo > state.k_front
            else:
                same = kalshi.bid_built is k_src and kalshi.bid_hi < state.k_front
            if same:
                if p_asks_side:
                    same = (
                        poly.ask_built is state.p_src
                        and poly.ask_lo > state.p_front
                        and (state.p_len < 0 or len(poly.asks) <= state.p_len)
                    )
                else:
                    same = (
                        poly.bid_built is state.p_src
                        and poly.bid_hi < state.p_front
                        and (state.p_len < 0 or len(poly.bids) <= state.p_len)
                    )
            if same:
                if window is not None:
                    self._watch(k_seen, p_seen)
                return
        if self._quick_reject:
            # Top of book only: no depth sorted unless the best asks sum to under $1.
            if d == 0:
                k_ask = kalshi.best_ask
                if p_asks_side:
                    p_ask = poly.best_ask
                else:
                    bid = poly.best_bid
                    p_ask = None if bid is None else PRICE_ONE - bid
            else:
                bid = kalshi.best_bid
                k_ask = None if bid is None else PRICE_ONE - bid
                p_ask = poly.best_ask
            if k_ask is None or p_ask is None or k_ask + p_ask >= PRICE_ONE:
                if window is not None:
                    events.append(self._close(state, window, now_ns, ingest_seq, CLOSE_EDGE_GONE))
                return
        spec = self.pairs[i]
        k_asks, p_asks = view.legs_ladders(d, kalshi, poly)
        if fees is not state.fees:
            state.fees = fees
            state.at_k = state.best_k = state.bound_k = None
        if k_asks is not state.at_k or p_asks is not state.at_p:
            if not (
                _agrees(k_asks, state.at_k, state.at_k_read)
                and _agrees(p_asks, state.at_p, state.at_p_read)
            ):
                at, k_read, p_read = _profit_at(self.min_size, k_asks, p_asks, fees)
                state.at_min = at
                state.at_k_read = k_read
                state.at_p_read = p_read
            state.at_k = k_asks
            state.at_p = p_asks
        at_min = state.at_min
        if at_min is None or at_min < self._at_threshold:
            if window is not None:
                events.append(self._close(state, window, now_ns, ingest_seq, CLOSE_EDGE_GONE))
            else:
                self._settle(state, kalshi, poly, p_asks_side, state.at_k_read, state.at_p_read, -1, False, False)
            return
        known = _agrees(k_asks, state.best_k, state.best_k_read) and _agrees(
            p_asks, state.best_p, state.best_p_read
        )
        if window is not None:
            if state.poly is not poly:  # the NO token's book became the source
                state.kalshi = kalshi
                state.poly = poly
            # recv_ns is the wall clock: stepped back, it leaves a book's last update older than
            # the one watched, and the window stale sooner.
            self._watch(k_seen, p_seen)
            if not known:
                # Only a new peak needs the best trade; a bound at or under the peak rules it out.
                if k_asks is not state.bound_k or p_asks is not state.bound_p:
                    bound, k_read, p_read, k_priced, p_priced = _bound(k_asks, p_asks, fees)
                    state.bound = bound // FINE_PER_MICRO
                    state.bound_k_read = k_read
                    state.bound_p_read = p_read
                    state.bound_k_priced = k_priced
                    state.bound_p_priced = p_priced
                    state.bound_k = k_asks
                    state.bound_p = p_asks
                if state.bound <= window.peak_profit:
                    # The profit at min_size read the sizes of all its levels; the bound, maybe
                    # only the price of its last.
                    k_keep = state.bound_k_read
                    k_priced = state.bound_k_priced
                    if state.at_k_read >= k_keep:
                        k_keep = state.at_k_read
                        k_priced = False
                    p_keep = state.bound_p_read
                    p_priced = state.bound_p_priced
                    if state.at_p_read >= p_keep:
                        p_keep = state.at_p_read
                        p_priced = False
                    self._settle(
                        state, kalshi, poly, p_asks_side, k_keep, p_keep, len(p_asks), k_priced, p_priced
                    )
                    return
                sizing = self._size(state, k_asks, p_asks, fees, spec.size_step)
                if sizing.profit > window.peak_profit:
                    window.peak_ns = now_ns
                    window.peak_ingest_seq = ingest_seq
                    window.peak_size = sizing.size
                    window.peak_profit = sizing.profit
                    window.peak_edge = sizing.edge
                    events.append(_event(PEAK, window, now_ns, ingest_seq, sizing))
            # The best trade is known for these ladders and held against the peak (it is the
            # peak, or it was sized against it): it cannot be a new peak.
            self._settle_sized(state, kalshi, poly, p_asks_side)
            return
        sizing = state.sizing if known else self._size(state, k_asks, p_asks, fees, spec.size_step)
        direction = DIRECTIONS[d]
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
            kalshi_staleness_ns=now_ns - k_seen,
            polymarket_staleness_ns=now_ns - p_seen,
            polymarket_book=poly.market,
            peak_ns=now_ns,
            peak_ingest_seq=ingest_seq,
            peak_size=sizing.size,
            peak_profit=sizing.profit,
            peak_edge=sizing.edge,
        )
        self._open[state.slot] = state.window = window
        state.kalshi = kalshi
        state.poly = poly
        self._quiet[i] = None
        self._watch(k_seen, p_seen)
        self._settle_sized(state, kalshi, poly, p_asks_side)
        events.append(_event(OPENED, window, now_ns, ingest_seq, sizing))

    def _settle_sized(self, state: _Direction, kalshi: Book, poly: Book, p_asks_side: bool) -> None:
        """`_settle` an open window whose best trade is known for these ladders."""
        self._settle(
            state,
            kalshi,
            poly,
            p_asks_side,
            max(state.at_k_read, state.best_k_read),
            max(state.at_p_read, state.best_p_read),
            -1,
            False,
            False,
        )

    def _settle(
        self,
        state: _Direction,
        kalshi: Book,
        poly: Book,
        p_asks_side: bool,
        k_keep: int,
        p_keep: int,
        p_len: int,
        k_priced: bool,
        p_priced: bool,
    ) -> None:
        """Note that the evaluation just made, which built both ladders, reached an outcome
        without an event that only the first `k_keep` and `p_keep` levels of the ladders decided
        (and, when `p_len` >= 0, the Polymarket ladder having at most that many levels, as the
        profit bound's slack grows with it): until a level that good changes, evaluating again
        would reach it again (read counts as in `_best`). When `k_priced` (`p_priced`), only the
        price of the last of those levels decided it: a change at that price leaves it too."""
        if state.d == 0:
            src = kalshi.ask_built
            state.k_front = _ask_front(src, k_keep, k_priced)
        else:
            src = kalshi.bid_built
            state.k_front = _bid_front(src, k_keep, k_priced)
        state.k_src = src
        if p_asks_side:
            src = poly.ask_built
            state.p_front = _ask_front(src, p_keep, p_priced)
        else:
            src = poly.bid_built
            state.p_front = _bid_front(src, p_keep, p_priced)
        state.p_src = src
        state.p_len = p_len


def _remember(costs: dict[int, int], price: int, cost: int) -> None:
    """Keep the cost of min_size at `price`, forgetting the others once there are too many."""
    if len(costs) >= _TOP_COSTS:
        costs.clear()
    costs[price] = cost


def _front(levels: list[Level] | None, keep: int, any_change: int, no_change: int, shift: int) -> int:
    """The price past which a change leaves the first `keep` levels of `levels` (a book side's
    depth list, best first) as they are: `any_change` (past every price) when `keep` is 0,
    `no_change` (only the side's no-change mark is past it) when they are the whole side, else
    the last of them plus `shift` (one tick better than it when only its price matters, so that
    a change at that price is past it too)."""
    if not keep:
        return any_change
    if levels is None or keep > len(levels):
        return no_change
    return levels[keep - 1][0] + shift


def _ask_front(levels: list[Level] | None, keep: int, priced: bool) -> int:
    """`_front` for asks: changes at higher prices are past it."""
    return _front(levels, keep, NO_BID_CHANGE, NO_ASK_CHANGE - 1, -1 if priced else 0)


def _bid_front(levels: list[Level] | None, keep: int, priced: bool) -> int:
    """`_front` for bids: changes at lower prices are past it."""
    return _front(levels, keep, NO_ASK_CHANGE, NO_BID_CHANGE + 1, 1 if priced else 0)


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
