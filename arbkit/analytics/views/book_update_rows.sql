-- book_update_rows: one row per update of one book: `market` is the Kalshi ticker or the
-- Polymarket asset id, so a Polymarket frame naming several assets (a mirrored `price_change`
-- of the YES and NO tokens, a batch) is one update of each. `book_updates` adds the gap since
-- the previous update; the staleness views read `book_gaps`, which computes it per book.
--
-- Listing the assets of every mirrored price_change means parsing its JSON, the costliest
-- thing a recording query can do. A price_change names one condition, and a binary condition
-- has two tokens, so the assets are looked up by condition from the frames that name an asset
-- with its condition (single-asset `book` events and the batches of the initial dump, few
-- frames); only a frame whose condition is not known with two tokens that way, and every
-- batch, is parsed.
WITH single AS (
    SELECT session_id, venue, conn_id, ingest_seq, recv_ns, msg_type, market, snapshot
    FROM book_frames WHERE market IS NOT NULL
),
named AS (
    SELECT condition, market AS asset
    FROM book_frames WHERE venue = 'polymarket' AND msg_type = 'book' AND market IS NOT NULL
    UNION ALL
    SELECT element ->> 'market', element ->> 'asset_id'
    FROM (
        SELECT unnest(CAST(json_extract(text, '$[*]') AS JSON[])) AS element
        FROM (SELECT CASE WHEN json_valid(text) THEN text END AS text
              FROM (SELECT try(decode(payload)) AS text FROM book_frames
                    WHERE venue = 'polymarket' AND msg_type = 'array'))
        WHERE text IS NOT NULL
    )
),
tokens AS (
    SELECT condition, list(DISTINCT asset) AS assets
    FROM named WHERE condition IS NOT NULL AND asset IS NOT NULL GROUP BY condition
    HAVING count(DISTINCT asset) >= 2
),
several AS (
    SELECT session_id, venue, conn_id, ingest_seq, recv_ns, msg_type, snapshot, condition, payload
    FROM book_frames WHERE market IS NULL AND venue = 'polymarket'
),
expanded AS (
    SELECT s.session_id, s.venue, s.conn_id, s.ingest_seq, s.recv_ns, s.msg_type,
           unnest(CASE WHEN s.msg_type <> 'array' AND t.assets IS NOT NULL THEN t.assets
                       ELSE list_distinct(regexp_extract_all(try(decode(s.payload)),
                                                             '"asset_id"\s*:\s*"([^"]+)"', 1))
                  END) AS market,
           s.snapshot
    FROM several s LEFT JOIN tokens t USING (condition)
)
SELECT * FROM single UNION ALL SELECT * FROM expanded
