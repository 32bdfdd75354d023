-- `rejected_events`: every rejected row of `_input`, with its file and reason.
SELECT _source_file AS source_file, reject_reason AS reason, event_id, user_id,
  _raw_event_time AS event_time_raw, event_name
FROM _input
WHERE reject_reason IS NOT NULL
