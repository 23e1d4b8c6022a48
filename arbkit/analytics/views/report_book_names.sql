-- One row per book a run's config names: `venue`, `market` (Kalshi ticker or Polymarket asset
-- id, as in `book_staleness`), the `pair` it belongs to and which `side` of the pair it is
-- (`kalshi`, `polymarket YES`, `polymarket NO`), so books can be labelled by pair name.
WITH pairs AS (
    SELECT DISTINCT p.value ->> '$.name' AS pair,
           p.value ->> '$.kalshi_ticker' AS kalshi_ticker,
           p.value ->> '$.polymarket_yes_token' AS yes_token,
           p.value ->> '$.polymarket_no_token' AS no_token
    FROM runs AS r, json_each(r.config, '$.pairs') AS p
)
SELECT DISTINCT venue, market, pair, side FROM (
    SELECT 'kalshi' AS venue, kalshi_ticker AS market, pair, 'kalshi' AS side FROM pairs
    UNION ALL SELECT 'polymarket', yes_token, pair, 'polymarket YES' FROM pairs
    UNION ALL SELECT 'polymarket', no_token, pair, 'polymarket NO' FROM pairs
)
WHERE market IS NOT NULL
