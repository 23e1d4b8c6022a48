-- message_rates: one row per venue, UTC minute (`minute`, a timestamp) and message type of the
-- frames received (`kind = 'in'`): `frames` received and their payload `bytes`.
SELECT venue, date_trunc('minute', recv_time) AS minute, msg_type,
       count(*) AS frames, CAST(sum(bytes) AS BIGINT) AS bytes
FROM frames
WHERE kind = 'in'
GROUP BY ALL
