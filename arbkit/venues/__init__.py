"""Venue decoders: one raw frame in, normalized events (`arbkit.core.events`) out."""

from __future__ import annotations

from typing import Protocol

from arbkit.core.book import Book, BookManager
from arbkit.core.events import KALSHI, POLYMARKET, BookInvalid, Event


class Decoder(Protocol):
    """What the engine needs from a venue decoder: one instance per connection."""

    decode_errors: int

    def decode(self, payload: bytes, recv_ns: int) -> list[Event]:
        """Decode one frame received at `recv_ns` into events; never raise."""
        ...

    def decode_levels(
        self,
        payload: bytes,
        recv_ns: int,
        books: BookManager,
        touched: list[Book],
        invalid: list[BookInvalid],
    ) -> list[Event] | None:
        """`decode`, or, for a frame of level updates on the decoder's hot path, apply them to
        `books` as `BookManager.apply_levels` would (appending to `touched` and `invalid`) and
        return None."""
        ...


def make_decoder(venue: str, use_yes_price: bool = False) -> Decoder:
    """Return a fresh decoder for one connection to `venue`.

    `use_yes_price` is the Kalshi subscription flag the session was recorded with; it changes
    how the NO ladder is read, so replay must pass the recorded value.
    """
    if venue == KALSHI:
        from arbkit.venues.kalshi.decode import KalshiDecoder

        return KalshiDecoder(use_yes_price)
    if venue == POLYMARKET:
        from arbkit.venues.polymarket.decode import PolymarketDecoder

        return PolymarketDecoder()
    raise ValueError(f"unknown venue {venue!r}")
