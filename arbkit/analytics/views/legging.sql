-- legging: one row per paper trade whose legs did not match (a one-leg or partial fill):
-- `unmatched_size` contracts on `remainder_venue`, what happened to it (`action`: unwind or
-- hold), the unwind's proceeds and fees, `legging_loss` = -legging P&L (dollars, positive is a
-- loss; NULL when nothing was sold) and the size still held naked.
SELECT run, decision_id, opportunity_id, pair, direction, ns,
       kalshi_filled, polymarket_filled, matched_size,
       remainder_venue, remainder_outcome,
       remainder_size AS unmatched_size, remainder_cost,
       action, unwound_size, unwind_proceeds, unwind_fees,
       -legging_pnl AS legging_loss,
       held_size, held_cost,
       kalshi_filled = 0 OR polymarket_filled = 0 AS one_leg
FROM trades
WHERE remainder_size > 0
