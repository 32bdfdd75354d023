-- grain: one row per event x event-scope conversion whose `when` it meets
-- description: the builtin `event_conversion_hits`
-- (src/builtin/conversion_hits.rs): one SELECT per event-scope
-- [[conversions]] entry, joined by UNION ALL as microconv unions one filter
-- per conversion. duckdb_side.py fills {{name}}, {{when}} and {{value}}
-- (the conversion's `value` as a DOUBLE, NULL when it has none); a NaN or
-- infinite value becomes NULL.
SELECT
  event_id,
  user_id,
  session_id,
  event_time,
  '{{name}}' AS conversion,
  CASE WHEN isfinite(CAST(({{value}}) AS DOUBLE)) THEN CAST(({{value}}) AS DOUBLE) END AS value
FROM session_events
WHERE ({{when}})
