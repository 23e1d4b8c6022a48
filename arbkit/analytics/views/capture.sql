-- capture: one row per opportunity of a run: the peak expected profit available
-- (`peak_profit`, dollars, at `peak_size` contracts) against the realised P&L of its trade(s)
-- (`realised_pnl`, dollars; NULL when nothing traded) and `capture_ratio` = realised / peak.
WITH traded AS (
    SELECT run, opportunity_id, sum(pnl) AS realised_pnl, sum(matched_size) AS matched_size
    FROM trades GROUP BY ALL
)
SELECT o.run, o.opportunity_id, o.pair, o.direction, o.open_ns, o.duration_ms,
       o.peak_size, o.peak_profit, o.peak_edge,
       t.matched_size, t.realised_pnl,
       CASE WHEN o.peak_profit > 0 AND t.realised_pnl IS NOT NULL
            THEN CAST(t.realised_pnl AS DOUBLE) / CAST(o.peak_profit AS DOUBLE) END AS capture_ratio
FROM opportunities o
LEFT JOIN traded t USING (run, opportunity_id)
