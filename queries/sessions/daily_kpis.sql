-- grain: one row per day (UTC, of the session start) x channel, plus one row per day with channel '(all)'
-- key: day, channel
-- description: Daily traffic and conversion KPIs by the session's channel.
-- conversion_rate = converting_sessions / sessions (a session converts when
-- it has a macro conversion); user_conversion_rate = converting_users /
-- users. Both denominators are columns, so rates can be re-aggregated.
-- each session with its conversions, by one aggregation over the sessions
-- and the conversions (UNION ALL) rather than a join of two per-session
-- tables: an aggregation can spill, DataFusion's hash join cannot (at 100M
-- events under a 2 GiB limit the join did not fit). HAVING keeps the
-- sessions only, as the LEFT JOIN from sessions did.
WITH rows AS (
  SELECT
    session_id,
    CAST(session_start AS DATE) AS day,
    COALESCE(channel, '(none)') AS channel,
    user_id,
    1 AS is_session,
    0 AS micro,
    0 AS macro,
    0.0 AS revenue
  FROM sessions
  UNION ALL
  SELECT
    session_id,
    NULL,
    NULL,
    NULL,
    0,
    CASE WHEN kind = 'micro' THEN 1 ELSE 0 END,
    CASE WHEN kind = 'macro' THEN 1 ELSE 0 END,
    CASE WHEN kind = 'macro' THEN COALESCE(value, 0.0) ELSE 0.0 END
  FROM conversions
),
s AS (
  SELECT
    MAX(day) AS day,
    MAX(channel) AS channel,
    MAX(user_id) AS user_id,
    SUM(micro) AS micro_conversions,
    SUM(macro) AS macro_conversions,
    SUM(revenue) AS revenue
  FROM rows
  GROUP BY session_id
  HAVING SUM(is_session) > 0
),
-- each day x channel x user, and each day x user (every channel): the
-- distinct users of a day and channel are then rows to count, so no
-- aggregate keeps a set of user ids per group (COUNT(DISTINCT) did: at 100M
-- events its sets did not fit a 2 GiB limit, and such state cannot spill)
u AS (
  SELECT
    day,
    channel,
    grouping(channel) AS all_channels,
    user_id,
    COUNT(*) AS sessions,
    SUM(micro_conversions) AS micro_conversions,
    SUM(macro_conversions) AS macro_conversions,
    SUM(CASE WHEN macro_conversions > 0 THEN 1 ELSE 0 END) AS converting_sessions,
    MAX(CASE WHEN macro_conversions > 0 THEN 1 ELSE 0 END) AS converting,
    SUM(revenue) AS revenue
  FROM s
  GROUP BY GROUPING SETS ((day, channel, user_id), (day, user_id))
),
g AS (
  SELECT
    day,
    CASE WHEN all_channels = 1 THEN '(all)' ELSE channel END AS channel,
    COUNT(user_id) AS users,
    COALESCE(SUM(sessions), 0) AS sessions,
    SUM(micro_conversions) AS micro_conversions,
    SUM(macro_conversions) AS macro_conversions,
    SUM(converting_sessions) AS converting_sessions,
    COALESCE(SUM(converting), 0) AS converting_users,
    SUM(revenue) AS revenue
  FROM u
  GROUP BY day, all_channels, channel
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
