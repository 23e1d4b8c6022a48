-- book_gaps: one row per book (session, venue and market, as in `book_updates`) and `block` of
-- 65,536 ingest sequence numbers (ingest_seq // 65536) in which the book was updated: the
-- `updates` received in it and `gaps_ms`, the `gap_ms` of each in receive order, milliseconds
-- (NULL for the book's first update).
--
-- Only the receive times pass through the sort, one short list per book and block: a window
-- over the update rows would carry every row's strings through it, and one list per book keeps
-- all of a book's updates in one allocation (each over a gigabyte of memory on a 10M-frame
-- recording). The gap across a block boundary is taken from the previous block's last time.
WITH blocks AS (
    SELECT session_id, venue, market, ingest_seq // 65536 AS block, list(recv_ns ORDER BY ingest_seq) AS times
    FROM book_update_rows
    GROUP BY ALL
)
SELECT session_id, venue, market, block, len(times) AS updates,
       list_prepend((times[1] - lag(times[-1]) OVER (PARTITION BY session_id, venue, market ORDER BY block)) / 1e6,
                    list_transform(times[2:], lambda t, i: (t - times[i]) / 1e6)) AS gaps_ms
FROM blocks
