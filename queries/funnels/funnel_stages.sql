-- grain: one row per user with a staged (TOF / MOF / BOF) or macro conversion
-- key: user_id
-- description: Each user's furthest stage: `customer` after a macro
-- conversion, else the furthest of BOF > MOF > TOF among the `stage` of the
-- user's conversions (conversions without a stage do not count), when they
-- first reached it, and when they first reached each stage.
WITH levels AS (
  SELECT
    user_id,
    conversion_time,
    CASE
      WHEN kind = 'macro' THEN 4
      WHEN stage = 'BOF' THEN 3
      WHEN stage = 'MOF' THEN 2
      WHEN stage = 'TOF' THEN 1
    END AS level
  FROM conversions
  WHERE kind = 'macro' OR stage IS NOT NULL
),
firsts AS (
  SELECT user_id, level, MIN(conversion_time) AS first_at, COUNT(*) AS conversions
  FROM levels
  GROUP BY user_id, level
),
per_user AS (
  SELECT
    user_id,
    MAX(level) AS stage_level,
    MIN(first_at) FILTER (WHERE level = 1) AS first_tof_at,
    MIN(first_at) FILTER (WHERE level = 2) AS first_mof_at,
    MIN(first_at) FILTER (WHERE level = 3) AS first_bof_at,
    MIN(first_at) FILTER (WHERE level = 4) AS first_customer_at,
    SUM(conversions) AS staged_conversions
  FROM firsts
  GROUP BY user_id
)
SELECT
  user_id,
  CASE stage_level WHEN 4 THEN 'customer' WHEN 3 THEN 'BOF' WHEN 2 THEN 'MOF' ELSE 'TOF' END AS stage,
  CAST(stage_level AS INT) AS stage_level,
  CASE stage_level
    WHEN 4 THEN first_customer_at
    WHEN 3 THEN first_bof_at
    WHEN 2 THEN first_mof_at
    ELSE first_tof_at
  END AS stage_reached_at,
  first_tof_at,
  first_mof_at,
  first_bof_at,
  first_customer_at,
  staged_conversions
FROM per_user
