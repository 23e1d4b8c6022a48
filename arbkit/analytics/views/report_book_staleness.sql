-- `book_staleness` (one row per book: time between consecutive updates, milliseconds) with the
-- pair and side each book belongs to where a run's config names it (NULL otherwise), worst p99
-- first.
SELECT s.venue, s.market, n.pair, n.side, s.updates, s.p50_ms, s.p90_ms, s.p99_ms, s.max_ms,
       s.time_weighted_mean_ms
FROM book_staleness AS s
LEFT JOIN (SELECT venue, market, min(pair) AS pair, min(side) AS side FROM report_book_names GROUP BY ALL) AS n
       USING (venue, market)
ORDER BY s.p99_ms DESC NULLS LAST, s.venue, s.market
