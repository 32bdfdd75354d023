-- grain: one row per user with a session
-- key: user_id
-- description: Each user's first touch (channel and device of their first
-- session, '(none)' when unknown), first and last activity, and whether they
-- were active in the lift analysis window: a session ending at or after
-- $lift_window_start (every user when [lift] lookback is not set). Read by
-- the lift and audience tables.
-- output: internal
SELECT
  user_id,
  COALESCE(first_by(channel, session_start, session_id), '(none)') AS first_touch_channel,
  COALESCE(first_by(device, session_start, session_id), '(none)') AS first_touch_device,
  MIN(session_start) AS first_seen,
  MAX(session_end) AS last_activity,
  MAX(session_end) >= COALESCE($lift_window_start, MIN(session_start)) AS in_lift_window
FROM sessions
GROUP BY user_id
