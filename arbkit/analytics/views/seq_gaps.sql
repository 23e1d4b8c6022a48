-- seq_gaps: one row per Kalshi sequence gap: a frame on a subscription (`sid`, per connection)
-- whose `seq` is not the previous frame's seq + 1 (a fresh `orderbook_snapshot` starts the
-- sequence over and is never a gap). `expected_seq` = previous + 1, `got_seq` the frame's,
-- `missed` = got - expected (negative when seq went backwards); `recv_ns` in ns.
--
-- Ordered lists of (ingest_seq, seq, snapshot) per subscription and block of 65,536 ingest
-- seqs, checked in place (the first of a block against the previous block's last): a window
-- over the frames would sort every row with its strings, and one list per subscription holds
-- millions of values in one allocation. Gaps are few: only they are joined back for their
-- receive time.
WITH blocks AS (
    -- Sorting one list of structs (by ingest_seq, its first field) costs a third of three
    -- lists each aggregated in order.
    SELECT session_id, conn_id, sid, block,
           list_transform(frames, lambda f: f.i) AS ingest,
           list_transform(frames, lambda f: f.seq) AS seqs,
           list_transform(frames, lambda f: f.snapshot) AS snapshot
    FROM (
        SELECT session_id, conn_id, sid, ingest_seq // 65536 AS block,
               list_sort(list(struct_pack(i := ingest_seq, seq := venue_seq,
                                          snapshot := msg_type = 'orderbook_snapshot'))) AS frames
        FROM frames
        WHERE venue = 'kalshi' AND kind = 'in' AND venue_seq IS NOT NULL
        GROUP BY ALL
    )
),
chained AS (
    SELECT *, list_prepend(lag(seqs[-1]) OVER (PARTITION BY session_id, conn_id, sid ORDER BY block), seqs) AS prev
    FROM blocks
),
gaps AS (
    -- prev[i] is the seq before seqs[i] (NULL before a subscription's first frame).
    SELECT session_id, conn_id, sid, ingest[i] AS ingest_seq, prev[i] AS prev_seq, seqs[i] AS venue_seq
    FROM (
        SELECT *, unnest(list_filter(range(1, len(seqs) + 1),
                                     lambda i: seqs[i] <> prev[i] + 1 AND NOT snapshot[i])) AS i
        FROM chained
    )
)
SELECT g.session_id, 'kalshi' AS venue, g.conn_id, g.sid,
       g.prev_seq + 1 AS expected_seq,
       g.venue_seq AS got_seq,
       g.venue_seq - g.prev_seq - 1 AS missed,
       f.recv_ns, g.ingest_seq, f.msg_type
FROM gaps g
JOIN frames f ON f.session_id = g.session_id AND f.ingest_seq = g.ingest_seq AND f.venue = 'kalshi'
