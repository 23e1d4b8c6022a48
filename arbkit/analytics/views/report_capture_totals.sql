-- Capture per run over all pairs: the columns of `report_capture_by_pair` summed (dollars),
-- with `capture_ratio` = realised / available and `traded_capture_ratio` = realised /
-- available over the traded windows only.
SELECT run, sum(opportunities) AS opportunities, sum(traded) AS traded, sum(available) AS available,
       sum(available_traded) AS available_traded, sum(realised) AS realised,
       CASE WHEN sum(available) > 0
            THEN CAST(sum(realised) AS DOUBLE) / CAST(sum(available) AS DOUBLE) END AS capture_ratio,
       CASE WHEN sum(available_traded) > 0
            THEN CAST(sum(realised) AS DOUBLE) / CAST(sum(available_traded) AS DOUBLE) END AS traded_capture_ratio
FROM report_capture_by_pair
GROUP BY run
ORDER BY run
