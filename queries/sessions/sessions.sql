-- grain: one row per session
-- key: session_id
-- description: Sessions with their timing, depth, landing page (the first
-- page seen), traffic source of the first event, and counts of event-scope
-- conversions. Session-scope conversions are evaluated on these rows, so
-- they are not counted here (see `conversions`). engaged: lasted at least
-- $engaged_min_seconds, or had $engaged_min_pageviews page views, or a
-- macro conversion.
-- one aggregation over the events and the conversion hits of each session
-- (UNION ALL, each row carrying the columns of its kind and NULL or 0 for
-- the others): no join between two per-session tables, whose build side
-- DataFusion would have to hold in memory (an aggregation can spill; at 100M
-- events under a 2 GiB limit the join did not fit). The first event's
-- fields are the values on its row (event_seq = 1), and the landing page is
-- carried by a MIN over its event_seq packed in front of it (20 digits, so
-- text order is number order)
WITH rows AS (
  SELECT
    e.session_id,
    e.user_id,
    e.event_time,
    e.event_seq,
    1 AS is_event,
    CASE WHEN p.event_name IS NOT NULL THEN 1 ELSE 0 END AS is_pageview,
    e.page,
    e.channel,
    e.source,
    e.medium,
    e.campaign,
    e.device,
    e.country,
    0 AS micro,
    0 AS macro,
    0.0 AS revenue
  FROM session_events e
  LEFT JOIN pageview_events p ON e.event_name = p.event_name
  UNION ALL
  SELECT
    h.session_id,
    NULL, NULL, NULL,
    0,
    0,
    NULL, NULL, NULL, NULL, NULL, NULL, NULL,
    CASE WHEN d.kind = 'micro' THEN 1 ELSE 0 END,
    CASE WHEN d.kind = 'macro' THEN 1 ELSE 0 END,
    CASE WHEN d.kind = 'macro' THEN COALESCE(h.value, 0.0) ELSE 0.0 END
  FROM event_conversion_hits h
  JOIN conversion_definitions d ON h.conversion = d.name
),
agg AS (
  SELECT
    session_id,
    MAX(CASE WHEN event_seq = 1 THEN user_id END) AS user_id,
    MIN(event_time) AS session_start,
    MAX(event_time) AS session_end,
    COALESCE(SUM(is_event), 0) AS events,
    SUM(is_pageview) AS pageviews,
    MIN(CASE WHEN page IS NOT NULL
      THEN lpad(CAST(event_seq AS VARCHAR), 20, '0') || page END) AS landing,
    -- never NULL (the input stage derives every event's channel); the
    -- COALESCEs around the sums keep the columns NOT NULL, as documented
    COALESCE(MAX(CASE WHEN event_seq = 1 THEN channel END), 'other') AS channel,
    MAX(CASE WHEN event_seq = 1 THEN source END) AS source,
    MAX(CASE WHEN event_seq = 1 THEN medium END) AS medium,
    MAX(CASE WHEN event_seq = 1 THEN campaign END) AS campaign,
    MAX(CASE WHEN event_seq = 1 THEN device END) AS device,
    MAX(CASE WHEN event_seq = 1 THEN country END) AS country,
    COALESCE(SUM(micro), 0) AS micro_conversions,
    COALESCE(SUM(macro), 0) AS macro_conversions,
    COALESCE(SUM(revenue), 0.0) AS revenue
  FROM rows
  GROUP BY session_id
)
SELECT
  session_id,
  user_id,
  session_start,
  session_end,
  seconds_between(session_start, session_end) AS duration_seconds,
  events,
  pageviews,
  substr(landing, 21) AS landing_page,
  channel,
  source,
  medium,
  campaign,
  device,
  country,
  micro_conversions,
  macro_conversions,
  revenue,
  seconds_between(session_start, session_end) >= $engaged_min_seconds
    OR pageviews >= $engaged_min_pageviews
    OR macro_conversions > 0 AS engaged
FROM agg
