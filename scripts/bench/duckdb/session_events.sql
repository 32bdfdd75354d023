-- grain: one row per event
-- description: queries/internal/session_events.sql. A session is a run of
-- one user's events with no gap longer than $session_timeout_seconds (a gap
-- of exactly the timeout stays in the session, gaps compared in whole
-- microseconds as seconds_between does); its id is
-- `<user_id>#<start, UTC, %Y-%m-%dT%H:%M:%S.ffffffZ>`. event_seq numbers the
-- events of a session from 1 and dwell_seconds is the time to the next event
-- of the session; ties in time are ordered by event_id. Written the DuckDB
-- way: windows partitioned by user (DuckDB sorts partitions in parallel),
-- where microconv uses one global order. Derived sessions only: the input
-- has no session_id (checked by duckdb_side.py).
WITH ordered AS (
  SELECT
    *,
    ROW_NUMBER() OVER w AS rn,
    LAG(event_time) OVER w AS prev_time,
    LEAD(event_time) OVER w AS next_time
  FROM events
  WINDOW w AS (PARTITION BY user_id ORDER BY event_time, event_id)
),
flags AS (
  SELECT
    *,
    prev_time IS NULL
      OR (epoch_us(event_time) - epoch_us(prev_time)) / 1e6 > getvariable('session_timeout_seconds')
      AS is_new,
    next_time IS NOT NULL
      AND (epoch_us(next_time) - epoch_us(event_time)) / 1e6 <= getvariable('session_timeout_seconds')
      AS next_in_session
  FROM ordered
),
starts AS (
  SELECT
    *,
    MAX(CASE WHEN is_new THEN rn END) OVER w AS start_rn,
    MAX(CASE WHEN is_new THEN event_time END) OVER w AS session_start
  FROM flags
  WINDOW w AS (PARTITION BY user_id ORDER BY rn ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
)
SELECT
  event_id, user_id, event_time, event_name,
  COALESCE(session_id, user_id || '#' || strftime(session_start::TIMESTAMP, '%Y-%m-%dT%H:%M:%S.%fZ'))
    AS session_id,
  channel, source, medium, campaign, device, country, page, product_id, category,
  revenue, experiment, variant,
  rn - start_rn + 1 AS event_seq,
  CASE WHEN next_in_session THEN (epoch_us(next_time) - epoch_us(event_time)) / 1e6 END
    AS dwell_seconds,
  anonymous_id
FROM starts
