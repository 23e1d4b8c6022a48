-- feed_latency_quantiles: the feed-latency distribution per venue as 101 quantiles: one row per
-- venue and `percentile` (0 = fastest frame, 50 = median, 100 = slowest) with `latency_ms`,
-- receive time minus the venue's own timestamp in milliseconds (it includes the offset between
-- the venue's clock and ours), and the `frames` that carry a timestamp. The report draws it and
-- reads its summary table off it.
WITH q AS (
    SELECT venue, count(*) AS frames,
           quantile_cont(latency_ms, [p / 100.0 FOR p IN range(0, 101)]) AS values
    FROM feed_latency
    GROUP BY venue
)
SELECT venue, frames, unnest(range(0, 101)) AS percentile, unnest(values) AS latency_ms
FROM q
ORDER BY venue, percentile
