-- book_updates: one row per update of one book: `market` is the Kalshi ticker or the
-- Polymarket asset id, so a Polymarket frame naming several assets (a mirrored `price_change`
-- of the YES and NO tokens, a batch) is one update of each. `gap_ms` is the time since the
-- previous update of the same book in the same session (NULL for its first), milliseconds:
-- the same figures as `book_gaps`, row by row.
SELECT *,
       -- A 64-bit hash of the book's key sorts far faster than its strings (asset ids are 77
       -- characters); distinct books colliding is a 1-in-2^64 event per pair.
       (recv_ns - lag(recv_ns) OVER (PARTITION BY hash(session_id, venue, market) ORDER BY ingest_seq)) / 1e6
           AS gap_ms
FROM book_update_rows
