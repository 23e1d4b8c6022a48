-- One row per task of a sweep (`arbkit sweep`; `connect(..., sweep=DIR)`), in the sweep's plan
-- order `task_index` (session by session, grid point by grid point). `point` names the grid point
-- (`key=value, ...` in the grid's order; `(config)` where the point leaves a key at the base
-- config's value) and `parameters` lists them as {parameter, value (exact text, NULL for the
-- config's), number (DOUBLE, numeric parameters only)} in the grid's order. The statistics are
-- sweep.parquet's (counts; dollars and contracts as exact decimals; `capture_rate` = pnl /
-- available, the summed peak profit of the run's windows), plus `fees` (dollars, both venues)
-- and `fill_rate` = fills / approvals (NULL without an approval).
-- A failed task has `status` 'failed', its `error`, and NULL statistics.
SELECT s.task_index, s.task_id, s.session, p.point, p.parameters, s.status, s.error,
       s.opportunities, s.approvals, s.fills,
       CASE WHEN s.approvals > 0 THEN s.fills / s.approvals END AS fill_rate,
       s.matched_size, s.legging_loss, s.fees_kalshi, s.fees_polymarket,
       s.fees_kalshi + s.fees_polymarket AS fees, s.pnl, s.available, s.capture_rate, s.run_s
FROM src.sweep AS s
LEFT JOIN (
    SELECT task_id,
           string_agg(parameter || '=' || coalesce(value, '(config)'), ', ' ORDER BY "position") AS point,
           list(struct_pack(parameter := parameter, value := value, number := number) ORDER BY "position")
               AS parameters
    FROM src.sweep_params
    GROUP BY task_id
) AS p USING (task_id)
ORDER BY s.task_index
