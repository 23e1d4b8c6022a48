-- fee_drag: one row per run and venue: taker `fees_paid` on that venue (dollars), the run's
-- `gross_edge` taken (trade P&L before any fees: the sum of trade P&L plus all trade fees,
-- dollars) and `fee_share` = fees_paid / gross_edge.
WITH fees AS (
    SELECT run, venue, sum(fee) AS fees_paid, count(*) AS fills FROM fills GROUP BY ALL
),
gross AS (
    SELECT run, sum(pnl + kalshi_fees + polymarket_fees + coalesce(unwind_fees, 0)) AS gross_edge
    FROM trades GROUP BY ALL
)
SELECT f.run, f.venue, f.fills, f.fees_paid, g.gross_edge,
       CASE WHEN g.gross_edge > 0
            THEN CAST(f.fees_paid AS DOUBLE) / CAST(g.gross_edge AS DOUBLE) END AS fee_share
FROM fees f LEFT JOIN gross g USING (run)
