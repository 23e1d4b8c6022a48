-- connections: one row per connection of a session to a venue (`conn_id` counts up on each
-- reconnect). `open_ns`/`close_ns` are the recv_ns of the `open`/`close` rows (NULL when the
-- session ended without one, e.g. a crash; then `last_ns`, the last row seen, ends it);
-- `uptime_s` seconds from open to close (or last row); `frames_in`/`bytes_in` received frames
-- and their payload bytes; `frames_out` frames sent; `errors` recorded `error` rows;
-- `first_snapshot_ns` the first book snapshot received.
WITH lifecycle AS (
    SELECT session_id, venue, conn_id, kind, recv_ns,
           CASE WHEN json_valid(payload_text) THEN payload_text END AS payload_text
    FROM frames
    WHERE kind IN ('open', 'close')
),
opens AS (
    SELECT session_id, venue, conn_id, min(recv_ns) AS open_ns,
           arg_min(payload_text ->> '$.url', recv_ns) AS url
    FROM lifecycle WHERE kind = 'open' GROUP BY ALL
),
closes AS (
    SELECT session_id, venue, conn_id, max(recv_ns) AS close_ns,
           arg_max(TRY_CAST(payload_text ->> '$.code' AS INTEGER), recv_ns) AS close_code,
           arg_max(payload_text ->> '$.reason', recv_ns) AS close_reason,
           arg_max(payload_text ->> '$.cause', recv_ns) AS close_cause,
           arg_max(TRY_CAST(payload_text ->> '$.close_frame_received' AS BOOLEAN), recv_ns)
               AS close_frame_received
    FROM lifecycle WHERE kind = 'close' GROUP BY ALL
),
counts AS (
    SELECT session_id, venue, conn_id,
           min(recv_ns) AS first_ns,
           max(recv_ns) AS last_ns,
           count(*) FILTER (WHERE kind = 'in') AS frames_in,
           CAST(coalesce(sum(bytes) FILTER (WHERE kind = 'in'), 0) AS BIGINT) AS bytes_in,
           count(*) FILTER (WHERE kind = 'out') AS frames_out,
           count(*) FILTER (WHERE kind = 'error') AS errors
    FROM frames GROUP BY ALL
),
snapshots AS (
    SELECT session_id, venue, conn_id, min(recv_ns) AS first_snapshot_ns
    FROM book_frames WHERE snapshot GROUP BY ALL
)
SELECT
    c.session_id, c.venue, c.conn_id, o.url,
    coalesce(o.open_ns, c.first_ns) AS open_ns,
    cl.close_ns, cl.close_code, cl.close_reason, cl.close_cause, cl.close_frame_received,
    c.last_ns,
    (coalesce(cl.close_ns, c.last_ns) - coalesce(o.open_ns, c.first_ns)) / 1e9 AS uptime_s,
    c.frames_in, c.bytes_in, c.frames_out, c.errors,
    s.first_snapshot_ns,
    o.open_ns IS NOT NULL AS opened
FROM counts c
LEFT JOIN opens o USING (session_id, venue, conn_id)
LEFT JOIN closes cl USING (session_id, venue, conn_id)
LEFT JOIN snapshots s USING (session_id, venue, conn_id)
-- Attempts that never opened (an `error` row only) are not connections.
WHERE o.open_ns IS NOT NULL OR c.frames_in > 0
