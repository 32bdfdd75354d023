-- grain: one row per micro conversion x macro conversion
-- description: queries/lift/micro_conversion_lift.sql. microconv's Rust
-- statistics functions (risk_ratio, odds_ratio, two_proportion_test,
-- two_proportion_p_value, bh_q_value) are the macros of macros.sql, with the
-- same formulas; the critical z of [lift] confidence is computed once by
-- duckdb_side.py (DuckDB has no normal quantile) and passed as $lift_z.
WITH t AS (
  SELECT
    micro, micro_stage, macro,
    CAST(SUM(users) AS BIGINT) AS users,
    CAST(SUM(exposed) AS BIGINT) AS exposed_users,
    CAST(SUM(users) - SUM(exposed) AS BIGINT) AS unexposed_users,
    CAST(SUM(exposed_converters) AS BIGINT) AS exposed_converters,
    CAST(SUM(converters) - SUM(exposed_converters) AS BIGINT) AS unexposed_converters
  FROM lift_cells
  GROUP BY micro, micro_stage, macro
),
s AS (
  SELECT
    t.*,
    CAST(exposed_users AS DOUBLE) / NULLIF(users, 0) AS prevalence,
    CAST(exposed_converters AS DOUBLE) / NULLIF(exposed_users, 0) AS p1,
    CAST(unexposed_converters AS DOUBLE) / NULLIF(unexposed_users, 0) AS p0,
    risk_ratio(exposed_converters::DOUBLE, exposed_users::DOUBLE,
      unexposed_converters::DOUBLE, unexposed_users::DOUBLE, getvariable('lift_z')) AS rr,
    odds_ratio(exposed_converters::DOUBLE, exposed_users::DOUBLE,
      unexposed_converters::DOUBLE, unexposed_users::DOUBLE, getvariable('lift_z')) AS odds,
    two_proportion_test(exposed_converters::DOUBLE, exposed_users::DOUBLE,
      unexposed_converters::DOUBLE, unexposed_users::DOUBLE) AS p_value_method,
    two_proportion_p_value(exposed_converters::DOUBLE, exposed_users::DOUBLE,
      unexposed_converters::DOUBLE, unexposed_users::DOUBLE) AS p_value
  FROM t
),
p AS (
  SELECT
    s.*,
    exposed_users < getvariable('lift_min_group_users') OR unexposed_users < getvariable('lift_min_group_users')
      OR exposed_converters < getvariable('lift_min_converters')
      OR unexposed_converters < getvariable('lift_min_converters') AS low_sample,
    COALESCE(p1 >= getvariable('lift_too_good_p1'), false) OR ps.conversion IS NOT NULL AS too_good_to_be_true,
    users * LEAST(getvariable('lift_opportunity_points') / 100.0, 1.0 - prevalence) * (p1 - p0) AS opportunity
  FROM s
  LEFT JOIN lift_purchase_steps ps ON ps.conversion = s.micro
),
-- bh_q_value(p_value) OVER (): q_(i) = min over j >= i of m p_(j) / j, at most 1
ranked AS (
  SELECT
    p.*,
    ROW_NUMBER() OVER (ORDER BY p_value NULLS LAST) AS bh_rank,
    COUNT(p_value) OVER () AS bh_m
  FROM p
),
q AS (
  SELECT
    ranked.*,
    CASE WHEN p_value IS NOT NULL THEN LEAST(1.0, MIN(p_value * bh_m / bh_rank) OVER (
      ORDER BY bh_rank DESC ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW))
    END AS q_value
  FROM ranked
),
r AS (
  SELECT
    q.*,
    COALESCE(q_value < getvariable('lift_fdr'), false) AS significant,
    COALESCE(q_value < getvariable('lift_fdr'), false) AND NOT low_sample AND NOT too_good_to_be_true
      AND COALESCE(opportunity > 0, false) AS eligible
  FROM q
)
SELECT
  micro AS micro_conversion,
  micro_stage,
  macro AS macro_conversion,
  users,
  exposed_users,
  unexposed_users,
  exposed_converters,
  unexposed_converters,
  prevalence,
  p1,
  p0,
  p1 - p0 AS abs_difference,
  rr.estimate AS risk_ratio,
  rr.estimate - 1 AS lift,
  rr.lower - 1 AS lift_lower,
  rr.upper - 1 AS lift_upper,
  odds.estimate AS odds_ratio,
  odds.lower AS odds_ratio_lower,
  odds.upper AS odds_ratio_upper,
  p_value,
  p_value_method,
  q_value,
  significant,
  opportunity,
  CASE WHEN eligible
    THEN RANK() OVER (PARTITION BY macro, eligible ORDER BY opportunity DESC)
  END AS priority,
  low_sample,
  too_good_to_be_true
FROM r
