-- book_staleness: one row per book (venue and market: Kalshi ticker or Polymarket asset id),
-- from the frames alone: `updates` received, and the time between consecutive updates of the
-- book in milliseconds: percentiles `p50_ms`, `p90_ms`, `p99_ms` (linear interpolation),
-- `max_ms`, and `time_weighted_mean_ms`, the mean staleness over time (a gap of g ms is stale
-- from 0 to g, so it weighs g and averages g/2: sum(g^2) / (2 sum(g))).
SELECT venue, market,
       count(*) AS updates,
       quantile_cont(gap_ms, 0.50) AS p50_ms,
       quantile_cont(gap_ms, 0.90) AS p90_ms,
       quantile_cont(gap_ms, 0.99) AS p99_ms,
       max(gap_ms) AS max_ms,
       sum(gap_ms * gap_ms) / nullif(2 * sum(gap_ms), 0) AS time_weighted_mean_ms,
       count(DISTINCT session_id) AS sessions
FROM (SELECT session_id, venue, market, unnest(gaps_ms) AS gap_ms FROM book_gaps)
GROUP BY ALL
