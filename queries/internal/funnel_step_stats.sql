-- grain: one row per funnel x entry day (UTC, of entered_at; NULL: all entry days) x step x segment (`(all)` and each breakdown value)
-- key: funnel, entry_day?, breakdown, breakdown_value, step
-- description: The rows of funnel_steps (entry_day NULL: the users of all
-- entry days) and of funnel_daily (by the UTC day users entered the funnel),
-- computed once so that the two tables cannot drift apart: each selects its
-- rows from here. The columns are defined in funnel_steps.
-- output: internal
WITH expanded AS (
  -- every funnel user once per step, with the gap from the step before
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
  FROM funnel_segments g
  JOIN funnel_definitions f ON f.funnel = g.funnel
  JOIN funnel_step_definitions s ON s.funnel = g.funnel
),
day_gaps AS (
  -- the rows of each entry day's group by gap: an aggregation with
  -- fixed-size states, which spills (median() and percentile_cont() keep
  -- every value of a group in memory and cannot spill: 100M events did not
  -- fit in 2 GiB)
  SELECT
    funnel,
    entry_day,
    breakdown,
    breakdown_value,
    step,
    conversion,
    gap_seconds,
    COUNT(*) FILTER (WHERE furthest_step >= step) AS users,
    COUNT(*) FILTER (WHERE status = 'pending' AND furthest_step = step) AS pending,
    COUNT(*) FILTER (WHERE status = 'pending' AND furthest_step < step) AS pending_before,
    COUNT(gap_seconds) AS gaps
  FROM expanded
  GROUP BY funnel, entry_day, breakdown, breakdown_value, step, conversion, gap_seconds
),
gaps AS (
  -- and of all entry days together (entry_day NULL), summed from the days
  SELECT * FROM day_gaps
  UNION ALL
  SELECT
    funnel,
    CAST(NULL AS DATE) AS entry_day,
    breakdown,
    breakdown_value,
    step,
    conversion,
    gap_seconds,
    SUM(users) AS users,
    SUM(pending) AS pending,
    SUM(pending_before) AS pending_before,
    SUM(gaps) AS gaps
  FROM day_gaps
  GROUP BY funnel, breakdown, breakdown_value, step, conversion, gap_seconds
),
ranked AS (
  -- each gap value's 0-based ranks among the group's gaps:
  -- [below, below + gaps); total = below + gaps + above. Two running sums,
  -- each a window that streams over its sort (a sort spills): a sum over
  -- the whole group (ROWS ... UNBOUNDED FOLLOWING) is computed by a window
  -- that holds all of its input in memory, uncounted. `above` orders
  -- DESC NULLS LAST, not the exact reverse of `below`'s order, so that
  -- DataFusion does not turn it into such a window by reversing it. Rows
  -- without a gap (gap_seconds NULL, gaps 0) are last in both orders and
  -- count nothing: their own below/above are meaningless and filtered out
  -- below (gaps > 0).
  SELECT
    *,
    COALESCE(SUM(gaps) OVER (
      PARTITION BY funnel, entry_day, breakdown, breakdown_value, step, conversion
      ORDER BY gap_seconds ASC NULLS LAST
      ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
    ), 0) AS below,
    COALESCE(SUM(gaps) OVER (
      PARTITION BY funnel, entry_day, breakdown, breakdown_value, step, conversion
      ORDER BY gap_seconds DESC NULLS LAST
      ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
    ), 0) AS above
  FROM gaps
),
totalled AS (
  SELECT *, below + gaps + above AS total FROM ranked
),
positions AS (
  -- the ranks the median and the 90th percentile read, as DataFusion's
  -- median() and percentile_cont() take them: the median is the middle
  -- value, or the mean of the two middle ones; p90 sits at 0.9 (n - 1)
  -- between the ranks floor and ceil of it, interpolated with a weight
  -- cut to 6 decimals
  SELECT
    *,
    (total - 1) / 2 AS median_low,
    total / 2 AS median_high,
    CAST(floor(0.9 * CAST(total - 1 AS DOUBLE)) AS BIGINT) AS p90_low,
    CAST(ceil(0.9 * CAST(total - 1 AS DOUBLE)) AS BIGINT) AS p90_high,
    trunc((0.9 * CAST(total - 1 AS DOUBLE) - floor(0.9 * CAST(total - 1 AS DOUBLE))) * 1000000.0)
      / 1000000.0 AS p90_weight
  FROM totalled
),
counts AS (
  SELECT
    funnel,
    entry_day,
    breakdown,
    breakdown_value,
    step,
    conversion,
    SUM(users) AS users,
    SUM(pending) AS pending,
    SUM(pending_before) AS pending_before,
    MIN(p90_weight) FILTER (WHERE gaps > 0) AS p90_weight,
    MIN(gap_seconds) FILTER (WHERE gaps > 0 AND below <= median_low AND median_low < below + gaps) AS median_low_value,
    MIN(gap_seconds) FILTER (WHERE gaps > 0 AND below <= median_high AND median_high < below + gaps) AS median_high_value,
    MIN(gap_seconds) FILTER (WHERE gaps > 0 AND below <= p90_low AND p90_low < below + gaps) AS p90_low_value,
    MIN(gap_seconds) FILTER (WHERE gaps > 0 AND below <= p90_high AND p90_high < below + gaps) AS p90_high_value
  FROM positions
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
  -- (one value when the count is odd: (v + v) / 2 is v exactly)
  (median_low_value + median_high_value) / 2 AS median_seconds_from_previous,
  CASE
    WHEN p90_low_value = p90_high_value THEN p90_low_value
    ELSE p90_low_value + (p90_high_value - p90_low_value) * p90_weight
  END AS p90_seconds_from_previous
FROM linked
