-- Customers and predicted value per CLV tier.
SELECT value_tier, COUNT(*) AS customers,
       SUM(predicted_clv) AS predicted_clv,
       AVG(predicted_clv) AS predicted_clv_per_customer,
       AVG(p_alive) AS mean_p_alive
FROM clv_predictions
WHERE value_tier IS NOT NULL
GROUP BY value_tier
ORDER BY CASE value_tier WHEN 'top' THEN 1 WHEN 'high' THEN 2
                         WHEN 'medium' THEN 3 ELSE 4 END
