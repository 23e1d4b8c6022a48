-- pnl: one row per portfolio snapshot `ns` of a run: cumulative P&L net of fees (realised,
-- locked-in, naked mark-to-market, total), fees per venue and exposures, dollars (exact).
SELECT * FROM src.pnl
