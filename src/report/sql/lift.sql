-- Micro-conversion lift: one row per micro × macro conversion, the ranked
-- ones first.
SELECT micro_conversion, micro_stage, macro_conversion, users, exposed_users,
       exposed_converters, unexposed_users, unexposed_converters, prevalence,
       p1, p0, risk_ratio, lift_lower + 1 AS risk_ratio_lower,
       lift_upper + 1 AS risk_ratio_upper, p_value, q_value, significant,
       opportunity, priority, low_sample, too_good_to_be_true
FROM micro_conversion_lift
ORDER BY macro_conversion, priority NULLS LAST, risk_ratio DESC NULLS LAST,
         micro_conversion
