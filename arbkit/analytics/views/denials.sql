-- denials: one row per run and risk denial reason: how many decisions were denied for it.
SELECT run, reason, count(*) AS denied
FROM risk_decisions WHERE NOT approved
GROUP BY ALL
