-- One row per run and pair that traded: `trades` (paper trades, both legs sent), `matched`
-- (contract pairs held on both venues), `locked_in` (dollars: $1 per matched pair minus its cost
-- with fees), `legging` (dollars: result of unwinding unmatched legs, after fees), `pnl` (dollars,
-- the trades' P&L as in `trades`: locked-in + legging), `fees` (dollars, both venues and unwinds)
-- and `held` (contracts of unmatched legs kept naked, not marked here).
SELECT run, pair, count(*) AS trades, sum(matched_size) AS matched,
       sum(locked_in_pnl) AS locked_in, coalesce(sum(legging_pnl), 0) AS legging, sum(pnl) AS pnl,
       sum(kalshi_fees + polymarket_fees + unwind_fees) AS fees, sum(held_size) AS held
FROM trades
GROUP BY run, pair
ORDER BY run, pnl DESC, pair
