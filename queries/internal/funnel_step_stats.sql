-- grain: one row per funnel x entry day (UTC, of entered_at; NULL: all entry days) x step x segment (`(all)` and each breakdown value)
-- key: funnel, entry_day?, breakdown, breakdown_value, step
-- description: The rows of funnel_steps (entry_day NULL: the users of all
-- entry days) and of funnel_daily (by the UTC day users entered the funnel),
-- computed once so that the two tables cannot drift apart: each selects its
-- rows from here. The columns are defined in funnel_steps.
-- output: internal
WITH by_period AS (
  -- every funnel user twice: once for all entry days (entry_day NULL), once
  -- for their own entry day
  SELECT funnel, breakdown, breakdown_value, CAST(NULL AS DATE) AS entry_day, furthest_step, status, step_times
  FROM funnel_segments
  UNION ALL
  SELECT funnel, breakdown, breakdown_value, entry_day, furthest_step, status, step_times
  FROM funnel_segments
),
expanded AS (
  SELECT
    g.funnel,
    g.breakdown,
    g.breakdown_value,
    g.entry_day,
    g.furthest_step,
    g.status,
    s.step,
    s.conversion,
    CASE WHEN s.step > 1 AND g.furthest_step >= s.step AND f.mode <> 'any_order'
      THEN seconds_between(g.step_times[s.step - 1], g.step_times[s.step])
    END AS gap_seconds
  FROM by_period g
  JOIN funnel_definitions f ON f.funnel = g.funnel
  JOIN funnel_step_definitions s ON s.funnel = g.funnel
),
counts AS (
  SELECT
    funnel,
    entry_day,
    breakdown,
    breakdown_value,
    step,
    conversion,
    COUNT(*) FILTER (WHERE furthest_step >= step) AS users,
    COUNT(*) FILTER (WHERE status = 'pending' AND furthest_step = step) AS pending,
    COUNT(*) FILTER (WHERE status = 'pending' AND furthest_step < step) AS pending_before,
    median(gap_seconds) AS median_seconds_from_previous,
    percentile_cont(gap_seconds, 0.9) AS p90_seconds_from_previous
  FROM expanded
  GROUP BY funnel, entry_day, breakdown, breakdown_value, step, conversion
),
linked AS (
  SELECT
    c.*,
    LAG(users - pending) OVER (
      PARTITION BY funnel, entry_day, breakdown, breakdown_value ORDER BY step
    ) AS from_previous_denominator,
    FIRST_VALUE(users) OVER (
      PARTITION BY funnel, entry_day, breakdown, breakdown_value ORDER BY step
    ) - pending_before AS from_first_denominator
  FROM counts c
)
SELECT
  funnel,
  entry_day,
  breakdown,
  breakdown_value,
  step,
  conversion,
  users,
  pending,
  from_previous_denominator - users AS dropped,
  from_previous_denominator,
  CAST(users AS DOUBLE) / NULLIF(from_previous_denominator, 0) AS conversion_from_previous,
  proportion_ci_low(users, from_previous_denominator) AS conversion_from_previous_low,
  proportion_ci_high(users, from_previous_denominator) AS conversion_from_previous_high,
  CAST(from_previous_denominator - users AS DOUBLE) / NULLIF(from_previous_denominator, 0) AS drop_off_rate,
  from_first_denominator,
  CAST(users AS DOUBLE) / NULLIF(from_first_denominator, 0) AS conversion_from_first,
  proportion_ci_low(users, from_first_denominator) AS conversion_from_first_low,
  proportion_ci_high(users, from_first_denominator) AS conversion_from_first_high,
  median_seconds_from_previous,
  p90_seconds_from_previous
FROM linked
