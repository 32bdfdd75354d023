-- grain: one row per customer whose first purchase falls in the calibration period
-- key: user_id
-- description: The calibration/holdout split for clv_validation, as
-- lifetimes' calibration_and_holdout_data. With [clv] holdout set, the
-- calibration period ends $clv_holdout_days days before the as-of day and
-- the holdout is the rest of the history; otherwise, when the input has
-- events after the as-of day (a backtest), the calibration period is the
-- history and the holdout runs to the day of the latest valid event. No
-- rows when there is no holdout. frequency, recency, t and monetary_value
-- are as in clv_rfm, over the calibration period (which ends with the last
-- purchase period of calibration_end); holdout_purchases counts purchase
-- periods in the holdout; holdout_length is its length in time units.
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
bounds AS (
  SELECT
    source,
    cal_end,
    obs_end,
    (CAST(cal_end AS BIGINT) + 1) * $clv_periods_per_day - 1 AS cal_end_p,
    (CAST(obs_end AS BIGINT) + 1) * $clv_periods_per_day - 1 AS obs_end_p
  FROM split
),
periods AS (
  SELECT user_id, period AS d, revenue FROM clv_purchase_periods
  UNION ALL
  SELECT user_id, period AS d, revenue
  FROM clv_activity_after_as_of
  WHERE orders > 0 AND $clv_holdout_days = 0
),
cal AS (
  SELECT
    periods.user_id,
    MIN(periods.d) AS first_d,
    MAX(periods.d) AS last_d,
    COUNT(*) AS purchase_periods
  FROM periods CROSS JOIN bounds
  WHERE periods.d <= bounds.cal_end_p
  GROUP BY periods.user_id
),
cal_value AS (
  SELECT periods.user_id, AVG(periods.revenue) AS repeat_period_value
  FROM periods JOIN cal ON periods.user_id = cal.user_id
  CROSS JOIN bounds
  WHERE periods.d > cal.first_d AND periods.d <= bounds.cal_end_p
  GROUP BY periods.user_id
),
hold AS (
  SELECT periods.user_id, COUNT(*) AS holdout_purchases
  FROM periods CROSS JOIN bounds
  WHERE periods.d > bounds.cal_end_p AND periods.d <= bounds.obs_end_p
  GROUP BY periods.user_id
)
SELECT
  cal.user_id,
  bounds.source,
  CAST(bounds.cal_end AS DATE) AS calibration_end,
  CAST(bounds.obs_end AS DATE) AS holdout_end,
  CAST(bounds.obs_end - bounds.cal_end AS BIGINT) AS holdout_days,
  cal.purchase_periods - 1 AS frequency,
  CAST(cal.last_d - cal.first_d AS DOUBLE) / ($clv_periods_per_day * $clv_unit_days) AS recency,
  CAST(bounds.cal_end_p - cal.first_d AS DOUBLE) / ($clv_periods_per_day * $clv_unit_days) AS t,
  COALESCE(cal_value.repeat_period_value, 0.0) AS monetary_value,
  COALESCE(hold.holdout_purchases, 0) AS holdout_purchases,
  CAST(bounds.obs_end - bounds.cal_end AS DOUBLE) / $clv_unit_days AS holdout_length
FROM cal
CROSS JOIN bounds
LEFT JOIN cal_value ON cal.user_id = cal_value.user_id
LEFT JOIN hold ON cal.user_id = hold.user_id
WHERE bounds.obs_end > bounds.cal_end
