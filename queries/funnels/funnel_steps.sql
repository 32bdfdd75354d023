-- grain: one row per funnel x step x segment (the `(all)` segment, and each value of each breakdown of the funnel)
-- key: funnel, breakdown, breakdown_value, step
-- description: Step-by-step conversion of every funnel. users reached the
-- step (furthest_step >= step); pending users (window still open) who
-- stopped at a step are left out of the next step's denominator, since they
-- may still move on. conversion_from_previous = users /
-- from_previous_denominator (users of the previous step minus its pending
-- users); conversion_from_first = users / from_first_denominator (step-1
-- users minus those pending before this step); both with a 95% Wilson
-- interval. dropped = from_previous_denominator - users; drop_off_rate =
-- dropped / from_previous_denominator. Times from the previous step are
-- taken from the chain's step times (NULL for any_order funnels). Excluded
-- users are left out. Computed in funnel_step_stats with funnel_daily.
SELECT
  funnel,
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
WHERE entry_day IS NULL
