"""Conformance on traffic captured from the real venues (issue 16, item 0).

Every WebSocket capture in `../shared/samples/real/{kalshi,polymarket}` (see its SOURCES.md) goes
through the decoders and books as the engine feeds them, one frame at a time: no decode error,
no false sequence gap (Kalshi `ok` acks use up seq numbers, and snapshots of markets added later
arrive mid-stream), no book invalidated, and books equal to what the venue itself re-sends (the
Kalshi REST order books of the same session; the Polymarket `book` closing a burst, and the
`best_bid`/`best_ask` every `price_change` states). The tests skip when the samples are absent.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path


from arbkit.core.book import BookManager
from arbkit.core.events import (
    KALSHI,
    POLYMARKET,
    BookInvalid,
    BookSnapshot,
    DecodeError,
    Event,
    LevelSet,
    SeqGap,
)
from arbkit.core.fixedpoint import PRICE_ONE, parse_price, parse_size
from arbkit.venues import make_decoder

RECV_NS = 1_790_000_000_000_000_000
BURST = "ws_book_price_change_burst_nautilus.json"
DEMO_SESSION = "ws_session_demo_jfreun123.jsonl"
DEMO_REST = "rest_orderbook_demo_jfreun123.jsonl"


def real(shared_samples: Path) -> Path:
    return shared_samples / "real"


def ws_captures(shared_samples: Path) -> list[Path]:
    return sorted(
        path
        for venue in ("kalshi", "polymarket")
        for path in (real(shared_samples) / venue).glob("ws_*")
    )


def frames_of(path: Path) -> list[tuple[int, bytes]]:
    """The (recv_ns, payload) frames of one capture, in its order.

    JSON lines hold one frame a line; a `{"frames": [{received_ms, frame}]}` document holds
    re-serialized frames with their receive time; a JSON array holds one frame per element (a
    burst of market-channel messages); any other JSON file is one frame, its bytes as stored.
    """
    data = path.read_bytes()
    if path.suffix == ".jsonl":
        lines = [line for line in data.splitlines() if line.strip()]
        return [(RECV_NS + i, line) for i, line in enumerate(lines)]
    document = json.loads(data)
    if isinstance(document, dict) and "frames" in document:
        return [
            (f["received_ms"] * 1_000_000 + i, json.dumps(f["frame"]).encode())
            for i, f in enumerate(document["frames"])
        ]
    if isinstance(document, list):
        return [(RECV_NS + i, json.dumps(m).encode()) for i, m in enumerate(document)]
    return [(RECV_NS, data)]


@dataclass
class Replayed:
    """What one capture did to its decoder and books, and the books after every frame."""

    books: BookManager = field(default_factory=BookManager)
    kinds: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    gaps: list[SeqGap] = field(default_factory=list)
    invalid: list[BookInvalid] = field(default_factory=list)
    per_frame: list[list[Event]] = field(default_factory=list)


def replay_capture(path: Path, after_frame=None) -> Replayed:
    venue = KALSHI if path.parent.name == "kalshi" else POLYMARKET
    decoder = make_decoder(venue, False)
    out = Replayed()
    for recv_ns, payload in frames_of(path):
        events = decoder.decode(payload, recv_ns)
        out.per_frame.append(events)
        for event in events:
            out.kinds[type(event).__name__] += 1
            if isinstance(event, DecodeError):
                out.errors.append(event.reason)
            elif isinstance(event, SeqGap):
                out.gaps.append(event)
        out.invalid += out.books.apply(events)
        if after_frame is not None:
            after_frame(events, out.books)
    assert decoder.decode_errors == len(out.errors)
    return out


def test_the_real_captures_are_all_found(shared_samples: Path):
    names = {p.name for p in ws_captures(shared_samples)}

    assert {DEMO_SESSION, BURST, "ws_orderbook_stream_mlb_prod_cockpit.json"} <= names
    assert len(names) >= 17


def test_every_real_capture_decodes_with_no_error_no_gap_and_no_invalid_book(shared_samples):
    for path in ws_captures(shared_samples):
        result = replay_capture(path)

        assert result.errors == [], path.name
        assert result.gaps == [], path.name
        assert result.invalid == [], path.name
        assert sum(result.kinds.values()) > 0, path.name
        assert "Notice" not in result.kinds or path.name == DEMO_SESSION, path.name
        for book in result.books.books.values():
            # Books seeded by a snapshot stay valid; the rest never had one in the capture.
            assert book.valid == (book.snapshots > 0), (path.name, book.market)
            assert not book.is_crossed(), (path.name, book.market)


def test_the_kalshi_demo_session_uses_every_seq_and_seeds_markets_added_mid_stream(shared_samples):
    path = real(shared_samples) / "kalshi" / DEMO_SESSION

    result = replay_capture(path)

    # 2,898 frames: the two fills are a channel the decoder does not read (Notice, not error).
    assert result.kinds == Counter(
        SubscriptionAck=6, BookSnapshot=5, LevelDelta=2885, Notice=2
    )
    seqs = [
        json.loads(payload).get("seq")
        for _, payload in frames_of(path)
        if json.loads(payload).get("sid") == 1
    ]
    assert seqs == list(range(1, 2895))  # acks included: a gap would have been reported
    assert len({b.market for b in result.books.books.values() if b.valid}) == 5


def test_kalshi_books_equal_the_rest_order_books_of_the_same_session(shared_samples: Path):
    # The session fetched each market's REST order book when its WS snapshot came; the book as
    # the decoder built it from that snapshot must be the REST book: YES bids as bids, NO bids
    # as YES asks at 1 - p.
    rest: dict[str, tuple[dict[int, int], dict[int, int]]] = {}
    for line in (real(shared_samples) / "kalshi" / DEMO_REST).read_text().splitlines():
        exchange = json.loads(line) if line.strip() else None
        if not exchange or not exchange["url"].endswith("/orderbook"):
            continue
        ticker = exchange["url"].rsplit("/", 2)[-2]
        ladders = json.loads(exchange["response_body"])["orderbook_fp"]
        bids = {parse_price(p): parse_size(s) for p, s in ladders["yes_dollars"]}
        asks = {PRICE_ONE - parse_price(p): parse_size(s) for p, s in ladders["no_dollars"]}
        rest[ticker] = (bids, asks)
    seeded: dict[str, tuple[dict[int, int], dict[int, int]]] = {}

    def after_frame(events: list[Event], books: BookManager) -> None:
        for event in events:
            if isinstance(event, BookSnapshot):
                book = books.get(KALSHI, event.market)
                seeded[event.market] = (dict(book.bids), dict(book.asks))

    replay_capture(real(shared_samples) / "kalshi" / DEMO_SESSION, after_frame)

    assert len(rest) == 5
    assert seeded == rest


def burst_messages(shared_samples: Path) -> list[dict]:
    return json.loads((real(shared_samples) / "polymarket" / BURST).read_bytes())


def test_the_polymarket_burst_crosses_only_transiently_and_ends_equal_to_the_closing_book(
    shared_samples: Path,
):
    # Around the trade at the end, three price_change messages share one timestamp; the first
    # already states the post-trade top (bid 0.29, ask 0.301) while the bids at 0.311 and 0.301
    # the trade took are removed by the next two. Applied one at a time, the book would cross.
    messages = burst_messages(shared_samples)
    yes = messages[0]["asset_id"]
    tops: list[tuple[int | None, int | None]] = []
    stated: list[tuple[int, int] | None] = []

    def after_frame(events: list[Event], books: BookManager) -> None:
        book = books.get(POLYMARKET, yes)
        tops.append((book.best_bid, book.best_ask))
        mine = [e for e in events if isinstance(e, LevelSet) and e.market == yes]
        stated.append((mine[-1].best_bid, mine[-1].best_ask) if mine else None)
        assert book.valid and not book.is_crossed()

    result = replay_capture(real(shared_samples) / "polymarket" / BURST, after_frame)
    closing = result.per_frame[-1]

    # The trade's three messages share a timestamp and the closing book's hash.
    assert [m["timestamp"] for m in messages[-4:]] == ["1790658827000"] * 4
    assert result.invalid == []
    # After every price_change the book's top is the one the venue states for it.
    for i in range(1, len(messages) - 1):
        assert tops[i] == stated[i], i
    assert tops[-4] == (2900, 3010)  # the trade's first message: the stated top, not a cross
    # Before the closing book, the book already equals it level for level.
    [snapshot] = closing
    assert isinstance(snapshot, BookSnapshot) and snapshot.market == yes
    book = result.books.get(POLYMARKET, yes)
    assert (book.bids, book.asks) == (dict(snapshot.bids), dict(snapshot.asks))


def test_without_the_venues_stated_top_the_same_burst_invalidates_the_book(shared_samples):
    # The rule rests on the stated top alone: strip it and the trade's first message leaves a
    # real cross, which invalidates the book until the closing `book` re-seeds it.
    messages = burst_messages(shared_samples)
    yes = messages[0]["asset_id"]
    decoder = make_decoder(POLYMARKET, False)
    books = BookManager()
    invalid: list[BookInvalid] = []
    for i, message in enumerate(messages):
        for change in message.get("price_changes", []):
            change.pop("best_bid"), change.pop("best_ask")
        invalid += books.apply(decoder.decode(json.dumps(message).encode(), RECV_NS + i))
        if i == len(messages) - 4:
            assert not books.get(POLYMARKET, yes).valid

    assert invalid == [BookInvalid(POLYMARKET, RECV_NS + len(messages) - 4, yes, "crossed")]
    assert books.get(POLYMARKET, yes).valid
