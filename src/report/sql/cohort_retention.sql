-- Retention by acquisition cohort and months since.
SELECT cohort, months_since, cohort_customers, active_customers,
       retention_rate
FROM cohort_retention
ORDER BY cohort, months_since
