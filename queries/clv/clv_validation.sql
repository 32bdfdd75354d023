-- grain: one row per calibration frequency bucket (0..6, 7+), plus one '(all)' row; no rows without a holdout
-- key: frequency_bucket
-- description: How well the BG/NBD model predicts purchases it has not
-- seen (lifetimes' calibration-vs-holdout check). The model is fitted on the
-- calibration period (clv_model sample 'calibration'); for each customer it
-- predicts the purchase periods (days, see clv_rfm) in the holdout, compared with the actual ones.
-- error = predicted - actual (sums over the bucket); relative_error =
-- error / actual; mean_absolute_error = mean over customers of
-- |predicted - actual|. See clv_calibration for how the holdout is chosen.
WITH bg AS (
  SELECT r, alpha, a, b FROM clv_model WHERE model = 'bgnbd' AND sample = 'calibration'
),
p AS (
  SELECT
    c.*,
    CASE WHEN c.frequency >= 7 THEN '7+' ELSE CAST(c.frequency AS VARCHAR) END AS bucket,
    LEAST(c.frequency, 7) AS bucket_order,
    bgnbd_expected_purchases(bg.r, bg.alpha, bg.a, bg.b, c.frequency, c.recency, c.t, c.holdout_length) AS predicted
  FROM clv_calibration c CROSS JOIN bg
),
g AS (
  SELECT
    source,
    calibration_end,
    holdout_end,
    holdout_days,
    CASE WHEN grouping(bucket) = 1 THEN '(all)' ELSE bucket END AS frequency_bucket,
    CASE WHEN grouping(bucket) = 1 THEN 8 ELSE MIN(bucket_order) END AS bucket_order,
    COUNT(*) AS customers,
    SUM(holdout_purchases) AS actual_purchases,
    SUM(predicted) AS predicted_purchases,
    AVG(ABS(predicted - holdout_purchases)) AS mean_absolute_error
  FROM p
  GROUP BY GROUPING SETS (
    (source, calibration_end, holdout_end, holdout_days, bucket),
    (source, calibration_end, holdout_end, holdout_days)
  )
)
SELECT
  source,
  calibration_end,
  holdout_end,
  holdout_days,
  frequency_bucket,
  customers,
  actual_purchases,
  predicted_purchases,
  predicted_purchases - actual_purchases AS error,
  CASE WHEN actual_purchases > 0 THEN (predicted_purchases - actual_purchases) / actual_purchases END AS relative_error,
  mean_absolute_error
FROM g
ORDER BY bucket_order
