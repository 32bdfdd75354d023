-- grain: one row per fitted model (bgnbd, gamma_gamma) x sample (full history; calibration period when there is a holdout)
-- key: model, sample
-- description: Maximum-likelihood fits of the BG/NBD model (r, alpha, a, b:
-- purchase rate ~ Gamma(r, alpha), dropout ~ Beta(a, b)) and the
-- Gamma-Gamma spend model (p, q, gamma) over clv_rfm ('full') and, when
-- clv_validation has a holdout, over the calibration period
-- ('calibration'). BG/NBD is fitted on the distinct (frequency, recency, t)
-- with counts; Gamma-Gamma on repeat customers (frequency > 0, monetary_value
-- > 0). alpha is in [clv] time_unit. Standard errors come from the inverse
-- numerical Hessian; parameters are NULL when the data cannot identify them
-- (no repeat customer).
WITH full_groups AS (
  SELECT frequency, recency, t, COUNT(*) AS n FROM clv_rfm GROUP BY frequency, recency, t
),
cal_groups AS (
  SELECT frequency, recency, t, COUNT(*) AS n FROM clv_calibration GROUP BY frequency, recency, t
),
bg AS (
  SELECT 'full' AS sample, bgnbd_fit(frequency, recency, t, n) AS f FROM full_groups
  UNION ALL
  SELECT 'calibration' AS sample, bgnbd_fit(frequency, recency, t, n) AS f FROM cal_groups
),
gg AS (
  SELECT 'full' AS sample, gamma_gamma_fit(frequency, monetary_value) AS f FROM clv_rfm
  UNION ALL
  SELECT 'calibration' AS sample, gamma_gamma_fit(frequency, monetary_value) AS f FROM clv_calibration
),
cal_size AS (
  SELECT COUNT(*) AS n FROM clv_calibration
)
SELECT
  'bgnbd' AS model,
  bg.sample,
  CAST($clv_time_unit AS VARCHAR) AS time_unit,
  bg.f['customers'] AS customers,
  bg.f['converged'] AS converged,
  bg.f['iterations'] AS iterations,
  bg.f['log_likelihood'] AS log_likelihood,
  bg.f['r'] AS r,
  bg.f['alpha'] AS alpha,
  bg.f['a'] AS a,
  bg.f['b'] AS b,
  CAST(NULL AS DOUBLE) AS p,
  CAST(NULL AS DOUBLE) AS q,
  CAST(NULL AS DOUBLE) AS gamma,
  bg.f['r_se'] AS r_se,
  bg.f['alpha_se'] AS alpha_se,
  bg.f['a_se'] AS a_se,
  bg.f['b_se'] AS b_se,
  CAST(NULL AS DOUBLE) AS p_se,
  CAST(NULL AS DOUBLE) AS q_se,
  CAST(NULL AS DOUBLE) AS gamma_se
FROM bg CROSS JOIN cal_size
WHERE bg.sample = 'full' OR cal_size.n > 0
UNION ALL
SELECT
  'gamma_gamma' AS model,
  gg.sample,
  CAST($clv_time_unit AS VARCHAR) AS time_unit,
  gg.f['customers'] AS customers,
  gg.f['converged'] AS converged,
  gg.f['iterations'] AS iterations,
  gg.f['log_likelihood'] AS log_likelihood,
  CAST(NULL AS DOUBLE) AS r,
  CAST(NULL AS DOUBLE) AS alpha,
  CAST(NULL AS DOUBLE) AS a,
  CAST(NULL AS DOUBLE) AS b,
  gg.f['p'] AS p,
  gg.f['q'] AS q,
  gg.f['gamma'] AS gamma,
  CAST(NULL AS DOUBLE) AS r_se,
  CAST(NULL AS DOUBLE) AS alpha_se,
  CAST(NULL AS DOUBLE) AS a_se,
  CAST(NULL AS DOUBLE) AS b_se,
  gg.f['p_se'] AS p_se,
  gg.f['q_se'] AS q_se,
  gg.f['gamma_se'] AS gamma_se
FROM gg CROSS JOIN cal_size
WHERE gg.sample = 'full' OR cal_size.n > 0
