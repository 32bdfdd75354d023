-- The generated events with the start of their session: a run of one
-- user's events with no gap longer than 30 minutes (a gap of exactly 30
-- stays), ties in time ordered by event_id, as microconv's default
-- sessionization cuts them. Vendor exports carry session ids (GA4's
-- ga_session_id, Snowplow's domain_sessionid); these make them.
WITH t AS (
  SELECT *,
    LAG(event_time) OVER (PARTITION BY user_id ORDER BY event_time, event_id) AS prev_time
  FROM generated
)
SELECT *,
  MAX(CASE
    WHEN prev_time IS NULL
      OR CAST(event_time AS BIGINT) - CAST(prev_time AS BIGINT) > 1800000000
    THEN event_time
  END) OVER (
    PARTITION BY user_id ORDER BY event_time, event_id
    ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
  ) AS session_start
FROM t
