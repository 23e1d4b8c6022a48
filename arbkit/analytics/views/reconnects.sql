-- reconnects: one row per time a venue came back within a session: `conn_id` is the new
-- connection, `down_ns` the previous connection's close (its last row when it has no close
-- row), `up_ns` the new connection's open, `downtime_ms` between them in milliseconds, `cause`
-- why the previous one ended (the recorder's own cause, else the venue's close code and reason;
-- code 1006 is an abrupt disconnect without a close frame).
WITH ordered AS (
    SELECT *,
        lag(conn_id) OVER w AS prev_conn_id,
        lag(coalesce(close_ns, last_ns)) OVER w AS prev_down_ns,
        lag(close_cause) OVER w AS prev_cause,
        lag(close_code) OVER w AS prev_code,
        lag(close_reason) OVER w AS prev_reason,
        lag(close_ns IS NULL) OVER w AS prev_unclosed
    FROM connections
    WINDOW w AS (PARTITION BY session_id, venue ORDER BY open_ns, conn_id)
)
SELECT
    session_id, venue, conn_id, prev_conn_id,
    prev_down_ns AS down_ns,
    open_ns AS up_ns,
    (open_ns - prev_down_ns) / 1e6 AS downtime_ms,
    CASE
        WHEN prev_cause IS NOT NULL THEN prev_cause
        WHEN prev_unclosed THEN 'no close recorded'
        WHEN prev_code = 1006 THEN 'abrupt disconnect (1006)'
        ELSE concat('closed by venue (', prev_code, coalesce(': ' || nullif(prev_reason, ''), ''), ')')
    END AS cause,
    prev_code AS close_code
FROM ordered
WHERE prev_conn_id IS NOT NULL
