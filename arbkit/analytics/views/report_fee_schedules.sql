-- One row per run, pair and fee regime: the taker fee settings in force from `in_force_from`
-- (UTC; NULL means from the start of the recording) until the next regime of the same pair.
-- `kalshi_fee_multiplier` scales Kalshi's 0.07 × C × P × (1 − P) fee; `polymarket_fee_rate` is the
-- market's rate in C × rate × p × (1 − p). An override that leaves a value out keeps the earlier one
-- (shown as NULL here).
WITH pairs AS (
    SELECT r.run, p.value AS pair
    FROM runs AS r, json_each(r.config, '$.pairs') AS p
)
SELECT run, pair ->> '$.name' AS pair, CAST(NULL AS VARCHAR) AS in_force_from,
       pair ->> '$.kalshi_fee_multiplier' AS kalshi_fee_multiplier,
       pair ->> '$.polymarket_fee_rate' AS polymarket_fee_rate
FROM pairs
UNION ALL
SELECT run, pair ->> '$.name', o.value ->> '$.since',
       o.value ->> '$.kalshi_fee_multiplier', o.value ->> '$.polymarket_fee_rate'
FROM pairs, json_each(pair, '$.fee_overrides') AS o
