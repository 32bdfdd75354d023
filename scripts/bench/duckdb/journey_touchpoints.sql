-- grain: one row per user x touchpoint (session) of the user's journey
-- description: queries/internal/journey_touchpoints.sql, as in microconv.
WITH first_macro AS (
  SELECT user_id, session_id, conversion_time
  FROM (
    SELECT
      user_id, session_id, conversion_time,
      ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY conversion_time, conversion, event_id, session_id) AS n
    FROM conversions
    WHERE kind = 'macro'
  ) m
  WHERE n = 1
),
ends AS (
  SELECT
    s.user_id,
    f.conversion_time IS NOT NULL AS converted,
    COALESCE(f.conversion_time, MAX(s.session_start)) AS end_time,
    f.session_id AS conversion_session_id
  FROM sessions s
  LEFT JOIN first_macro f ON s.user_id = f.user_id
  GROUP BY s.user_id, f.conversion_time, f.session_id
),
touches AS (
  SELECT
    e.user_id,
    e.converted,
    e.end_time,
    s.session_id,
    s.session_start,
    COALESCE(s.channel, '(none)') AS channel,
    COALESCE(s.campaign, '(none)') AS campaign
  FROM ends e
  JOIN sessions s ON s.user_id = e.user_id
  WHERE (s.session_start <= e.end_time
      AND (epoch_us(e.end_time) - epoch_us(s.session_start)) / 1e6 <= getvariable('attribution_lookback_seconds'))
    OR s.session_id = e.conversion_session_id
),
numbered AS (
  SELECT
    *,
    ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY session_start, session_id) AS touch_seq
  FROM touches
)
SELECT
  user_id,
  converted,
  end_time,
  touch_seq,
  session_id,
  session_start,
  channel,
  campaign,
  touch_seq = 1 OR LAG(channel) OVER (PARTITION BY user_id ORDER BY touch_seq) <> channel AS new_channel
FROM numbered
