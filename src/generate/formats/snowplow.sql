-- Snowplow's atomic.events: one flat row per event, the session in
-- domain_sessionid (an id per session), campaign in mkt_*, revenue in
-- tr_total; product and A/B assignment as extra columns.
SELECT
  event_id,
  user_id AS domain_userid,
  event_time AS derived_tstamp,
  event_time AS collector_tstamp,
  event_name,
  md5(user_id || '/' || CAST(CAST(session_start AS BIGINT) AS VARCHAR)) AS domain_sessionid,
  page AS page_urlpath,
  source AS mkt_source,
  medium AS mkt_medium,
  campaign AS mkt_campaign,
  device AS dvce_type,
  country AS geo_country,
  revenue AS tr_total,
  product_id, category, experiment, variant
FROM sessions
