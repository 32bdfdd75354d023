-- grain: one row per user active in the lift window x conversion they did in it
-- key: user_id, conversion
-- description: When each user active in the lift window first did each
-- conversion in the window, with the user's first-touch stratum (channel and
-- device, from lift_users). A table of its own so that lift_cells, which
-- reads it three times, scans and aggregates conversions once.
-- output: internal
SELECT
  c.user_id,
  u.first_touch_channel AS channel,
  u.first_touch_device AS device,
  c.conversion,
  c.kind,
  MIN(c.conversion_time) AS first_time
FROM conversions c
JOIN lift_users u ON c.user_id = u.user_id
WHERE u.in_lift_window
  AND c.conversion_time >= COALESCE($lift_window_start, c.conversion_time)
GROUP BY c.user_id, u.first_touch_channel, u.first_touch_device, c.conversion, c.kind
