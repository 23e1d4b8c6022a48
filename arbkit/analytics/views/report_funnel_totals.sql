-- The funnel of each run over all pairs and directions: one row per run and `stage` (`step`
-- 1 = detected, 2 = approved by risk, 3 = orders sent, 4 = both legs filled, 5 = profitable) with
-- the number of opportunity windows that reached it.
WITH t AS (
    SELECT r.run, coalesce(sum(detected), 0) AS detected, coalesce(sum(approved), 0) AS approved,
           coalesce(sum(orders_sent), 0) AS orders_sent, coalesce(sum(both_filled), 0) AS both_filled,
           coalesce(sum(profitable), 0) AS profitable
    FROM runs AS r LEFT JOIN funnel AS f USING (run)
    GROUP BY r.run
)
SELECT run, step, stage, windows FROM (
    SELECT run, 1 AS step, 'detected' AS stage, detected AS windows FROM t
    UNION ALL SELECT run, 2, 'approved', approved FROM t
    UNION ALL SELECT run, 3, 'orders sent', orders_sent FROM t
    UNION ALL SELECT run, 4, 'both legs filled', both_filled FROM t
    UNION ALL SELECT run, 5, 'profitable', profitable FROM t
)
ORDER BY run, step
