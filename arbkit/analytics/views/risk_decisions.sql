-- risk_decisions: one row per risk decision of a run: approved or denied with a `reason`;
-- sizes in contracts and money in dollars (exact decimals), `ns` the decision time.
SELECT * FROM src.risk_decisions
