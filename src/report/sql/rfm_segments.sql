-- Customers per RFM segment.
SELECT segment, COUNT(*) AS customers, SUM(total_revenue) AS revenue,
       AVG(total_revenue) AS revenue_per_customer
FROM clv_rfm
GROUP BY segment
ORDER BY customers DESC, segment
