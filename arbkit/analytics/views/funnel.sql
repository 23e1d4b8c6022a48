-- funnel: one row per run, pair and direction: opportunity windows `detected`, `approved` by
-- risk, with `orders_sent`, with `both_filled` (a matched size > 0), and `profitable` (trade
-- P&L > 0). Counts of opportunities.
WITH approved AS (
    SELECT DISTINCT run, opportunity_id FROM risk_decisions WHERE approved
),
sent AS (
    SELECT DISTINCT run, opportunity_id FROM orders
),
traded AS (
    SELECT run, opportunity_id, bool_or(matched_size > 0) AS both_filled, sum(pnl) AS pnl
    FROM trades GROUP BY ALL
)
SELECT o.run, o.pair, o.direction,
       count(*) AS detected,
       count(a.opportunity_id) AS approved,
       count(s.opportunity_id) AS orders_sent,
       count(*) FILTER (WHERE t.both_filled) AS both_filled,
       count(*) FILTER (WHERE t.pnl > 0) AS profitable
FROM opportunities o
LEFT JOIN approved a USING (run, opportunity_id)
LEFT JOIN sent s USING (run, opportunity_id)
LEFT JOIN traded t USING (run, opportunity_id)
GROUP BY ALL
