"""The seeded market scenario that drives the sandbox venues.

A pure discrete-event simulation: no wall clock, no global random. Per pair a latent probability
(integer ticks of $0.0001) moves as a random walk with occasional jumps; each venue quotes a
multi-level ladder on the cent grid around its own view of it, with its own half-spread, depth,
size noise and update lag. Outside injected dislocations the two venues' centres are kept within
the sum of their half-spreads of each other, so the cross-venue gross edge
(1 - yes_ask - no_ask at top of book) is never positive. Injected dislocations (one venue lags a
jump; a large mis-priced resting order) freeze the pair's top of book for a known window with a
known positive gross edge; they are the ground truth.

Books are kept in YES terms (bids/asks of YES, size in hundredths of a contract). `step()` advances
the simulated clock to the next event and returns the venue-native items it produced; the venue
sessions (`kalshi.py`, `polymarket.py`) turn items into wire payloads.

Items (tuples, first element is the tag):
    ("kl", pair, side, price, delta)               Kalshi level change, YES terms, signed delta
    ("kt", pair, yes_price, size, taker_yes)        Kalshi trade print
    ("ktk", pair, bid, ask, bid_size, ask_size, last_price, volume)   Kalshi top of book changed
    ("pc", pair, serial, changes, best_bid, best_ask)   Polymarket YES changes [(side, price, size)]
    ("pb", pair, serial, bids, asks, tick)          Polymarket book re-send (YES levels, sorted)
    ("pt", pair, serial, price, size, taker_buy)    Polymarket last trade (YES token)
    ("ptc", pair, old_tick, new_tick)               Polymarket tick size change
    ("kr", pair, event_type, result)                Kalshi lifecycle: "determined"/"settled", "yes"/"no"
    ("pr", pair, yes_won)                           Polymarket market resolved
    ("pnm", serial, number)                         Polymarket new market (not one of the pairs)

Fidelity options (all off by default; `fidelity()` turns them all on): the first
`subpenny_pairs` pairs quote on a $0.001 grid on both venues (Polymarket tick 0.001, Kalshi
`deci_cent`); the first `fractional_pairs` pairs' Kalshi sizes carry hundredths of a contract;
at `tick_change_at_s` the last pair's Polymarket tick goes from 0.01 to 0.001 (the random tick
changes of `tick_change_every_s` come on top; the ladder follows the tick either way); from
`resolve_at_s` the first half of the pairs resolve one by one, each after a last dislocation, so
that a paper trader holds positions to settle; `new_market_every_s` announces unrelated markets.
"""

from __future__ import annotations

import heapq
import random
from dataclasses import dataclass, field, replace

CENT = 100  # price ticks per cent
ONE = 10_000  # $1 in ticks
KALSHI = 0
POLYMARKET = 1
BID = 0
ASK = 1

BUY_KALSHI_YES = "buy_kalshi_yes_poly_no"
BUY_POLY_YES = "buy_poly_yes_kalshi_no"
KIND_LAG = "lagged_jump"
KIND_MISPRICED = "mispriced_order"

_EV_RECENTER = 0
_EV_WALK = 1
_EV_DISLOCATE = 2
_EV_DISLOCATION_END = 3
_EV_TRADE = 4
_EV_TICK = 5
_EV_TICK_SCRIPTED = 6
_EV_RESOLVE = 7
_EV_SETTLE = 8
_EV_NEW_MARKET = 9
_EV_DISLOCATE_PAIR = 10
_EV_ANNOUNCE = 11

SUBPENNY = CENT // 10  # $0.001
RESOLVE_LEAD_S = 3.0  # a resolving pair's last dislocation starts this long before it resolves
RESOLVE_STAGGER_S = 0.5  # between two pairs' resolutions
SETTLE_AFTER_S = 1.0  # Kalshi `settled` follows `determined`
ANNOUNCE_GAP_S = 0.2  # the second venue announces the outcome this much after the first


@dataclass(frozen=True)
class ScenarioConfig:
    """Knobs of the scenario; everything else is drawn from `seed`."""

    seed: int = 0
    pairs: int = 4
    rate: float = 200.0  # mean data frames per second per venue from size noise alone
    epoch_ms: int = 1_790_000_000_000  # venue clock at simulated time 0
    walk_interval_ms: int = 250  # every pair's latent moves about this often
    jump_probability: float = 0.03
    dislocation_every_s: float = 6.0  # mean gap between dislocation starts, whole scenario
    dislocation_duration_s: tuple[float, float] = (0.8, 3.0)
    gross_edge_cents: tuple[int, int] = (4, 8)
    trade_every_s: float = 1.5
    tick_change_every_s: float = 40.0
    kalshi_fee_multiplier: str = "1.0"
    polymarket_fee_rate: str = "0.03"
    subpenny_pairs: int = 0
    fractional_pairs: int = 0
    tick_change_at_s: float | None = None  # simulated seconds after the start
    resolve_at_s: float | None = None
    new_market_every_s: float | None = None


def fidelity(config: ScenarioConfig, duration_s: float | None = None,
             kalshi_era: str = "c") -> ScenarioConfig:
    """`config` with every fidelity option on, timed for a feed of `duration_s` seconds.

    One pair is sub-penny and fractional (when the Kalshi field era `kalshi_era` can say so), the
    last pair's tick changes at 30% of the duration (30 s without one), half the pairs resolve
    from 75% of it (only with a duration of 10 s or more, so that the closing dislocations fit),
    and a new market is announced every `duration_s / 3` (at most 20) s.
    """
    resolve = None
    if duration_s is not None and duration_s >= 10 and config.pairs >= 2:
        resolve = 0.75 * duration_s
    modern = 1 if kalshi_era == "c" else 0
    return replace(
        config,
        subpenny_pairs=modern,
        fractional_pairs=modern,
        tick_change_at_s=0.3 * duration_s if duration_s else 30.0,
        resolve_at_s=resolve,
        new_market_every_s=min(20.0, duration_s / 3) if duration_s else 20.0,
    )


def with_options(config: ScenarioConfig, **options: float | int | None) -> ScenarioConfig:
    """`config` with the given fidelity options set; None leaves an option as it is."""
    return replace(config, **{k: v for k, v in options.items() if v is not None})


def check_options(config: ScenarioConfig) -> None:
    """Raise ValueError naming an option the scenario cannot honour."""
    if config.resolve_at_s is not None and config.pairs < 2:
        raise ValueError("resolutions need at least 2 pairs (the last pair never resolves, so "
                         "the feed goes on)")
    for name in ("subpenny_pairs", "fractional_pairs"):
        if getattr(config, name) < 0:
            raise ValueError(f"{name} must not be negative")


def resolving_pairs(pairs: int) -> int:
    """How many pairs (the first ones) resolve: half, rounded up, and never the only pair."""
    return 0 if pairs < 2 else (pairs + 1) // 2


@dataclass(frozen=True)
class PairSpec:
    """One simulated market as both venues name it."""

    index: int
    name: str
    kalshi_ticker: str
    kalshi_market_id: str
    polymarket_yes_token: str
    polymarket_no_token: str
    polymarket_condition_id: str


@dataclass
class Dislocation:
    """One injected cross-venue dislocation; prices in ticks, size in hundredths."""

    dislocation_id: str
    pair: int
    direction: str
    kind: str
    start_ns: int
    gross_edge: int
    size: int
    yes_ask: int
    no_ask: int
    end_ns: int | None = None


class _Quote:
    """One venue's ladder for one pair."""

    __slots__ = ("bids", "asks", "center", "hs", "levels", "lo", "hi", "unit", "lag_ns", "grid")

    def __init__(self, center: int, hs: int, levels: int, lo: int, hi: int, unit: int, lag_ns: int,
                 grid: int = CENT):
        self.bids: dict[int, int] = {}
        self.asks: dict[int, int] = {}
        self.center = center
        self.hs = hs
        self.levels = levels
        self.lo = lo  # size range in `unit`s
        self.hi = hi
        self.unit = unit  # Kalshi: whole contracts (100), Polymarket: hundredths (1)
        self.lag_ns = lag_ns
        self.grid = grid  # price grid of the centre (and so of every level): CENT or SUBPENNY


@dataclass
class _PairState:
    latent: int
    frozen: str | None = None  # id of the active dislocation
    tick: int = CENT  # Polymarket tick size in ticks
    last_ticker: tuple = ()
    last_price: int = 0
    volume: int = 0
    pending: list[bool] = field(default_factory=lambda: [False, False])
    resolved: bool = False


class Scenario:
    """A seeded, reproducible two-venue market; `step()` advances it by one event."""

    def __init__(self, config: ScenarioConfig) -> None:
        self.config = config
        rng = random.Random(config.seed)
        self._rng = rng
        n = config.pairs
        if n < 1:
            raise ValueError("a scenario needs at least one pair")
        check_options(config)
        self.epoch_ns = config.epoch_ms * 1_000_000
        self.now_ns = self.epoch_ns
        self.pairs: list[PairSpec] = []
        self.state: list[_PairState] = []
        self.quotes: tuple[list[_Quote], list[_Quote]] = ([], [])
        for i in range(n):
            self.pairs.append(_make_pair(rng, config.seed, i))
            latent = int(2500 + rng.random() * 5000)
            grid = SUBPENNY if i < config.subpenny_pairs else CENT
            center = _round(latent, grid)
            self.state.append(_PairState(latent=latent, tick=grid))
            # A fractional market's sizes are whole hundredths of a contract rather than whole ones.
            k_unit = 1 if i < config.fractional_pairs else CENT
            kq = _Quote(center, CENT * (1 + (rng.random() < 0.3)), 6 + int(rng.random() * 5),
                        10 * CENT // k_unit, 500 * CENT // k_unit, k_unit,
                        int((20 + rng.random() * 60) * 1_000_000), grid)
            pq = _Quote(center, CENT, 5 + int(rng.random() * 6),
                        500, 500_000, 1, int((80 + rng.random() * 200) * 1_000_000), grid)
            for q in (kq, pq):
                for price in _ladder(q.center, q.hs, q.levels, BID):
                    q.bids[price] = self._size(q)
                for price in _ladder(q.center, q.hs, q.levels, ASK):
                    q.asks[price] = self._size(q)
            self.quotes[KALSHI].append(kq)
            self.quotes[POLYMARKET].append(pq)
        self.dislocations: list[Dislocation] = []
        self._active: dict[str, Dislocation] = {}
        self._serial = 0
        self._gap_ns = max(1, int(1e9 / config.rate)) if config.rate > 0 else 10**15
        self._next = [self.epoch_ns + self._gap(), self.epoch_ns + self._gap()]
        self._heap: list[tuple[int, int, int, tuple]] = []
        self._heap_seq = 0
        self._k: list[tuple] = []
        self._p: list[tuple] = []
        # A quiet feed (below 100 frames/s) slows the market's own events down with it, so
        # re-quotes and trades do not outnumber the configured rate.
        self._slow = max(1.0, 100.0 / config.rate) if config.rate > 0 else 1e6
        self._walk_gap = max(1, int(config.walk_interval_ms * 1_000_000 * self._slow) // n)
        self._schedule(self.epoch_ns + self._walk_gap, _EV_WALK, ())
        self._schedule(self.epoch_ns + self._exp_ns(config.dislocation_every_s * 0.5), _EV_DISLOCATE, ())
        self._schedule(self.epoch_ns + self._exp_ns(config.trade_every_s), _EV_TRADE, ())
        self._schedule(self.epoch_ns + self._exp_ns(config.tick_change_every_s), _EV_TICK, ())
        if config.tick_change_at_s is not None:
            self._schedule(self.epoch_ns + int(config.tick_change_at_s * 1e9), _EV_TICK_SCRIPTED, (n - 1,))
        if config.new_market_every_s is not None:
            self._schedule(self.epoch_ns + self._exp_ns(config.new_market_every_s), _EV_NEW_MARKET, ())
        self._new_markets = 0
        if config.resolve_at_s is not None:
            self.schedule_resolutions(self.epoch_ns + int(config.resolve_at_s * 1e9))
        for i in range(n):
            self.state[i].last_ticker = self._ticker_key(i)

    # ---- public read access -------------------------------------------------------------

    def book(self, venue: int, pair: int) -> tuple[dict[int, int], dict[int, int]]:
        """The venue's current YES book for a pair: (bids, asks) as {price ticks: hundredths}."""
        q = self.quotes[venue][pair]
        return q.bids, q.asks

    def tick(self, pair: int) -> int:
        """The pair's current Polymarket tick size in ticks."""
        return self.state[pair].tick

    @property
    def next_ns(self) -> int:
        """Simulated time of the next event."""
        t = min(self._next)
        return min(t, self._heap[0][0]) if self._heap else t

    def active_dislocations(self) -> list[Dislocation]:
        """Dislocations that have started and not yet ended."""
        return list(self._active.values())

    def completed_dislocations(self) -> list[Dislocation]:
        """Dislocations that have ended, in start order."""
        return [d for d in self.dislocations if d.end_ns is not None]

    def schedule_resolutions(self, at_ns: int) -> None:
        """Resolve the first `resolving_pairs` pairs from `at_ns` on, RESOLVE_STAGGER_S apart,
        each after a last dislocation that starts RESOLVE_LEAD_S before it resolves."""
        for pair in range(resolving_pairs(len(self.pairs))):
            t = at_ns + int(pair * RESOLVE_STAGGER_S * 1e9)
            self._schedule(max(self.now_ns, t - int(RESOLVE_LEAD_S * 1e9)), _EV_DISLOCATE_PAIR, (pair,))
            self._schedule(t, _EV_RESOLVE, (pair,))

    # ---- stepping -----------------------------------------------------------------------

    def step(self) -> tuple[int, list[tuple], list[tuple]]:
        """Advance to the next event; return (time ns, Kalshi items, Polymarket items)."""
        self._k = k = []
        self._p = p = []
        nk, np_ = self._next
        t = nk if nk <= np_ else np_
        heap = self._heap
        if heap and heap[0][0] < t:
            t, _, kind, args = heapq.heappop(heap)
            self.now_ns = t
            self._event(kind, args)
        else:
            self.now_ns = t
            venue = KALSHI if nk <= np_ else POLYMARKET
            self._next[venue] = t + self._gap()
            self._noise(venue)
        return t, k, p

    def _event(self, kind: int, args: tuple) -> None:
        if kind == _EV_RECENTER:
            venue, pair = args
            self.state[pair].pending[venue] = False
            self._recenter(venue, pair)
        elif kind == _EV_WALK:
            self._walk()
            self._schedule(self.now_ns + self._walk_gap, _EV_WALK, ())
        elif kind == _EV_DISLOCATE:
            self._dislocate()
            self._schedule(self.now_ns + self._exp_ns(self.config.dislocation_every_s), _EV_DISLOCATE, ())
        elif kind == _EV_DISLOCATION_END:
            self._end_dislocation(args[0])
        elif kind == _EV_TRADE:
            self._trade()
            self._schedule(self.now_ns + self._exp_ns(self.config.trade_every_s), _EV_TRADE, ())
        elif kind == _EV_TICK:
            self._tick_change()
            self._schedule(self.now_ns + self._exp_ns(self.config.tick_change_every_s), _EV_TICK, ())
        elif kind == _EV_TICK_SCRIPTED:
            if self.state[args[0]].tick == CENT:
                self._tick_change(args[0])
        elif kind == _EV_DISLOCATE_PAIR:
            if self.state[args[0]].frozen is None and not self.state[args[0]].resolved:
                self._dislocate(args[0])
        elif kind == _EV_RESOLVE:
            self._resolve(args[0])
        elif kind == _EV_ANNOUNCE:
            self._announce(*args)
        elif kind == _EV_SETTLE:
            self._k.append(("kr", args[0], "settled", args[1]))
        elif kind == _EV_NEW_MARKET:
            self._new_markets += 1
            self._serial += 1
            self._p.append(("pnm", self._serial, self._new_markets))
            self._schedule(self.now_ns + self._exp_ns(self.config.new_market_every_s), _EV_NEW_MARKET, ())

    def _schedule(self, t: int, kind: int, args: tuple) -> None:
        self._heap_seq += 1
        heapq.heappush(self._heap, (t, self._heap_seq, kind, args))

    def _gap(self) -> int:
        return int(self._gap_ns * (0.5 + self._rng.random()))

    def _exp_ns(self, mean_s: float) -> int:
        return 1 + int(self._rng.expovariate(1.0 / (mean_s * self._slow)) * 1e9)

    def _size(self, q: _Quote) -> int:
        return (q.lo + int(self._rng.random() * (q.hi - q.lo))) * q.unit

    # ---- background activity ------------------------------------------------------------

    def _noise(self, venue: int) -> None:
        rng = self._rng
        pair = int(rng.random() * len(self.pairs))
        if self.state[pair].resolved:
            return  # a closed market's book is empty and stays so
        q = self.quotes[venue][pair]
        x = int(rng.random() * 2 * q.levels)
        k = x >> 1
        if k == 0 and self.state[pair].frozen is not None:
            k = 1  # a dislocation's top of book stays exactly as the ground truth says
        if x & 1:
            book = q.bids
            price = q.center - q.hs - k * CENT
            side = BID
        else:
            book = q.asks
            price = q.center + q.hs + k * CENT
            side = ASK
        old = book.get(price)
        if old is None:
            return
        unit = q.unit
        new = old + int((rng.random() - 0.5) * old) // unit * unit
        floor = q.lo * unit
        if new < floor:
            new = floor + unit
        elif new > 2 * q.hi * unit:
            new = q.hi * unit
        if new == old:
            new = old + unit
        book[price] = new
        if venue == KALSHI:
            self._k.append(("kl", pair, side, price, new - old))
            if k == 0 or self.state[pair].frozen is not None:
                self._ticker(pair)  # deeper ladder levels never move the top of book
        else:
            self._poly_changes(pair, [(side, price, new)])

    def _walk(self) -> None:
        rng = self._rng
        pair = int(rng.random() * len(self.pairs))
        st = self.state[pair]
        if rng.random() < self.config.jump_probability:
            move = (2 + int(rng.random() * 2)) * CENT * (1 if rng.random() < 0.5 else -1)
        else:
            move = int((rng.random() - 0.5) * 3 * CENT)
        st.latent = min(8500, max(1500, st.latent + move))
        if st.frozen is not None or st.resolved:
            return
        for venue in (KALSHI, POLYMARKET):
            q = self.quotes[venue][pair]
            if _round(st.latent, q.grid) != q.center and not st.pending[venue]:
                st.pending[venue] = True
                lag = q.lag_ns + int(rng.random() * q.lag_ns)
                self._schedule(self.now_ns + lag, _EV_RECENTER, (venue, pair))

    def _recenter(self, venue: int, pair: int) -> None:
        st = self.state[pair]
        if st.frozen is not None or st.resolved:
            return
        q = self.quotes[venue][pair]
        target = _round(st.latent, q.grid)
        if self._rng.random() < 0.1:
            target += CENT if self._rng.random() < 0.5 else -CENT  # the venue's own quoting noise
        target = self._within_reach(venue, pair, target)
        if target != q.center:
            self._requote(venue, pair, target)

    def _within_reach(self, venue: int, pair: int, target: int) -> int:
        """`target` moved on the venue's grid to within the other venue's reach."""
        q = self.quotes[venue][pair]
        other = self.quotes[1 - venue][pair]
        limit = q.hs + other.hs  # keeps 1 - yes_ask - no_ask <= 0 across venues
        lo = _align(other.center - limit, q.grid, up=True)
        hi = _align(other.center + limit, q.grid, up=False)
        return max(lo, min(hi, target))

    def _requote(self, venue: int, pair: int, center: int) -> None:
        """Move a venue's ladder to `center`, removals first so no prefix of it is crossed."""
        q = self.quotes[venue][pair]
        q.center = center
        removals: list[tuple[int, int, int, int]] = []
        additions: list[tuple[int, int, int, int]] = []
        for side, book in ((BID, q.bids), (ASK, q.asks)):
            wanted = set(_ladder(center, q.hs, q.levels, side))
            for price in sorted(book):
                if price not in wanted:
                    removals.append((side, price, 0, book.pop(price)))
            for price in sorted(wanted):
                if price not in book:
                    size = self._size(q)
                    book[price] = size
                    additions.append((side, price, size, 0))
        self._emit(venue, pair, removals + additions)

    def _emit(self, venue: int, pair: int, changes: list[tuple[int, int, int, int]]) -> None:
        if not changes:
            return
        if venue == KALSHI:
            k = self._k
            for side, price, new, old in changes:
                k.append(("kl", pair, side, price, new - old))
            self._ticker(pair)
        else:
            self._poly_changes(pair, [(side, price, new) for side, price, new, _ in changes])

    def _poly_changes(self, pair: int, changes: list[tuple[int, int, int]]) -> None:
        q = self.quotes[POLYMARKET][pair]
        self._serial += 1
        bids, asks = q.bids, q.asks
        self._p.append(("pc", pair, self._serial, changes,
                        max(bids) if bids else None, min(asks) if asks else None))

    def _ticker_key(self, pair: int) -> tuple:
        q = self.quotes[KALSHI][pair]
        bids, asks = q.bids, q.asks
        bid = max(bids) if bids else None
        ask = min(asks) if asks else None
        return (bid, ask, bids.get(bid, 0), asks.get(ask, 0))

    def _ticker(self, pair: int) -> None:
        st = self.state[pair]
        key = self._ticker_key(pair)
        if key != st.last_ticker:
            st.last_ticker = key
            self._k.append(("ktk", pair, *key, st.last_price, st.volume))

    def _poly_book(self, pair: int) -> None:
        q = self.quotes[POLYMARKET][pair]
        self._serial += 1
        self._p.append(("pb", pair, self._serial, sorted(q.bids.items()), sorted(q.asks.items()),
                        self.state[pair].tick))

    def _trade(self) -> None:
        rng = self._rng
        pair = int(rng.random() * len(self.pairs))
        st = self.state[pair]
        if st.frozen is not None or st.resolved:
            return
        venue = KALSHI if rng.random() < 0.5 else POLYMARKET
        q = self.quotes[venue][pair]
        taker_buy = rng.random() < 0.5
        book = q.asks if taker_buy else q.bids
        if not book:
            return
        price = min(book) if taker_buy else max(book)
        old = book[price]
        room = old // q.unit - q.lo
        if room < 1:
            return
        size = (1 + int(rng.random() * room)) * q.unit
        book[price] = old - size
        side = ASK if taker_buy else BID
        if venue == KALSHI:
            st.last_price = price
            st.volume += size
            self._k.append(("kt", pair, price, size, taker_buy))
            self._emit(KALSHI, pair, [(side, price, old - size, old)])
        else:
            self._serial += 1
            self._p.append(("pt", pair, self._serial, price, size, taker_buy))
            self._emit(POLYMARKET, pair, [(side, price, old - size, old)])
            if rng.random() < 0.5:
                self._poly_book(pair)  # Polymarket re-sends the book after trades that touch it

    def _tick_change(self, pair: int | None = None) -> None:
        if pair is None:
            pair = int(self._rng.random() * len(self.pairs))
        st = self.state[pair]
        if st.frozen is not None or st.resolved:
            return  # a dislocation's top of book stays as the ground truth says; closed is closed
        old = st.tick
        q = self.quotes[POLYMARKET][pair]
        st.tick = q.grid = SUBPENNY if old == CENT else CENT
        if q.center % q.grid:
            # Back to whole cents: the sub-penny levels go first, while they are still valid.
            self._requote(POLYMARKET, pair, self._within_reach(POLYMARKET, pair, _round(q.center, q.grid)))
        self._p.append(("ptc", pair, old, st.tick))
        self._poly_book(pair)

    # ---- dislocations -------------------------------------------------------------------

    def _dislocate(self, pair: int | None = None) -> None:
        rng = self._rng
        cfg = self.config
        n = len(self.pairs)
        if pair is None:
            start = int(rng.random() * n)
            pair = next((p % n for p in range(start, start + n)
                         if self.state[p % n].frozen is None and not self.state[p % n].resolved), None)
            if pair is None:
                return
        direction = BUY_KALSHI_YES if rng.random() < 0.5 else BUY_POLY_YES
        kind = KIND_LAG if rng.random() < 0.5 else KIND_MISPRICED
        lo, hi = cfg.gross_edge_cents
        gross = (lo + int(rng.random() * (hi - lo + 1))) * CENT
        # On a venue with a coarser grid than the other the price is rounded: towards a larger
        # edge only when the edge is at its floor, so that it stays within [lo, hi] cents.
        wider = gross == lo * CENT
        yes_venue = KALSHI if direction == BUY_KALSHI_YES else POLYMARKET
        no_venue = 1 - yes_venue
        yq = self.quotes[yes_venue][pair]
        nq = self.quotes[no_venue][pair]
        moves_yes_venue = rng.random() < 0.5
        if kind == KIND_LAG:
            if moves_yes_venue:  # a drop the NO venue has not followed yet
                lead, center = yes_venue, _align(max(nq.bids) - gross - yq.hs, yq.grid, up=not wider)
            else:  # a rise the YES venue has not followed yet
                lead, center = no_venue, _align(min(yq.asks) + gross + nq.hs, nq.grid, up=wider)
            if not 5 * CENT <= center <= ONE - 5 * CENT:
                return
            self.state[pair].latent = center
            self._requote(lead, pair, center)
        else:
            size = (300 + int(rng.random() * 1200)) * CENT
            if moves_yes_venue:  # a large sell rests a cheap YES ask on the YES venue
                price, victim, side = _align(max(nq.bids) - gross, yq.grid, up=not wider), yes_venue, ASK
            else:  # a large buy rests a rich YES bid on the NO venue
                price, victim, side = _align(min(yq.asks) + gross, nq.grid, up=wider), no_venue, BID
            if not CENT <= price <= ONE - CENT:
                return
            self._rest_mispriced(victim, pair, side, price, size)
        bid = max(nq.bids)
        ask = min(yq.asks)
        dislocation = Dislocation(
            dislocation_id=f"D{len(self.dislocations) + 1:05d}",
            pair=pair,
            direction=direction,
            kind=kind,
            start_ns=self.now_ns,
            gross_edge=bid - ask,
            size=min(yq.asks[ask], nq.bids[bid]),
            yes_ask=ask,
            no_ask=ONE - bid,
        )
        self.dislocations.append(dislocation)
        self._active[dislocation.dislocation_id] = dislocation
        self.state[pair].frozen = dislocation.dislocation_id
        lo_s, hi_s = cfg.dislocation_duration_s
        duration = int((lo_s + rng.random() * (hi_s - lo_s)) * 1e9)
        self._schedule(self.now_ns + duration, _EV_DISLOCATION_END, (dislocation.dislocation_id,))

    def _rest_mispriced(self, venue: int, pair: int, side: int, price: int, size: int) -> None:
        """Sweep the venue's own opposite levels through `price`, then rest `size` there."""
        q = self.quotes[venue][pair]
        size = size // q.unit * q.unit
        changes: list[tuple[int, int, int, int]] = []
        if side == ASK:
            swept = sorted((p for p in q.bids if p >= price), reverse=True)
            for p in swept:
                changes.append((BID, p, 0, q.bids.pop(p)))
            taker_buy = False
        else:
            swept = sorted(p for p in q.asks if p <= price)
            for p in swept:
                changes.append((ASK, p, 0, q.asks.pop(p)))
            taker_buy = True
        for _, p, _, old in changes:
            if venue == KALSHI:
                self.state[pair].last_price = p
                self.state[pair].volume += old
                self._k.append(("kt", pair, p, old, taker_buy))
            else:
                self._serial += 1
                self._p.append(("pt", pair, self._serial, p, old, taker_buy))
        book = q.asks if side == ASK else q.bids
        old = book.get(price, 0)
        book[price] = old + size
        changes.append((side, price, old + size, old))
        self._emit(venue, pair, changes)

    def _end_dislocation(self, dislocation_id: str) -> None:
        dislocation = self._active.pop(dislocation_id, None)
        if dislocation is None:
            return  # ended early, by the market's resolution
        dislocation.end_ns = self.now_ns
        pair = dislocation.pair
        st = self.state[pair]
        st.frozen = None
        for venue in (KALSHI, POLYMARKET):
            self._requote(venue, pair, _round(st.latent, self.quotes[venue][pair].grid))

    # ---- the end of a market ------------------------------------------------------------

    def _resolve(self, pair: int) -> None:
        """Close the pair's market on both venues: books emptied, then the outcome announced
        (Kalshi first on even pairs, Polymarket first on odd ones), Kalshi `settled` later."""
        st = self.state[pair]
        if st.resolved:
            return
        if st.frozen is not None:
            self._end_dislocation(st.frozen)
        st.resolved = True
        # The outcome follows the market's own probability, drawn from the seeded generator.
        result = "yes" if self._rng.random() * ONE < st.latent else "no"
        for venue in (KALSHI, POLYMARKET):
            q = self.quotes[venue][pair]
            changes = [(side, price, 0, book.pop(price))
                       for side, book in ((BID, q.bids), (ASK, q.asks)) for price in sorted(book)]
            self._emit(venue, pair, changes)
        first, second = (KALSHI, POLYMARKET) if pair % 2 == 0 else (POLYMARKET, KALSHI)
        self._announce(first, pair, result)
        self._schedule(self.now_ns + int(ANNOUNCE_GAP_S * 1e9), _EV_ANNOUNCE, (second, pair, result))
        self._schedule(self.now_ns + int(SETTLE_AFTER_S * 1e9), _EV_SETTLE, (pair, result))

    def _announce(self, venue: int, pair: int, result: str) -> None:
        if venue == KALSHI:
            self._k.append(("kr", pair, "determined", result))
        else:
            self._p.append(("pr", pair, result == "yes"))


def _round(ticks: int, grid: int) -> int:
    return (ticks + grid // 2) // grid * grid


def _align(ticks: int, grid: int, up: bool) -> int:
    """`ticks` on `grid`, rounded up or down."""
    return -(-ticks // grid) * grid if up else ticks // grid * grid


def _ladder(center: int, hs: int, levels: int, side: int) -> list[int]:
    if side == BID:
        return [p for p in (center - hs - k * CENT for k in range(levels)) if p >= CENT]
    return [p for p in (center + hs + k * CENT for k in range(levels)) if p <= ONE - CENT]


def _make_pair(rng: random.Random, seed: int, i: int) -> PairSpec:
    yes = str(rng.getrandbits(252) | (1 << 251))
    no = str(rng.getrandbits(252) | (1 << 251))
    market_id = "%08x-%04x-4%03x-a%03x-%012x" % (
        rng.getrandbits(32), rng.getrandbits(16), rng.getrandbits(12), rng.getrandbits(12),
        rng.getrandbits(48))
    return PairSpec(
        index=i,
        name=f"Sandbox {seed}-{i:03d}: outcome {i} happens",
        kalshi_ticker=f"KXSANDBOX-S{seed}-M{i:03d}",
        kalshi_market_id=market_id,
        polymarket_yes_token=yes,
        polymarket_no_token=no,
        polymarket_condition_id="0x%064x" % rng.getrandbits(256),
    )
