-- opportunities: one row per opportunity window of a run (DESIGN §6): open/close/peak times in
-- ns, `duration_ns`, money in dollars (exact decimals), sizes in contracts, book staleness at
-- open in ns; `duration_ms` added for convenience.
SELECT *, duration_ns / 1e6 AS duration_ms FROM src.opportunities
