-- grain: one row per experiment x variant x conversion
-- key: experiment, variant, conversion
-- description: A/B tests read from the events' experiment/variant columns.
-- A user is assigned at their first event carrying the experiment; users seen
-- in more than one variant are excluded (multi_variant_users counts them).
-- Conversions count from assignment on. rate = converters / users; the lift
-- is relative to the control variant ([[experiments]] control, else one
-- named `control`, else the first alphabetically) with a log risk-ratio
-- interval and a z or Fisher p-value (q-value: Benjamini-Hochberg within the
-- experiment). Revenue per user (macro conversion values) is compared by a
-- delta-method interval and Welch's t test. srm_p_value tests the users per
-- variant against the expected split (weights, default equal).
WITH multi AS (
  SELECT experiment, SUM(CASE WHEN variants > 1 THEN 1 ELSE 0 END) AS multi_variant_users
  FROM experiment_assignments
  GROUP BY experiment
),
assigned AS (
  SELECT experiment, user_id, variant, assigned_at FROM experiment_assignments WHERE variants = 1
),
variants AS (
  SELECT experiment, variant, COUNT(*) AS users FROM assigned GROUP BY experiment, variant
),
controls AS (
  SELECT
    v.experiment,
    COALESCE(MAX(d.control_variant), MAX(CASE WHEN v.variant = 'control' THEN v.variant END), MIN(v.variant)) AS control_variant
  FROM variants v
  LEFT JOIN experiment_definitions d ON d.experiment = v.experiment
  GROUP BY v.experiment
),
weighted AS (
  SELECT COALESCE(v.experiment, w.experiment) AS experiment, COALESCE(v.users, 0) AS users, w.weight
  FROM variants v
  FULL JOIN experiment_weights w ON w.experiment = v.experiment AND w.variant = v.variant
),
configured AS (SELECT DISTINCT experiment FROM experiment_weights),
srm AS (
  SELECT
    x.experiment,
    CASE WHEN SUM(CASE WHEN c.experiment IS NOT NULL AND x.weight IS NULL THEN 1 ELSE 0 END) = 0
      THEN srm_p_value(x.users, COALESCE(x.weight, 1.0))
    END AS srm_p_value
  FROM weighted x
  LEFT JOIN configured c ON c.experiment = x.experiment
  GROUP BY x.experiment
),
listed AS (SELECT DISTINCT experiment FROM experiment_conversions),
metrics AS (
  SELECT e.experiment, d.name AS conversion, d.kind
  FROM (SELECT DISTINCT experiment FROM variants) e
  CROSS JOIN conversion_definitions d
  LEFT JOIN listed l ON l.experiment = e.experiment
  LEFT JOIN experiment_conversions ec ON ec.experiment = e.experiment AND ec.conversion = d.name
  WHERE l.experiment IS NULL OR ec.conversion IS NOT NULL
),
user_conversions AS (
  SELECT DISTINCT a.experiment, a.variant, a.user_id, c.conversion
  FROM assigned a
  JOIN conversions c ON c.user_id = a.user_id AND c.conversion_time >= a.assigned_at
),
converters AS (
  SELECT experiment, variant, conversion, COUNT(*) AS converters
  FROM user_conversions
  GROUP BY experiment, variant, conversion
),
user_revenue AS (
  SELECT a.experiment, a.variant, a.user_id, COALESCE(SUM(c.value), 0.0) AS revenue
  FROM assigned a
  LEFT JOIN conversions c
    ON c.user_id = a.user_id AND c.kind = 'macro' AND c.conversion_time >= a.assigned_at
  GROUP BY a.experiment, a.variant, a.user_id
),
revenue AS (
  SELECT experiment, variant, SUM(revenue) AS revenue, AVG(revenue) AS mean, STDDEV(revenue) AS sd
  FROM user_revenue
  GROUP BY experiment, variant
),
rows AS (
  SELECT
    v.experiment,
    v.variant,
    k.control_variant,
    v.variant = k.control_variant AS is_control,
    v.users,
    COALESCE(mu.multi_variant_users, 0) AS multi_variant_users,
    sr.srm_p_value,
    m.conversion,
    m.kind,
    COALESCE(cv.converters, 0) AS converters,
    cu.users AS control_users,
    COALESCE(cc.converters, 0) AS control_converters,
    rv.revenue,
    rv.mean AS revenue_per_user,
    rv.sd AS revenue_sd,
    cr.mean AS control_revenue_per_user,
    cr.sd AS control_revenue_sd
  FROM variants v
  JOIN controls k ON k.experiment = v.experiment
  JOIN metrics m ON m.experiment = v.experiment
  LEFT JOIN multi mu ON mu.experiment = v.experiment
  LEFT JOIN srm sr ON sr.experiment = v.experiment
  LEFT JOIN converters cv ON cv.experiment = v.experiment AND cv.variant = v.variant AND cv.conversion = m.conversion
  LEFT JOIN variants cu ON cu.experiment = v.experiment AND cu.variant = k.control_variant
  LEFT JOIN converters cc ON cc.experiment = v.experiment AND cc.variant = k.control_variant AND cc.conversion = m.conversion
  LEFT JOIN revenue rv ON rv.experiment = v.experiment AND rv.variant = v.variant
  LEFT JOIN revenue cr ON cr.experiment = v.experiment AND cr.variant = k.control_variant
),
tested AS (
  SELECT
    r.*,
    CASE WHEN NOT is_control AND control_users IS NOT NULL
      THEN risk_ratio(converters, users, control_converters, control_users, $lift_confidence)
    END AS rr,
    CASE WHEN NOT is_control
      THEN two_proportion_test(converters, users, control_converters, control_users)
    END AS p_value_method,
    CASE WHEN NOT is_control
      THEN two_proportion_p_value(converters, users, control_converters, control_users)
    END AS p_value,
    CASE WHEN NOT is_control AND control_users IS NOT NULL
      THEN mean_ratio(revenue_per_user, revenue_sd, users, control_revenue_per_user, control_revenue_sd, control_users, $lift_confidence)
    END AS revenue_ratio
  FROM rows r
)
SELECT
  experiment,
  variant,
  control_variant,
  is_control,
  users,
  multi_variant_users,
  srm_p_value,
  COALESCE(srm_p_value < $lift_srm_alpha, false) AS sample_ratio_mismatch,
  conversion,
  kind,
  converters,
  CAST(converters AS DOUBLE) / users AS rate,
  CAST(control_converters AS DOUBLE) / control_users AS control_rate,
  rr['estimate'] - 1 AS relative_lift,
  rr['lower'] - 1 AS lift_lower,
  rr['upper'] - 1 AS lift_upper,
  p_value,
  p_value_method,
  bh_q_value(p_value) OVER (PARTITION BY experiment) AS q_value,
  revenue,
  revenue_per_user,
  revenue_ratio['estimate'] - 1 AS revenue_lift,
  revenue_ratio['lower'] - 1 AS revenue_lift_lower,
  revenue_ratio['upper'] - 1 AS revenue_lift_upper,
  CASE WHEN NOT is_control
    THEN welch_t_test_p_value(revenue_per_user, revenue_sd, users, control_revenue_per_user, control_revenue_sd, control_users)
  END AS revenue_p_value
FROM tested
