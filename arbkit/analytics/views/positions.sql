-- positions: one row per (pair, venue, outcome) holding at each portfolio snapshot `ns`:
-- sizes in contracts, costs and values in dollars (exact decimals).
SELECT * FROM src.positions
