-- The P&L curve of each run in at most 1,500 points: the run's span split into 1,500 equal time
-- buckets, one row per bucket holding snapshots, at its last snapshot (`ns`, `total`, `realised`,
-- dollars net of fees), with `drawdown` the deepest within the bucket (≤ 0, dollars), so the curve
-- stays small for a long run and the worst drawdown is never lost.
WITH span AS (
    SELECT run, min(ns) AS t0, greatest(max(ns) - min(ns), 1) AS width FROM report_drawdown GROUP BY run
),
b AS (
    SELECT d.*, least(floor((d.ns - s.t0) * 1500.0 / s.width), 1499)::INTEGER AS bucket
    FROM report_drawdown AS d JOIN span AS s USING (run)
)
SELECT run, max(ns) AS ns, arg_max(total, i) AS total, arg_max(realised, i) AS realised,
       min(drawdown) AS drawdown
FROM b
GROUP BY run, bucket
ORDER BY run, ns
