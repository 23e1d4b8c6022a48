"""`decode_levels`, the engine's hot path, against `decode` + `BookManager.apply_levels`/`apply`.

On its hot path a decoder applies a frame's level updates to the books as it reads them, without
building events. Fed the same frames, frame by frame, the two ways must leave every book the same
(levels, tops, validity and its reason, counters, the marks the detector reads) and report the same
invalidations, the same books touched and the same decode errors: on workload recordings, on the
real venues' traffic, and on frames made to hit every way off the hot path (new prices, bad sizes,
crossed books with and without the venue's own top, negative sizes, sequence gaps, old eras).
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import orjson
import pytest

from arbkit.core.book import Book, BookManager
from arbkit.core.events import KALSHI, POLYMARKET, BookInvalid, DecodeError
from arbkit.core.frame import KIND_IN
from arbkit.runner.replay import ROW_COLUMNS
from arbkit.sandbox.workloads import generate_workload
from arbkit.store.reader import iter_frame_lists
from arbkit.venues import make_decoder
from test_real_traffic import frames_of, ws_captures  # beside this file (pytest puts it on sys.path)

Frame = tuple[Any, str, bytes, int]  # (connection, venue, payload, recv_ns)
T = 1_790_000_000_000_000_000
YES = "1" * 77
NO = "2" * 77


class _Way:
    """One way of feeding frames to books, with a decoder per connection."""

    def __init__(self, fused: bool) -> None:
        self.fused = fused
        self.books = BookManager()
        self.decoders: dict[Any, Any] = {}
        self.log: list[tuple[Any, ...]] = []
        # Frames each venue's decoder applied itself (decode_levels returned None).
        self.direct: Counter[str] = Counter()

    def feed(self, connection: Any, venue: str, payload: bytes, recv_ns: int) -> None:
        decoder = self.decoders.get(connection)
        if decoder is None:
            decoder = self.decoders[connection] = make_decoder(venue)
        touched: list[Book] = []
        invalid: list[BookInvalid] | None = []
        events = (
            decoder.decode_levels(payload, recv_ns, self.books, touched, invalid)
            if self.fused
            else decoder.decode(payload, recv_ns)
        )
        if events is None:
            self.direct[venue] += 1
        else:
            invalid = self.books.apply_levels(venue, recv_ns, events, touched)
            if invalid is None:
                # The engine's general path: only what `apply` reports is compared.
                self.log.append(("apply", self.books.apply(events), _errors(events)))
                return
        self.log.append(("levels", invalid, [(b.venue, b.market) for b in touched]))

    def state(self) -> list[tuple[Any, ...]]:
        return [
            (
                key,
                book.bids,
                book.asks,
                book.best_bid,
                book.best_ask,
                book.valid,
                book.invalid_reason,
                book.last_update_ns,
                book.updates,
                book.snapshots,
                book.invalidations,
                book.ignored,
                book.bid_hi,
                book.ask_lo,
                book.bid_depth(),
                book.ask_depth(),
            )
            for key, book in sorted(self.books.books.items())
        ]

    def errors(self) -> list[int]:
        return [d.decode_errors for _, d in sorted(self.decoders.items(), key=lambda kv: str(kv[0]))]


def _errors(events: list[Any]) -> list[str]:
    return [e.reason for e in events if type(e) is DecodeError]


def assert_same_way(frames: list[Frame]) -> _Way:
    """Feed `frames` both ways; check they agree after every frame; return the fused way."""
    plain, fused = _Way(fused=False), _Way(fused=True)
    for connection, venue, payload, recv_ns in frames:
        plain.feed(connection, venue, payload, recv_ns)
        fused.feed(connection, venue, payload, recv_ns)
        assert fused.log[-1] == plain.log[-1], payload
    assert fused.state() == plain.state()
    assert fused.errors() == plain.errors()
    return fused


def recording_frames(root: Path) -> list[Frame]:
    frames: list[Frame] = []
    for sessions, _, times, venues, conns, kinds, payloads in iter_frame_lists(
        root, columns=ROW_COLUMNS
    ):
        for session, now, venue, conn, kind, payload in zip(
            sessions, times, venues, conns, kinds, payloads
        ):
            if kind == KIND_IN:
                frames.append(((session, venue, conn), venue, payload, now))
    return frames


@pytest.mark.parametrize("shape", ["near-parity", "deep-books"])
def test_workload_recordings_leave_the_same_books_either_way(tmp_path: Path, shape: str):
    generate_workload(tmp_path, shape, frames=3_000, seed=5)
    frames = recording_frames(tmp_path)

    fused = assert_same_way(frames)

    # Most frames took the hot path, so the comparison is of it, not of its fallback.
    assert len(frames) > 2_500
    assert fused.direct.total() > len(frames) * 0.7


def test_real_venue_traffic_leaves_the_same_books_either_way(shared_samples: Path):
    frames: list[Frame] = []
    for path in ws_captures(shared_samples):
        venue = KALSHI if path.parent.name == "kalshi" else POLYMARKET
        frames += [(path.name, venue, payload, recv_ns) for recv_ns, payload in frames_of(path)]

    fused = assert_same_way(frames)

    assert len(frames) > 100
    assert fused.direct[KALSHI] > 0 and fused.direct[POLYMARKET] > 0


def poly(*changes: dict[str, Any], ts: str = "1") -> bytes:
    return orjson.dumps({"event_type": "price_change", "timestamp": ts, "price_changes": list(changes)})


def change(asset: str, price: str, size: str, side: str, bid: str | None, ask: str | None) -> dict:
    return {"asset_id": asset, "price": price, "size": size, "side": side, "best_bid": bid, "best_ask": ask}


def book(asset: str, bids: list[tuple[str, str]], asks: list[tuple[str, str]]) -> bytes:
    return orjson.dumps(
        {
            "event_type": "book",
            "asset_id": asset,
            "timestamp": "1",
            "bids": [{"price": p, "size": s} for p, s in bids],
            "asks": [{"price": p, "size": s} for p, s in asks],
        }
    )


def kalshi(kind: str, seq: int, msg: dict[str, Any], sid: int = 1) -> bytes:
    return orjson.dumps({"type": kind, "sid": sid, "seq": seq, "msg": msg})


def delta(seq: int, market: str, price: str, count: str, side: str) -> bytes:
    msg = {"market_ticker": market, "price_dollars": price, "delta_fp": count, "side": side}
    return kalshi("orderbook_delta", seq, msg)


def test_frames_off_the_hot_path_leave_the_same_books_either_way():
    frames = [
        book(YES, [("0.40", "10"), ("0.41", "5")], [("0.45", "7"), ("0.46", "3")]),
        book(NO, [("0.54", "7")], [("0.59", "10")]),
        # On the hot path once the prices are known; first seen, they are learnt off it.
        poly(change(YES, "0.42", "4", "BUY", "0.42", "0.45"), change(NO, "0.58", "4", "SELL", "0.54", "0.58")),
        poly(change(YES, "0.42", "6", "BUY", "0.42", "0.45"), change(NO, "0.58", "6", "SELL", "0.54", "0.58")),
        # A bad size, a bad top, a price outside [0, 1], an unknown side: decode errors.
        poly(change(YES, "0.42", "x", "BUY", "0.42", "0.45")),
        poly(change(YES, "0.42", "6", "BUY", "0.4.2", "0.45")),
        poly(change(YES, "1.42", "6", "BUY", "0.42", "0.45")),
        poly(change(YES, "0.42", "6", "HOLD", "0.42", "0.45")),
        # Sizes in other forms, and a removal.
        poly(change(YES, "0.41", "5.000000", "BUY", "0.42", "0.45"), change(YES, "0.40", "0", "BUY", "0.42", "0.45")),
        poly(change(YES, "0.43", "1e3", "BUY", "0.43", "0.45")),
        # Crossed by the frame, explained by the venue's own top (transient), then not explained.
        poly(change(YES, "0.46", "2", "BUY", "0.41", "0.47")),
        poly(change(YES, "0.47", "2", "BUY", "0.47", "0.47")),
        # Three changes and one change; an empty list; older eras.
        poly(
            change(NO, "0.55", "1", "BUY", "0.55", "0.59"),
            change(NO, "0.56", "1", "BUY", "0.56", "0.59"),
            change(NO, "0.60", "2.5", "SELL", "0.56", "0.59"),
        ),
        poly(),
        orjson.dumps({"event_type": "price_change", "asset_id": NO, "changes": [{"price": "0.57", "side": "BUY", "size": "3"}]}),
        orjson.dumps({"event_type": "price_change", "asset_id": NO, "price": "0.57", "side": "BUY", "size": "0"}),
        b"PONG",
        b"not json",
    ]
    polymarket = [("pm", POLYMARKET, payload, T + i) for i, payload in enumerate(frames)]
    snapshot = {
        "market_ticker": "KX-A",
        "yes_dollars_fp": [["0.4000", "10.00"], ["0.4100", "5.00"]],
        "no_dollars_fp": [["0.5500", "7.00"]],
    }
    kalshi_frames = [
        kalshi("orderbook_snapshot", 1, snapshot),
        delta(2, "KX-A", "0.4100", "2.50", "yes"),  # a new price: learnt off the hot path
        delta(3, "KX-A", "0.4100", "-1.25", "yes"),
        delta(4, "KX-A", "0.4200", "1.00", "yes"),
        delta(5, "KX-A", "0.5500", "-7.00", "no"),  # removes the only NO level
        delta(6, "KX-A", "0.5400", "3.00", "no"),  # YES ask 0.46
        delta(7, "KX-A", "0.5400", "x", "no"),  # a bad count: no seq advance, then a gap
        delta(8, "KX-A", "0.5400", "1.00", "no"),
        kalshi("orderbook_snapshot", 9, snapshot),
        delta(10, "KX-A", "0.4100", "-9.00", "yes"),  # negative size invalidates
        kalshi("orderbook_snapshot", 11, snapshot),
        delta(12, "KX-A", "0.4700", "1.00", "yes"),  # crosses the YES ask at 0.45: invalid
        kalshi("orderbook_snapshot", 13, snapshot),
        delta(14, "KX-B", "0.4000", "1.00", "yes"),  # a market not on the sid yet
        delta(15, "KX-A", "1.4000", "1.00", "yes"),  # outside [0, 1]
        delta(16, "KX-A", "0.4000", "1.00", "maybe"),
        delta(17, "KX-A", "0.4000", "1.00", "yes"),
        orjson.dumps({"type": "orderbook_delta", "sid": 1, "seq": 18, "msg": {"market_ticker": "KX-A", "price": 40, "delta": 2, "side": "yes"}}),
        delta(19, "KX-A", "0.40", "+1.00", "yes"),
    ]
    kalshi_feed = [("k", KALSHI, payload, T + 100 + i) for i, payload in enumerate(kalshi_frames)]

    fused = assert_same_way(polymarket + kalshi_feed)

    # Both venues' hot paths ran (more often compiled, where any plain price takes them), and
    # frames left them with invalidations and decode errors.
    assert fused.direct[KALSHI] >= 2 and fused.direct[POLYMARKET] >= 2
    assert any(entry[1] for entry in fused.log)
    assert sum(fused.errors()) >= 5
