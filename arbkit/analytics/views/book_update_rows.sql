-- book_update_rows: one row per update of one book: `market` is the Kalshi ticker or the
-- Polymarket asset id, so a Polymarket frame naming several assets (a mirrored `price_change`
-- of the YES and NO tokens, a batch) is one update of each. `book_updates` adds the gap since
-- the previous update; the staleness views read `book_gaps`, which computes it per book.
--
-- Listing the assets of every mirrored price_change means parsing its JSON, the costliest
-- thing a recording query can do. A price_change names one condition, and a binary condition
-- has two tokens, so the assets are looked up by condition from the frames that name an asset
-- with its condition (single-asset `book` events and the batches of the initial dump, few
-- frames). Only the frames whose condition is not known with two tokens that way, and every
-- batch, are parsed: they are picked by key first, so no other frame's payload is read.
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
    SELECT session_id, venue, conn_id, ingest_seq, recv_ns, msg_type, snapshot, condition
    FROM book_frames WHERE market IS NULL AND venue = 'polymarket'
),
known AS (
    SELECT s.session_id, s.venue, s.conn_id, s.ingest_seq, s.recv_ns, s.msg_type, unnest(t.assets) AS market,
           s.snapshot
    FROM several s JOIN tokens t USING (condition)
    WHERE s.msg_type <> 'array'
),
unknown AS (
    SELECT session_id, ingest_seq FROM several
    WHERE msg_type = 'array' OR condition IS NULL OR condition NOT IN (SELECT condition FROM tokens)
),
parsed AS (
    SELECT b.session_id, b.venue, b.conn_id, b.ingest_seq, b.recv_ns, b.msg_type,
           unnest(list_distinct(regexp_extract_all(try(decode(b.payload)), '"asset_id"\s*:\s*"([^"]+)"', 1)))
               AS market,
           b.snapshot
    FROM book_frames b JOIN unknown u USING (session_id, ingest_seq)
    WHERE b.venue = 'polymarket' AND b.market IS NULL
)
SELECT * FROM single UNION ALL SELECT * FROM known UNION ALL SELECT * FROM parsed
