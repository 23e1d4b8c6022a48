-- venue_summary: one row per venue, the recording's health: frames and payload bytes (all
-- kinds), frames received, connections, reconnects and total downtime (s), uptime fraction
-- (0..1, connected time over the sessions' spans), seq gaps, stalls, decode errors (NULL when
-- no decode pass ran), received frames per second over the connected time and the busiest
-- minute, feed latency p50/p99 (ms, includes clock offset) and book staleness p50/p99 (ms).
WITH f AS (
    SELECT venue, count(*) AS frames, CAST(sum(bytes) AS BIGINT) AS bytes,
           count(*) FILTER (WHERE kind = 'in') AS frames_in
    FROM frames GROUP BY ALL
),
cov AS (
    SELECT venue, CAST(sum(connections) AS BIGINT) AS connections, CAST(sum(reconnects) AS BIGINT) AS reconnects,
           sum(downtime_s) AS downtime_s, sum(connected_s) AS connected_s, sum(span_s) AS span_s
    FROM coverage GROUP BY ALL
),
gaps AS (SELECT venue, count(*) AS seq_gaps FROM seq_gaps GROUP BY ALL),
st AS (SELECT venue, count(*) AS stalls FROM stalls GROUP BY ALL),
de AS (SELECT venue, count(*) AS decode_errors FROM decode_errors GROUP BY ALL),
rate AS (
    SELECT venue, CAST(max(frames) AS BIGINT) AS peak_frames_per_minute
    FROM (SELECT venue, minute, sum(frames) AS frames FROM message_rates GROUP BY ALL) GROUP BY ALL
),
lat AS (
    -- Two quantiles cost a fifth of the 101 of `feed_latency_quantiles` (what the report draws).
    SELECT venue, q[1] AS latency_p50_ms, q[2] AS latency_p99_ms
    FROM (SELECT venue, quantile_cont(latency_ms, [0.5, 0.99]) AS q FROM feed_latency GROUP BY ALL)
)
SELECT f.venue, f.frames, f.bytes, f.frames_in,
       coalesce(cov.connections, 0) AS connections,
       coalesce(cov.reconnects, 0) AS reconnects,
       coalesce(cov.downtime_s, 0) AS downtime_s,
       cov.connected_s,
       CASE WHEN cov.span_s > 0 THEN cov.connected_s / cov.span_s END AS uptime_fraction,
       coalesce(gaps.seq_gaps, 0) AS seq_gaps,
       coalesce(st.stalls, 0) AS stalls,
       CASE WHEN p.decode_checked THEN coalesce(de.decode_errors, 0) END AS decode_errors,
       CASE WHEN cov.connected_s > 0 THEN f.frames_in / cov.connected_s END AS frames_per_s,
       rate.peak_frames_per_minute,
       lat.latency_p50_ms, lat.latency_p99_ms,
       vs.p50_ms AS staleness_p50_ms, vs.p99_ms AS staleness_p99_ms
FROM f
CROSS JOIN src.params p
LEFT JOIN cov USING (venue)
LEFT JOIN gaps USING (venue)
LEFT JOIN st USING (venue)
LEFT JOIN de USING (venue)
LEFT JOIN rate USING (venue)
LEFT JOIN lat USING (venue)
LEFT JOIN venue_staleness vs USING (venue)
