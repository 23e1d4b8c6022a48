"""Cases of the detector's shortcuts that random streams reach rarely, checked on exact frames.

Each drives `Detector` the way the engine does (books changed on a frame, then `on_tick` only once
`next_tick_ns` is reached) and states what the definition (DESIGN §6) says happens.
"""

from __future__ import annotations

from decimal import Decimal

from arbkit.config import Detector as DetectorConfig
from arbkit.config import Pair
from arbkit.core.book import BookManager
from arbkit.core.detector import Detector
from arbkit.core.events import ASK, BID, KALSHI, POLYMARKET, BookSnapshot, LevelDelta, LevelSet

C = 1_000_000
MS = 1_000_000
T0 = 1_790_000_000 * 10**9


def pairs() -> list[Pair]:
    return [
        Pair(
            name=f"pair-{k}",
            kalshi_ticker=f"K{k}",
            polymarket_yes_token=f"Y{k}",
            polymarket_no_token=f"N{k}",
            kalshi_fee_multiplier=Decimal(1),
            polymarket_fee_rate=Decimal("0.02"),
        )
        for k in range(2)
    ]


def run(frames: list, config: DetectorConfig) -> list[tuple[str, int, str | None, int]]:
    """Feed (now, events) frames as the engine does; return (kind, frame, close reason, peak profit)."""
    detector, books = Detector(pairs(), config), BookManager()
    out = []
    for seq, (now, events) in enumerate(frames):
        invalid = books.apply(events)
        touched = {(e.venue, e.market) for e in events} | {(e.venue, e.market) for e in invalid}
        names = sorted({n for key in touched for n in detector.pairs_for_market(*key)})
        found = detector.on_books_changed(names, now, seq, books)
        if now >= detector.next_tick_ns:
            found += detector.on_tick(now, seq, books)
        out += [
            (e.kind, e.ingest_seq, e.window.close_reason if e.kind == "closed" else None, e.window.peak_profit)
            for e in found
        ]
    return out


def seeded(now: int) -> list:
    # Kalshi YES asks 10 @ 0.45 + Polymarket NO asks 10 @ 0.50: 0.05 gross per contract pair.
    return [
        (now, [BookSnapshot(KALSHI, now, "K0", [(4400, 10 * C)], [(4500, 10 * C)])]),
        (now, [BookSnapshot(POLYMARKET, now, "N0", [(4800, 10 * C)], [(5000, 10 * C)])]),
        (now, [BookSnapshot(POLYMARKET, now, "Y0", [(4900, 10 * C)], [(5100, 10 * C)])]),
    ]


def test_a_window_closes_stale_after_the_clock_stepped_back_under_one_of_its_books():
    # recv_ns is the wall clock and can step back. An update received 600 ms "earlier" leaves the
    # Kalshi book last updated before the window opened, so it goes stale 500 ms after that update,
    # before the staleness due when the window opened.
    config = DetectorConfig(min_edge=Decimal("0.01"), min_size=Decimal(1), max_staleness_ms=500)
    start = T0 + 10_000 * MS
    back = start - 600 * MS
    frames = [
        *seeded(start),
        (back, [LevelDelta(KALSHI, back, "K0", ASK, 4700, 1 * C)]),  # deep in the book: still open
        (back + 501 * MS, [BookSnapshot(KALSHI, back + 501 * MS, "K1", [(4400, C)], [(4500, C)])]),
    ]

    out = run(frames, config)

    assert [(kind, seq, reason) for kind, seq, reason, _ in out] == [("opened", 1, None), ("closed", 4, "stale")]


def test_a_window_opened_on_yes_bids_continues_on_the_no_book_once_it_is_seeded():
    # The NO token's book exists (a level update created it) but has had no snapshot, so NO asks
    # are the YES bids at 1 - p; its first snapshot makes it the source of the open window on
    # that frame, a new peak sized on the NO book's own (better) asks.
    config = DetectorConfig(min_edge=Decimal("0.01"), min_size=Decimal(1), max_staleness_ms=10_000)
    t = T0 + 10_000 * MS
    frames = [
        (t, [LevelSet(POLYMARKET, t, "N0", BID, 4000, 5 * C)]),  # ignored: no snapshot yet
        (t, [BookSnapshot(KALSHI, t, "K0", [(4400, 10 * C)], [(4500, 10 * C)])]),
        (t, [BookSnapshot(POLYMARKET, t, "Y0", [(5000, 10 * C)], [(5100, 10 * C)])]),  # NO asks 0.50
        (t + MS, [BookSnapshot(POLYMARKET, t + MS, "N0", [(4800, 10 * C)], [(4900, 10 * C)])]),
    ]

    out = run(frames, config)

    assert [(kind, seq) for kind, seq, _, _ in out] == [("opened", 2), ("peak", 3)]
    assert out[1][3] > out[0][3]
