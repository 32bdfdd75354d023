-- grain: one row per funnel x user (x session for funnels with count = "sessions") that reached the funnel's first step
-- description: Progress through every [[funnels]] definition, from
-- `conversions`: the furthest step reached (window_funnel in the funnel's
-- mode, window and max gaps), the times of the chain that first got that far
-- (step_times[k] is step k), the session the funnel was entered in and its
-- first-touch attributes (the breakdowns), and a status: `converted` (all
-- steps), `excluded` (an `exclude` conversion at or between the first and
-- the last step reached; left out of the funnel tables), `pending` (not
-- converted, and the window of the latest step-1 event is still open at the
-- end of the as-of day, so the user may still move on), or `dropped`. In
-- strict_order funnels every other conversion of the user (or session)
-- between two steps ends the chain.
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
    c.session_id,
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
),
reached AS (
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
),
excluded AS (
  SELECT DISTINCT r.funnel, r.user_id, r.unit_session
  FROM reached r
  JOIN funnel_exclusions x ON x.funnel = r.funnel
  JOIN conversions c ON c.user_id = r.user_id AND c.conversion = x.conversion
  WHERE (r.unit_session IS NULL OR c.session_id = r.unit_session)
    AND c.conversion_time BETWEEN r.entered_at AND r.last_step_at
),
entry AS (
  -- the session of the step-1 event that started the chain
  SELECT r.funnel, r.user_id, r.unit_session, MIN(w.session_id) AS session_id
  FROM reached r
  JOIN step_rows w
    ON w.funnel = r.funnel AND w.user_id = r.user_id AND w.conversion_time = r.entered_at
  WHERE w.step_mask % 2 = 1
    AND (r.unit_session IS NULL OR w.session_id = r.unit_session)
  GROUP BY r.funnel, r.user_id, r.unit_session
),
closing AS (
  SELECT
    r.*,
    f.steps,
    f.count_by,
    r.last_entry_at + arrow_cast(f.window_seconds * 1000000, 'Duration(Microsecond)') AS window_closes_at
  FROM reached r
  JOIN funnel_definitions f ON f.funnel = r.funnel
)
SELECT
  r.funnel,
  r.user_id,
  e.session_id,
  r.count_by,
  r.entered_at,
  r.furthest_step,
  r.steps,
  sd.conversion AS furthest_conversion,
  r.step_times,
  r.last_step_at,
  r.window_closes_at,
  CASE
    WHEN x.funnel IS NOT NULL THEN 'excluded'
    WHEN r.furthest_step = r.steps THEN 'converted'
    WHEN r.window_closes_at >= $as_of_end THEN 'pending'
    ELSE 'dropped'
  END AS status,
  s.channel,
  s.source,
  s.medium,
  s.campaign,
  s.device,
  s.country,
  s.landing_page
FROM closing r
JOIN funnel_step_definitions sd ON sd.funnel = r.funnel AND sd.step = r.furthest_step
LEFT JOIN entry e
  ON e.funnel = r.funnel AND e.user_id = r.user_id AND e.unit_session IS NOT DISTINCT FROM r.unit_session
LEFT JOIN excluded x
  ON x.funnel = r.funnel AND x.user_id = r.user_id AND x.unit_session IS NOT DISTINCT FROM r.unit_session
LEFT JOIN sessions s ON s.session_id = e.session_id
