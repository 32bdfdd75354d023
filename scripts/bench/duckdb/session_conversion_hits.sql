-- grain: one row per session x session-scope conversion whose `when` it meets
-- description: the builtin `session_conversion_hits`
-- (src/builtin/conversion_hits.rs): one SELECT per session-scope
-- [[conversions]] entry, joined by UNION ALL; timed at the session start,
-- no event_id. duckdb_side.py fills {{name}}, {{when}} and {{value}}.
SELECT
  NULL::VARCHAR AS event_id,
  user_id,
  session_id,
  session_start AS event_time,
  '{{name}}' AS conversion,
  CASE WHEN isfinite(CAST(({{value}}) AS DOUBLE)) THEN CAST(({{value}}) AS DOUBLE) END AS value
FROM sessions
WHERE ({{when}})
