-- grain: one row per audience x user
-- key: audience, user_id
-- description: Users to retarget, by the [[audiences]] of the config. A
-- `micro` audience holds users who did one of its micro conversions in the
-- last window_days days (before the end of the as-of day) and no macro
-- conversion of the audience in that window (exclude_converted = 'window')
-- or ever (exclude_converted = 'ever'), so a buyer is never in an
-- abandonment audience. A `high_intent` audience holds the non-converted
-- users whose intent_score reaches min_intent_score. intent_score (every
-- row) is the product of the adjusted risk ratios (micro_conversion_lift_adjusted,
-- max over the audience's macro conversions) of the distinct micro
-- conversions the user did in the window, counting only those significantly
-- above 1 (lower bound > 1) and not low_sample; 1 when none.
WITH win AS (
  SELECT d.*, d.window_days * 86400 AS window_seconds
  FROM audience_definitions d
),
-- conversions first in the joins with the audiences' few conversions: a
-- sort-merge join (what a tight memory limit needs) holds the rows of its
-- second side that share a key, which cannot spill; with conversions
-- second, that was every conversion of a kind (1.9 GB at 100M events)
audience_windows AS (
  SELECT w.audience, w.window_seconds, w.exclude_converted, ac.role, ac.conversion
  FROM win w
  JOIN audience_conversions ac ON ac.audience = w.audience
),
micro_hits AS (
  SELECT w.audience, c.user_id, c.conversion, c.conversion_time
  FROM conversions c
  JOIN audience_windows w ON w.conversion = c.conversion AND w.role = 'micro'
  WHERE seconds_between(c.conversion_time, $as_of_end) <= w.window_seconds
),
macro_users AS (
  SELECT DISTINCT w.audience, c.user_id
  FROM conversions c
  JOIN audience_windows w ON w.conversion = c.conversion AND w.role = 'macro'
  WHERE w.exclude_converted = 'ever' OR seconds_between(c.conversion_time, $as_of_end) <= w.window_seconds
),
weights AS (
  SELECT ac.audience, a.micro_conversion AS conversion, MAX(a.adjusted_risk_ratio) AS rr
  FROM micro_conversion_lift_adjusted a
  JOIN micro_conversion_lift l
    ON l.micro_conversion = a.micro_conversion AND l.macro_conversion = a.macro_conversion
  JOIN audience_conversions ac ON ac.role = 'macro' AND ac.conversion = a.macro_conversion
  WHERE a.adjusted_lower > 1 AND NOT l.low_sample
  GROUP BY ac.audience, a.micro_conversion
),
user_micros AS (
  SELECT DISTINCT w.audience, c.user_id, c.conversion
  FROM win w
  JOIN conversions c ON c.kind = 'micro' AND seconds_between(c.conversion_time, $as_of_end) <= w.window_seconds
),
scores AS (
  SELECT um.audience, um.user_id, exp(SUM(ln(wt.rr))) AS intent_score
  FROM user_micros um
  JOIN weights wt ON wt.audience = um.audience AND wt.conversion = um.conversion
  GROUP BY um.audience, um.user_id
),
members AS (
  SELECT
    m.audience,
    m.user_id,
    COUNT(*) AS micro_conversions,
    MAX(m.conversion_time) AS last_micro_time,
    last_value(m.conversion ORDER BY m.conversion_time, m.conversion) AS last_micro_conversion
  FROM micro_hits m
  LEFT JOIN macro_users x ON x.audience = m.audience AND x.user_id = m.user_id
  WHERE x.user_id IS NULL
  GROUP BY m.audience, m.user_id
)
SELECT
  mb.audience,
  d.kind AS audience_kind,
  mb.user_id,
  mb.micro_conversions,
  mb.last_micro_conversion,
  mb.last_micro_time,
  u.last_activity,
  u.first_touch_channel,
  u.first_touch_device,
  COALESCE(s.intent_score, 1.0) AS intent_score
FROM members mb
JOIN audience_definitions d ON d.audience = mb.audience
LEFT JOIN scores s ON s.audience = mb.audience AND s.user_id = mb.user_id
LEFT JOIN lift_users u ON u.user_id = mb.user_id
WHERE d.kind <> 'high_intent' OR COALESCE(s.intent_score, 1.0) >= d.min_intent_score
