-- recording_summary: one row for the whole recording: sessions (clean, crashed, recovered,
-- without manifest), first start and last end (ns), span (s), frames and payload bytes, and
-- the venues' totals of reconnects, downtime (s), seq gaps, stalls and decode errors (NULL
-- when no decode pass ran).
WITH s AS (
    SELECT count(*) AS sessions,
           count(*) FILTER (WHERE clean_stop) AS clean_sessions,
           count(*) FILTER (WHERE crashed) AS crashed_sessions,
           count(*) FILTER (WHERE recovered) AS recovered_sessions,
           count(*) FILTER (WHERE NOT has_manifest) AS sessions_without_manifest,
           min(start_ns) AS start_ns, max(end_ns) AS end_ns, sum(span_s) AS recorded_s
    FROM sessions
),
f AS (
    SELECT CAST(sum(frames) AS BIGINT) AS frames, CAST(sum(bytes) AS BIGINT) AS bytes,
           CAST(sum(reconnects) AS BIGINT) AS reconnects, sum(downtime_s) AS downtime_s,
           CAST(sum(seq_gaps) AS BIGINT) AS seq_gaps, CAST(sum(stalls) AS BIGINT) AS stalls,
           CAST(sum(decode_errors) AS BIGINT) AS decode_errors
    FROM venue_summary
)
SELECT s.*, (s.end_ns - s.start_ns) / 1e9 AS span_s,
       make_timestamp(s.start_ns // 1000) AS start_time, make_timestamp(s.end_ns // 1000) AS end_time,
       coalesce(f.frames, 0) AS frames, coalesce(f.bytes, 0) AS bytes,
       coalesce(f.reconnects, 0) AS reconnects, coalesce(f.downtime_s, 0) AS downtime_s,
       coalesce(f.seq_gaps, 0) AS seq_gaps, coalesce(f.stalls, 0) AS stalls,
       CASE WHEN p.decode_checked THEN coalesce(f.decode_errors, 0) END AS decode_errors
FROM s CROSS JOIN f CROSS JOIN src.params p
