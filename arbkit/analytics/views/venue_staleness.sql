-- venue_staleness: one row per venue: the time between consecutive updates of a book, over
-- every book of the venue, in milliseconds (percentiles by linear interpolation), with the
-- number of books and updates. The per-book figures are in `book_staleness`.
-- `blocks` is read twice: materialized, book_gaps is computed once when it is a view.
WITH blocks AS MATERIALIZED (SELECT * FROM book_gaps),
books AS (
    SELECT venue, count(DISTINCT market) AS books, CAST(sum(updates) AS BIGINT) AS updates
    FROM blocks GROUP BY ALL
),
gaps AS (
    -- One list-valued quantile: each quantile aggregate keeps its own copy of every value.
    SELECT venue, quantile_cont(gap_ms, [0.50, 0.90, 0.99]) AS q, max(gap_ms) AS max_ms,
           sum(gap_ms * gap_ms) / nullif(2 * sum(gap_ms), 0) AS time_weighted_mean_ms
    FROM (SELECT venue, (unnest(times) - unnest(list_prepend(prev_ns, times[1:len(times) - 1]))) / 1e6 AS gap_ms
          FROM blocks)
    GROUP BY ALL
)
SELECT venue, b.books, b.updates, g.q[1] AS p50_ms, g.q[2] AS p90_ms, g.q[3] AS p99_ms, g.max_ms,
       g.time_weighted_mean_ms
FROM books b JOIN gaps g USING (venue)
