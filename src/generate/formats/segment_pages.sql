-- Segment's `pages` table: the page views, with the page in `path` and no
-- `event` column.
SELECT
  event_id AS id,
  user_id AS anonymous_id,
  event_time AS "timestamp",
  page AS path,
  source AS context_campaign_source,
  medium AS context_campaign_medium,
  campaign AS context_campaign_name,
  device AS context_device_type,
  country AS context_location_country,
  product_id, category, revenue, experiment, variant
FROM generated
WHERE event_name = 'page_view'
