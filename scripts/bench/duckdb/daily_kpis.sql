-- grain: one row per day (UTC, of the session start) x channel, plus one row per day with channel '(all)'
-- description: queries/sessions/daily_kpis.sql, as in microconv (counts cast
-- to BIGINT: DuckDB sums integers into HUGEINT).
WITH conv AS (
  SELECT
    session_id,
    COUNT(*) FILTER (WHERE kind = 'micro') AS micro_conversions,
    COUNT(*) FILTER (WHERE kind = 'macro') AS macro_conversions,
    SUM(CASE WHEN kind = 'macro' THEN COALESCE(value, 0) ELSE 0 END) AS revenue
  FROM conversions
  GROUP BY session_id
),
s AS (
  SELECT
    CAST(s.session_start AS DATE) AS day,
    COALESCE(s.channel, '(none)') AS channel,
    s.user_id,
    COALESCE(c.micro_conversions, 0) AS micro_conversions,
    COALESCE(c.macro_conversions, 0) AS macro_conversions,
    COALESCE(c.revenue, 0.0) AS revenue,
    CASE WHEN COALESCE(c.macro_conversions, 0) > 0 THEN s.user_id END AS converting_user
  FROM sessions s
  LEFT JOIN conv c ON s.session_id = c.session_id
),
g AS (
  SELECT
    day,
    CASE WHEN grouping(channel) = 1 THEN '(all)' ELSE channel END AS channel,
    COUNT(DISTINCT user_id) AS users,
    COUNT(*) AS sessions,
    CAST(SUM(micro_conversions) AS BIGINT) AS micro_conversions,
    CAST(SUM(macro_conversions) AS BIGINT) AS macro_conversions,
    COUNT(*) FILTER (WHERE macro_conversions > 0) AS converting_sessions,
    COUNT(DISTINCT converting_user) AS converting_users,
    SUM(revenue) AS revenue
  FROM s
  GROUP BY GROUPING SETS ((day, channel), (day))
)
SELECT
  day,
  channel,
  users,
  sessions,
  micro_conversions,
  macro_conversions,
  converting_sessions,
  CAST(converting_sessions AS DOUBLE) / sessions AS conversion_rate,
  converting_users,
  CAST(converting_users AS DOUBLE) / users AS user_conversion_rate,
  revenue
FROM g
