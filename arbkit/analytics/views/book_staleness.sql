-- book_staleness: one row per book (venue and market: Kalshi ticker or Polymarket asset id),
-- from the frames alone: `updates` received, and the time between consecutive updates of the
-- book in milliseconds: percentiles `p50_ms`, `p90_ms`, `p99_ms` (linear interpolation),
-- `max_ms`, and `time_weighted_mean_ms`, the mean staleness over time (a gap of g ms is stale
-- from 0 to g, so it weighs g and averages g/2: sum(g^2) / (2 sum(g))); `sessions` that have it.
-- `blocks` is read twice: materialized, book_gaps is computed once when it is a view.
WITH blocks AS MATERIALIZED (SELECT * FROM book_gaps),
books AS (
    SELECT venue, market, CAST(sum(updates) AS BIGINT) AS updates, count(DISTINCT session_id) AS sessions
    FROM blocks GROUP BY ALL
),
gaps AS (
    -- One list-valued quantile: each quantile aggregate keeps its own copy of every value.
    SELECT venue, market, quantile_cont(gap_ms, [0.50, 0.90, 0.99]) AS q, max(gap_ms) AS max_ms,
           sum(gap_ms * gap_ms) / nullif(2 * sum(gap_ms), 0) AS time_weighted_mean_ms
    FROM (SELECT venue, market, (unnest(times) - unnest(list_prepend(prev_ns, times[1:len(times) - 1]))) / 1e6 AS gap_ms
          FROM blocks)
    GROUP BY ALL
)
SELECT venue, market, b.updates, g.q[1] AS p50_ms, g.q[2] AS p90_ms, g.q[3] AS p99_ms, g.max_ms,
       g.time_weighted_mean_ms, b.sessions
FROM books b JOIN gaps g USING (venue, market)
