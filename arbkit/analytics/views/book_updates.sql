-- book_updates: one row per update of one book: `market` is the Kalshi ticker or the
-- Polymarket asset id, so a Polymarket frame naming several assets (a mirrored `price_change`
-- of the YES and NO tokens, a batch) is one update of each. `gap_ms` is the time since the
-- previous update of the same book in the same session (NULL for its first), milliseconds.
WITH single AS (
    SELECT session_id, venue, conn_id, ingest_seq, recv_ns, msg_type, market, snapshot
    FROM book_frames WHERE market IS NOT NULL
),
several AS (
    SELECT session_id, venue, conn_id, ingest_seq, recv_ns, msg_type,
           unnest(list_distinct(regexp_extract_all(payload_text, '"asset_id"\s*:\s*"([^"]+)"', 1)))
               AS market,
           snapshot
    FROM book_frames WHERE market IS NULL AND venue = 'polymarket'
),
updates AS (
    SELECT * FROM single UNION ALL SELECT * FROM several
)
SELECT *,
       (recv_ns - lag(recv_ns) OVER (PARTITION BY session_id, venue, market ORDER BY ingest_seq)) / 1e6
           AS gap_ms
FROM updates
