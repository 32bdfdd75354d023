-- grain: one row per user with a session
-- key: user_id
-- description: a published copy of the internal table `lift_users`, so that
-- scripts/bench-vs-duckdb.sh can compare it with DuckDB's (internal tables
-- are not published). Used only by its checking run, never timed.
SELECT * FROM lift_users
