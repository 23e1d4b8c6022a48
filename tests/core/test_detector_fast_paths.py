"""The detector's shortcuts change no decision.

`Detector.on_pairs_changed` rejects a pair with no open window on top of book before evaluating
it (from legs it holds once settled), reuses the last sizing while a direction's ladders and fees
are the same objects, sizes an open window only when `profit_bound_fine` allows a new peak, and
the engine calls `on_tick` only once `next_tick_ns` is reached. `ReferenceDetector` below is the
definition written out with none of that (every named pair's directions looked up and sized from
scratch, every open window checked for staleness and every pair for a fee change on every frame).
Both must produce the same events on random streams of snapshots, level updates, invalidations,
sequence gaps, fee changes and quiet spells long enough to go stale, for several min_size and
size steps; and the bound must hold for every size.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from arbkit.config import Detector as DetectorConfig
from arbkit.config import FeeOverride, Pair
from arbkit.core import detector as detector_module
from arbkit.core.book import Book, BookManager
from arbkit.core.detector import (
    CLOSE_BOOK_INVALID,
    CLOSE_EDGE_GONE,
    CLOSE_STALE,
    CLOSED,
    OPENED,
    PEAK,
    Detector,
    DetectorEvent,
    OpportunityWindow,
    best_trade,
    edge_at,
    opportunity_id,
    profit_bound_fine,
    profit_fine_at,
)
from arbkit.core.events import (
    ASK,
    BID,
    INVALID_CROSSED,
    KALSHI,
    POLYMARKET,
    BookInvalid,
    BookSnapshot,
    LevelDelta,
    LevelSet,
    SeqGap,
)
from arbkit.core.fees import FINE_PER_MICRO, FeeParams, datetime_to_ns
from arbkit.core.pairs import DIRECTIONS, PairBooks, PairSpec

C = 1_000_000
MS = 1_000_000
T0 = 1_790_000_000 * 10**9
FEE_SWITCH = dt.datetime.fromtimestamp(T0 // 10**9 + 3, tz=dt.UTC)
STALE_MS = 500


class ReferenceDetector:
    """Windows by the definition (DESIGN §6), with the `Detector` call interface and no shortcut."""

    def __init__(self, pairs: list[Pair] | list[PairSpec], config: DetectorConfig) -> None:
        self.specs = [p if isinstance(p, PairSpec) else PairSpec.from_config(p) for p in pairs]
        self.min_edge = Decimal(config.min_edge)
        self.min_size = int(Decimal(config.min_size) * C)
        self.limit_ns = config.max_staleness_ms * MS
        self.open: dict[tuple[int, int], tuple[OpportunityWindow, object, object]] = {}
        self.fees_seen: dict[int, FeeParams] = {}

    def pairs_for_market(self, venue, market):
        return tuple(s.name for s in self.specs if (venue, market) in s.markets())

    def on_books_changed(self, names, now, seq, books) -> list:
        events: list = []
        for i, spec in enumerate(self.specs):
            if spec.name in names:
                self._evaluate(i, now, seq, books, events)
        return events

    def on_tick(self, now, seq, books) -> list:
        events: list = []
        for i, spec in enumerate(self.specs):
            if self.fees_seen.get(i, spec.fees.base) is not spec.fees.for_time(now):
                self._evaluate(i, now, seq, books, events)
        for key, (window, kalshi, poly) in list(self.open.items()):
            if not (kalshi.valid and poly.valid):
                events.append(self._close(key, now, seq, CLOSE_BOOK_INVALID))
            elif not self._fresh(kalshi, poly, now):
                events.append(self._close(key, now, seq, CLOSE_STALE))
        return events

    def _fresh(self, kalshi, poly, now) -> bool:
        return now - kalshi.last_update_ns <= self.limit_ns and now - poly.last_update_ns <= self.limit_ns

    def _close(self, key, now, seq, reason) -> DetectorEvent:
        window = self.open.pop(key)[0]
        window.close_ns, window.close_ingest_seq, window.close_reason = now, seq, reason
        window.duration_ns = now - window.open_ns
        return DetectorEvent(CLOSED, window, now, seq, None)

    def _evaluate(self, i, now, seq, books, events) -> None:
        spec = self.specs[i]
        view = PairBooks(spec, books)
        fees = self.fees_seen[i] = spec.fees.for_time(now)
        for d, direction in enumerate(DIRECTIONS):
            key = (i, d)
            kalshi, poly = view.legs(direction)
            if kalshi is None or poly is None or not (kalshi.valid and poly.valid):
                if key in self.open:
                    events.append(self._close(key, now, seq, CLOSE_BOOK_INVALID))
                continue
            if not self._fresh(kalshi, poly, now):
                if key in self.open:
                    events.append(self._close(key, now, seq, CLOSE_STALE))
                continue
            k_asks, p_asks = view.ladders(direction)
            profit = profit_fine_at(self.min_size, k_asks, p_asks, fees)
            # The exact edge at min_size in dollars per contract pair.
            if profit is None or Decimal(profit) / 10**10 / (Decimal(self.min_size) / C) < self.min_edge:
                if key in self.open:
                    events.append(self._close(key, now, seq, CLOSE_EDGE_GONE))
                continue
            sizing = best_trade(k_asks, p_asks, fees, self.min_size, spec.size_step)
            if key in self.open:
                window = self.open[key][0]
                self.open[key] = (window, kalshi, poly)
                if sizing.profit > window.peak_profit:
                    window.peak_ns, window.peak_ingest_seq = now, seq
                    window.peak_size, window.peak_profit, window.peak_edge = sizing
                    events.append(DetectorEvent(PEAK, window, now, seq, sizing))
                continue
            window = OpportunityWindow(
                opportunity_id=opportunity_id(spec.name, direction, seq, now),
                pair=spec.name,
                direction=direction,
                open_ns=now,
                open_ingest_seq=seq,
                open_edge_at_min_size=edge_at(self.min_size, k_asks, p_asks, fees).edge,
                open_size=sizing.size,
                open_profit=sizing.profit,
                open_edge=sizing.edge,
                kalshi_staleness_ns=now - kalshi.last_update_ns,
                polymarket_staleness_ns=now - poly.last_update_ns,
                polymarket_book=poly.market,
                peak_ns=now,
                peak_ingest_seq=seq,
                peak_size=sizing.size,
                peak_profit=sizing.profit,
                peak_edge=sizing.edge,
            )
            self.open[key] = (window, kalshi, poly)
            events.append(DetectorEvent(OPENED, window, now, seq, sizing))


def pairs(fixed_fees: bool = False) -> list[Pair]:
    # Fee overrides: Kalshi's multiplier halves, then Polymarket's rate rises, then Kalshi's
    # multiplier goes back to its base value (new parameters equal to old ones). With
    # `fixed_fees` the second pair has none (its fees never change).
    overrides = [
        FeeOverride(since=FEE_SWITCH, kalshi_fee_multiplier=Decimal("0.5")),
        FeeOverride(since=FEE_SWITCH + dt.timedelta(seconds=4), polymarket_fee_rate=Decimal("0.05")),
        FeeOverride(since=FEE_SWITCH + dt.timedelta(seconds=8), kalshi_fee_multiplier=Decimal(1)),
    ]
    return [
        Pair(
            name=f"pair-{k}",
            kalshi_ticker=f"K{k}",
            polymarket_yes_token=f"Y{k}",
            polymarket_no_token=f"N{k}",
            kalshi_fee_multiplier=Decimal(1),
            polymarket_fee_rate=Decimal("0.02"),
            fee_overrides=[] if fixed_fees and k else overrides,
        )
        for k in range(2)
    ]


FEE_CHANGES = sorted({datetime_to_ns(o.since) for p in pairs() for o in p.fee_overrides})


def ladder(rng: random.Random, best: int, step: int, unit: int) -> list[tuple[int, int]]:
    return [(best + step * 100 * i, rng.randint(1, 40) * unit) for i in range(rng.randint(0, 5))]


class Stream:
    """Random frames of two pairs: snapshots, invalidations, gaps and level updates near a mid,
    often a Polymarket YES quote put through the Kalshi top (an arb) or the best one taken away.

    Sizes are multiples of `unit`. The NO token's book is seeded by snapshots only from frame
    `no_from` on; before that its mirrored level updates still arrive, so the book exists but
    NO asks come from YES bids. With `no_from=None` the NO token never appears. The clock steps
    back now and then when `back_steps`, never across a fee change (the engine re-evaluates a
    pair for a fee change once, when the clock first reaches it).
    """

    def __init__(self, seed: int, unit: int = C // 2, no_from: int | None = 0, back_steps: bool = False) -> None:
        self.rng = random.Random(seed)
        self.unit = unit
        self.no_from = no_from
        self.back_steps = back_steps
        self.now = T0

    def tick(self) -> int:
        rng = self.rng
        step = rng.choice((1, 5, 20, 80)) * MS if rng.random() < 0.97 else (STALE_MS + 100) * MS
        if self.back_steps and rng.random() < 0.03:
            back = self.now - rng.choice((STALE_MS // 2, STALE_MS + 100)) * MS
            if not any(back < change <= self.now for change in FEE_CHANGES):
                step = back - self.now
        self.now += step
        return self.now

    def events(self, seq: int, books: BookManager) -> list:
        rng, now, unit = self.rng, self.now, self.unit
        k = rng.randrange(2)
        kalshi, yes, no = f"K{k}", f"Y{k}", f"N{k}"
        seeded_no = self.no_from is not None and seq >= self.no_from
        markets = (kalshi, yes, no if seeded_no else yes)
        roll = rng.random()
        no_book = books.get(POLYMARKET, no)
        k_book = books.get(KALSHI, kalshi)
        y_book = books.get(POLYMARKET, yes)
        if seeded_no and (no_book is None or not no_book.snapshots) and y_book is not None and y_book.valid:
            k_ask = None if k_book is None else k_book.best_ask
            arb = k_ask is not None and y_book.best_bid is not None and k_ask < y_book.best_bid
            # The NO book's first snapshot, mirroring the YES book, likely while the YES bids
            # are what a window buying NO on Polymarket walks.
            if rng.random() < (0.5 if arb else 0.01):
                bids = [(10_000 - p, size) for p, size in y_book.ask_depth()]
                asks = [(10_000 - p, size) for p, size in y_book.bid_depth()]
                return [BookSnapshot(POLYMARKET, now, no, bids, asks)]
        if roll < 0.1:
            market = rng.choice(markets)
            venue = KALSHI if market == kalshi else POLYMARKET
            ask = 5000 + rng.choice((-400, -300, -200, 0, 200))
            bid = ask - rng.choice((100, 200, 300))
            return [BookSnapshot(venue, now, market, ladder(rng, bid, -1, unit), ladder(rng, ask, 1, unit))]
        if roll < 0.12:
            market = rng.choice(markets)
            return [BookInvalid(KALSHI if market == kalshi else POLYMARKET, now, market, INVALID_CROSSED)]
        if roll < 0.13:
            return [SeqGap(KALSHI, now, 1, 5, 9, (kalshi,))]
        side = rng.choice((BID, ASK))
        if roll < 0.5:
            levels = {} if k_book is None else k_book.bids if side == BID else k_book.asks
            if levels and rng.random() < 0.6:  # change a level there, often taking it all
                price = rng.choice(sorted(levels))
                delta = rng.choice((-levels[price], rng.randint(-levels[price], 30 * unit)))
            else:  # a new level, now and then negative (the book turns invalid)
                price = uncrossed(k_book, side, 5000 + rng.randint(-6, 6) * 100)
                delta = rng.randint(-1 if rng.random() < 0.05 else 1, 30) * unit
            return [LevelDelta(KALSHI, now, kalshi, side, price, delta)]
        price: int | None = uncrossed(y_book, side, 5000 + rng.randint(-6, 6) * 100)
        size = rng.choice((0, rng.randint(1, 40) * unit))
        if roll < 0.7 and k_book is not None and y_book is not None:
            if rng.random() < 0.4:
                price, size = (y_book.best_bid if side == BID else y_book.best_ask), 0
            elif side == BID and k_book.best_ask is not None:
                price = k_book.best_ask + rng.randint(1, 6) * 100
                if y_book.best_ask is not None and price >= y_book.best_ask:
                    price = y_book.best_ask - 100
            elif side == ASK and k_book.best_bid is not None:
                price = k_book.best_bid - rng.randint(1, 6) * 100
                if y_book.best_bid is not None and price <= y_book.best_bid:
                    price = y_book.best_bid + 100
            if price is None or not 0 < price < 10_000:
                price = 5000
        events = [LevelSet(POLYMARKET, now, yes, side, price, size)]
        if self.no_from is not None and rng.random() < 0.7:  # the mirrored NO-token change
            events.append(LevelSet(POLYMARKET, now, no, 1 - side, 10_000 - price, size))
        return events


def uncrossed(book: Book | None, side: int, price: int) -> int:
    """`price`, or one tick inside the opposite best when it would cross `book` (most of the time)."""
    if book is not None and book.best_ask is not None and side == BID and price >= book.best_ask:
        return book.best_ask - 100
    if book is not None and book.best_bid is not None and side == ASK and price <= book.best_bid:
        return book.best_bid + 100
    return price


def feed(detector, books: BookManager, events: list, now: int, seq: int, engine_like: bool) -> list:
    """Apply one frame to `books` and return the detector's events, named as the engine names."""
    invalid = books.apply(list(events))
    touched = {(e.venue, m) for e in events for m in (e.markets if isinstance(e, SeqGap) else (e.market,))}
    touched |= {(e.venue, e.market) for e in invalid}
    names = sorted({n for key in touched for n in detector.pairs_for_market(*key)})
    out = detector.on_books_changed(names, now, seq, books)
    if not engine_like or now >= detector.next_tick_ns:
        out += detector.on_tick(now, seq, books)
    return out


def window_events(events: list) -> list:
    return [
        (e.kind, e.now_ns, e.ingest_seq, e.sizing, msgspec.structs.asdict(e.window)) for e in events
    ]


# (min_size, size step): one contract, several (min_size reads deeper), and fractional contracts.
SIZINGS = [(Decimal(1), C), (Decimal(3), C), (Decimal("0.5"), C // 100)]


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32),
    min_edge=st.sampled_from(["0.01", "0.001", "0"]),
    no_from=st.sampled_from([0, 0, 250, None]),
    sizing=st.sampled_from(SIZINGS),
    unit=st.sampled_from([C // 2, C, 7 * C // 100]),
    back_steps=st.booleans(),
    fixed_fees=st.booleans(),
)
def test_shortcuts_give_the_same_events_as_the_definition(seed, min_edge, no_from, sizing, unit, back_steps, fixed_fees):
    min_size, step = sizing
    config = DetectorConfig(min_edge=Decimal(min_edge), min_size=min_size, max_staleness_ms=STALE_MS)
    specs = [PairSpec.from_config(p, step) for p in pairs(fixed_fees)]
    fast, full = Detector(specs, config), ReferenceDetector(specs, config)
    fast_books, full_books = BookManager(), BookManager()
    stream = Stream(seed, unit, no_from, back_steps)

    for seq in range(600):
        now = stream.tick()
        events = stream.events(seq, fast_books)
        got = feed(fast, fast_books, events, now, seq, engine_like=True)
        want = feed(full, full_books, events, now, seq, engine_like=False)

        assert window_events(got) == window_events(want), seq
    assert [w.opportunity_id for w in fast.open_windows()] == [w.opportunity_id for (w, _, _) in full.open.values()]


def test_the_random_streams_reach_every_case_the_shortcuts_must_get_right():
    # Guards the property test above against streams too tame to reach the shortcuts' edges.
    reasons = set()
    opened = peaks = deep = switched = late_opened = 0
    config = DetectorConfig(min_edge=Decimal("0.01"), min_size=Decimal(1), max_staleness_ms=STALE_MS)
    for seed in range(6):
        stream = Stream(seed, no_from=250)
        detector, books = ReferenceDetector(pairs(), config), BookManager()
        for seq in range(600):
            now = stream.tick()
            out = feed(detector, books, stream.events(seq, books), now, seq, engine_like=False)
            opened += sum(1 for e in out if e.kind == "opened")
            late_opened += sum(1 for e in out if e.kind == "opened" and e.now_ns >= FEE_CHANGES[-1])
            peaks += sum(1 for e in out if e.kind == "peak")
            deep += sum(1 for e in out if e.kind == "opened" and e.sizing.size > 2 * C)
            reasons |= {e.window.close_reason for e in out if e.kind == "closed"}
            # A window opened on NO asks from YES bids, open when the NO book took over.
            switched += sum(1 for w, _, poly in detector.open.values() if w.polymarket_book != poly.market)

    assert opened >= 50 and peaks >= 20 and deep >= 10 and late_opened >= 5
    assert reasons == {"edge_gone", "book_invalid", "stale"}
    assert switched >= 1


def test_a_fee_change_re_sizes_an_open_window_whose_ladders_did_not_change():
    # Kalshi YES asks 10 @ 0.45 + Polymarket NO asks 10 @ 0.50: 0.05 gross per pair, so the window
    # opens; at FEE_SWITCH the Kalshi multiplier halves while no ladder changes, so the same
    # ladders must be sized again and the profit rises to a new peak on that frame.
    config = DetectorConfig(min_edge=Decimal("0.01"), min_size=Decimal(1), max_staleness_ms=10_000)
    detector, books = Detector(pairs(), config), BookManager()
    start = T0 + 1000 * MS
    switch = datetime_to_ns(FEE_SWITCH)
    frames = [
        (start, [BookSnapshot(KALSHI, start, "K0", [(4400, 10 * C)], [(4500, 10 * C)])]),
        (start, [BookSnapshot(POLYMARKET, start, "N0", [(4800, 10 * C)], [(5000, 10 * C)])]),
        (start, [BookSnapshot(POLYMARKET, start, "Y0", [(4900, 10 * C)], [(5100, 10 * C)])]),
        # A Kalshi bid deep in the book: only the other direction's ladder changes.
        (switch + MS, [LevelDelta(KALSHI, switch + MS, "K0", BID, 4000, 5 * C)]),
    ]
    out = []
    for seq, (now, events) in enumerate(frames):
        books.apply(events)
        out += detector.on_books_changed(["pair-0"], now, seq, books)
        if now >= detector.next_tick_ns:
            out += detector.on_tick(now, seq, books)

    assert [(e.kind, e.ingest_seq) for e in out] == [("opened", 1), ("peak", 3)]
    assert out[1].sizing.profit > out[0].sizing.profit


def test_an_open_window_reads_no_ladder_again_while_its_books_change_only_past_what_decided_it():
    # Kalshi YES asks 10 @ 0.45 + Polymarket NO asks 10 @ 0.50 open a window sized on the first
    # levels; asks far above them arrive and go on both venues without a ladder being sorted
    # again or an event, and the window still takes a new peak when a better ask arrives.
    config = DetectorConfig(min_edge=Decimal("0.01"), min_size=Decimal(1), max_staleness_ms=10_000)
    detector, books = Detector(pairs(), config), BookManager()
    start = T0 + 1000 * MS
    frames = [
        [BookSnapshot(KALSHI, start, "K0", [(4400, 10 * C)], [(4500, 10 * C), (9000, C)])],
        [BookSnapshot(POLYMARKET, start, "N0", [(4800, 10 * C)], [(5000, 10 * C), (9500, C)])],
        [BookSnapshot(POLYMARKET, start, "Y0", [(4900, 10 * C)], [(5100, 10 * C)])],
    ]
    out = []
    for seq, events in enumerate(frames):
        books.apply(events)
        out += detector.on_books_changed(["pair-0"], start, seq, books)
    kalshi, no = books.get(KALSHI, "K0"), books.get(POLYMARKET, "N0")
    held = kalshi.ask_built, no.ask_built
    far = [
        [LevelDelta(KALSHI, start + MS, "K0", ASK, 9200, 3 * C)],
        [LevelSet(POLYMARKET, start + MS, "N0", ASK, 9600, 2 * C)],
        [LevelDelta(KALSHI, start + MS, "K0", ASK, 9200, -3 * C)],
    ]
    for seq, events in enumerate(far, start=len(frames)):
        books.apply(events)
        out += detector.on_books_changed(["pair-0"], start + MS, seq, books)

    assert [e.kind for e in out] == ["opened"]
    assert (kalshi.ask_built, no.ask_built) == held and held[0] is kalshi.ask_built

    books.apply([LevelSet(POLYMARKET, start + 2 * MS, "N0", ASK, 4900, 10 * C)])
    out += detector.on_books_changed(["pair-0"], start + 2 * MS, 9, books)

    assert [(e.kind, e.ingest_seq) for e in out] == [("opened", 1), ("peak", 9)]
    assert out[1].sizing.profit > out[0].sizing.profit
    assert no.ask_built is not held[1]


@st.composite
def ladder_pairs(draw):
    def levels(best, sizes):
        count = draw(st.integers(1, 6))
        prices = sorted(draw(st.sets(st.integers(0, 40), min_size=count, max_size=count)))
        return [(best + 25 * k, draw(sizes)) for k in prices]

    kalshi_best = draw(st.integers(1, 9_900))
    gross = draw(st.integers(-50, 600))
    poly_best = max(1, min(9_999, 10_000 - kalshi_best - gross))
    # Sizes down to one millionth, where Polymarket's half-up rounding can take a fee to zero.
    sizes = st.one_of(st.integers(1, 60), st.integers(1, 12_000_000), st.integers(1, 12).map(lambda n: n * C))
    return levels(kalshi_best, sizes), levels(poly_best, sizes)


@settings(max_examples=300, deadline=None)
@given(
    ladders=ladder_pairs(),
    multiplier=st.sampled_from(["0", "0.5", "1", "1.3"]),
    rate=st.sampled_from(["0", "0.0123", "0.03", "0.07", "0.25"]),
    data=st.data(),
)
def test_the_profit_bound_is_never_below_the_profit_of_any_size(ladders, multiplier, rate, data):
    kalshi, poly = ladders
    fees = FeeParams(Decimal(multiplier), Decimal(rate))
    depth = min(sum(s for _, s in kalshi), sum(s for _, s in poly))
    edges = sorted({sum(s for _, s in lv[:k]) for lv in ladders for k in range(len(lv) + 1)})
    sizes = {e + d for e in edges for d in (-1, 1, 7, C // 100, C)}
    sizes |= set(data.draw(st.lists(st.integers(1, depth), max_size=30)))

    bound = profit_bound_fine(kalshi, poly, fees)

    for size in sorted(s for s in sizes if 0 < s <= depth):
        assert profit_fine_at(size, kalshi, poly, fees) <= bound, size
    for step in (C, C // 100):
        assert best_trade(kalshi, poly, fees, step=step).profit <= bound // FINE_PER_MICRO


@settings(max_examples=150, deadline=None)
@given(
    ladders=ladder_pairs(),
    multiplier=st.sampled_from(["0", "1", "1.3"]),
    rate=st.sampled_from(["0", "0.03", "0.25"]),
    sizing=st.sampled_from(
        [(C, C, None), (2 * C, C, None), (7 * C, C // 100, None), (C // 100, C // 100, None), (C, C, 3 * C)]
    ),
    data=st.data(),
)
def test_sizing_answers_depend_only_on_the_levels_they_report_reading(ladders, multiplier, rate, sizing, data):
    # The detector reuses an answer for new ladders that agree on the levels it read: any change
    # past them, including adding or removing levels, must leave the answer as it was. The profit
    # bound also grows with the Polymarket ladder's length: changes past it that keep the length
    # leave it as it was, fewer levels never raise it.
    kalshi, poly = ladders
    fees = FeeParams(Decimal(multiplier), Decimal(rate))
    min_size, step, max_size = sizing

    def changed_past(ladder, read, same_length=False):
        if read > len(ladder):  # read to the end: it depends on the whole ladder
            return ladder
        kept = ladder[:read]
        floor = kept[-1][0] if kept else 1
        prices = st.integers(floor, max(floor, 9_999))
        n = len(ladder) - read if same_length else None
        tail = data.draw(st.lists(st.tuples(prices, st.integers(1, 12 * C)), min_size=n or 0, max_size=4 if n is None else n))
        return kept + sorted(tail)

    best, k_read, p_read = detector_module._best(kalshi, poly, fees, min_size, step, max_size)
    at, k_at, p_at = detector_module._profit_at(min_size, kalshi, poly, fees)

    assert detector_module._best(changed_past(kalshi, k_read), changed_past(poly, p_read), fees, min_size, step, max_size)[0] == best
    assert detector_module._profit_at(min_size, changed_past(kalshi, k_at), changed_past(poly, p_at), fees)[0] == at
    assert best == best_trade(kalshi, poly, fees, min_size, step, max_size)

    bound, k_read, p_read, k_priced, p_priced = detector_module._bound(kalshi, poly, fees)

    assert detector_module._bound(changed_past(kalshi, k_read), changed_past(poly, p_read, same_length=True), fees)[0] == bound
    # With Polymarket levels gone past those it read, the bound cannot rise.
    shorter = poly[: max(p_read, len(poly) - data.draw(st.integers(0, 3)))]
    assert detector_module._bound(changed_past(kalshi, k_read), shorter, fees)[0] <= bound
    assert bound == profit_bound_fine(kalshi, poly, fees)

    # A level it read only the price of may change size, leaving the bound as it is, or go,
    # which cannot raise it (the detector only needs the bound not to rise).
    gone = data.draw(st.booleans())

    def priced_level_changed(ladder, read, priced):
        if not priced or read > len(ladder):
            return ladder
        if gone:
            return ladder[: read - 1] + ladder[read:]
        return ladder[: read - 1] + [(ladder[read - 1][0], data.draw(st.integers(1, 12 * C)))] + ladder[read:]

    moved = detector_module._bound(
        priced_level_changed(kalshi, k_read, k_priced), priced_level_changed(poly, p_read, p_priced), fees
    )[0]
    assert moved <= bound if gone else moved == bound
