-- grain: one row per user
-- key: user_id
-- description: Each user's journey to their first macro conversion (or,
-- for users who never converted, through their last session): when they
-- were first seen and through which channel/campaign, how many sessions and
-- touchpoints it took (touchpoints: the sessions within the attribution
-- lookback before the end, see journey_touchpoints), the last touch before
-- converting, days from first seen to the first conversion, first-order and
-- total revenue, and the channel path with consecutive repeats collapsed
-- ('organic > email > organic'), as Snowplow's exposure path.
WITH macro AS (
  SELECT
    user_id,
    conversion_time,
    COALESCE(value, 0.0) AS value,
    ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY conversion_time, conversion, event_id, session_id) AS n
  FROM conversions
  WHERE kind = 'macro'
),
orders AS (
  SELECT
    user_id,
    MIN(conversion_time) AS first_conversion_time,
    SUM(CASE WHEN n = 1 THEN value ELSE 0.0 END) AS first_order_revenue,
    SUM(value) AS total_revenue,
    COUNT(*) AS conversions
  FROM macro
  GROUP BY user_id
),
visits AS (
  SELECT
    s.user_id,
    MIN(s.session_start) AS first_seen,
    first_value(COALESCE(s.channel, '(none)') ORDER BY s.session_start, s.session_id) AS first_touch_channel,
    first_value(COALESCE(s.campaign, '(none)') ORDER BY s.session_start, s.session_id) AS first_touch_campaign,
    COUNT(*) AS sessions,
    SUM(CASE WHEN o.first_conversion_time IS NULL OR s.session_start <= o.first_conversion_time THEN 1 ELSE 0 END)
      AS journey_sessions
  FROM sessions s
  LEFT JOIN orders o ON s.user_id = o.user_id
  GROUP BY s.user_id
),
-- distinct channels counted from (user, channel) groups: COUNT(DISTINCT)
-- next to other aggregates keeps a hash set per user
channels AS (
  SELECT user_id, COUNT(*) AS distinct_channels
  FROM (SELECT DISTINCT user_id, channel FROM journey_touchpoints) d
  GROUP BY user_id
),
paths AS (
  SELECT
    user_id,
    COUNT(*) AS touchpoints,
    last_value(channel ORDER BY touch_seq) AS last_touch_channel,
    string_agg_by(channel, ' > ', touch_seq) FILTER (WHERE new_channel) AS path,
    SUM(CASE WHEN new_channel THEN 1 ELSE 0 END) AS path_length
  FROM journey_touchpoints
  GROUP BY user_id
)
SELECT
  v.user_id,
  v.first_seen,
  v.first_touch_channel,
  v.first_touch_campaign,
  o.first_conversion_time IS NOT NULL AS converted,
  o.first_conversion_time,
  v.sessions,
  v.journey_sessions,
  p.touchpoints,
  p.last_touch_channel,
  (CAST(o.first_conversion_time AS BIGINT) - CAST(v.first_seen AS BIGINT)) / 86400000000.0 AS days_to_convert,
  COALESCE(o.conversions, 0) AS conversions,
  COALESCE(o.first_order_revenue, 0.0) AS first_order_revenue,
  COALESCE(o.total_revenue, 0.0) AS total_revenue,
  c.distinct_channels,
  p.path_length,
  p.path
FROM visits v
JOIN paths p ON v.user_id = p.user_id
JOIN channels c ON v.user_id = c.user_id
LEFT JOIN orders o ON v.user_id = o.user_id
