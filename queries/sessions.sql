-- grain: one row per session
-- description: Sessions with their timing, depth, landing page, traffic
-- source of the first event, and counts of event-scope conversions (session-
-- scope conversions are evaluated on these rows, so they are not counted
-- here; see `conversions`). engaged: lasted at least $engaged_min_seconds,
-- or had $engaged_min_pageviews page views, or a macro conversion.
WITH hits AS (
  SELECT
    h.session_id,
    SUM(CASE WHEN d.kind = 'micro' THEN 1 ELSE 0 END) AS micro_conversions,
    SUM(CASE WHEN d.kind = 'macro' THEN 1 ELSE 0 END) AS macro_conversions,
    SUM(CASE WHEN d.kind = 'macro' THEN COALESCE(h.value, 0) ELSE 0 END) AS revenue
  FROM event_conversion_hits h
  JOIN conversion_definitions d ON h.conversion = d.name
  GROUP BY h.session_id
),
agg AS (
  SELECT
    e.session_id,
    first_value(e.user_id ORDER BY e.event_seq) AS user_id,
    MIN(e.event_time) AS session_start,
    MAX(e.event_time) AS session_end,
    COUNT(*) AS events,
    SUM(CASE WHEN p.event_name IS NOT NULL THEN 1 ELSE 0 END) AS pageviews,
    first_value(e.page ORDER BY e.event_seq) FILTER (WHERE e.page IS NOT NULL) AS landing_page,
    first_value(e.channel ORDER BY e.event_seq) AS channel,
    first_value(e.source ORDER BY e.event_seq) AS source,
    first_value(e.medium ORDER BY e.event_seq) AS medium,
    first_value(e.campaign ORDER BY e.event_seq) AS campaign,
    first_value(e.device ORDER BY e.event_seq) AS device,
    first_value(e.country ORDER BY e.event_seq) AS country
  FROM session_events e
  LEFT JOIN pageview_events p ON e.event_name = p.event_name
  GROUP BY e.session_id
)
SELECT
  a.session_id,
  a.user_id,
  a.session_start,
  a.session_end,
  (CAST(a.session_end AS BIGINT) - CAST(a.session_start AS BIGINT)) / 1e6 AS duration_seconds,
  a.events,
  a.pageviews,
  a.landing_page,
  a.channel,
  a.source,
  a.medium,
  a.campaign,
  a.device,
  a.country,
  COALESCE(h.micro_conversions, 0) AS micro_conversions,
  COALESCE(h.macro_conversions, 0) AS macro_conversions,
  COALESCE(h.revenue, 0.0) AS revenue,
  (CAST(a.session_end AS BIGINT) - CAST(a.session_start AS BIGINT)) >= $engaged_min_seconds * 1000000
    OR a.pageviews >= $engaged_min_pageviews
    OR COALESCE(h.macro_conversions, 0) > 0 AS engaged
FROM agg a
LEFT JOIN hits h ON a.session_id = h.session_id
