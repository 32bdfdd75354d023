-- grain: one row per day (UTC) x from_stage x to_stage
-- key: day, from_stage, to_stage
-- description: Users moving to a further stage (TOF < MOF < BOF <
-- customer, as in funnel_stages): a move happens the first time a user
-- reaches a stage beyond every stage reached before; from_stage is the
-- furthest stage before (`(none)` for the first), so a user who goes from
-- TOF straight to a purchase moves TOF -> customer. Stages first reached at
-- the same instant count as one move, to the furthest of them.
WITH levels AS (
  SELECT
    user_id,
    CASE
      WHEN kind = 'macro' THEN 4
      WHEN stage = 'BOF' THEN 3
      WHEN stage = 'MOF' THEN 2
      WHEN stage = 'TOF' THEN 1
    END AS level,
    MIN(conversion_time) AS first_at
  FROM conversions
  WHERE kind = 'macro' OR stage IS NOT NULL
  GROUP BY 1, 2
),
ordered AS (
  SELECT
    user_id,
    level,
    first_at,
    MAX(level) OVER (
      PARTITION BY user_id ORDER BY first_at, level DESC
      ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING
    ) AS before_level
  FROM levels
),
moves AS (
  SELECT
    CAST(first_at AS DATE) AS day,
    COALESCE(before_level, 0) AS from_level,
    level AS to_level,
    user_id
  FROM ordered
  WHERE before_level IS NULL OR level > before_level
)
SELECT
  day,
  CASE from_level WHEN 0 THEN '(none)' WHEN 1 THEN 'TOF' WHEN 2 THEN 'MOF' WHEN 3 THEN 'BOF' END AS from_stage,
  CASE to_level WHEN 1 THEN 'TOF' WHEN 2 THEN 'MOF' WHEN 3 THEN 'BOF' ELSE 'customer' END AS to_stage,
  COUNT(*) AS users
FROM moves
GROUP BY day, from_level, to_level
