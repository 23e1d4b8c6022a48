-- seq_gaps: one row per Kalshi sequence gap: a frame on a subscription (`sid`, per connection)
-- whose `seq` is not the previous frame's seq + 1 (a fresh `orderbook_snapshot` starts the
-- sequence over and is never a gap). `expected_seq` = previous + 1, `got_seq` the frame's,
-- `missed` = got - expected (negative when seq went backwards); `recv_ns` in ns.
WITH sequenced AS (
    SELECT session_id, venue, conn_id, ingest_seq, recv_ns, msg_type, venue_seq,
           -- Kalshi writes `sid` near the start: a regular expression over the first 64 bytes
           -- costs a fraction of a JSON parse, which is only the fallback.
           coalesce(TRY_CAST(regexp_extract(try(decode(payload[1:64])), '"sid":(\d+)', 1) AS BIGINT),
                    CASE WHEN json_valid(try(decode(payload)))
                         THEN TRY_CAST(json_extract_string(try(decode(payload)), '$.sid') AS BIGINT) END) AS sid
    FROM frames
    WHERE venue = 'kalshi' AND kind = 'in' AND venue_seq IS NOT NULL
),
stepped AS (
    SELECT *, lag(venue_seq) OVER (PARTITION BY session_id, conn_id, sid ORDER BY ingest_seq) AS prev_seq
    FROM sequenced
)
SELECT session_id, venue, conn_id, sid,
       prev_seq + 1 AS expected_seq,
       venue_seq AS got_seq,
       venue_seq - prev_seq - 1 AS missed,
       recv_ns, ingest_seq, msg_type
FROM stepped
WHERE prev_seq IS NOT NULL AND venue_seq <> prev_seq + 1 AND msg_type <> 'orderbook_snapshot'
