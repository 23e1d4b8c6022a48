"""Specification of the exact L2 book and the book manager (DESIGN §5, issue 2)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from arbkit.core.book import NO_ASK_CHANGE, NO_BID_CHANGE, NO_SNAPSHOT, Book, BookManager
from arbkit.core.events import (
    ASK,
    BID,
    INVALID_CROSSED,
    INVALID_DISCONNECT,
    INVALID_NEGATIVE_SIZE,
    INVALID_SEQ_GAP,
    INVALID_TICK_SIZE_CHANGE,
    KALSHI,
    POLYMARKET,
    BookInvalid,
    BookSnapshot,
    LevelDelta,
    LevelSet,
    SeqGap,
    TickSizeChange,
    TopOfBook,
    Trade,
)

MARKET = "KXHIGHNY-26JUN10-B84.5"
TOKEN = "7112003451"
C = 1_000_000  # one contract in size millionths


def snapshot(bids, asks, t=1, market=MARKET, venue=KALSHI, tick=None):
    return BookSnapshot(venue, t, market, list(bids), list(asks), tick=tick)


def delta(side, price, change, t=2, market=MARKET):
    return LevelDelta(KALSHI, t, market, side, price, change)


def level_set(side, price, size, t=2, market=TOKEN):
    return LevelSet(POLYMARKET, t, market, side, price, size)


def seeded_kalshi_book(manager, bids=((3100, 20 * C), (3300, 75 * C)), asks=((3600, 210 * C), (3800, 5 * C))):
    manager.apply([snapshot(bids, asks)])
    return manager.get(KALSHI, MARKET)


def seeded_poly_book(manager):
    manager.apply(
        [snapshot([(4600, 10 * C), (4700, 1300 * C)], [(4900, 220 * C), (5000, 8 * C)], market=TOKEN, venue=POLYMARKET)]
    )
    return manager.get(POLYMARKET, TOKEN)


# --- seeding -------------------------------------------------------------------------------


def test_a_book_is_invalid_until_its_first_snapshot():
    manager = BookManager()

    book = manager.book(KALSHI, MARKET)

    assert not book.valid
    assert book.invalid_reason == NO_SNAPSHOT
    assert book.best_bid is None and book.best_ask is None


def test_snapshot_seeds_a_valid_book_with_its_best_prices_and_sizes():
    manager = BookManager()

    invalid = manager.apply([snapshot([(3300, 75 * C), (3100, 20 * C)], [(3800, 5 * C), (3600, 210 * C)], t=7)])

    book = manager.get(KALSHI, MARKET)
    assert invalid == []
    assert book.valid and book.invalid_reason is None
    assert book.bids == {3100: 20 * C, 3300: 75 * C}
    assert book.asks == {3600: 210 * C, 3800: 5 * C}
    assert (book.best_bid, book.best_bid_size) == (3300, 75 * C)
    assert (book.best_ask, book.best_ask_size) == (3600, 210 * C)
    assert book.last_update_ns == book.snapshot_ns == 7


def test_snapshot_drops_zero_size_levels_and_keeps_empty_sides():
    manager = BookManager()

    manager.apply([snapshot([(3300, 0), (3100, 20 * C)], [])])

    book = manager.get(KALSHI, MARKET)
    assert book.valid
    assert book.bids == {3100: 20 * C}
    assert book.best_ask is None and book.best_ask_size == 0


def test_snapshot_replaces_every_level_of_the_previous_book():
    manager = BookManager()
    book = seeded_kalshi_book(manager)

    manager.apply([snapshot([(2000, C)], [(9000, 2 * C)], t=9)])

    assert book.bids == {2000: C}
    assert book.asks == {9000: 2 * C}
    assert (book.best_bid, book.best_ask) == (2000, 9000)


def test_snapshot_records_the_tick_size_it_carries():
    manager = BookManager()

    manager.apply([snapshot([(4700, C)], [(4900, C)], market=TOKEN, venue=POLYMARKET, tick=100)])

    assert manager.get(POLYMARKET, TOKEN).tick == 100


# --- level semantics ---------------------------------------------------------------------------


def test_level_set_replaces_the_absolute_size_at_a_price():
    manager = BookManager()
    book = seeded_poly_book(manager)

    manager.apply([level_set(BID, 4700, 1500 * C)])

    assert book.bids[4700] == 1500 * C
    assert book.best_bid_size == 1500 * C


def test_level_set_to_zero_removes_the_level():
    manager = BookManager()
    book = seeded_poly_book(manager)

    manager.apply([level_set(ASK, 5000, 0)])

    assert 5000 not in book.asks
    assert book.valid


def test_level_delta_adds_a_signed_change_to_the_resting_size():
    manager = BookManager()
    book = seeded_kalshi_book(manager)

    manager.apply([delta(BID, 3300, -25 * C)])
    manager.apply([delta(ASK, 3600, 4 * C)])

    assert book.bids[3300] == 50 * C
    assert book.asks[3600] == 214 * C


def test_level_delta_on_a_new_price_creates_the_level():
    manager = BookManager()
    book = seeded_kalshi_book(manager)

    manager.apply([delta(BID, 3200, 7 * C)])

    assert book.bids[3200] == 7 * C
    assert book.best_bid == 3300


def test_level_delta_down_to_zero_removes_the_level():
    manager = BookManager()
    book = seeded_kalshi_book(manager)

    manager.apply([delta(BID, 3100, -20 * C)])

    assert 3100 not in book.bids
    assert book.valid


def test_a_better_bid_or_ask_becomes_the_best_at_once():
    manager = BookManager()
    book = seeded_kalshi_book(manager)

    manager.apply([delta(BID, 3400, 3 * C), delta(ASK, 3500, 9 * C)])

    assert (book.best_bid, book.best_bid_size) == (3400, 3 * C)
    assert (book.best_ask, book.best_ask_size) == (3500, 9 * C)


def test_removing_the_best_bid_promotes_the_next_bid():
    manager = BookManager()
    book = seeded_kalshi_book(manager)

    manager.apply([delta(BID, 3300, -75 * C)])

    assert (book.best_bid, book.best_bid_size) == (3100, 20 * C)


def test_removing_the_best_ask_promotes_the_next_ask():
    manager = BookManager()
    book = seeded_poly_book(manager)

    manager.apply([level_set(ASK, 4900, 0)])

    assert (book.best_ask, book.best_ask_size) == (5000, 8 * C)


def test_removing_the_last_level_of_a_side_leaves_it_empty():
    manager = BookManager()
    book = seeded_kalshi_book(manager, bids=[(3100, C)], asks=[(3600, C)])

    manager.apply([delta(BID, 3100, -C), delta(ASK, 3600, -C)])

    assert book.valid
    assert book.best_bid is None and book.best_bid_size == 0
    assert book.best_ask is None and book.best_ask_size == 0


def test_removing_a_price_that_is_not_in_the_book_changes_nothing():
    manager = BookManager()
    book = seeded_poly_book(manager)

    manager.apply([level_set(BID, 4000, 0)])

    assert book.bids == {4600: 10 * C, 4700: 1300 * C}
    assert book.valid


# --- invalidation ----------------------------------------------------------------------------


def test_a_frame_that_leaves_the_book_crossed_invalidates_it_as_crossed():
    manager = BookManager()
    book = seeded_kalshi_book(manager)

    invalid = manager.apply([delta(BID, 3600, C, t=5)])

    assert not book.valid
    assert book.invalid_reason == INVALID_CROSSED
    assert invalid == [BookInvalid(KALSHI, 5, MARKET, INVALID_CROSSED)]


def test_a_locked_book_counts_as_crossed():
    manager = BookManager()
    book = seeded_poly_book(manager)

    manager.apply([level_set(ASK, 4700, C)])

    assert book.invalid_reason == INVALID_CROSSED


def test_crossing_is_judged_after_the_whole_frame():
    # A Polymarket batch can raise the bid before the ask side's own change lands.
    manager = BookManager()
    book = seeded_poly_book(manager)

    invalid = manager.apply([level_set(BID, 4900, 5 * C), level_set(ASK, 4900, 0)])

    assert invalid == []
    assert book.valid
    assert (book.best_bid, book.best_ask) == (4900, 5000)


def test_a_crossed_snapshot_is_invalid_and_reported():
    manager = BookManager()

    invalid = manager.apply([snapshot([(5000, C)], [(4900, C)], t=3)])

    book = manager.get(KALSHI, MARKET)
    assert not book.valid and book.invalid_reason == INVALID_CROSSED
    assert invalid == [BookInvalid(KALSHI, 3, MARKET, INVALID_CROSSED)]


def test_a_delta_below_zero_invalidates_with_negative_size():
    manager = BookManager()
    book = seeded_kalshi_book(manager)

    invalid = manager.apply([delta(BID, 3300, -76 * C, t=4)])

    assert not book.valid and book.invalid_reason == INVALID_NEGATIVE_SIZE
    assert invalid == [BookInvalid(KALSHI, 4, MARKET, INVALID_NEGATIVE_SIZE)]
    assert book.bids[3300] == 75 * C


def test_a_negative_delta_on_a_missing_level_invalidates_with_negative_size():
    manager = BookManager()
    book = seeded_kalshi_book(manager)

    manager.apply([delta(ASK, 4000, -C)])

    assert book.invalid_reason == INVALID_NEGATIVE_SIZE


def test_a_negative_absolute_size_invalidates_with_negative_size():
    manager = BookManager()
    book = seeded_poly_book(manager)

    manager.apply([level_set(BID, 4700, -1)])

    assert book.invalid_reason == INVALID_NEGATIVE_SIZE


def test_a_snapshot_with_a_negative_size_leaves_an_empty_invalid_book():
    manager = BookManager()
    book = seeded_kalshi_book(manager)

    invalid = manager.apply([snapshot([(3000, C)], [(3600, -C)], t=6)])

    assert not book.valid and book.invalid_reason == INVALID_NEGATIVE_SIZE
    assert book.bids == {} and book.asks == {}
    assert book.best_bid_size == 0 and book.best_ask_size == 0
    assert invalid == [BookInvalid(KALSHI, 6, MARKET, INVALID_NEGATIVE_SIZE)]


def test_disconnect_invalidates_every_book_of_that_venue_and_no_other():
    manager = BookManager()
    kalshi = seeded_kalshi_book(manager)
    poly = seeded_poly_book(manager)

    invalid = manager.invalidate_markets(KALSHI, None, INVALID_DISCONNECT, recv_ns=11)

    assert not kalshi.valid and kalshi.invalid_reason == INVALID_DISCONNECT
    assert poly.valid
    assert invalid == [BookInvalid(KALSHI, 11, MARKET, INVALID_DISCONNECT)]


def test_invalidating_named_markets_leaves_the_others_valid():
    manager = BookManager()
    book = seeded_kalshi_book(manager)
    manager.apply([snapshot([(1000, C)], [(2000, C)], market="OTHER")])

    manager.invalidate_markets(KALSHI, ["OTHER"], INVALID_DISCONNECT, recv_ns=12)

    assert book.valid
    assert manager.get(KALSHI, "OTHER").invalid_reason == INVALID_DISCONNECT


def test_an_invalidation_is_reported_once_and_keeps_its_first_reason():
    manager = BookManager()
    book = seeded_kalshi_book(manager)
    manager.apply([delta(BID, 3300, -100 * C)])

    invalid = manager.invalidate_markets(KALSHI, None, INVALID_DISCONNECT, recv_ns=13)

    assert invalid == []
    assert book.invalid_reason == INVALID_NEGATIVE_SIZE
    assert book.invalidations == 1


def test_a_tick_size_change_invalidates_the_book_and_records_the_new_tick():
    manager = BookManager()
    book = seeded_poly_book(manager)

    invalid = manager.apply([TickSizeChange(POLYMARKET, 8, TOKEN, 100, 10)])

    assert not book.valid and book.invalid_reason == INVALID_TICK_SIZE_CHANGE
    assert book.tick == 10
    assert invalid == [BookInvalid(POLYMARKET, 8, TOKEN, INVALID_TICK_SIZE_CHANGE)]


def test_a_seq_gap_invalidates_every_market_on_its_sid():
    manager = BookManager()
    first = seeded_kalshi_book(manager)
    manager.apply([snapshot([(1000, C)], [(2000, C)], market="SECOND")])
    manager.apply([snapshot([(1000, C)], [(2000, C)], market="NOT-ON-SID")])

    invalid = manager.apply([SeqGap(KALSHI, 9, 7, 3, 5, (MARKET, "SECOND"))])

    assert {e.market for e in invalid} == {MARKET, "SECOND"}
    assert all(e.reason == INVALID_SEQ_GAP for e in invalid)
    assert not first.valid and not manager.get(KALSHI, "SECOND").valid
    assert manager.get(KALSHI, "NOT-ON-SID").valid


def test_a_decoder_book_invalid_event_invalidates_and_is_passed_on_once():
    manager = BookManager()
    book = seeded_kalshi_book(manager)
    event = BookInvalid(KALSHI, 10, MARKET, INVALID_SEQ_GAP)

    first = manager.apply([event])
    second = manager.apply([event])

    assert first == [event] and second == []
    assert book.invalid_reason == INVALID_SEQ_GAP


def test_an_invalid_book_ignores_updates_until_a_snapshot_reseeds_it():
    manager = BookManager()
    book = seeded_kalshi_book(manager)
    manager.invalidate_markets(KALSHI, None, INVALID_DISCONNECT, recv_ns=20)
    levels_before = (dict(book.bids), dict(book.asks))

    invalid = manager.apply([delta(BID, 3300, -500 * C, t=21), delta(ASK, 1000, C, t=21)])

    assert invalid == []
    assert (book.bids, book.asks) == levels_before
    assert book.invalid_reason == INVALID_DISCONNECT
    assert book.ignored == 2
    assert book.last_update_ns == 1  # invalidation is not a data update

    manager.apply([snapshot([(4000, C)], [(4200, C)], t=22)])
    manager.apply([delta(BID, 4000, C, t=23)])

    assert book.valid
    assert book.bids == {4000: 2 * C}


def test_updates_for_a_market_without_a_snapshot_are_ignored():
    manager = BookManager()

    invalid = manager.apply([delta(BID, 3300, 5 * C)])

    book = manager.get(KALSHI, MARKET)
    assert invalid == []
    assert not book.valid and book.bids == {}
    assert book.ignored == 1


def test_events_that_do_not_touch_books_change_nothing():
    manager = BookManager()
    book = seeded_poly_book(manager)

    invalid = manager.apply(
        [Trade(POLYMARKET, 30, TOKEN, 4800, 219 * C, "buy"), TopOfBook(POLYMARKET, 30, TOKEN, 4000, 6000)]
    )

    assert invalid == []
    assert book.last_update_ns == 1
    assert (book.best_bid, book.best_ask) == (4700, 4900)


# --- staleness and depth ---------------------------------------------------------------------


def test_staleness_is_now_minus_the_last_update():
    manager = BookManager()
    book = seeded_kalshi_book(manager)
    manager.apply([delta(BID, 3300, C, t=1_000_000)])

    assert book.staleness_ns(1_250_000) == 250_000


def test_staleness_is_unknown_before_any_update():
    assert Book(KALSHI, MARKET).staleness_ns(5) is None


def test_depth_walks_bids_descending_and_asks_ascending():
    manager = BookManager()

    book = seeded_kalshi_book(manager, bids=[(3100, C), (3300, 2 * C), (1000, 3 * C)], asks=[(3800, 4 * C), (3600, 5 * C)])

    assert book.bid_depth() == [(3300, 2 * C), (3100, C), (1000, 3 * C)]
    assert book.ask_depth() == [(3600, 5 * C), (3800, 4 * C)]


def test_depth_is_recomputed_after_its_side_changes_and_reused_otherwise():
    manager = BookManager()
    book = seeded_kalshi_book(manager)
    bids = book.bid_depth()
    asks = book.ask_depth()

    manager.apply([delta(ASK, 3600, -210 * C), delta(ASK, 3700, C)])

    assert book.bid_depth() is bids
    assert book.ask_depth() == [(3700, C), (3800, 5 * C)]
    assert asks == [(3600, 210 * C), (3800, 5 * C)]

    manager.apply([snapshot([(100, C)], [(200, C)])])

    assert book.bid_depth() == [(100, C)]
    assert book.ask_depth() == [(200, C)]


# --- properties against a tiny reference book -----------------------------------------------

MAX_PRICE = 12
UNIT = 10_000  # 0.01 contract


class ReferenceBook:
    """Obviously correct model of the book: plain dicts, best prices recomputed from scratch."""

    def __init__(self) -> None:
        self.bids: dict[int, int] = {}
        self.asks: dict[int, int] = {}
        self.valid = False
        self.reason: str | None = NO_SNAPSHOT

    def crossed(self) -> bool:
        return bool(self.bids and self.asks and max(self.bids) >= min(self.asks))

    def apply(self, op: tuple) -> None:
        kind = op[0]
        if kind == "snapshot":
            bids, asks = dict(op[1]), dict(op[2])
            negative = any(size < 0 for _, size in op[1] + op[2])
            self.bids = {p: s for p, s in bids.items() if s}
            self.asks = {p: s for p, s in asks.items() if s}
            reason = INVALID_NEGATIVE_SIZE if negative else INVALID_CROSSED if self.crossed() else None
            if reason:
                self.bids, self.asks = {}, {}
            self.valid, self.reason = reason is None, reason
        elif kind == "disconnect":
            if self.valid:
                self.valid, self.reason = False, INVALID_DISCONNECT
        elif self.valid:
            _, side, price, amount = op
            levels = self.bids if side == BID else self.asks
            size = levels.get(price, 0) + amount if kind == "delta" else amount
            if size < 0:
                self.valid, self.reason = False, INVALID_NEGATIVE_SIZE
            elif size:
                levels[price] = size
            else:
                levels.pop(price, None)

    def end_frame(self) -> None:
        if self.valid and self.crossed():
            self.valid, self.reason = False, INVALID_CROSSED


def to_event(op: tuple, t: int):
    kind = op[0]
    if kind == "snapshot":
        return snapshot(op[1], op[2], t=t)
    if kind == "disconnect":
        return BookInvalid(KALSHI, t, MARKET, INVALID_DISCONNECT)
    _, side, price, amount = op
    if kind == "delta":
        return LevelDelta(KALSHI, t, MARKET, side, price, amount)
    return LevelSet(KALSHI, t, MARKET, side, price, amount)


def assert_matches(book: Book, ref: ReferenceBook) -> None:
    assert (book.valid, book.invalid_reason) == (ref.valid, ref.reason)
    assert book.bids == ref.bids and book.asks == ref.asks
    assert book.best_bid == (max(ref.bids) if ref.bids else None)
    assert book.best_ask == (min(ref.asks) if ref.asks else None)
    assert book.best_bid_size == (ref.bids[max(ref.bids)] if ref.bids else 0)
    assert book.best_ask_size == (ref.asks[min(ref.asks)] if ref.asks else 0)
    assert book.bid_depth() == sorted(ref.bids.items(), reverse=True)
    assert book.ask_depth() == sorted(ref.asks.items())


prices = st.integers(1, MAX_PRICE)
sides = st.sampled_from([BID, ASK])
snapshot_ops = st.tuples(
    st.just("snapshot"),
    st.lists(st.tuples(prices, st.integers(-1, 4).map(UNIT.__mul__)), max_size=6),
    st.lists(st.tuples(prices, st.integers(-1, 4).map(UNIT.__mul__)), max_size=6),
)
any_op = st.one_of(
    snapshot_ops,
    st.tuples(st.just("delta"), sides, prices, st.integers(-4, 4).map(UNIT.__mul__)),
    st.tuples(st.just("set"), sides, prices, st.integers(-1, 4).map(UNIT.__mul__)),
    st.just(("disconnect",)),
)


def draw_valid_snapshot(data) -> tuple:
    mid = data.draw(st.integers(2, MAX_PRICE))
    size = st.integers(0, 4).map(UNIT.__mul__)
    bids = data.draw(st.lists(st.tuples(st.integers(1, mid - 1), size), max_size=5))
    asks = data.draw(st.lists(st.tuples(st.integers(mid, MAX_PRICE), size), max_size=5))
    return ("snapshot", bids, asks)


def draw_valid_level_op(data, ref: ReferenceBook) -> tuple | None:
    side = data.draw(sides)
    if side == BID:
        levels, low, high = ref.bids, 1, (min(ref.asks) - 1 if ref.asks else MAX_PRICE)
    else:
        levels, low, high = ref.asks, (max(ref.bids) + 1 if ref.bids else 1), MAX_PRICE
    candidates = st.integers(low, high) if low <= high else st.nothing()
    if levels:
        candidates = candidates | st.sampled_from(sorted(levels))
    if low > high and not levels:
        return None
    price = data.draw(candidates)
    if data.draw(st.booleans()):
        resting = levels.get(price, 0) // UNIT
        return ("delta", side, price, data.draw(st.integers(-resting, 4)) * UNIT)
    return ("set", side, price, data.draw(st.integers(0, 4)) * UNIT)


def draw_valid_frame(data, ref):
    """A frame's ops (a snapshot, or level updates that keep the book valid), applied to `ref`."""
    if not ref.valid or data.draw(st.integers(0, 9)) == 0:
        ops = [draw_valid_snapshot(data)]
        ref.apply(ops[0])
    else:
        ops = []
        for _ in range(data.draw(st.integers(1, 4))):
            op = draw_valid_level_op(data, ref)
            if op is not None:
                ops.append(op)
                ref.apply(op)
    ref.end_frame()
    return ops


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_book_equals_the_reference_book_after_any_valid_sequence(data):
    manager = BookManager()
    ref = ReferenceBook()
    for t in range(data.draw(st.integers(1, 15), label="frames")):
        ops = draw_valid_frame(data, ref)

        invalid = manager.apply([to_event(op, t) for op in ops])

        assert invalid == []
        assert_matches(manager.get(KALSHI, MARKET), ref)


@settings(max_examples=100, deadline=None)
@given(st.lists(st.lists(any_op, min_size=1, max_size=4), max_size=25))
def test_a_valid_book_is_never_crossed_and_every_invalidation_is_reported(frames):
    manager = BookManager()
    ref = ReferenceBook()
    book = manager.book(KALSHI, MARKET)
    for t, ops in enumerate(frames):
        was_valid = book.valid
        for op in ops:
            ref.apply(op)
        ref.end_frame()

        invalid = manager.apply([to_event(op, t) for op in ops])

        assert not (book.valid and book.is_crossed())
        assert_matches(book, ref)
        if was_valid and not book.valid:
            assert invalid and invalid[-1].reason == book.invalid_reason


@settings(max_examples=100, deadline=None)
@given(
    reason=st.sampled_from([INVALID_DISCONNECT, INVALID_SEQ_GAP, INVALID_TICK_SIZE_CHANGE]),
    updates=st.lists(st.tuples(st.sampled_from(["delta", "set"]), sides, prices, st.integers(-4, 4).map(UNIT.__mul__)), min_size=1),
)
def test_an_invalid_book_ignores_every_level_update(reason, updates):
    manager = BookManager()
    book = seeded_kalshi_book(manager, bids=[(3, UNIT), (5, 2 * UNIT)], asks=[(7, UNIT)])
    manager.apply([BookInvalid(KALSHI, 2, MARKET, reason)])
    before = (dict(book.bids), dict(book.asks), book.best_bid, book.best_ask, book.last_update_ns)

    invalid = manager.apply([to_event(op, 3) for op in updates])

    assert invalid == []
    assert (dict(book.bids), dict(book.asks), book.best_bid, book.best_ask, book.last_update_ns) == before
    assert (book.valid, book.invalid_reason) == (False, reason)
    assert book.ignored == len(updates)


@settings(max_examples=100, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.sampled_from(["delta", "set"]),
            sides,
            st.integers(1, MAX_PRICE // 2),
            st.integers(-2, 4).map(UNIT.__mul__),
        ),
        max_size=30,
    )
)
def test_book_methods_and_the_manager_hot_path_agree(updates):
    # Bids below and asks above the middle of the grid: these updates can never cross.
    ops = [(kind, side, price if side == BID else MAX_PRICE + 1 - price, amount) for kind, side, price, amount in updates]
    manager = BookManager()
    seeded_kalshi_book(manager, bids=[(2, UNIT)], asks=[(MAX_PRICE - 1, UNIT)])
    direct = Book(KALSHI, MARKET)
    direct.apply_snapshot([(2, UNIT)], [(MAX_PRICE - 1, UNIT)], recv_ns=1)

    for t, op in enumerate(ops, start=2):
        manager.apply([to_event(op, t)])
        _, side, price, amount = op
        if op[0] == "delta":
            direct.add_level(side, price, amount, t)
        else:
            direct.set_level(side, price, amount, t)

    book = manager.get(KALSHI, MARKET)
    assert (direct.valid, direct.invalid_reason) == (book.valid, book.invalid_reason)
    assert (direct.bids, direct.asks) == (book.bids, book.asks)
    assert (direct.best_bid, direct.best_ask) == (book.best_bid, book.best_ask)
    assert (direct.last_update_ns, direct.updates, direct.ignored) == (book.last_update_ns, book.updates, book.ignored)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_a_held_depth_list_is_the_book_up_to_the_best_price_changed_since_it_was_built(data):
    # The detector reuses an answer read off a book's depth list while the book still holds
    # that list as `ask_built`/`bid_built`: every level better than `ask_lo`/`bid_hi` must then
    # be the book's own, whatever changed behind it.
    manager = BookManager()
    ref = ReferenceBook()
    held_asks = held_bids = None
    for t in range(data.draw(st.integers(1, 15), label="frames")):
        ops = draw_valid_frame(data, ref)
        manager.apply([to_event(op, t) for op in ops])
        book = manager.get(KALSHI, MARKET)

        # Read the levels without building a depth list, which would replace the held one.
        if held_asks is not None and book.ask_built is held_asks:
            now = [level for level in sorted(book.asks.items()) if level[0] < book.ask_lo]
            assert now == [level for level in held_asks if level[0] < book.ask_lo]
        if held_bids is not None and book.bid_built is held_bids:
            now = [level for level in sorted(book.bids.items(), reverse=True) if level[0] > book.bid_hi]
            assert now == [level for level in held_bids if level[0] > book.bid_hi]
        if data.draw(st.booleans(), label="read asks"):
            held_asks = book.ask_depth()
            assert book.ask_built is held_asks and book.ask_lo == NO_ASK_CHANGE
        if data.draw(st.booleans(), label="read bids"):
            held_bids = book.bid_depth()
            assert book.bid_built is held_bids and book.bid_hi == NO_BID_CHANGE


def test_a_snapshot_or_a_drop_lets_no_held_depth_list_stand_for_the_book():
    manager = BookManager()
    book = seeded_kalshi_book(manager)
    book.ask_depth()
    book.bid_depth()

    manager.apply([snapshot([(100, C)], [(200, C)])])

    assert (book.ask_built, book.bid_built) == (None, None)
    book.ask_depth()
    book.bid_depth()
    book.drop_beyond(100, 200)
    assert (book.ask_built, book.bid_built) == (None, None)
