-- The canonical `events`: good rows of the flagged input `_input` up to the
-- end of the as-of day, in the column order of the canonical schema.
SELECT event_id, user_id, event_time, event_name, session_id, channel, source, medium,
  campaign, device, country, page, product_id, category, revenue, experiment, variant
FROM _input
WHERE reject_reason IS NULL AND event_time < $as_of_end
