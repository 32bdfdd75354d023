-- grain: one row per funnel_users row that is not excluded x segment: the `(all)` segment and one per breakdown of its funnel
-- key: funnel, user_id, session_id, breakdown
-- description: The funnel users, each once in the `(all)` segment and once
-- per breakdown configured for its funnel, with that breakdown's value (the
-- entry session's attribute, `(none)` when unknown). user_id and session_id
-- are the funnel_users row's. Feeds funnel_step_stats.
-- output: internal
WITH u AS (
  SELECT
    f.funnel, f.user_id, f.session_id, f.entered_at, f.furthest_step, f.status, f.step_times,
    f.channel, f.source, f.medium, f.campaign, f.device, f.country, f.landing_page
  FROM funnel_users f
  WHERE f.status <> 'excluded'
)
SELECT
  funnel, user_id, session_id, '(all)' AS breakdown, '(all)' AS breakdown_value,
  CAST(entered_at AS DATE) AS entry_day, furthest_step, status, step_times
FROM u
UNION ALL
SELECT
  u.funnel,
  u.user_id,
  u.session_id,
  b.breakdown,
  COALESCE(
    CASE b.breakdown
      WHEN 'channel' THEN u.channel
      WHEN 'source' THEN u.source
      WHEN 'medium' THEN u.medium
      WHEN 'campaign' THEN u.campaign
      WHEN 'device' THEN u.device
      WHEN 'country' THEN u.country
      WHEN 'landing_page' THEN u.landing_page
    END,
    '(none)'
  ) AS breakdown_value,
  CAST(u.entered_at AS DATE) AS entry_day,
  u.furthest_step,
  u.status,
  u.step_times
FROM u
JOIN funnel_breakdowns b ON b.funnel = u.funnel
