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
-- one pass over session_events: the first event's fields are the values on
-- its row (event_seq = 1), and the landing page is carried by a MIN over
-- its event_seq packed in front of it (20 digits, so text order is number
-- order): no join back to session_events
agg AS (
  SELECT
    e.session_id,
    MAX(CASE WHEN e.event_seq = 1 THEN e.user_id END) AS user_id,
    MIN(e.event_time) AS session_start,
    MAX(e.event_time) AS session_end,
    COUNT(*) AS events,
    SUM(CASE WHEN p.event_name IS NOT NULL THEN 1 ELSE 0 END) AS pageviews,
    MIN(CASE WHEN e.page IS NOT NULL
      THEN lpad(CAST(e.event_seq AS VARCHAR), 20, '0') || e.page END) AS landing,
    -- never NULL (the input stage derives every event's channel)
    COALESCE(MAX(CASE WHEN e.event_seq = 1 THEN e.channel END), 'other') AS channel,
    MAX(CASE WHEN e.event_seq = 1 THEN e.source END) AS source,
    MAX(CASE WHEN e.event_seq = 1 THEN e.medium END) AS medium,
    MAX(CASE WHEN e.event_seq = 1 THEN e.campaign END) AS campaign,
    MAX(CASE WHEN e.event_seq = 1 THEN e.device END) AS device,
    MAX(CASE WHEN e.event_seq = 1 THEN e.country END) AS country
  FROM session_events e
  LEFT JOIN pageview_events p ON e.event_name = p.event_name
  GROUP BY e.session_id
)
SELECT
  a.session_id,
  a.user_id,
  a.session_start,
  a.session_end,
  seconds_between(a.session_start, a.session_end) AS duration_seconds,
  a.events,
  a.pageviews,
  substr(a.landing, 21) AS landing_page,
  a.channel,
  a.source,
  a.medium,
  a.campaign,
  a.device,
  a.country,
  COALESCE(h.micro_conversions, 0) AS micro_conversions,
  COALESCE(h.macro_conversions, 0) AS macro_conversions,
  COALESCE(h.revenue, 0.0) AS revenue,
  seconds_between(a.session_start, a.session_end) >= $engaged_min_seconds
    OR a.pageviews >= $engaged_min_pageviews
    OR COALESCE(h.macro_conversions, 0) > 0 AS engaged
FROM agg a
LEFT JOIN hits h ON a.session_id = h.session_id
