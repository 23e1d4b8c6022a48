-- feed_latency: one row per received frame that carries the venue's own timestamp
-- (Kalshi `msg.ts_ms`/`sending_ts_ms`, Polymarket `timestamp`): `latency_ms` = receive time
-- minus that timestamp, in milliseconds. It includes the offset between the venue's clock and
-- ours (it can be negative), so compare latencies of one venue over time, not across venues.
SELECT session_id, venue, conn_id, market, msg_type, ingest_seq, recv_ns, venue_ts_ms,
       (recv_ns - venue_ts_ms * 1000000) / 1e6 AS latency_ms
FROM frames
WHERE kind = 'in' AND venue_ts_ms IS NOT NULL
