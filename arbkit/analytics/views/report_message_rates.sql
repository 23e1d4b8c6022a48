-- Frames received per second over time: one row per venue and time bucket (`bucket_ns`, the
-- bucket's start, Unix ns; `bucket_s` its width in seconds) with the `frames` received in it and
-- `frames_per_s` = frames / bucket_s (no payload is read, so it stays fast on big recordings). The width is the smallest of 1, 2, 5,
-- 10, 15, 30 s, 1, 2, 5, 10, 15, 30 min, 1, 2, 6, 12 h that splits the recording into at most 300
-- buckets, so a one-minute demo and a week-long recording both read well (the per-minute,
-- per-message-type counts are in `message_rates`).
WITH received AS (
    SELECT venue, recv_ns FROM frames WHERE kind = 'in'
),
width AS (
    SELECT CAST(coalesce(min(w), 43200) AS BIGINT) * 1000000000 AS ns, coalesce(min(w), 43200) AS s
    FROM unnest([1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 43200]) AS t(w),
         (SELECT (max(recv_ns) - min(recv_ns)) / 1e9 AS span_s FROM received) AS r
    WHERE coalesce(r.span_s, 0) / w <= 300
)
SELECT venue, recv_ns // width.ns * width.ns AS bucket_ns, width.s AS bucket_s,
       count(*) AS frames, count(*) / width.s AS frames_per_s
FROM received, width
GROUP BY venue, recv_ns // width.ns, width.ns, width.s
ORDER BY venue, bucket_ns
