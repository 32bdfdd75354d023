-- Good rows of the flagged input `_input` from the end of the as-of day on
-- (none when $as_of_end is NULL: no as-of date was given, so the as-of day
-- is the latest event's), in the columns of `events`: what the builtin
-- `clv_activity_after_as_of` reads, since `events` stops at the as-of day.
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
WHERE reject_reason IS NULL AND event_time >= $as_of_end
