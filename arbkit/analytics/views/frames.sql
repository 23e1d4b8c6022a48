-- frames: one row per recorded frame or connection event (DESIGN §3), every session of the
-- recording. Times are Unix nanoseconds (UTC wall clock `recv_ns`, monotonic `mono_ns`);
-- `date` is the hive partition (UTC date of the file's first frame); `payload_text` is the
-- payload as text (NULL when it is not valid UTF-8); `bytes` its length in bytes; `recv_time`
-- the receive time as a UTC timestamp. Derived columns (`msg_type`, `market`, `venue_seq`,
-- `venue_ts_ms`, `condition_id`: the Polymarket condition id when the frame names exactly one,
-- `sid`: the Kalshi subscription id) come from the sealed files, or from the payload for files
-- that lack them; so does `bytes`, which needs no payload read when the file carries it.
SELECT
    session_id, ingest_seq, recv_ns, mono_ns, venue, conn_id, kind, payload,
    msg_type, market, venue_seq, venue_ts_ms, condition_id, sid, date,
    try(decode(payload)) AS payload_text,
    payload_bytes AS bytes,
    make_timestamp(recv_ns // 1000) AS recv_time
FROM src.frames
