-- grain: one row per micro conversion x macro conversion x first-touch channel x first-touch device
-- description: queries/internal/lift_cells.sql, as in microconv.
WITH users AS (
  SELECT user_id, first_touch_channel AS channel, first_touch_device AS device
  FROM lift_users
  WHERE in_lift_window
),
micros AS (SELECT name AS micro, stage FROM conversion_definitions WHERE kind = 'micro'),
macros AS (SELECT name AS macro FROM conversion_definitions WHERE kind = 'macro'),
strata AS (SELECT channel, device, COUNT(*) AS users FROM users GROUP BY channel, device),
converters AS (
  SELECT channel, device, conversion AS macro, COUNT(*) AS converters
  FROM lift_firsts
  WHERE kind = 'macro'
  GROUP BY channel, device, conversion
),
exposed AS (
  SELECT mi.channel, mi.device, mi.conversion AS micro, m.macro,
    COUNT(*) AS exposed,
    COUNT(ma.first_time) AS exposed_converters
  FROM lift_firsts mi
  CROSS JOIN macros m
  LEFT JOIN lift_firsts ma ON ma.user_id = mi.user_id AND ma.conversion = m.macro
  WHERE mi.kind = 'micro' AND (ma.first_time IS NULL OR mi.first_time < ma.first_time)
  GROUP BY mi.channel, mi.device, mi.conversion, m.macro
)
SELECT
  mi.micro,
  mi.stage AS micro_stage,
  ma.macro,
  s.channel,
  s.device,
  s.users,
  COALESCE(e.exposed, 0) AS exposed,
  COALESCE(c.converters, 0) AS converters,
  COALESCE(e.exposed_converters, 0) AS exposed_converters
FROM micros mi
CROSS JOIN macros ma
CROSS JOIN strata s
LEFT JOIN exposed e
  ON e.micro = mi.micro AND e.macro = ma.macro AND e.channel = s.channel AND e.device = s.device
LEFT JOIN converters c
  ON c.macro = ma.macro AND c.channel = s.channel AND c.device = s.device
