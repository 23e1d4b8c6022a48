-- One row per run: P&L `snapshots`, the final `total` P&L, the highest total reached (`peak`),
-- the deepest drawdown (`max_drawdown`, ≤ 0) and when it was first reached (`max_drawdown_ns`).
-- Dollars, net of fees.
SELECT run, count(*) AS snapshots, arg_max(total, i) AS total, max(total) AS peak,
       min(drawdown) AS max_drawdown, arg_min(ns, (drawdown, i)) AS max_drawdown_ns
FROM report_drawdown
GROUP BY run
ORDER BY run
