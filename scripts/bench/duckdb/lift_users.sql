-- grain: one row per user with a session
-- description: queries/internal/lift_users.sql (first_value with ORDER BY is
-- DuckDB's first with ORDER BY, NULLs included as in microconv).
SELECT
  user_id,
  COALESCE(first(channel ORDER BY session_start, session_id), '(none)') AS first_touch_channel,
  COALESCE(first(device ORDER BY session_start, session_id), '(none)') AS first_touch_device,
  MIN(session_start) AS first_seen,
  MAX(session_end) AS last_activity,
  MAX(session_end) >= COALESCE(getvariable('lift_window_start'), MIN(session_start)) AS in_lift_window
FROM sessions
GROUP BY user_id
