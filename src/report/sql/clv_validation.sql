-- Calibration vs holdout, per frequency bucket (empty without a holdout).
SELECT source, calibration_end, holdout_end, frequency_bucket, customers,
       actual_purchases, predicted_purchases, relative_error
FROM clv_validation
ORDER BY frequency_bucket = '(all)', frequency_bucket
