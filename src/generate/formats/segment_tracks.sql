-- Segment's `tracks` table: every event but page views, with the event
-- name in `event`, campaign and device in context_* columns, and the
-- product, revenue and A/B assignment as property columns.
SELECT
  event_id AS id,
  user_id AS anonymous_id,
  event_time AS "timestamp",
  event_name AS event,
  page AS context_page_path,
  source AS context_campaign_source,
  medium AS context_campaign_medium,
  campaign AS context_campaign_name,
  device AS context_device_type,
  country AS context_location_country,
  product_id, category, revenue, experiment, variant
FROM generated
WHERE event_name <> 'page_view'
