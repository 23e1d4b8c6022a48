"""The detector's shortcuts change no decision.

`Detector.on_pairs_changed` rejects a pair with no open window on top of book before evaluating
it (from legs it holds once settled), reuses the last sizing while a direction's ladders and fees
are the same objects, sizes an open window only when `profit_bound_fine` allows a new peak, and
the engine calls `on_tick` only once `next_tick_ns` is reached. `ReferenceDetector` below is the
definition written out with none of that (every named pair's directions looked up and sized from
scratch, every open window checked for staleness and every pair for a fee change on every frame).
Both must produce the same events on random streams of snapshots, level updates, invalidations,
sequence gaps, fee changes and quiet spells long enough to go stale; and the bound must hold for
every size.
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
from arbkit.core.book import BookManager
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

    def __init__(self, pairs: list[Pair], config: DetectorConfig) -> None:
        self.specs = [PairSpec.from_config(p) for p in pairs]
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


def pairs() -> list[Pair]:
    return [
        Pair(
            name=f"pair-{k}",
            kalshi_ticker=f"K{k}",
            polymarket_yes_token=f"Y{k}",
            polymarket_no_token=f"N{k}",
            kalshi_fee_multiplier=Decimal(1),
            polymarket_fee_rate=Decimal("0.02"),
            fee_overrides=[FeeOverride(since=FEE_SWITCH, kalshi_fee_multiplier=Decimal("0.5"))],
        )
        for k in range(2)
    ]


def ladder(rng: random.Random, best: int, step: int) -> list[tuple[int, int]]:
    return [(best + step * 100 * i, rng.randint(1, 40) * C // 2) for i in range(rng.randint(0, 4))]


def random_events(rng: random.Random, now: int, no_token: bool = True) -> list:
    """One frame's events: mostly level updates near a mid that sometimes leaves an arb.

    Without `no_token` the NO token's book never appears (its asks come from YES bids).
    """
    k = rng.randrange(2)
    roll = rng.random()
    kalshi, yes, no = f"K{k}", f"Y{k}", f"N{k}"
    mid = 5000 + rng.choice((-300, 0, 0, 200))
    if roll < 0.12:
        market = rng.choice((kalshi, yes, no if no_token else yes))
        venue = KALSHI if market == kalshi else POLYMARKET
        ask = 5000 + rng.choice((-400, -300, -200, 0, 200))
        bid = ask - rng.choice((100, 200, 300))
        return [BookSnapshot(venue, now, market, ladder(rng, bid, -1), ladder(rng, ask, 1))]
    if roll < 0.14:
        market = rng.choice((kalshi, yes, no if no_token else yes))
        return [BookInvalid(KALSHI if market == kalshi else POLYMARKET, now, market, INVALID_CROSSED)]
    if roll < 0.15:
        return [SeqGap(KALSHI, now, 1, 5, 9, (kalshi,))]
    price = mid + rng.randint(-6, 6) * 100
    side = rng.choice((BID, ASK))
    if roll < 0.55:
        return [LevelDelta(KALSHI, now, kalshi, side, price, rng.randint(-30, 30) * C)]
    size = rng.choice((0, rng.randint(1, 40) * C))
    events = [LevelSet(POLYMARKET, now, yes, side, price, size)]
    if no_token and rng.random() < 0.7:  # the mirrored NO-token change that usually rides along
        events.append(LevelSet(POLYMARKET, now, no, 1 - side, 10_000 - price, size))
    return events


def window_events(events: list) -> list:
    return [
        (e.kind, e.now_ns, e.ingest_seq, e.sizing, msgspec.structs.asdict(e.window)) for e in events
    ]


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32),
    min_edge=st.sampled_from(["0.01", "0.001", "0"]),
    no_token=st.sampled_from([True, True, False]),
)
def test_shortcuts_give_the_same_events_as_the_definition(seed, min_edge, no_token):
    rng = random.Random(seed)
    config = DetectorConfig(min_edge=Decimal(min_edge), min_size=Decimal(1), max_staleness_ms=STALE_MS)
    fast, full = Detector(pairs(), config), ReferenceDetector(pairs(), config)
    fast_books, full_books = BookManager(), BookManager()
    now = T0

    for seq in range(600):
        now += rng.choice((1, 5, 20, 80)) * MS if rng.random() < 0.97 else (STALE_MS + 100) * MS
        events = random_events(rng, now, no_token)
        got: list = []
        want: list = []
        for detector, books, out, engine_like in ((fast, fast_books, got, True), (full, full_books, want, False)):
            invalid = books.apply(list(events))
            touched = {(e.venue, m) for e in events for m in (e.markets if isinstance(e, SeqGap) else (e.market,))}
            touched |= {(e.venue, e.market) for e in invalid}
            names = sorted({n for key in touched for n in detector.pairs_for_market(*key)})
            out += detector.on_books_changed(names, now, seq, books)
            if not engine_like or now >= detector.next_tick_ns:
                out += detector.on_tick(now, seq, books)

        assert window_events(got) == window_events(want), seq
    assert [w.opportunity_id for w in fast.open_windows()] == [w.opportunity_id for (w, _, _) in full.open.values()]


def test_the_random_streams_open_and_close_windows_for_every_reason():
    # Guards the property test above against streams too tame to reach the shortcuts' edges.
    reasons = set()
    opened = 0
    for seed in range(6):
        rng = random.Random(seed)
        config = DetectorConfig(min_edge=Decimal("0.01"), min_size=Decimal(1), max_staleness_ms=STALE_MS)
        detector, books, now = ReferenceDetector(pairs(), config), BookManager(), T0
        for seq in range(600):
            now += rng.choice((1, 5, 20, 80)) * MS if rng.random() < 0.97 else (STALE_MS + 100) * MS
            events = random_events(rng, now)
            invalid = books.apply(list(events))
            touched = {(e.venue, m) for e in events for m in (e.markets if isinstance(e, SeqGap) else (e.market,))}
            touched |= {(e.venue, e.market) for e in invalid}
            names = sorted({n for key in touched for n in detector.pairs_for_market(*key)})
            out = detector.on_books_changed(names, now, seq, books) + detector.on_tick(now, seq, books)
            opened += sum(1 for e in out if e.kind == "opened")
            reasons |= {e.window.close_reason for e in out if e.kind == "closed"}

    assert opened >= 20
    assert reasons == {"edge_gone", "book_invalid", "stale"}
    assert datetime_to_ns(FEE_SWITCH) < now


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
    sizing=st.sampled_from([(C, C, None), (2 * C, C, None), (C // 100, C // 100, None), (C, C, 3 * C)]),
    data=st.data(),
)
def test_sizing_answers_depend_only_on_the_levels_they_report_reading(ladders, multiplier, rate, sizing, data):
    # The detector reuses an answer for new ladders that agree on the levels it read: any change
    # past them, including adding or removing levels, must leave the answer as it was.
    kalshi, poly = ladders
    fees = FeeParams(Decimal(multiplier), Decimal(rate))
    min_size, step, max_size = sizing

    def changed_past(ladder, read):
        if read > len(ladder):  # read to the end: it depends on the whole ladder
            return ladder
        kept = ladder[:read]
        floor = kept[-1][0] if kept else 1
        prices = st.integers(floor, max(floor, 9_999))
        tail = data.draw(st.lists(st.tuples(prices, st.integers(1, 12 * C)), max_size=4))
        return kept + sorted(tail)

    best, k_read, p_read = detector_module._best(kalshi, poly, fees, min_size, step, max_size)
    at, k_at, p_at = detector_module._profit_at(min_size, kalshi, poly, fees)

    assert detector_module._best(changed_past(kalshi, k_read), changed_past(poly, p_read), fees, min_size, step, max_size)[0] == best
    assert detector_module._profit_at(min_size, changed_past(kalshi, k_at), changed_past(poly, p_at), fees)[0] == at
    assert best == best_trade(kalshi, poly, fees, min_size, step, max_size)
