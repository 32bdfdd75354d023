-- grain: one row per customer (as clv_rfm)
-- key: user_id
-- description: Forward-looking value per customer from the 'full' fits in
-- clv_model: p_alive = P(still active | frequency, recency, t) (BG/NBD);
-- expected_purchases = expected repeat purchase periods (days, see clv_rfm) in the next
-- $clv_horizon_days days; expected_order_value = Gamma-Gamma conditional
-- mean value of a purchase period (the population mean for one-time buyers);
-- predicted_clv = expected purchases x expected order value, month by month
-- (30 days) discounted at $clv_monthly_discount_rate per month. value_tier
-- ranks predicted_clv: top (top 10%), high (next 20%), medium (next 30%),
-- low (the rest). All NULL when a model could not be fitted.
WITH bg AS (
  SELECT r, alpha, a, b FROM clv_model WHERE model = 'bgnbd' AND sample = 'full'
),
gg AS (
  SELECT p, q, gamma FROM clv_model WHERE model = 'gamma_gamma' AND sample = 'full'
),
pred AS (
  SELECT
    c.user_id,
    c.frequency,
    c.recency,
    c.t,
    c.monetary_value,
    bgnbd_p_alive(bg.r, bg.alpha, bg.a, bg.b, c.frequency, c.recency, c.t) AS p_alive,
    bgnbd_expected_purchases(bg.r, bg.alpha, bg.a, bg.b, c.frequency, c.recency, c.t,
      $clv_horizon_days / $clv_unit_days) AS expected_purchases,
    gamma_gamma_expected_value(gg.p, gg.q, gg.gamma, c.frequency, c.monetary_value) AS expected_order_value,
    bgnbd_clv(bg.r, bg.alpha, bg.a, bg.b, c.frequency, c.recency, c.t,
      gamma_gamma_expected_value(gg.p, gg.q, gg.gamma, c.frequency, c.monetary_value),
      $clv_horizon_days / $clv_unit_days, $clv_monthly_discount_rate, 30.0 / $clv_unit_days) AS predicted_clv
  FROM clv_rfm c CROSS JOIN bg CROSS JOIN gg
),
ranked AS (
  SELECT
    *,
    CASE WHEN predicted_clv IS NOT NULL
      THEN PERCENT_RANK() OVER (ORDER BY predicted_clv DESC NULLS LAST)
    END AS clv_rank
  FROM pred
)
SELECT
  user_id,
  frequency,
  recency,
  t,
  monetary_value,
  p_alive,
  CAST($clv_horizon_days AS BIGINT) AS horizon_days,
  expected_purchases,
  expected_order_value,
  predicted_clv,
  CASE
    WHEN clv_rank IS NULL THEN NULL
    WHEN clv_rank < 0.1 THEN 'top'
    WHEN clv_rank < 0.3 THEN 'high'
    WHEN clv_rank < 0.6 THEN 'medium'
    ELSE 'low'
  END AS value_tier
FROM ranked
