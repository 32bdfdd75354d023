-- grain: one row per user active in the lift window x conversion they did in it
-- description: queries/internal/lift_firsts.sql, as in microconv.
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
  AND c.conversion_time >= COALESCE(getvariable('lift_window_start'), c.conversion_time)
GROUP BY c.user_id, u.first_touch_channel, u.first_touch_device, c.conversion, c.kind
