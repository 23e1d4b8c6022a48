-- One row per run and lifetime bucket of opportunity windows. Buckets are a quarter of a decade
-- wide on a log scale: `lo_ms` ≤ lifetime < `hi_ms` (milliseconds); `windows` counts the windows.
-- A window shorter than 0.1 ms counts in the lowest bucket.
WITH w AS (
    SELECT run, floor(4 * log10(greatest(duration_ns / 1e6, 0.1)))::INTEGER AS k
    FROM opportunities
)
SELECT run, power(10, k / 4.0) AS lo_ms, power(10, (k + 1) / 4.0) AS hi_ms, count(*) AS windows
FROM w
GROUP BY run, k
ORDER BY run, k
