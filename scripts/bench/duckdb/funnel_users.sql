-- grain: one row per funnel x user (x session for funnels with count = "sessions") that reached the funnel's first step
-- description: queries/funnels/funnel_users.sql, as in microconv.
WITH excluded AS (
  SELECT DISTINCT r.funnel, r.user_id, r.unit_session
  FROM funnel_chains r
  JOIN funnel_exclusions x ON x.funnel = r.funnel
  JOIN conversions c ON c.user_id = r.user_id AND c.conversion = x.conversion
  WHERE (r.unit_session IS NULL OR c.session_id = r.unit_session)
    AND c.conversion_time BETWEEN r.entered_at AND r.last_step_at
),
entry AS (
  -- for user funnels, the session of the step-1 event that started the chain
  SELECT r.funnel, r.user_id, MIN(c.session_id) AS session_id
  FROM funnel_chains r
  JOIN funnel_step_definitions s ON s.funnel = r.funnel AND s.step = 1
  JOIN conversions c
    ON c.user_id = r.user_id AND c.conversion_time = r.entered_at AND c.conversion = s.conversion
  WHERE r.unit_session IS NULL
  GROUP BY r.funnel, r.user_id
),
closing AS (
  SELECT
    r.*,
    f.steps,
    f.count_by,
    r.last_entry_at + to_microseconds(f.window_seconds * 1000000) AS window_closes_at
  FROM funnel_chains r
  JOIN funnel_definitions f ON f.funnel = r.funnel
)
SELECT
  r.funnel,
  r.user_id,
  COALESCE(r.unit_session, e.session_id) AS session_id,
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
    WHEN r.window_closes_at >= getvariable('as_of_end') THEN 'pending'
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
  ON e.funnel = r.funnel AND e.user_id = r.user_id AND r.unit_session IS NULL
LEFT JOIN excluded x
  ON x.funnel = r.funnel AND x.user_id = r.user_id AND x.unit_session IS NOT DISTINCT FROM r.unit_session
LEFT JOIN sessions s ON s.session_id = COALESCE(r.unit_session, e.session_id)
