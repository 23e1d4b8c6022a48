-- book_gaps: one row per book (session, venue and market, as in `book_updates`) and `block` of
-- 65,536 ingest sequence numbers (ingest_seq // 65536) in which the book was updated: the
-- `updates` received in it, `times`, their receive times in ingest order (ns), and `prev_ns`,
-- the receive time of the book's update before the block (NULL for the book's first block). The
-- gaps between updates are `unnest(times) - unnest(list_prepend(prev_ns, times[1:len(times) - 1]))`
-- (two unnests in one SELECT pair up element by element): as a list function over every element
-- it costs several times more.
--
-- Only the receive times pass through the sort, one short list per book and block: a window
-- over the update rows would carry every row's strings through it, and one list per book keeps
-- all of a book's updates in one allocation (each over a gigabyte of memory on a 10M-frame
-- recording).
WITH blocks AS (
    SELECT session_id, venue, market, ingest_seq // 65536 AS block, list(recv_ns ORDER BY ingest_seq) AS times
    FROM book_update_rows
    GROUP BY ALL
)
SELECT session_id, venue, market, block, len(times) AS updates, times,
       lag(times[-1]) OVER (PARTITION BY session_id, venue, market ORDER BY block) AS prev_ns
FROM blocks
