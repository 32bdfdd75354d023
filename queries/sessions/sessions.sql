-- grain: one row per session
-- key: session_id
-- description: Sessions with their timing, depth, landing page (the first
-- page seen), traffic source of the first event, and counts of event-scope
-- conversions. Session-scope conversions are evaluated on these rows, so
-- they are not counted here (see `conversions`). engaged: lasted at least
-- $engaged_min_seconds, or had $engaged_min_pageviews page views, or a
-- macro conversion.
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
    MAX(e.event_time) AS session_end,
    COUNT(*) AS events,
    SUM(CASE WHEN p.event_name IS NOT NULL THEN 1 ELSE 0 END) AS pageviews,
    MIN(CASE WHEN e.page IS NOT NULL THEN e.event_seq END) AS landing_seq
  FROM session_events e
  LEFT JOIN pageview_events p ON e.event_name = p.event_name
  GROUP BY e.session_id
),
firsts AS (
  SELECT session_id, user_id, event_time AS session_start, channel, source, medium, campaign, device, country
  FROM session_events
  WHERE event_seq = 1
)
SELECT
  f.session_id,
  f.user_id,
  f.session_start,
  a.session_end,
  seconds_between(f.session_start, a.session_end) AS duration_seconds,
  a.events,
  a.pageviews,
  l.page AS landing_page,
  f.channel,
  f.source,
  f.medium,
  f.campaign,
  f.device,
  f.country,
  COALESCE(h.micro_conversions, 0) AS micro_conversions,
  COALESCE(h.macro_conversions, 0) AS macro_conversions,
  COALESCE(h.revenue, 0.0) AS revenue,
  seconds_between(f.session_start, a.session_end) >= $engaged_min_seconds
    OR a.pageviews >= $engaged_min_pageviews
    OR COALESCE(h.macro_conversions, 0) > 0 AS engaged
FROM firsts f
JOIN agg a ON f.session_id = a.session_id
LEFT JOIN session_events l ON l.session_id = a.session_id AND l.event_seq = a.landing_seq
LEFT JOIN hits h ON f.session_id = h.session_id
