-- grain: one row per funnel x segment (the `(all)` segment and each breakdown value): its worst step
-- key: funnel, breakdown, breakdown_value
-- description: The bottleneck of each funnel: the step (after the first)
-- with the lowest conversion_from_previous, over all users (`(all)`) and in
-- each breakdown segment (ties go to the earlier step). A segment's rate at
-- its worst step is compared with the rate of all other users at the same
-- step (z_test_p_value: two-sided pooled two-proportion z-test; NULL when
-- nobody or everybody converted in both); p_adjusted applies Holm's
-- correction over all segments of the funnel, and significantly_worse is
-- true when p_adjusted < 0.05 and the segment converts less than the rest.
-- The `(all)` row is not tested.
WITH steps AS (
  SELECT * FROM funnel_steps WHERE step > 1 AND from_previous_denominator > 0
),
worst AS (
  SELECT
    s.*,
    ROW_NUMBER() OVER (
      PARTITION BY funnel, breakdown, breakdown_value
      ORDER BY conversion_from_previous, step
    ) AS rank_in_segment
  FROM steps s
),
compared AS (
  SELECT
    w.funnel,
    w.breakdown,
    w.breakdown_value,
    w.step,
    p.conversion AS from_conversion,
    w.conversion AS to_conversion,
    w.users,
    w.from_previous_denominator AS denominator,
    w.conversion_from_previous AS conversion_rate,
    w.conversion_from_previous_low AS conversion_rate_low,
    w.conversion_from_previous_high AS conversion_rate_high,
    o.conversion_from_previous AS overall_conversion_rate,
    CASE WHEN w.breakdown <> '(all)' THEN
      CAST(o.users - w.users AS DOUBLE) / NULLIF(o.from_previous_denominator - w.from_previous_denominator, 0)
    END AS rest_conversion_rate,
    CASE WHEN w.breakdown <> '(all)' THEN
      z_test_p_value(
        w.users, w.from_previous_denominator,
        o.users - w.users, o.from_previous_denominator - w.from_previous_denominator)
    END AS p_value
  FROM worst w
  JOIN steps o
    ON o.funnel = w.funnel AND o.step = w.step AND o.breakdown = '(all)'
  JOIN funnel_step_definitions p ON p.funnel = w.funnel AND p.step = w.step - 1
  WHERE w.rank_in_segment = 1
),
ranked AS (
  SELECT
    c.*,
    COUNT(p_value) OVER (PARTITION BY funnel) AS tests,
    ROW_NUMBER() OVER (
      PARTITION BY funnel ORDER BY p_value NULLS LAST, breakdown, breakdown_value
    ) AS p_rank
  FROM compared c
),
adjusted AS (
  SELECT
    r.*,
    CASE WHEN p_value IS NOT NULL THEN
      MAX(LEAST(1.0, (tests - p_rank + 1) * p_value)) OVER (
        PARTITION BY funnel ORDER BY p_value NULLS LAST, breakdown, breakdown_value
        ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
      )
    END AS p_adjusted
  FROM ranked r
)
SELECT
  funnel,
  breakdown,
  breakdown_value,
  step,
  from_conversion,
  to_conversion,
  users,
  denominator,
  conversion_rate,
  conversion_rate_low,
  conversion_rate_high,
  overall_conversion_rate,
  rest_conversion_rate,
  p_value,
  p_adjusted,
  p_adjusted IS NOT NULL AND p_adjusted < 0.05 AND conversion_rate < rest_conversion_rate
    AS significantly_worse
FROM adjusted
