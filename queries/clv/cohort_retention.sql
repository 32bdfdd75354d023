-- grain: one row per acquisition cohort (UTC month of the first purchase) x months since it, up to the as-of month
-- key: cohort, months_since
-- description: Retention of customers by the month they first bought:
-- active_customers bought in that month (month 0 is the cohort month, so
-- everyone); retention_rate = active_customers / cohort_customers;
-- repeat_customers have made a repeat purchase (a second purchase period, see clv_rfm) by the
-- end of that month, repeat_purchase_rate = repeat_customers /
-- cohort_customers; revenue is the cohort's revenue in that month and
-- cumulative_revenue_per_customer its running total / cohort_customers. The
-- as-of month is partial.
WITH firsts AS (
  SELECT user_id, MIN(period) AS first_period, MIN(day) AS first_day
  FROM clv_purchase_periods
  GROUP BY user_id
),
c AS (
  SELECT
    user_id,
    first_period,
    first_day,
    CAST(date_part('year', first_day) * 12 + date_part('month', first_day) - 1 AS BIGINT) AS cohort_m
  FROM firsts
),
second AS (
  SELECT d.user_id, MIN(d.day) AS second_day
  FROM clv_purchase_periods d JOIN c ON d.user_id = c.user_id
  WHERE d.period > c.first_period
  GROUP BY d.user_id
),
monthly AS (
  SELECT
    c.cohort_m,
    CAST(date_part('year', d.day) * 12 + date_part('month', d.day) - 1 AS BIGINT) - c.cohort_m AS months_since,
    COUNT(DISTINCT d.user_id) AS active_customers,
    SUM(d.revenue) AS revenue
  FROM clv_purchase_periods d JOIN c ON d.user_id = c.user_id
  GROUP BY 1, 2
),
repeaters AS (
  SELECT
    c.cohort_m,
    CAST(date_part('year', s.second_day) * 12 + date_part('month', s.second_day) - 1 AS BIGINT) - c.cohort_m AS months_since,
    COUNT(*) AS new_repeaters
  FROM second s JOIN c ON s.user_id = c.user_id
  GROUP BY 1, 2
),
sizes AS (
  SELECT cohort_m, COUNT(*) AS cohort_customers FROM c GROUP BY cohort_m
),
grid AS (
  SELECT
    cohort_m,
    cohort_customers,
    unnest(range(0, CAST(date_part('year', $as_of) * 12 + date_part('month', $as_of) - 1 AS BIGINT) - cohort_m + 1)) AS months_since
  FROM sizes
),
joined AS (
  SELECT
    g.cohort_m,
    g.months_since,
    g.cohort_customers,
    COALESCE(m.active_customers, 0) AS active_customers,
    COALESCE(m.revenue, 0.0) AS revenue,
    COALESCE(r.new_repeaters, 0) AS new_repeaters
  FROM grid g
  LEFT JOIN monthly m ON g.cohort_m = m.cohort_m AND g.months_since = m.months_since
  LEFT JOIN repeaters r ON g.cohort_m = r.cohort_m AND g.months_since = r.months_since
)
SELECT
  make_date(CAST(cohort_m / 12 AS INT), CAST(cohort_m % 12 + 1 AS INT), 1) AS cohort,
  months_since,
  make_date(CAST((cohort_m + months_since) / 12 AS INT), CAST((cohort_m + months_since) % 12 + 1 AS INT), 1) AS month,
  cohort_customers,
  active_customers,
  CAST(active_customers AS DOUBLE) / cohort_customers AS retention_rate,
  SUM(new_repeaters) OVER (PARTITION BY cohort_m ORDER BY months_since) AS repeat_customers,
  CAST(SUM(new_repeaters) OVER (PARTITION BY cohort_m ORDER BY months_since) AS DOUBLE) / cohort_customers AS repeat_purchase_rate,
  revenue,
  SUM(revenue) OVER (PARTITION BY cohort_m ORDER BY months_since) / cohort_customers AS cumulative_revenue_per_customer
FROM joined
