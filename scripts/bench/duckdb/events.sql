-- grain: one row per event
-- description: the canonical `events` (src/input/sql/events.sql): good rows
-- of `_input` up to the end of the as-of day.
SELECT event_id, user_id, event_time, event_name, session_id, channel, source, medium,
  campaign, device, country, page, product_id, category, revenue, experiment, variant,
  -- no [identity] stitching in the benchmark's config: NULL, as microconv's
  CAST(NULL AS VARCHAR) AS anonymous_id
FROM _input
WHERE reject_reason IS NULL AND event_time < getvariable('as_of_end')
