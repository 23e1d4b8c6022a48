"""`BookManager.apply_levels`, the engine's hot path for frames of level updates, against `apply`."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from arbkit.core.book import BookManager
from arbkit.core.events import (
    ASK,
    BID,
    INVALID_CROSSED,
    INVALID_NEGATIVE_SIZE,
    KALSHI,
    POLYMARKET,
    BookInvalid,
    BookSnapshot,
    LevelDelta,
    LevelSet,
    Trade,
)

C = 1_000_000  # one contract in size millionths
YES = "tok-yes"
NO = "tok-no"
TICKER = "KX-A"


def seeded(manager: BookManager, venue: str, market: str) -> None:
    """A valid book: bids 0.30 x 5 and 0.40 x 5, asks 0.60 x 5 and 0.70 x 5."""
    manager.apply(
        [BookSnapshot(venue, 1, market, [(3000, 5 * C), (4000, 5 * C)], [(6000, 5 * C), (7000, 5 * C)])]
    )


def poly(side: int, price: int, size: int, market: str = YES, t: int = 2) -> LevelSet:
    return LevelSet(POLYMARKET, t, market, side, price, size)


def state(manager: BookManager) -> list[tuple]:
    return [
        (key, b.bids, b.asks, b.best_bid, b.best_ask, b.valid, b.invalid_reason,
         b.last_update_ns, b.updates, b.ignored, b.invalidations)
        for key, b in sorted(manager.books.items())
    ]


def test_apply_levels_names_each_book_reached_once_per_run_of_its_updates():
    # Arrange
    manager = BookManager()
    seeded(manager, POLYMARKET, YES)
    seeded(manager, POLYMARKET, NO)
    frame = [poly(BID, 4100, C), poly(ASK, 5900, C), poly(BID, 4200, C, NO), poly(ASK, 6900, C)]
    touched = []

    # Act
    invalid = manager.apply_levels(POLYMARKET, 2, frame, touched)

    # Assert
    yes, no = manager.get(POLYMARKET, YES), manager.get(POLYMARKET, NO)
    assert invalid == []
    assert touched == [yes, no, yes]
    assert (yes.best_bid, yes.best_ask, no.best_bid) == (4100, 5900, 4200)
    assert yes.asks[6900] == C and yes.last_update_ns == 2


def test_apply_levels_names_a_book_it_ignores_because_it_is_invalid():
    manager = BookManager()
    touched = []

    invalid = manager.apply_levels(KALSHI, 2, [LevelDelta(KALSHI, 2, TICKER, BID, 4000, C)], touched)

    book = manager.get(KALSHI, TICKER)
    assert invalid == [] and touched == [book]
    assert (book.valid, book.ignored, book.bids) == (False, 1, {})


def test_apply_levels_applies_nothing_when_any_event_is_not_a_level_update():
    # Arrange: the other event comes last, after an update that would move the best bid.
    manager = BookManager()
    seeded(manager, POLYMARKET, YES)
    before = state(manager)
    frame = [poly(BID, 4500, C), Trade(POLYMARKET, 2, YES, 4500, C)]
    touched = []

    # Act
    result = manager.apply_levels(POLYMARKET, 2, frame, touched)

    # Assert
    assert result is None
    assert touched == []
    assert state(manager) == before


def test_apply_levels_reports_a_crossed_book_once_after_the_whole_frame():
    manager = BookManager()
    seeded(manager, POLYMARKET, YES)

    # The bid at 0.65 crosses the best ask 0.60, the new best ask 0.64 again; removing the ask
    # at 0.70 uncrosses nothing.
    invalid = manager.apply_levels(
        POLYMARKET, 3, [poly(BID, 6500, C), poly(ASK, 6400, C), poly(ASK, 7000, 0)], []
    )

    book = manager.get(POLYMARKET, YES)
    assert invalid == [BookInvalid(POLYMARKET, 3, YES, INVALID_CROSSED)]
    assert (book.valid, book.invalid_reason) == (False, INVALID_CROSSED)


def test_a_frame_that_crosses_and_uncrosses_leaves_the_book_valid():
    manager = BookManager()
    seeded(manager, POLYMARKET, YES)

    invalid = manager.apply_levels(POLYMARKET, 3, [poly(BID, 6500, C), poly(BID, 6500, 0)], [])

    book = manager.get(POLYMARKET, YES)
    assert invalid == [] and book.valid
    assert book.best_bid == 4000


def test_apply_takes_each_events_own_time_and_venue_when_they_differ():
    # Arrange
    manager = BookManager()
    seeded(manager, POLYMARKET, YES)
    seeded(manager, KALSHI, TICKER)

    # Act
    invalid = manager.apply(
        [poly(BID, 4100, C, t=5), LevelDelta(KALSHI, 7, TICKER, ASK, 6000, -6 * C)]
    )

    # Assert
    assert invalid == [BookInvalid(KALSHI, 7, TICKER, INVALID_NEGATIVE_SIZE)]
    assert manager.get(POLYMARKET, YES).last_update_ns == 5
    assert manager.get(KALSHI, TICKER).last_update_ns == 7


level_ops = st.lists(
    st.tuples(
        st.sampled_from([YES, NO]),
        st.sampled_from(["set", "delta"]),
        st.sampled_from([BID, ASK]),
        st.integers(25, 75).map(lambda cents: cents * 100),
        st.integers(-6, 6).map(lambda n: n * C),
    ),
    min_size=1,
    max_size=6,
)


def to_events(ops, t: int) -> list:
    return [
        LevelSet(POLYMARKET, t, market, side, price, max(amount, 0))
        if kind == "set"
        else LevelDelta(POLYMARKET, t, market, side, price, amount)
        for market, kind, side, price, amount in ops
    ]


@settings(max_examples=150, deadline=None)
@given(st.lists(level_ops, min_size=1, max_size=8))
def test_apply_levels_takes_the_same_effect_as_apply_on_any_frame_of_level_updates(frames):
    # Arrange: twin managers, one fed through each path.
    hot, general = BookManager(), BookManager()
    for manager in (hot, general):
        seeded(manager, POLYMARKET, YES)
        seeded(manager, POLYMARKET, NO)
    for t, ops in enumerate(frames, start=2):
        events = to_events(ops, t)

        # Act
        touched = []
        from_hot = hot.apply_levels(POLYMARKET, t, events, touched)
        from_general = general.apply(events)

        # Assert
        assert from_hot == from_general
        assert state(hot) == state(general)
        reached = [hot.get(POLYMARKET, e.market) for e in events]
        assert touched == [b for i, b in enumerate(reached) if i == 0 or reached[i - 1] is not b]


def test_a_cross_the_frames_own_top_explains_drops_the_levels_the_venue_says_are_gone():
    # Around a Polymarket trade, the message stating the post-trade top (bid 0.40, ask 0.45)
    # arrives before the removal of the bid at 0.50 the trade took: the book stays valid with
    # the venue's top, and the removal arriving next finds nothing left to remove.
    manager = BookManager()
    manager.apply([BookSnapshot(POLYMARKET, 1, YES, [(4000, C), (5000, C)], [(6000, C), (7000, C)])])

    trade = LevelSet(POLYMARKET, 2, YES, ASK, 4500, 2 * C, None, 4000, 4500)
    invalid = manager.apply_levels(POLYMARKET, 2, [trade], [])
    removal = LevelSet(POLYMARKET, 3, YES, BID, 5000, 0, None, 4000, 4500)
    after_removal = manager.apply_levels(POLYMARKET, 3, [removal], [])

    book = manager.get(POLYMARKET, YES)
    assert invalid == [] and after_removal == [] and book.valid
    assert (book.bids, book.asks) == ({4000: C}, {4500: 2 * C, 6000: C, 7000: C})
    assert (book.best_bid, book.best_ask) == (4000, 4500)
    assert (book.bid_depth(), book.ask_depth()[0]) == ([(4000, C)], (4500, 2 * C))


def test_a_cross_the_frames_own_top_does_not_explain_invalidates_the_book():
    manager = BookManager()
    seeded(manager, POLYMARKET, YES)  # bids 0.30, 0.40; asks 0.60, 0.70

    # The stated top is itself crossed (0.65 / 0.64), so it explains nothing.
    invalid = manager.apply_levels(
        POLYMARKET, 2, [LevelSet(POLYMARKET, 2, YES, BID, 6500, C, None, 6500, 6400)], []
    )

    assert invalid == [BookInvalid(POLYMARKET, 2, YES, INVALID_CROSSED)]


def test_a_stated_top_counts_only_from_the_last_update_of_that_book_in_the_frame():
    manager = BookManager()
    seeded(manager, POLYMARKET, YES)
    seeded(manager, POLYMARKET, NO)

    # The YES book's last update states no top; the NO book's top cannot vouch for YES.
    invalid = manager.apply_levels(
        POLYMARKET,
        2,
        [
            LevelSet(POLYMARKET, 2, YES, BID, 6500, C, None, 4000, 6000),
            LevelSet(POLYMARKET, 2, YES, BID, 6600, C),
            LevelSet(POLYMARKET, 2, NO, BID, 3500, C, None, 4000, 6000),
        ],
        [],
    )

    assert invalid == [BookInvalid(POLYMARKET, 2, YES, INVALID_CROSSED)]
    assert manager.get(POLYMARKET, NO).valid
