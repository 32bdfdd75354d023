-- grain: one row per session
-- description: queries/sessions/sessions.sql. The landing page (page of the
-- first event with a page) is taken with arg_min instead of a join back to
-- session_events; everything else as in microconv.
WITH hits AS (
  SELECT
    h.session_id,
    COUNT(*) FILTER (WHERE d.kind = 'micro') AS micro_conversions,
    COUNT(*) FILTER (WHERE d.kind = 'macro') AS macro_conversions,
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
    COUNT(p.event_name) AS pageviews,
    arg_min(e.page, e.event_seq) FILTER (WHERE e.page IS NOT NULL) AS landing_page
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
  (epoch_us(a.session_end) - epoch_us(f.session_start)) / 1e6 AS duration_seconds,
  a.events,
  a.pageviews,
  a.landing_page,
  f.channel,
  f.source,
  f.medium,
  f.campaign,
  f.device,
  f.country,
  COALESCE(h.micro_conversions, 0) AS micro_conversions,
  COALESCE(h.macro_conversions, 0) AS macro_conversions,
  COALESCE(h.revenue, 0.0) AS revenue,
  (epoch_us(a.session_end) - epoch_us(f.session_start)) / 1e6 >= getvariable('engaged_min_seconds')
    OR a.pageviews >= getvariable('engaged_min_pageviews')
    OR COALESCE(h.macro_conversions, 0) > 0 AS engaged
FROM firsts f
JOIN agg a ON f.session_id = a.session_id
LEFT JOIN hits h ON f.session_id = h.session_id
