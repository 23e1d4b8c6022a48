-- venue_staleness: one row per venue: the time between consecutive updates of a book, over
-- every book of the venue, in milliseconds (percentiles by linear interpolation), with the
-- number of books and updates. The per-book figures are in `book_staleness`.
SELECT venue,
       count(DISTINCT market) AS books,
       count(*) AS updates,
       quantile_cont(gap_ms, 0.50) AS p50_ms,
       quantile_cont(gap_ms, 0.90) AS p90_ms,
       quantile_cont(gap_ms, 0.99) AS p99_ms,
       max(gap_ms) AS max_ms,
       sum(gap_ms * gap_ms) / nullif(2 * sum(gap_ms), 0) AS time_weighted_mean_ms
FROM (SELECT session_id, venue, market, unnest(gaps_ms) AS gap_ms FROM book_gaps)
GROUP BY ALL
