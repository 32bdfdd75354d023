-- grain: one row per micro conversion x macro conversion x segment (first-touch channel or device)
-- key: micro_conversion, macro_conversion, segment_type, segment
-- description: The lift of micro_conversion_lift within each first-touch
-- channel and each first-touch device (segment_type says which), with the
-- same interval, test and flags; q-values are Benjamini-Hochberg across all
-- rows of this table.
WITH seg AS (
  SELECT micro, macro, 'channel' AS segment_type, channel AS segment,
    SUM(users) AS users, SUM(exposed) AS exposed_users,
    SUM(exposed_converters) AS exposed_converters,
    SUM(converters) - SUM(exposed_converters) AS unexposed_converters
  FROM lift_cells
  GROUP BY micro, macro, channel
  UNION ALL
  SELECT micro, macro, 'device' AS segment_type, device AS segment,
    SUM(users), SUM(exposed), SUM(exposed_converters), SUM(converters) - SUM(exposed_converters)
  FROM lift_cells
  GROUP BY micro, macro, device
),
s AS (
  SELECT
    seg.*,
    users - exposed_users AS unexposed_users,
    CAST(exposed_users AS DOUBLE) / NULLIF(users, 0) AS prevalence,
    CAST(exposed_converters AS DOUBLE) / NULLIF(exposed_users, 0) AS p1,
    CAST(unexposed_converters AS DOUBLE) / NULLIF(users - exposed_users, 0) AS p0,
    risk_ratio(exposed_converters, exposed_users, unexposed_converters, users - exposed_users, $lift_confidence) AS rr,
    two_proportion_test(exposed_converters, exposed_users, unexposed_converters, users - exposed_users)
      AS p_value_method,
    two_proportion_p_value(exposed_converters, exposed_users, unexposed_converters, users - exposed_users)
      AS p_value
  FROM seg
)
SELECT
  micro AS micro_conversion,
  macro AS macro_conversion,
  segment_type,
  segment,
  users,
  exposed_users,
  unexposed_users,
  exposed_converters,
  unexposed_converters,
  prevalence,
  p1,
  p0,
  rr['estimate'] AS risk_ratio,
  rr['estimate'] - 1 AS lift,
  rr['lower'] - 1 AS lift_lower,
  rr['upper'] - 1 AS lift_upper,
  p_value,
  p_value_method,
  bh_q_value(p_value) OVER () AS q_value,
  exposed_users < $lift_min_group_users OR unexposed_users < $lift_min_group_users
    OR exposed_converters < $lift_min_converters OR unexposed_converters < $lift_min_converters AS low_sample
FROM s
