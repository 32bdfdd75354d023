-- Every mapped input row with the reason it is rejected (NULL for good
-- rows). Reads the view `_input_mapped` (canonical columns, channel derived,
-- plus _source_file, _raw_event_time and _bad_revenue).
-- Reasons are checked in order, so each rejected row has exactly one; the
-- hash of the row's content is the event_id when the source has none.
WITH m AS (
  SELECT
    COALESCE(event_id, md5(concat_ws('|', COALESCE(user_id, ''), COALESCE(CAST(event_time AS VARCHAR), ''),
      COALESCE(event_name, ''), COALESCE(session_id, ''), COALESCE(page, ''), COALESCE(product_id, ''),
      COALESCE(CAST(revenue AS VARCHAR), ''), COALESCE(source, ''), COALESCE(medium, '')))) AS event_id,
    user_id, event_time, event_name, session_id, channel, source, medium, campaign, device, country,
    page, product_id, category, COALESCE(revenue, 0.0) AS revenue, experiment, variant,
    _source_file, _raw_event_time,
    CASE
      WHEN user_id IS NULL OR trim(user_id) = '' THEN 'missing user_id'
      WHEN _raw_event_time IS NULL THEN 'missing event_time'
      WHEN event_time IS NULL THEN 'unparseable event_time'
      WHEN event_name IS NULL OR trim(event_name) = '' THEN 'missing event_name'
      WHEN _bad_revenue THEN 'unparseable revenue'
    END AS _reason
  FROM _input_mapped
)
SELECT event_id, user_id, event_time, event_name, session_id, channel, source, medium, campaign,
  device, country, page, product_id, category, revenue, experiment, variant,
  _source_file, _raw_event_time,
  CASE
    WHEN _reason IS NOT NULL THEN _reason
    WHEN _prev_id = event_id AND _prev_reason IS NULL THEN 'duplicate event_id'
  END AS reject_reason
FROM (
  -- one global order instead of PARTITION BY event_id: valid rows of an id
  -- come first, and any valid row after another valid row of the same id is
  -- a duplicate (much faster than a window per distinct id)
  SELECT *,
    LAG(event_id) OVER w AS _prev_id,
    LAG(_reason) OVER w AS _prev_reason
  FROM m
  WINDOW w AS (ORDER BY event_id, _reason NULLS FIRST, event_time, _source_file)
)
