-- book_frames: one row per received frame that carries order book data: Kalshi
-- `orderbook_snapshot`/`orderbook_delta`, Polymarket `book`/`price_change` and batches (arrays,
-- the initial book dump). `snapshot` is true for frames that (re)seed a book; `market` is NULL
-- when the frame names several books; `condition` is the Polymarket condition (`market` field)
-- when the frame names exactly one (the sealed `condition_id`); `payload` the raw bytes. Times
-- in ns.
SELECT
    session_id, venue, conn_id, ingest_seq, recv_ns, msg_type, market,
    msg_type IN ('orderbook_snapshot', 'book', 'array') AS snapshot,
    payload,
    CASE WHEN venue = 'polymarket' THEN condition_id END AS condition
FROM frames
WHERE kind = 'in'
  AND msg_type IN ('orderbook_snapshot', 'orderbook_delta', 'book', 'price_change', 'array')
