-- stalls: one row per interval of more than the stall threshold with no book data on a
-- connection that stayed open: from its open, or a book frame, to the next book frame or its
-- close. The threshold (`threshold_s`) is the `--stall-s`/`stall_s` given to the analytics,
-- else the session's `recorder.stale_after_s`, else that setting's default. `from_ns`/`to_ns`
-- in ns, `duration_ms` in ms; `ended_by` is `data` or `close`.
WITH points AS (
    SELECT session_id, venue, conn_id, recv_ns, 'data' AS what FROM book_frames
    UNION ALL
    SELECT session_id, venue, conn_id, open_ns, 'open' FROM connections WHERE opened
    UNION ALL
    SELECT session_id, venue, conn_id, close_ns, 'close' FROM connections WHERE close_ns IS NOT NULL
),
stepped AS (
    SELECT *, lag(recv_ns) OVER (PARTITION BY session_id, venue, conn_id ORDER BY recv_ns,
                                 CASE what WHEN 'open' THEN 0 WHEN 'data' THEN 1 ELSE 2 END) AS prev_ns
    FROM points
),
threshold AS (
    SELECT s.session_id, coalesce(p.stall_s, s.stale_after_s) AS threshold_s
    FROM sessions s CROSS JOIN src.params p
)
SELECT st.session_id, st.venue, st.conn_id,
       st.prev_ns AS from_ns, st.recv_ns AS to_ns,
       (st.recv_ns - st.prev_ns) / 1e6 AS duration_ms,
       st.what AS ended_by,
       t.threshold_s
FROM stepped st JOIN threshold t USING (session_id)
WHERE st.prev_ns IS NOT NULL AND st.what <> 'open'
  AND st.recv_ns - st.prev_ns > t.threshold_s * 1e9
