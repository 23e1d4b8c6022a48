-- One row per P&L snapshot of a run (`pnl`): cumulative `total` and `realised` P&L and the
-- `drawdown`, total minus its running maximum so far (≤ 0). Dollars, net of fees; `i` numbers the
-- snapshots of a run in time order from 1.
SELECT run, ns, total, realised,
       total - max(total) OVER (PARTITION BY run ORDER BY ns, total ROWS UNBOUNDED PRECEDING) AS drawdown,
       row_number() OVER (PARTITION BY run ORDER BY ns) AS i
FROM pnl
