-- grain: one row per micro conversion x macro conversion
-- key: micro_conversion, macro_conversion
-- description: The lift of micro_conversion_lift adjusted for first touch:
-- the Cochran-Mantel-Haenszel pooled risk ratio over strata of first-touch
-- channel x device (Greenland-Robins interval) beside the crude one. When
-- they differ (crude_to_adjusted far from 1), part of the crude lift is
-- confounding by how the users arrived.
WITH g AS (
  SELECT
    micro,
    macro,
    COUNT(*) AS strata,
    SUM(CASE WHEN exposed > 0 AND users - exposed > 0 THEN 1 ELSE 0 END) AS informative_strata,
    SUM(users) AS users,
    SUM(exposed) AS exposed_users,
    risk_ratio(SUM(exposed_converters), SUM(exposed), SUM(converters) - SUM(exposed_converters),
      SUM(users) - SUM(exposed), $lift_confidence) AS crude,
    cmh_risk_ratio(exposed_converters, exposed, converters - exposed_converters, users - exposed,
      $lift_confidence) AS adjusted
  FROM lift_cells
  GROUP BY micro, macro
)
SELECT
  micro AS micro_conversion,
  macro AS macro_conversion,
  users,
  exposed_users,
  strata,
  informative_strata,
  crude['estimate'] AS crude_risk_ratio,
  crude['lower'] AS crude_lower,
  crude['upper'] AS crude_upper,
  adjusted['estimate'] AS adjusted_risk_ratio,
  adjusted['lower'] AS adjusted_lower,
  adjusted['upper'] AS adjusted_upper,
  adjusted['estimate'] - 1 AS adjusted_lift,
  adjusted['lower'] - 1 AS adjusted_lift_lower,
  adjusted['upper'] - 1 AS adjusted_lift_upper,
  crude['estimate'] / adjusted['estimate'] AS crude_to_adjusted
FROM g
