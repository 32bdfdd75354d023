-- GA4's BigQuery export (events_YYYYMMDD): µs timestamps, the page, the
-- session and the A/B assignment as event_params (key + a value record of
-- string/int/float/double), traffic source in collected_traffic_source,
-- device and geo records, revenue in ecommerce, products in items. No
-- event id: GA4 has none.
SELECT
  to_char(event_time, '%Y%m%d') AS event_date,
  CAST(event_time AS BIGINT) AS event_timestamp,
  event_name,
  make_array(
    named_struct('key', 'page_location', 'value', named_struct(
      'string_value', page, 'int_value', CAST(NULL AS BIGINT),
      'float_value', CAST(NULL AS DOUBLE), 'double_value', CAST(NULL AS DOUBLE))),
    named_struct('key', 'ga_session_id', 'value', named_struct(
      'string_value', CAST(NULL AS VARCHAR),
      'int_value', CAST(session_start AS BIGINT) / 1000000,
      'float_value', CAST(NULL AS DOUBLE), 'double_value', CAST(NULL AS DOUBLE))),
    named_struct('key', 'experiment', 'value', named_struct(
      'string_value', experiment, 'int_value', CAST(NULL AS BIGINT),
      'float_value', CAST(NULL AS DOUBLE), 'double_value', CAST(NULL AS DOUBLE))),
    named_struct('key', 'variant', 'value', named_struct(
      'string_value', variant, 'int_value', CAST(NULL AS BIGINT),
      'float_value', CAST(NULL AS DOUBLE), 'double_value', CAST(NULL AS DOUBLE)))
  ) AS event_params,
  user_id AS user_pseudo_id,
  named_struct('category', device, 'operating_system', CAST(NULL AS VARCHAR)) AS device,
  named_struct('country', country, 'city', CAST(NULL AS VARCHAR)) AS geo,
  named_struct(
    'manual_source', source, 'manual_medium', medium, 'manual_campaign_name', campaign
  ) AS collected_traffic_source,
  named_struct('purchase_revenue', revenue) AS ecommerce,
  make_array(named_struct('item_id', product_id, 'item_category', category)) AS items
FROM sessions
