-- Every mapped input row with the reason it is rejected (NULL for good
-- rows). Reads the view `_input_mapped` (canonical columns, channel derived,
-- the kept source columns of [input] keep, plus _source_file,
-- _raw_event_time, _bad_revenue, _row_key and _bad_value_conversion).
-- Reasons are checked in order, so each rejected row has exactly one. A row
-- without an event_id takes its _row_key (a hash of the whole source row,
-- or of [input] dedupe_key) as its id.
-- Parameters: $event_time_min and $event_time_end (the supported range),
-- $future_limit (the run's clock plus [input] future_margin) and $dedupe
-- (false: no row is a duplicate).
WITH m AS (
  SELECT
    COALESCE(event_id, _row_key) AS event_id,
    event_id IS NULL AS _derived_id,
    user_id, event_time, event_name, session_id, channel, source, medium, campaign, device, country,
    page, product_id, category, COALESCE(revenue, 0.0) AS revenue, experiment, variant,
    _source_file, _raw_event_time,
    -- the kept source columns ([input] keep), whatever they are
    * EXCEPT (event_id, user_id, event_time, event_name, session_id, channel, source, medium,
      campaign, device, country, page, product_id, category, revenue, experiment, variant,
      _source_file, _raw_event_time, _bad_revenue, _row_key, _bad_value_conversion),
    CASE
      WHEN user_id IS NULL OR regexp_like(user_id, '^\s*$') THEN 'missing user_id'
      WHEN _raw_event_time IS NULL THEN 'missing event_time'
      WHEN event_time IS NULL THEN 'unparseable event_time'
      WHEN event_time < $event_time_min OR event_time >= $event_time_end
        THEN 'event_time out of range'
      WHEN event_time > $future_limit THEN 'event_time in the future'
      WHEN event_name IS NULL OR regexp_like(event_name, '^\s*$') THEN 'missing event_name'
      WHEN _bad_revenue THEN 'unparseable revenue'
      WHEN isnan(revenue) OR abs(revenue) > 1.7976931348623157e308 THEN 'non-finite revenue'
      WHEN _bad_value_conversion IS NOT NULL
        THEN 'non-finite value of conversion ' || _bad_value_conversion
    END AS _reason
  FROM _input_mapped
)
SELECT
  CASE
    -- with dedupe = false, identical rows without an id get distinct ids
    -- (the row's number in its id's bucket: fixed for a given input)
    WHEN NOT $dedupe AND _derived_id AND _prev_id = event_id
      THEN event_id || '#' || CAST(_rn AS VARCHAR)
    ELSE event_id
  END AS event_id,
  user_id, event_time, event_name, session_id, channel, source, medium, campaign,
  device, country, page, product_id, category, revenue, experiment, variant,
  _source_file, _raw_event_time,
  CASE
    WHEN _reason IS NOT NULL THEN _reason
    WHEN $dedupe AND _prev_id = event_id AND _prev_reason IS NULL THEN 'duplicate event_id'
  END AS reject_reason,
  -- the kept source columns
  * EXCEPT (event_id, user_id, event_time, event_name, session_id, channel, source, medium,
      campaign, device, country, page, product_id, category, revenue, experiment, variant,
    _derived_id, _source_file, _raw_event_time, _reason, _prev_id, _prev_reason, _rn)
FROM (
  -- one order per bucket of ids instead of PARTITION BY event_id: valid
  -- rows of an id come first, and any valid row after another valid row of
  -- the same id is a duplicate (much faster than a window per distinct id;
  -- the buckets run in parallel, see hash_bucket)
  SELECT *,
    LAG(event_id) OVER w AS _prev_id,
    LAG(_reason) OVER w AS _prev_reason,
    ROW_NUMBER() OVER w AS _rn
  FROM m
  WINDOW w AS (
    PARTITION BY hash_bucket(event_id)
    ORDER BY event_id, _reason NULLS FIRST, event_time, _source_file
  )
)
