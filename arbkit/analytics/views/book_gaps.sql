-- book_gaps: one row per book (session, venue and market, as in `book_updates`): `updates`
-- received and `gaps_ms`, the `gap_ms` of each update in receive order (a list that starts
-- with NULL for the first update), milliseconds.
--
-- Only the receive times pass through the sort, one list per book: a window over the update
-- rows would carry every row's strings through it (gigabytes on a 10M-frame recording).
SELECT session_id, venue, market, len(times) AS updates,
       list_prepend(CAST(NULL AS DOUBLE), list_transform(times[2:], lambda t, i: (t - times[i]) / 1e6)) AS gaps_ms
FROM (
    SELECT session_id, venue, market, list(recv_ns ORDER BY ingest_seq) AS times
    FROM book_update_rows
    GROUP BY ALL
)
