-- Capture per run and pair: `opportunities` windows, `traded` (windows with a trade), `available`
-- (dollars: the sum of every window's peak expected profit), `available_traded` (the same over
-- traded windows only), `realised` (dollars: the trades' P&L after fees) and `capture_ratio` =
-- realised / available (NULL when nothing was available).
SELECT run, pair, count(*) AS opportunities, count(realised_pnl) AS traded,
       sum(peak_profit) AS available,
       coalesce(sum(peak_profit) FILTER (WHERE realised_pnl IS NOT NULL), 0) AS available_traded,
       coalesce(sum(realised_pnl), 0) AS realised,
       CASE WHEN sum(peak_profit) > 0
            THEN CAST(coalesce(sum(realised_pnl), 0) AS DOUBLE) / CAST(sum(peak_profit) AS DOUBLE) END
           AS capture_ratio
FROM capture
GROUP BY run, pair
ORDER BY run, available DESC, pair
