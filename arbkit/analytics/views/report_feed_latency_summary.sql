-- One row per venue: frames that carry the venue's own timestamp, and their feed latency
-- (receive time minus that timestamp, milliseconds, clock offset included): minimum, p50, p90,
-- p99 and maximum.
SELECT venue, count(*) AS frames, min(latency_ms) AS min_ms,
       quantile_cont(latency_ms, 0.5) AS p50_ms, quantile_cont(latency_ms, 0.9) AS p90_ms,
       quantile_cont(latency_ms, 0.99) AS p99_ms, max(latency_ms) AS max_ms
FROM feed_latency
GROUP BY venue
ORDER BY venue
