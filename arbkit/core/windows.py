"""The detector's output record, kept out of the compiled `arbkit.core.detector`.

msgspec builds Struct classes with a metaclass that mypyc-compiled modules cannot run, so the
Struct lives in this plain module and `arbkit.core.detector` re-exports it.
"""

from __future__ import annotations

import msgspec


class OpportunityWindow(msgspec.Struct, kw_only=True):
    """One opportunity window; updated in place while open (peak, then close fields).

    Sizes are millionths, money micro-dollars, edges micro-dollars per contract pair, times ns.
    `open_edge_at_min_size` is the (rounded) edge at `min_size` on the opening frame; `open_size`,
    `open_profit`, `open_edge` the best trade then. `polymarket_book` is the token whose book
    supplied the Polymarket side at open.
    """

    opportunity_id: str
    pair: str
    direction: str
    open_ns: int
    open_ingest_seq: int
    open_edge_at_min_size: int
    open_size: int
    open_profit: int
    open_edge: int
    kalshi_staleness_ns: int
    polymarket_staleness_ns: int
    polymarket_book: str
    peak_ns: int
    peak_ingest_seq: int
    peak_size: int
    peak_profit: int
    peak_edge: int
    close_ns: int | None = None
    close_ingest_seq: int | None = None
    close_reason: str | None = None
    duration_ns: int | None = None
