-- The capture curve of a sweep: one row per line (`series`) and x value, summed over the
-- sessions. `x_parameter` is the parameter with role `x` in sweep_parameters, `x_value` its
-- exact text and `x` the same as a DOUBLE to draw (NULL for points that leave it at the config's
-- value); `series` names the values of the `series` parameters ('' when there are none) and
-- `series_rank` orders the lines by those values. `tasks`, `done` and `failed` count tasks (one
-- per session and grid point); the sums are over done tasks, so a row with `failed` > 0 is
-- incomplete (`complete` false). Dollars and contracts exact; `fill_rate` = fills / approvals and
-- `capture_rate` = pnl / available (DOUBLE; NULL when the denominator is 0 or unknown).
WITH x AS (
    SELECT p.task_id, p.parameter AS x_parameter, coalesce(p.value, '(config)') AS x_value, p.number AS x
    FROM src.sweep_params AS p
    JOIN sweep_parameters AS r USING (parameter)
    WHERE r.role = 'x'
),
series AS (
    SELECT p.task_id,
           string_agg(p.parameter || '=' || coalesce(p.value, '(config)'), ', ' ORDER BY p."position") AS series,
           list(struct_pack(n := p.number, v := coalesce(p.value, '')) ORDER BY p."position") AS series_key
    FROM src.sweep_params AS p
    JOIN sweep_parameters AS r USING (parameter)
    WHERE r.role = 'series'
    GROUP BY p.task_id
),
grouped AS (
    SELECT x.x_parameter, x.x_value, any_value(x.x) AS x, coalesce(s.series, '') AS series,
           any_value(s.series_key) AS series_key,
           count(*) AS tasks,
           count(*) FILTER (WHERE t.status = 'done') AS done,
           count(*) FILTER (WHERE t.status IS DISTINCT FROM 'done') AS failed,
           count(DISTINCT t.session) AS sessions,
           sum(t.opportunities) AS opportunities, sum(t.approvals) AS approvals, sum(t.fills) AS fills,
           sum(t.matched_size) AS matched_size, sum(t.legging_loss) AS legging_loss,
           sum(t.fees_kalshi + t.fees_polymarket) AS fees, sum(t.pnl) AS pnl, sum(t.available) AS available
    FROM src.sweep AS t
    JOIN x USING (task_id)
    LEFT JOIN series AS s USING (task_id)
    GROUP BY x.x_parameter, x.x_value, coalesce(s.series, '')
)
SELECT x_parameter, x_value, x, series, dense_rank() OVER (ORDER BY series_key NULLS FIRST) AS series_rank,
       tasks, done, failed, failed = 0 AS complete, sessions,
       opportunities, approvals, fills,
       CASE WHEN approvals > 0 THEN fills / approvals END AS fill_rate,
       matched_size, legging_loss, fees, pnl, available,
       CASE WHEN available > 0 THEN CAST(pnl AS DOUBLE) / CAST(available AS DOUBLE) END AS capture_rate
FROM grouped
ORDER BY series_rank, x NULLS LAST, x_value
