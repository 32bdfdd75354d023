-- A/B tests: each variant against its control, per conversion.
SELECT experiment, variant, control_variant, is_control, users,
       srm_p_value, sample_ratio_mismatch, conversion, kind, converters,
       rate, control_rate, relative_lift, lift_lower, lift_upper, p_value,
       q_value
FROM experiments
ORDER BY experiment, kind DESC, conversion, is_control DESC, variant
