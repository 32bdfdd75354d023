-- grain: one row per funnel x user (x session for funnels with count = "sessions") that reached the funnel's first step
-- key: funnel, user_id, unit_session?
-- description: The chain window_funnel_times finds in each user's (or
-- session's) conversions for each [[funnels]] definition, in the funnel's
-- mode, window and max gaps: step_times[k] is the time of step k of the chain
-- that first reached the furthest step; last_entry_at is the latest step-1
-- event (whose window decides whether the user is still pending).
-- unit_session is the session for count = "sessions" funnels, else NULL.
-- Computed once here and read by funnel_users.
-- output: internal
WITH step_masks AS (
  -- bit k-1 set when the conversion is step k; strict_order funnels also
  -- see every other conversion (mask 0)
  SELECT
    f.funnel,
    d.name AS conversion,
    COALESCE(SUM(CAST(1 AS BIGINT) << (s.step - 1)), 0) AS step_mask
  FROM funnel_definitions f
  CROSS JOIN conversion_definitions d
  LEFT JOIN funnel_step_definitions s ON s.funnel = f.funnel AND s.conversion = d.name
  GROUP BY f.funnel, f.mode, d.name
  HAVING COUNT(s.step) > 0 OR f.mode = 'strict_order'
),
step_rows AS (
  SELECT
    m.funnel,
    f.window_seconds,
    f.mode,
    f.max_gap_seconds,
    c.user_id,
    CASE WHEN f.count_by = 'sessions' THEN c.session_id END AS unit_session,
    c.conversion_time,
    m.step_mask
  FROM conversions c
  JOIN step_masks m ON m.conversion = c.conversion
  JOIN funnel_definitions f ON f.funnel = m.funnel
),
chains AS (
  SELECT
    funnel,
    user_id,
    unit_session,
    window_funnel_times(window_seconds, mode, conversion_time, step_mask, max_gap_seconds) AS step_times,
    MAX(conversion_time) FILTER (WHERE step_mask % 2 = 1) AS last_entry_at
  FROM step_rows
  GROUP BY funnel, user_id, unit_session
)
SELECT
  funnel,
  user_id,
  unit_session,
  step_times,
  last_entry_at,
  CAST(cardinality(step_times) AS INT) AS furthest_step,
  step_times[1] AS entered_at,
  step_times[CAST(cardinality(step_times) AS BIGINT)] AS last_step_at
FROM chains
WHERE cardinality(step_times) > 0
