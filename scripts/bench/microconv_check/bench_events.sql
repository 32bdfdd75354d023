-- grain: one row per event
-- key: event_id
-- description: a published copy of the internal table `events`, so that
-- scripts/bench-vs-duckdb.sh can compare it with DuckDB's (internal tables
-- are not published). Used only by its checking run, never timed.
SELECT * FROM events
