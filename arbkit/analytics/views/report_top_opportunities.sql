-- The 25 opportunity windows of each run with the highest peak profit (ties: earlier first).
-- `rank` 1 is the best; lifetime and both books' staleness when the window opened are in
-- milliseconds; sizes in contracts; edge in dollars per contract pair; profit in dollars, after fees.
SELECT * FROM (
    SELECT run,
           row_number() OVER (PARTITION BY run ORDER BY peak_profit DESC, open_ns, opportunity_id) AS rank,
           opportunity_id, open_ns, pair, direction,
           duration_ns / 1e6 AS lifetime_ms, peak_size, peak_edge, peak_profit,
           kalshi_staleness_ns / 1e6 AS kalshi_staleness_ms,
           polymarket_staleness_ns / 1e6 AS polymarket_staleness_ms,
           close_reason
    FROM opportunities
)
WHERE rank <= 25
ORDER BY run, rank
