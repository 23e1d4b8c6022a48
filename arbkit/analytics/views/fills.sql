-- fills: one row per price level a paper order filled at: price in dollars, size in
-- contracts, `notional` and `fee` in dollars (exact decimals), `ns` the fill time.
SELECT * FROM src.fills
