-- One row per run and run parameter that decides what a replay trades: the `[detector]`, `[risk]`,
-- `[fills]` and `[latency]` settings of the run's config, as the text written in run.json.
-- `section` and `parameter` name the setting (`detector`, `min_edge`); `differs` is true when the
-- runs given do not all have the same value (so two reports, or two runs, compare line by line).
-- Venue URLs and credential paths are not parameters of a run and are left out.
WITH flat AS (
    SELECT r.run,
           split_part(t.fullkey, '.', 2) AS section,
           substr(t.fullkey, length(split_part(t.fullkey, '.', 2)) + 4) AS parameter,
           CASE WHEN t.type = 'VARCHAR' THEN t.value ->> '$' ELSE CAST(t.value AS VARCHAR) END AS value
    FROM runs AS r, json_tree(r.config) AS t
    WHERE t.type NOT IN ('OBJECT', 'ARRAY')
      AND split_part(t.fullkey, '.', 2) IN ('detector', 'risk', 'fills', 'latency')
)
SELECT run, section, parameter, value,
       count(DISTINCT coalesce(value, '<null>')) OVER (PARTITION BY section, parameter) > 1
           OR count(*) OVER (PARTITION BY section, parameter) < (SELECT count(*) FROM runs) AS differs
FROM flat
ORDER BY section, parameter, run
