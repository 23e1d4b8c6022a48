-- opportunity_summary: one row per run, pair and direction: opportunity windows, their
-- lifetime p50/p90 (ms, linear interpolation), the peak edge (dollars per contract pair, the
-- best window's) and the total peak profit available (dollars).
SELECT run, pair, direction,
       count(*) AS opportunities,
       quantile_cont(duration_ms, 0.5) AS lifetime_p50_ms,
       quantile_cont(duration_ms, 0.9) AS lifetime_p90_ms,
       max(peak_edge) AS peak_edge,
       sum(peak_profit) AS peak_profit
FROM opportunities
GROUP BY ALL
