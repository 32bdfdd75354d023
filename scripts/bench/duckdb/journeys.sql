-- grain: one row per user
-- description: queries/journeys/journeys.sql. microconv's first_value /
-- last_value / string_agg_by ordered aggregates are DuckDB's first / last /
-- string_agg with ORDER BY.
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
    first(COALESCE(s.channel, '(none)') ORDER BY s.session_start, s.session_id) AS first_touch_channel,
    first(COALESCE(s.campaign, '(none)') ORDER BY s.session_start, s.session_id) AS first_touch_campaign,
    COUNT(*) AS sessions,
    COUNT(*) FILTER (WHERE o.first_conversion_time IS NULL OR s.session_start <= o.first_conversion_time)
      AS journey_sessions
  FROM sessions s
  LEFT JOIN orders o ON s.user_id = o.user_id
  GROUP BY s.user_id
),
channels AS (
  SELECT user_id, COUNT(*) AS distinct_channels
  FROM (SELECT DISTINCT user_id, channel FROM journey_touchpoints) d
  GROUP BY user_id
),
paths AS (
  SELECT
    user_id,
    COUNT(*) AS touchpoints,
    last(channel ORDER BY touch_seq) AS last_touch_channel,
    string_agg(channel, ' > ' ORDER BY touch_seq) FILTER (WHERE new_channel) AS path,
    COUNT(*) FILTER (WHERE new_channel) AS path_length
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
  (epoch_us(o.first_conversion_time) - epoch_us(v.first_seen)) / CAST(86400000000 AS DOUBLE) AS days_to_convert,
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
