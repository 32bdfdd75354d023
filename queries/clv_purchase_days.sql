-- grain: one row per customer x UTC day with a macro conversion (purchase), up to the as-of day
-- description: Purchases grouped by day, the unit of the CLV models (as
-- lifetimes' summary_data_from_transaction_data with freq "D"): orders is
-- the number of macro conversions that day, revenue the sum of their values
-- (a conversion without a value counts 0).
-- output: internal
SELECT
  user_id,
  CAST(conversion_time AS DATE) AS day,
  MIN(conversion_time) AS first_time,
  MAX(conversion_time) AS last_time,
  COUNT(*) AS orders,
  SUM(COALESCE(value, 0.0)) AS revenue
FROM conversions
WHERE kind = 'macro'
GROUP BY user_id, CAST(conversion_time AS DATE)
