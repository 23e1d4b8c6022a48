-- One row per venue: frames that carry the venue's own timestamp, and their feed latency
-- (receive time minus that timestamp, milliseconds, clock offset included): minimum, p50, p90,
-- p99 and maximum, read off the 101 quantiles of `feed_latency_quantiles` (the 0th and
-- 100th are the minimum and maximum).
SELECT venue, any_value(frames) AS frames,
       any_value(latency_ms) FILTER (WHERE percentile = 0) AS min_ms,
       any_value(latency_ms) FILTER (WHERE percentile = 50) AS p50_ms,
       any_value(latency_ms) FILTER (WHERE percentile = 90) AS p90_ms,
       any_value(latency_ms) FILTER (WHERE percentile = 99) AS p99_ms,
       any_value(latency_ms) FILTER (WHERE percentile = 100) AS max_ms
FROM feed_latency_quantiles
GROUP BY venue
ORDER BY venue
