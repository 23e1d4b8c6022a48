-- One row per pair named by the recording's sessions or by a run's config: `pair` (its name),
-- `sessions` that recorded it and `runs` that traded it.
WITH recorded AS (
    SELECT unnest(pairs) AS pair, session_id FROM sessions WHERE pairs IS NOT NULL
),
traded AS (
    SELECT DISTINCT r.run, p.value ->> '$.name' AS pair
    FROM runs AS r, json_each(r.config, '$.pairs') AS p
)
SELECT pair, count(DISTINCT session_id) AS sessions, count(DISTINCT run) AS runs
FROM (SELECT pair, session_id, NULL AS run FROM recorded
      UNION ALL SELECT pair, NULL, run FROM traded)
GROUP BY pair
ORDER BY pair
