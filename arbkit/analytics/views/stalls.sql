-- stalls: one row per interval of more than the stall threshold with no book data on a
-- connection that stayed open: from its open, or a book frame, to the next book frame or its
-- close. The threshold (`threshold_s`) is the `--stall-s`/`stall_s` given to the analytics,
-- else the session's `recorder.stale_after_s`, else that setting's default. `from_ns`/`to_ns`
-- in ns, `duration_ms` in ms; `ended_by` is `data` or `close`.
--
-- Points are first grouped into buckets as wide as the smallest session's threshold: a gap
-- inside a bucket is shorter than any threshold, so every stall lies between consecutive
-- non-empty buckets (the last point of one, the first of the next), and the window runs over
-- buckets, not frames. One width for all keeps the per-session threshold off the frame rows.
WITH threshold AS (
    SELECT s.session_id, coalesce(p.stall_s, s.stale_after_s) AS threshold_s,
           CAST(ceil(coalesce(p.stall_s, s.stale_after_s) * 1e9) AS BIGINT) AS width_ns
    FROM sessions s CROSS JOIN src.params p
),
points AS (
    SELECT session_id, venue, conn_id, recv_ns, 1 AS what FROM book_frames
    UNION ALL
    SELECT session_id, venue, conn_id, open_ns, 0 FROM connections WHERE opened
    UNION ALL
    SELECT session_id, venue, conn_id, close_ns, 2 FROM connections WHERE close_ns IS NOT NULL
),
width AS (SELECT min(width_ns) AS ns FROM threshold),
buckets AS (
    SELECT p.session_id, p.venue, p.conn_id, p.recv_ns // w.ns AS bucket,
           min(p.recv_ns) AS first_ns, max(p.recv_ns) AS last_ns,
           arg_min(p.what, p.recv_ns) AS first_what
    FROM points p CROSS JOIN width w
    GROUP BY ALL
),
stepped AS (
    SELECT *, lag(last_ns) OVER (PARTITION BY session_id, venue, conn_id ORDER BY bucket) AS prev_ns
    FROM buckets
)
SELECT st.session_id, st.venue, st.conn_id,
       st.prev_ns AS from_ns, st.first_ns AS to_ns,
       (st.first_ns - st.prev_ns) / 1e6 AS duration_ms,
       CASE st.first_what WHEN 2 THEN 'close' ELSE 'data' END AS ended_by,
       t.threshold_s
FROM stepped st JOIN threshold t USING (session_id)
WHERE st.prev_ns IS NOT NULL AND st.first_ns - st.prev_ns > t.threshold_s * 1e9
