-- Each funnel over all users: one row per funnel × step.
SELECT funnel, step, conversion, users, pending, dropped,
       from_previous_denominator, conversion_from_previous,
       conversion_from_previous_low, conversion_from_previous_high,
       drop_off_rate, conversion_from_first,
       median_seconds_from_previous, p90_seconds_from_previous
FROM funnel_steps
WHERE breakdown = '(all)'
ORDER BY funnel, step
