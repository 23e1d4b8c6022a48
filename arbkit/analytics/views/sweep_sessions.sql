-- One row per session of a sweep: the `source` it was read from (the path or s3:// URL the sweep
-- replayed; NULL when the sweep file does not record it), its `tasks` (one per grid point),
-- how many are `done` and `failed`, and `run_s`, the seconds its replays took (summed).
SELECT s.session, any_value(m.source) AS source, count(*) AS tasks,
       count(*) FILTER (WHERE s.status = 'done') AS done,
       count(*) FILTER (WHERE s.status IS DISTINCT FROM 'done') AS failed,
       sum(s.run_s) AS run_s
FROM src.sweep AS s
LEFT JOIN src.sweep_sessions AS m USING (session)
GROUP BY s.session
ORDER BY s.session
