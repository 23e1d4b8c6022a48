-- One row per run and peak-edge bucket of opportunity windows: `lo_cents` ≤ peak edge < `hi_cents`
-- (cents per contract pair, after both taker fees). The bucket width is the smallest of 0.01, 0.02,
-- 0.05, 0.1, ... cents that keeps the range of all runs within 40 buckets, the same for every run.
WITH e AS (
    SELECT run, CAST(peak_edge AS DOUBLE) * 100 AS cents FROM opportunities
),
step AS (
    SELECT coalesce(min(s), 100.0) AS width
    FROM unnest([0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0, 2.0, 5.0, 10.0, 20.0, 50.0, 100.0]) AS t(s),
         (SELECT max(cents) - min(cents) AS span FROM e) AS r
    WHERE coalesce(r.span, 0) / s <= 40
)
SELECT run, floor(cents / width) * width AS lo_cents, (floor(cents / width) + 1) * width AS hi_cents,
       count(*) AS windows
FROM e, step
GROUP BY run, floor(cents / width), width
ORDER BY run, lo_cents
