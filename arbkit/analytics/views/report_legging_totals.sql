-- Legging per run: `events` (trades whose legs did not match), of which `one_leg` (one venue
-- filled nothing), `unmatched` contracts, `unwound` contracts and `unwind_fees` (dollars),
-- `loss` (dollars, positive is a loss) and `held` contracts left naked.
SELECT r.run, count(l.run) AS events, count(*) FILTER (WHERE l.one_leg) AS one_leg,
       coalesce(sum(l.unmatched_size), 0) AS unmatched, coalesce(sum(l.unwound_size), 0) AS unwound,
       coalesce(sum(l.unwind_fees), 0) AS unwind_fees, coalesce(sum(l.legging_loss), 0) AS loss,
       coalesce(sum(l.held_size), 0) AS held
FROM runs AS r LEFT JOIN legging AS l USING (run)
GROUP BY r.run
ORDER BY r.run
