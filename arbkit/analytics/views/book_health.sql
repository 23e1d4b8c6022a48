-- book_health: one row per book the engine kept in a run: updates, snapshots, gaps,
-- invalidations and their reasons, and engine-side staleness percentiles in ns.
SELECT * FROM src.book_health
