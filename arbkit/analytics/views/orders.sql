-- orders: one row per paper IOC limit order of a run (two per approved opportunity): venue,
-- market, outcome, limit price in dollars, size in contracts, submit and arrival times in ns.
SELECT * FROM src.orders
