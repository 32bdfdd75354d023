-- grain: one row per micro conversion x macro conversion
-- key: micro_conversion, macro_conversion
-- description: Does doing the micro conversion predict the macro one, by how
-- much and how surely? Users active in the lift window are split into
-- exposed (did the micro before their first macro, or at all if they never
-- converted) and unexposed. p1 and p0 are their conversion rates, lift =
-- p1/p0 - 1 with a log risk-ratio interval; odds ratio with Woolf's
-- interval; p-value by the pooled two-proportion z test, or Fisher's exact
-- test when an expected cell count is below 5; Benjamini-Hochberg q-value
-- across all rows. opportunity: extra macro conversions if prevalence rose by
-- $lift_opportunity_points points (capped at 100%) at the observed rates;
-- priority ranks the significant, adequately sampled, plausible rows by it.
WITH t AS (
  SELECT
    micro, micro_stage, macro,
    SUM(users) AS users,
    SUM(exposed) AS exposed_users,
    SUM(users) - SUM(exposed) AS unexposed_users,
    SUM(exposed_converters) AS exposed_converters,
    SUM(converters) - SUM(exposed_converters) AS unexposed_converters
  FROM lift_cells
  GROUP BY micro, micro_stage, macro
),
s AS (
  SELECT
    t.*,
    CAST(exposed_users AS DOUBLE) / NULLIF(users, 0) AS prevalence,
    CAST(exposed_converters AS DOUBLE) / NULLIF(exposed_users, 0) AS p1,
    CAST(unexposed_converters AS DOUBLE) / NULLIF(unexposed_users, 0) AS p0,
    risk_ratio(exposed_converters, exposed_users, unexposed_converters, unexposed_users, $lift_confidence) AS rr,
    odds_ratio(exposed_converters, exposed_users, unexposed_converters, unexposed_users, $lift_confidence) AS odds,
    two_proportion_test(exposed_converters, exposed_users, unexposed_converters, unexposed_users) AS p_value_method,
    two_proportion_p_value(exposed_converters, exposed_users, unexposed_converters, unexposed_users) AS p_value
  FROM t
),
p AS (
  SELECT
    s.*,
    exposed_users < $lift_min_group_users OR unexposed_users < $lift_min_group_users
      OR exposed_converters < $lift_min_converters OR unexposed_converters < $lift_min_converters AS low_sample,
    COALESCE(p1 >= $lift_too_good_p1, false) OR ps.conversion IS NOT NULL AS too_good_to_be_true,
    users * LEAST($lift_opportunity_points / 100.0, 1.0 - prevalence) * (p1 - p0) AS opportunity
  FROM s
  LEFT JOIN lift_purchase_steps ps ON ps.conversion = s.micro
),
q AS (
  SELECT p.*, bh_q_value(p_value) OVER () AS q_value FROM p
),
r AS (
  SELECT
    q.*,
    COALESCE(q_value < $lift_fdr, false) AS significant,
    COALESCE(q_value < $lift_fdr, false) AND NOT low_sample AND NOT too_good_to_be_true
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
  rr['estimate'] AS risk_ratio,
  rr['estimate'] - 1 AS lift,
  rr['lower'] - 1 AS lift_lower,
  rr['upper'] - 1 AS lift_upper,
  odds['estimate'] AS odds_ratio,
  odds['lower'] AS odds_ratio_lower,
  odds['upper'] AS odds_ratio_upper,
  p_value,
  p_value_method,
  q_value,
  significant,
  opportunity,
  CASE WHEN eligible
    THEN CAST(RANK() OVER (PARTITION BY macro, eligible ORDER BY opportunity DESC) AS BIGINT)
  END AS priority,
  low_sample,
  too_good_to_be_true
FROM r
