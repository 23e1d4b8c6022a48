-- decode_errors: one row per received frame the venue decoders could not decode, with the
-- first `reason` and the number of `errors` it produced (a batch can hold several). Filled by
-- a decode pass through arbkit's own decoders (`connect(..., decode=True)`,
-- `arbkit stats --decode`); empty otherwise. A run's total is in `runs.decode_errors`.
SELECT session_id, venue, conn_id, ingest_seq, recv_ns, errors, reason
FROM src.decode_errors
