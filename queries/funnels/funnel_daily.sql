-- grain: one row per funnel x entry day (UTC, of entered_at) x step x segment (`(all)` and each breakdown value)
-- key: funnel, entry_day, breakdown, breakdown_value, step
-- description: funnel_steps by the day users entered the funnel, for trend
-- charts (same columns and definitions, plus entry_day). users reached the
-- step (furthest_step >= step); pending users (window still open) who
-- stopped at a step are left out of the next step's denominator, since they
-- may still move on. conversion_from_previous = users /
-- from_previous_denominator (users of the previous step minus its pending
-- users); conversion_from_first = users / from_first_denominator (step-1
-- users minus those pending before this step); both with a 95% Wilson
-- interval. dropped = from_previous_denominator - users; drop_off_rate =
-- dropped / from_previous_denominator. Times from the previous step are
-- taken from the chain's step times (NULL for any_order funnels). Excluded
-- users are left out.
WITH expanded AS (
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
      THEN (CAST(g.step_times[s.step] AS BIGINT) - CAST(g.step_times[s.step - 1] AS BIGINT)) / 1e6
    END AS gap_seconds
  FROM funnel_segments g
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
