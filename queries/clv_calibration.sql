-- grain: one row per customer whose first purchase falls in the calibration period
-- description: The calibration/holdout split for clv_validation, as
-- lifetimes' calibration_and_holdout_data. With [clv] holdout set, the
-- calibration period ends $clv_holdout_days days before the as-of day and
-- the holdout is the rest of the history; otherwise, when the input has
-- events after the as-of day (a backtest), the calibration period is the
-- history and the holdout runs to the day of the latest valid event. No
-- rows when there is no holdout. frequency, recency, t and monetary_value
-- are as in clv_rfm, over the calibration period; holdout_purchases counts
-- purchase days in the holdout; holdout_length is its length in time units.
-- output: internal
WITH after AS (
  SELECT
    MAX(CAST(day AS INT)) AS last_day
  FROM clv_activity_after_as_of
),
split AS (
  SELECT
    CASE WHEN $clv_holdout_days > 0 THEN 'holdout' ELSE 'after_as_of' END AS source,
    CASE
      WHEN $clv_holdout_days > 0 THEN CAST($as_of AS INT) - CAST($clv_holdout_days AS INT)
      ELSE CAST($as_of AS INT)
    END AS cal_end,
    CASE WHEN $clv_holdout_days > 0 THEN CAST($as_of AS INT) ELSE after.last_day END AS obs_end
  FROM after
),
days AS (
  SELECT user_id, CAST(day AS INT) AS d, revenue FROM clv_purchase_days
  UNION ALL
  SELECT user_id, CAST(day AS INT) AS d, revenue
  FROM clv_activity_after_as_of
  WHERE orders > 0 AND $clv_holdout_days = 0
),
cal AS (
  SELECT
    days.user_id,
    MIN(days.d) AS first_d,
    MAX(days.d) AS last_d,
    COUNT(*) AS purchase_days
  FROM days CROSS JOIN split
  WHERE days.d <= split.cal_end
  GROUP BY days.user_id
),
cal_value AS (
  SELECT days.user_id, AVG(days.revenue) AS repeat_day_value
  FROM days JOIN cal ON days.user_id = cal.user_id
  CROSS JOIN split
  WHERE days.d > cal.first_d AND days.d <= split.cal_end
  GROUP BY days.user_id
),
hold AS (
  SELECT days.user_id, COUNT(*) AS holdout_purchases
  FROM days CROSS JOIN split
  WHERE days.d > split.cal_end AND days.d <= split.obs_end
  GROUP BY days.user_id
)
SELECT
  cal.user_id,
  split.source,
  CAST(split.cal_end AS DATE) AS calibration_end,
  CAST(split.obs_end AS DATE) AS holdout_end,
  CAST(split.obs_end - split.cal_end AS BIGINT) AS holdout_days,
  cal.purchase_days - 1 AS frequency,
  CAST(cal.last_d - cal.first_d AS DOUBLE) / $clv_unit_days AS recency,
  CAST(split.cal_end - cal.first_d AS DOUBLE) / $clv_unit_days AS t,
  COALESCE(cal_value.repeat_day_value, 0.0) AS monetary_value,
  COALESCE(hold.holdout_purchases, 0) AS holdout_purchases,
  CAST(split.obs_end - split.cal_end AS DOUBLE) / $clv_unit_days AS holdout_length
FROM cal
CROSS JOIN split
LEFT JOIN cal_value ON cal.user_id = cal_value.user_id
LEFT JOIN hold ON cal.user_id = hold.user_id
WHERE split.obs_end > split.cal_end
