-- run_summary: one row per run: opportunities, lifetime p50/p90 (ms), peak edge (dollars per
-- contract pair), risk approvals and denials, orders, fills, trades, fees (dollars, total and
-- per venue), legging loss (dollars), final P&L (`pnl`, the last snapshot's total, dollars)
-- and the frames the engine could not decode.
WITH o AS (
    SELECT run, count(*) AS opportunities,
           quantile_cont(duration_ms, 0.5) AS lifetime_p50_ms,
           quantile_cont(duration_ms, 0.9) AS lifetime_p90_ms,
           max(peak_edge) AS peak_edge
    FROM opportunities GROUP BY ALL
),
r AS (
    SELECT run, count(*) FILTER (WHERE approved) AS approved, count(*) FILTER (WHERE NOT approved) AS denied
    FROM risk_decisions GROUP BY ALL
),
ord AS (SELECT run, count(*) AS orders FROM orders GROUP BY ALL),
fi AS (
    SELECT run, count(*) AS fills, sum(fee) AS fees,
           sum(fee) FILTER (WHERE venue = 'kalshi') AS kalshi_fees,
           sum(fee) FILTER (WHERE venue = 'polymarket') AS polymarket_fees
    FROM fills GROUP BY ALL
),
t AS (SELECT run, count(*) AS trades FROM trades GROUP BY ALL),
l AS (SELECT run, sum(legging_loss) AS legging_loss FROM legging GROUP BY ALL),
p AS (SELECT run, arg_max(total, ns) AS pnl FROM pnl GROUP BY ALL)
SELECT runs.run,
       coalesce(o.opportunities, 0) AS opportunities,
       o.lifetime_p50_ms, o.lifetime_p90_ms, o.peak_edge,
       coalesce(r.approved, 0) AS approved, coalesce(r.denied, 0) AS denied,
       coalesce(ord.orders, 0) AS orders,
       coalesce(fi.fills, 0) AS fills,
       coalesce(t.trades, 0) AS trades,
       coalesce(fi.fees, 0) AS fees,
       coalesce(fi.kalshi_fees, 0) AS kalshi_fees,
       coalesce(fi.polymarket_fees, 0) AS polymarket_fees,
       coalesce(l.legging_loss, 0) AS legging_loss,
       coalesce(p.pnl, 0) AS pnl,
       runs.frames, runs.decode_errors
FROM runs
LEFT JOIN o USING (run)
LEFT JOIN r USING (run)
LEFT JOIN ord USING (run)
LEFT JOIN fi USING (run)
LEFT JOIN t USING (run)
LEFT JOIN l USING (run)
LEFT JOIN p USING (run)
