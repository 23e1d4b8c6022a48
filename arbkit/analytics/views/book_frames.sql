-- book_frames: one row per received frame that carries order book data: Kalshi
-- `orderbook_snapshot`/`orderbook_delta`, Polymarket `book`/`price_change` and batches (arrays,
-- the initial book dump). `snapshot` is true for frames that (re)seed a book; `market` is NULL
-- when the frame names several books; `condition` is the Polymarket condition (`market` field)
-- the frame names first, read from the first 256 bytes without parsing the JSON (NULL when not
-- there); `payload` the raw bytes. Times in ns.
SELECT
    session_id, venue, conn_id, ingest_seq, recv_ns, msg_type, market,
    msg_type IN ('orderbook_snapshot', 'book', 'array') AS snapshot,
    payload,
    CASE WHEN venue = 'polymarket' THEN coalesce(condition_id, CASE
        WHEN strpos(try(decode(payload[1:256])), '"market":"') > 0
        THEN split_part(substr(try(decode(payload[1:256])),
                               strpos(try(decode(payload[1:256])), '"market":"') + 10), '"', 1)
    END) END AS condition
FROM frames
WHERE kind = 'in'
  AND msg_type IN ('orderbook_snapshot', 'orderbook_delta', 'book', 'price_change', 'array')
