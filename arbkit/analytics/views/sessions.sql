-- sessions: one row per recording session. `start_ns`/`end_ns` (Unix ns) come from the session
-- manifest where there is one, else from the first/last frame; `status` is the manifest's
-- (`complete`: a clean stop; `recovered`: the process died and its journal was sealed by a
-- later start; `recording`: it died and has not been recovered yet) or `unknown` without a
-- manifest. `pairs` are the configured pair names; `frames` the rows in the frames files.
WITH seen AS (
    SELECT session_id, min(recv_ns) AS first_ns, max(recv_ns) AS last_ns, count(*) AS frames
    FROM frames GROUP BY ALL
)
SELECT
    s.session_id,
    coalesce(m.start_ns, s.first_ns) AS start_ns,
    coalesce(m.end_ns, s.last_ns) AS end_ns,
    make_timestamp(coalesce(m.start_ns, s.first_ns) // 1000) AS start_time,
    make_timestamp(coalesce(m.end_ns, s.last_ns) // 1000) AS end_time,
    (coalesce(m.end_ns, s.last_ns) - coalesce(m.start_ns, s.first_ns)) / 1e9 AS span_s,
    coalesce(m.status, 'unknown') AS status,
    m.status = 'complete' AS clean_stop,
    m.status IN ('recovered', 'recording') AS crashed,
    m.status = 'recovered' AS recovered,
    m.host,
    m.arbkit_version,
    m.pairs,
    s.frames,
    s.first_ns,
    s.last_ns,
    m.session_id IS NOT NULL AS has_manifest,
    coalesce(m.stale_after_s, p.default_stale_after_s) AS stale_after_s
FROM seen s
LEFT JOIN src.manifests m USING (session_id)
CROSS JOIN src.params p
