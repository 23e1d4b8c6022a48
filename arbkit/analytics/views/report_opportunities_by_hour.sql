-- One row per run, pair and hour of the day (UTC, 0-23) in which opportunity windows opened:
-- `windows` counts them (the time-of-day heatmap of the report).
SELECT run, pair, hour(make_timestamp(open_ns // 1000)) AS hour_utc, count(*) AS windows
FROM opportunities
GROUP BY ALL
ORDER BY run, pair, hour_utc
