-- grain: one row per conversion occurrence
-- description: queries/sessions/conversions.sql, as in microconv.
WITH hits AS (
  SELECT event_id, user_id, session_id, event_time, conversion, value FROM event_conversion_hits
  UNION ALL
  SELECT event_id, user_id, session_id, event_time, conversion, value FROM session_conversion_hits
)
SELECT
  h.user_id,
  h.session_id,
  h.event_id,
  h.event_time AS conversion_time,
  h.conversion,
  d.kind,
  d.stage,
  d.scope,
  h.value
FROM hits h
JOIN conversion_definitions d ON h.conversion = d.name
