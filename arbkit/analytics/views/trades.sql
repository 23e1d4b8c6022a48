-- trades: one row per paper trade (both legs executed): per-leg filled size and cost, the
-- matched size and locked-in P&L, the unmatched remainder and what happened to it, dollars as
-- exact decimals. `pnl` = locked-in P&L + legging P&L (a held remainder is not marked here).
SELECT *, locked_in_pnl + coalesce(legging_pnl, 0) AS pnl FROM src.trades
