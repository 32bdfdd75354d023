-- grain: one row per customer (user with a macro conversion up to the as-of day)
-- key: user_id
-- description: Recency, frequency and monetary value per customer, as
-- lifetimes' summary_data_from_transaction_data: purchases are grouped by
-- UTC day (or hour, with [clv] purchase_grain = "hour"); frequency =
-- purchase periods - 1 (repeat purchases); recency = time from the first to
-- the last purchase period; t = time from the first purchase period to the
-- last period of the as-of day (both in [clv] time_unit: days, or weeks =
-- days / 7); monetary_value = mean revenue per repeat purchase period (0 when
-- frequency is 0). RFM scores are 1-5 by percent rank: score = min(5, 1 +
-- floor(5 * percent_rank)), ties share the lower score; R ranks days since
-- the last purchase (recent = high), F ranks frequency, M ranks total
-- revenue. The segment follows the R and F scores (see docs/tables.md).
WITH d AS (
  -- (a running FIRST_VALUE streams over its sort; MIN() OVER (PARTITION BY
  -- user_id) would hold all of its input in memory, outside the memory limit)
  SELECT *, FIRST_VALUE(period) OVER (PARTITION BY user_id ORDER BY period) AS first_period
  FROM clv_purchase_periods
),
c AS (
  SELECT
    user_id,
    first_period,
    MAX(period) AS last_period,
    MAX(day) AS last_day,
    MIN(first_time) AS first_purchase,
    MAX(last_time) AS last_purchase,
    COUNT(*) AS purchase_periods,
    SUM(orders) AS orders,
    SUM(revenue) AS total_revenue,
    AVG(CASE WHEN period > first_period THEN revenue END) AS repeat_period_value
  FROM d
  GROUP BY user_id, first_period
),
s AS (
  SELECT
    user_id,
    first_purchase,
    last_purchase,
    purchase_periods - 1 AS frequency,
    CAST(last_period - first_period AS DOUBLE) / ($clv_periods_per_day * $clv_unit_days) AS recency,
    CAST((CAST(CAST($as_of AS INT) AS BIGINT) + 1) * $clv_periods_per_day - 1 - first_period AS DOUBLE)
      / ($clv_periods_per_day * $clv_unit_days) AS t,
    COALESCE(repeat_period_value, 0.0) AS monetary_value,
    CAST(CAST($as_of AS INT) - CAST(last_day AS INT) AS BIGINT) AS days_since_last_purchase,
    orders,
    total_revenue
  FROM c
),
scored AS (
  SELECT
    *,
    LEAST(5, 1 + CAST(FLOOR(5 * PERCENT_RANK() OVER (ORDER BY days_since_last_purchase DESC)) AS BIGINT)) AS r_score,
    LEAST(5, 1 + CAST(FLOOR(5 * PERCENT_RANK() OVER (ORDER BY frequency)) AS BIGINT)) AS f_score,
    LEAST(5, 1 + CAST(FLOOR(5 * PERCENT_RANK() OVER (ORDER BY total_revenue)) AS BIGINT)) AS m_score
  FROM s
)
SELECT
  user_id,
  first_purchase,
  last_purchase,
  orders,
  frequency,
  recency,
  t,
  monetary_value,
  days_since_last_purchase,
  total_revenue,
  total_revenue / orders AS average_order_value,
  r_score,
  f_score,
  m_score,
  CAST(r_score AS VARCHAR) || CAST(f_score AS VARCHAR) || CAST(m_score AS VARCHAR) AS rfm_score,
  CASE
    WHEN r_score = 5 AND f_score >= 4 THEN 'Champions'
    WHEN r_score >= 3 AND f_score >= 4 THEN 'Loyal'
    WHEN r_score >= 4 AND f_score >= 2 THEN 'Potential loyalist'
    WHEN r_score = 5 THEN 'New'
    WHEN r_score = 4 THEN 'Promising'
    WHEN r_score = 3 THEN 'Need attention'
    WHEN f_score = 5 THEN 'Can''t lose'
    WHEN f_score >= 3 THEN 'At risk'
    WHEN r_score = 2 OR f_score = 2 THEN 'Hibernating'
    ELSE 'Lost'
  END AS segment,
  total_revenue AS historical_clv
FROM scored
