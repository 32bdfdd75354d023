-- Credit by channel under each model (channel totals), with cost and ROAS
-- where costs were given.
SELECT model, channel, credited_conversions, credited_revenue, cost, roas,
       cost_per_conversion
FROM channel_attribution
WHERE campaign = '(all)'
ORDER BY model, channel
