-- One row describing a sweep for its report (zeros and NULLs when no sweep is given): `tasks`,
-- `done`, `failed`, `sessions`, grid `points` (distinct grid points), `parameters`; the curve's
-- `x_parameter` and `x_unit` (NULL when no parameter is numeric), `x_is_latency`, `x_values`
-- (distinct values of x), the other parameters by role as comma-separated text in the grid's
-- order (`series_parameters`, `moving_parameters`, `fixed_parameters`; '' when none), `lines`
-- (series of the curve), `incomplete_points` (curve points with a failed task) and
-- `points_without_x` (grid points that leave the x parameter at the config's value).
WITH tasks AS (
    SELECT count(*) AS tasks,
           count(*) FILTER (WHERE status = 'done') AS done,
           count(*) FILTER (WHERE status IS DISTINCT FROM 'done') AS failed,
           count(DISTINCT session) AS sessions,
           count(DISTINCT point) AS points
    FROM sweep_points
),
params AS (
    SELECT count(*) AS parameters,
           any_value(parameter) FILTER (WHERE role = 'x') AS x_parameter,
           any_value(unit) FILTER (WHERE role = 'x') AS x_unit,
           coalesce(any_value(parameter LIKE 'latency.%\_ms' ESCAPE '\') FILTER (WHERE role = 'x'), false)
               AS x_is_latency,
           coalesce(any_value(distinct_values) FILTER (WHERE role = 'x'), 0) AS x_values,
           coalesce(string_agg(parameter, ', ' ORDER BY "position") FILTER (WHERE role = 'series'), '')
               AS series_parameters,
           coalesce(string_agg(parameter, ', ' ORDER BY "position") FILTER (WHERE role = 'moves with x'), '')
               AS moving_parameters,
           coalesce(string_agg(parameter, ', ' ORDER BY "position") FILTER (WHERE role = 'fixed'), '')
               AS fixed_parameters
    FROM sweep_parameters
),
curve AS (
    SELECT count(DISTINCT series) AS lines,
           count(*) FILTER (WHERE NOT complete) AS incomplete_points,
           count(*) FILTER (WHERE x IS NULL) AS points_without_x
    FROM report_sweep_curve
)
SELECT tasks.*, params.*, curve.*
FROM tasks, params, curve
