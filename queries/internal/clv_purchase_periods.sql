-- grain: one row per customer x purchase period (UTC day, or UTC hour with [clv] purchase_grain = "hour") with a macro conversion (purchase), up to the as-of day
-- key: user_id, period
-- description: Purchases grouped into periods, the unit of the CLV models
-- (as lifetimes' summary_data_from_transaction_data with freq "D", or "h"):
-- period is the period's index since 1970-01-01 (days, or hours), day the
-- UTC day it lies in, orders the number of macro conversions in it, revenue
-- the sum of their values (a conversion without a value counts 0).
-- output: internal
SELECT
  user_id,
  CAST(conversion_time AS BIGINT) / (86400000000 / $clv_periods_per_day) AS period,
  CAST(MIN(conversion_time) AS DATE) AS day,
  MIN(conversion_time) AS first_time,
  MAX(conversion_time) AS last_time,
  COUNT(*) AS orders,
  SUM(COALESCE(value, 0.0)) AS revenue
FROM conversions
WHERE kind = 'macro'
GROUP BY user_id, CAST(conversion_time AS BIGINT) / (86400000000 / $clv_periods_per_day)
