-- Daily KPIs by channel: one row per day × channel (the `(all)` row too).
SELECT day, channel, users, sessions, converting_sessions, conversion_rate,
       macro_conversions, micro_conversions, revenue
FROM daily_kpis
ORDER BY day, channel
