-- grain: one row per rejected input row
-- description: `rejected_events` (src/input/sql/rejected.sql).
SELECT _source_file AS source_file, reject_reason AS reason, event_id, user_id,
  _raw_event_time AS event_time_raw, event_name
FROM _input
WHERE reject_reason IS NOT NULL
