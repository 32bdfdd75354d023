-- grain: one row per input row
-- description: `_input`, microconv's flagged input (src/input/map.rs and
-- src/input/sql/flag.sql): every row mapped onto the canonical columns,
-- channel derived by the config's channel rules, and the reason it is
-- rejected (NULL for good rows), checked in microconv's order.
-- The generator's files have the canonical column names and types and no
-- session_id or channel column (duckdb_side.py checks this), so the mapping
-- is the identity plus those two NULL columns. Placeholders filled by
-- duckdb_side.py from the config: {{channel_case}} (the [[channels]] rules,
-- or microconv's default ones, as CASE branches, first match wins) and
-- {{bad_value_conversion}} (the event-scope conversions with a `value`).
WITH src AS (
  SELECT * FROM read_parquet(getvariable('events_glob'), filename = true)
),
mapped AS (
  SELECT
    event_id,
    user_id,
    event_time::TIMESTAMPTZ AS event_time,
    event_name,
    NULL::VARCHAR AS session_id,
    NULL::VARCHAR AS _source_channel,
    source, medium, campaign, device, country, page, product_id, category,
    revenue::DOUBLE AS revenue,
    experiment, variant,
    filename AS _source_file,
    arrow_timestamp_text(event_time) AS _raw_event_time,
    false AS _bad_revenue,
    -- a row without an event_id is identified by a hash of the whole source
    -- row (map.rs row_key): each value as <length>:<text>, NULL as '-'
    CASE WHEN event_id IS NULL THEN md5(concat_ws('|',
      CASE WHEN event_id IS NULL THEN '-' ELSE length(event_id) || ':' || event_id END,
      CASE WHEN user_id IS NULL THEN '-' ELSE length(user_id) || ':' || user_id END,
      CASE WHEN event_time IS NULL THEN '-' ELSE length(arrow_timestamp_text(event_time)) || ':' || arrow_timestamp_text(event_time) END,
      CASE WHEN event_name IS NULL THEN '-' ELSE length(event_name) || ':' || event_name END,
      CASE WHEN source IS NULL THEN '-' ELSE length(source) || ':' || source END,
      CASE WHEN medium IS NULL THEN '-' ELSE length(medium) || ':' || medium END,
      CASE WHEN campaign IS NULL THEN '-' ELSE length(campaign) || ':' || campaign END,
      CASE WHEN device IS NULL THEN '-' ELSE length(device) || ':' || device END,
      CASE WHEN country IS NULL THEN '-' ELSE length(country) || ':' || country END,
      CASE WHEN page IS NULL THEN '-' ELSE length(page) || ':' || page END,
      CASE WHEN product_id IS NULL THEN '-' ELSE length(product_id) || ':' || product_id END,
      CASE WHEN category IS NULL THEN '-' ELSE length(category) || ':' || category END,
      CASE WHEN revenue IS NULL THEN '-' ELSE length(revenue::VARCHAR) || ':' || revenue::VARCHAR END,
      CASE WHEN experiment IS NULL THEN '-' ELSE length(experiment) || ':' || experiment END,
      CASE WHEN variant IS NULL THEN '-' ELSE length(variant) || ':' || variant END))
    END AS _row_key
  FROM src
),
with_channel AS (
  -- the source's channel, else the first matching rule, else 'other'
  SELECT
    *,
    COALESCE(NULLIF(_source_channel, ''), CASE {{channel_case}} ELSE 'other' END) AS channel
  FROM mapped
),
with_values AS (
  -- the first event-scope conversion whose value is NaN or infinite here
  SELECT *, {{bad_value_conversion}} AS _bad_value_conversion
  FROM with_channel
),
m AS (
  SELECT
    COALESCE(event_id, _row_key) AS event_id,
    user_id, event_time, event_name, session_id, channel, source, medium, campaign, device,
    country, page, product_id, category, COALESCE(revenue, 0.0) AS revenue, experiment, variant,
    _source_file, _raw_event_time,
    CASE
      WHEN user_id IS NULL OR regexp_matches(user_id, '^\s*$') THEN 'missing user_id'
      WHEN _raw_event_time IS NULL THEN 'missing event_time'
      WHEN event_time IS NULL THEN 'unparseable event_time'
      WHEN event_time < TIMESTAMPTZ '1900-01-01 00:00:00+00'
        OR event_time >= TIMESTAMPTZ '2201-01-01 00:00:00+00' THEN 'event_time out of range'
      WHEN event_time > getvariable('future_limit') THEN 'event_time in the future'
      WHEN event_name IS NULL OR regexp_matches(event_name, '^\s*$') THEN 'missing event_name'
      WHEN _bad_revenue THEN 'unparseable revenue'
      WHEN isnan(revenue) OR isinf(revenue) THEN 'non-finite revenue'
      WHEN _bad_value_conversion IS NOT NULL
        THEN 'non-finite value of conversion ' || _bad_value_conversion
    END AS _reason
  FROM with_values
)
SELECT
  event_id, user_id, event_time, event_name, session_id, channel, source, medium, campaign,
  device, country, page, product_id, category, revenue, experiment, variant,
  _source_file, _raw_event_time,
  CASE
    WHEN _reason IS NOT NULL THEN _reason
    -- the first valid row of an id (valid rows first, then by time and
    -- file) is kept; every later valid row is a duplicate
    WHEN ROW_NUMBER() OVER (
      PARTITION BY event_id ORDER BY _reason NULLS FIRST, event_time, _source_file
    ) > 1 THEN 'duplicate event_id'
  END AS reject_reason
FROM m
