-- Each funnel's bottleneck over all users, and the segments significantly
-- worse than the rest at their worst step.
SELECT funnel, breakdown, breakdown_value, step, from_conversion,
       to_conversion, users, denominator, conversion_rate,
       conversion_rate_low, conversion_rate_high, rest_conversion_rate,
       p_adjusted
FROM friction_points
WHERE breakdown = '(all)' OR significantly_worse
ORDER BY funnel, breakdown <> '(all)', conversion_rate, breakdown, breakdown_value
