-- grain: one row per funnel x entry day (UTC, of entered_at) x step x segment (`(all)` and each breakdown value)
-- key: funnel, entry_day, breakdown, breakdown_value, step
-- description: funnel_steps by the day users entered the funnel, for trend
-- charts: the same columns and definitions (see funnel_steps), computed over
-- the users who entered that day, plus entry_day. Both tables are selected
-- from funnel_step_stats.
SELECT
  funnel,
  entry_day,
  breakdown,
  breakdown_value,
  step,
  conversion,
  users,
  pending,
  dropped,
  from_previous_denominator,
  conversion_from_previous,
  conversion_from_previous_low,
  conversion_from_previous_high,
  drop_off_rate,
  from_first_denominator,
  conversion_from_first,
  conversion_from_first_low,
  conversion_from_first_high,
  median_seconds_from_previous,
  p90_seconds_from_previous
FROM funnel_step_stats
WHERE entry_day IS NOT NULL
