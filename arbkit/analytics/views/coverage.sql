-- coverage: one row per session and venue: the session's recorded span (`span_s`, from its
-- start to its end), the time at least one connection to the venue was open (`connected_s`;
-- overlapping connections count once), `downtime_s` = span - connected, `uptime_fraction` =
-- connected / span (0..1), and the number of connections and reconnects. Seconds.
WITH spans AS (
    SELECT c.session_id, c.venue, c.conn_id,
           greatest(c.open_ns, s.start_ns) AS from_ns,
           least(coalesce(c.close_ns, c.last_ns), s.end_ns) AS to_ns
    FROM connections c JOIN sessions s USING (session_id)
),
-- Merge overlapping intervals so two connections open at once are not counted twice.
marked AS (
    SELECT *, CASE WHEN from_ns <= max(to_ns) OVER (
                PARTITION BY session_id, venue ORDER BY from_ns, to_ns
                ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) THEN 0 ELSE 1 END AS starts
    FROM spans WHERE to_ns > from_ns
),
islands AS (
    SELECT *, sum(starts) OVER (PARTITION BY session_id, venue ORDER BY from_ns, to_ns) AS island
    FROM marked
),
merged AS (
    SELECT session_id, venue, min(from_ns) AS from_ns, max(to_ns) AS to_ns
    FROM islands GROUP BY session_id, venue, island
),
connected AS (
    SELECT session_id, venue, sum(to_ns - from_ns) AS connected_ns FROM merged GROUP BY ALL
),
per_venue AS (
    SELECT session_id, venue, count(*) AS connections FROM connections GROUP BY ALL
),
bounces AS (
    SELECT session_id, venue, count(*) AS reconnects FROM reconnects GROUP BY ALL
)
SELECT
    v.session_id, v.venue,
    s.start_ns, s.end_ns,
    (s.end_ns - s.start_ns) / 1e9 AS span_s,
    coalesce(c.connected_ns, 0) / 1e9 AS connected_s,
    greatest(s.end_ns - s.start_ns - coalesce(c.connected_ns, 0), 0) / 1e9 AS downtime_s,
    CASE WHEN s.end_ns > s.start_ns
         THEN coalesce(c.connected_ns, 0) / (s.end_ns - s.start_ns) END AS uptime_fraction,
    v.connections,
    coalesce(b.reconnects, 0) AS reconnects
FROM per_venue v
JOIN sessions s USING (session_id)
LEFT JOIN connected c USING (session_id, venue)
LEFT JOIN bounces b USING (session_id, venue)
