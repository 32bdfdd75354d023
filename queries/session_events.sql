-- grain: one row per event
-- description: The canonical events with their session. Where the source has
-- no session_id, a session is a run of one user's events with no gap longer
-- than $session_timeout_seconds (a gap of exactly the timeout stays in the
-- session); its id is `<user_id>#<start, UTC, ISO>`. dwell_seconds is the time
-- to the next event of the same session (NULL for its last event). Ties in
-- time are ordered by event_id.
-- output: internal
WITH ordered AS (
  SELECT
    e.*,
    LAG(event_time) OVER (PARTITION BY user_id ORDER BY event_time, event_id) AS prev_time
  FROM events e
),
starts AS (
  SELECT
    *,
    CASE
      WHEN prev_time IS NULL
        OR CAST(event_time AS BIGINT) - CAST(prev_time AS BIGINT) > $session_timeout_seconds * 1000000
      THEN event_time
    END AS start_if_new
  FROM ordered
),
sessioned AS (
  SELECT
    *,
    MAX(start_if_new) OVER (
      PARTITION BY user_id ORDER BY event_time, event_id
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS derived_start
  FROM starts
),
with_id AS (
  SELECT
    event_id, user_id, event_time, event_name,
    COALESCE(session_id, user_id || '#' || to_char(derived_start, '%Y-%m-%dT%H:%M:%S%.6fZ')) AS session_id,
    channel, source, medium, campaign, device, country, page, product_id, category,
    revenue, experiment, variant
  FROM sessioned
)
SELECT
  *,
  ROW_NUMBER() OVER (PARTITION BY session_id ORDER BY event_time, event_id) AS event_seq,
  (CAST(LEAD(event_time) OVER (PARTITION BY session_id ORDER BY event_time, event_id) AS BIGINT)
    - CAST(event_time AS BIGINT)) / 1e6 AS dwell_seconds
FROM with_id
