-- grain: one row per user x touchpoint (session) of the user's journey
-- key: user_id, touch_seq
-- description: The touchpoints of each user's journey. The journey ends at
-- the user's first macro conversion or, for a user who never converted, at
-- the start of their last session. Its touchpoints are the user's sessions
-- that started at most $attribution_lookback_seconds before that end (the
-- boundary included), plus the converting session itself. touch_seq orders
-- them by session start (ties by session_id); new_channel is true when the
-- channel differs from the previous touch's (the collapsed path keeps
-- those). A NULL channel or campaign is '(none)'.
-- output: internal
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
      AND seconds_between(s.session_start, e.end_time) <= $attribution_lookback_seconds)
    OR s.session_id = e.conversion_session_id
),
numbered AS (
  -- one window (one sort) for the number and the previous channel
  SELECT
    *,
    CAST(ROW_NUMBER() OVER w AS BIGINT) AS touch_seq,
    LAG(channel) OVER w AS prev_channel
  FROM touches
  WINDOW w AS (PARTITION BY user_id ORDER BY session_start, session_id)
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
  -- channel is never NULL here, so a NULL previous channel is the first touch
  prev_channel IS NULL OR prev_channel <> channel AS new_channel
FROM numbered
