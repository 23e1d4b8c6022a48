-- One row per grid parameter of a sweep, in the grid's order (`position`): whether it is
-- `numeric`, its `unit` (ms, s, $, $ per contract pair, contracts; NULL when it has none), how
-- many `distinct_values` it takes (a point leaving it at the config's value counts as one),
-- `unset_tasks` (tasks of such points), its `smallest` and `largest` value (numeric only), and
-- its `role` in the capture curve (report_sweep_curve):
--   `x`       the x axis: the first latency parameter (`latency.*_ms`) taking several values,
--             else the first numeric parameter taking several, else the first numeric one;
--   `moves with x`  one value per x value (both venues' latencies set together, say);
--   `fixed`   one value across the whole sweep;
--   `series`  the rest: one line per combination of their values.
WITH per_parameter AS (
    SELECT parameter, min("position") AS "position", bool_and(numeric) AS numeric,
           count(DISTINCT coalesce(value, '(config)')) AS distinct_values,
           count(*) FILTER (WHERE value IS NULL) AS unset_tasks,
           min(number) AS smallest, max(number) AS largest
    FROM src.sweep_params
    GROUP BY parameter
),
x AS (
    SELECT parameter
    FROM per_parameter
    WHERE numeric
    ORDER BY (parameter LIKE 'latency.%\_ms' ESCAPE '\' AND distinct_values > 1) DESC,
             distinct_values > 1 DESC, "position"
    LIMIT 1
),
x_values AS (
    SELECT task_id, coalesce(value, '(config)') AS x_value
    FROM src.sweep_params
    WHERE parameter = (SELECT parameter FROM x)
),
with_x AS (
    SELECT p.parameter, count(DISTINCT (x.x_value, coalesce(p.value, '(config)'))) AS combinations,
           count(DISTINCT x.x_value) AS x_count
    FROM src.sweep_params AS p
    JOIN x_values AS x USING (task_id)
    GROUP BY p.parameter
)
SELECT pp.parameter, pp."position", pp.numeric,
       CASE
           WHEN pp.parameter = 'detector.min_edge' THEN '$ per contract pair'
           WHEN pp.parameter IN ('risk.max_total_exposure', 'risk.max_unhedged_exposure', 'risk.daily_loss_limit')
               THEN '$'
           WHEN pp.parameter IN ('detector.min_size', 'risk.max_size_per_trade', 'risk.max_position_per_pair')
               THEN 'contracts'
           WHEN pp.parameter LIKE '%\_ms' ESCAPE '\' THEN 'ms'
           WHEN pp.parameter LIKE '%\_s' ESCAPE '\' THEN 's'
       END AS unit,
       pp.distinct_values, pp.unset_tasks, pp.smallest, pp.largest,
       CASE
           WHEN pp.parameter = (SELECT parameter FROM x) THEN 'x'
           WHEN pp.distinct_values = 1 THEN 'fixed'
           WHEN w.combinations = w.x_count THEN 'moves with x'
           ELSE 'series'
       END AS role
FROM per_parameter AS pp
LEFT JOIN with_x AS w USING (parameter)
ORDER BY pp."position"
