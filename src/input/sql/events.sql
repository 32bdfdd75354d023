-- The canonical `events`: good rows of the flagged input `_input` up to the
-- end of the as-of day, in the column order of the canonical schema.
-- $as_of_end is NULL when no as-of date was given: the as-of day is then
-- the latest good event's, so every good row is before its end.
SELECT event_id, user_id, event_time, event_name, session_id, channel, source, medium,
  campaign, device, country, page, product_id, category, revenue, experiment, variant,
  -- then the kept source columns ([input] keep)
  * EXCEPT (event_id, user_id, event_time, event_name, session_id, channel, source, medium,
      campaign, device, country, page, product_id, category, revenue, experiment, variant,
    _source_file, _raw_event_time, reject_reason),
  -- the source's user_id where [identity] stitch changed it (see
  -- events_stitched.sql); none here
  CAST(NULL AS VARCHAR) AS anonymous_id
FROM _input
WHERE reject_reason IS NULL AND ($as_of_end IS NULL OR event_time < $as_of_end)
