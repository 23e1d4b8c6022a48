-- seq_gaps: one row per Kalshi sequence gap: a frame on a subscription (`sid`, per connection)
-- whose `seq` is not the previous frame's seq + 1 (a fresh `orderbook_snapshot` starts the
-- sequence over and is never a gap). `expected_seq` = previous + 1, `got_seq` the frame's,
-- `missed` = got - expected (negative when seq went backwards); `recv_ns` in ns.
--
-- One ordered list of (ingest_seq, seq, snapshot) per subscription, checked in place: a window
-- over the frames would sort every row with its strings (over a gigabyte on 10M frames), and
-- gaps are few, so only they are unnested and joined back for their receive time.
WITH streams AS (
    SELECT session_id, conn_id, sid,
           list(ingest_seq ORDER BY ingest_seq) AS ingest,
           list(venue_seq ORDER BY ingest_seq) AS seqs,
           list(msg_type = 'orderbook_snapshot' ORDER BY ingest_seq) AS snapshot
    FROM frames
    WHERE venue = 'kalshi' AND kind = 'in' AND venue_seq IS NOT NULL
    GROUP BY ALL
),
gaps AS (
    SELECT session_id, conn_id, sid, ingest[i] AS ingest_seq, seqs[i - 1] AS prev_seq, seqs[i] AS venue_seq
    FROM (
        SELECT *, unnest(list_filter(range(2, len(seqs) + 1),
                                     lambda i: seqs[i] <> seqs[i - 1] + 1 AND NOT snapshot[i])) AS i
        FROM streams
    )
)
SELECT g.session_id, 'kalshi' AS venue, g.conn_id, g.sid,
       g.prev_seq + 1 AS expected_seq,
       g.venue_seq AS got_seq,
       g.venue_seq - g.prev_seq - 1 AS missed,
       f.recv_ns, g.ingest_seq, f.msg_type
FROM gaps g
JOIN frames f ON f.session_id = g.session_id AND f.ingest_seq = g.ingest_seq AND f.venue = 'kalshi'
