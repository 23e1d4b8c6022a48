-- book_frames: one row per received frame that carries order book data: Kalshi
-- `orderbook_snapshot`/`orderbook_delta`, Polymarket `book`/`price_change` and batches (arrays,
-- the initial book dump). `snapshot` is true for frames that (re)seed a book; `market` is NULL when
-- the frame names several books. Times in ns.
SELECT
    session_id, venue, conn_id, ingest_seq, recv_ns, msg_type, market,
    msg_type IN ('orderbook_snapshot', 'book', 'array') AS snapshot,
    payload_text,
    -- The first `"market":"..."` of the text: the condition a Polymarket event names, found
    -- without parsing the JSON (a join key only; see book_updates).
    CASE WHEN venue = 'polymarket' AND strpos(payload_text, '"market":"') > 0
         THEN split_part(substr(payload_text, strpos(payload_text, '"market":"') + 10, 200), '"', 1)
    END AS market_key
FROM frames
WHERE kind = 'in'
  AND msg_type IN ('orderbook_snapshot', 'orderbook_delta', 'book', 'price_change', 'array')
