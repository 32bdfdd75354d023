-- grain: one row per conversion occurrence
-- key: conversion, session_id, event_id?
-- description: Every time an event (event scope) or a session (session
-- scope) met a conversion definition of the config. Session-scope
-- conversions are timed at the session start and have no event_id. value is
-- the definition's `value` expression (NULL when it has none). This is the
-- table the journey, funnel, CLV and lift analyses read.
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
