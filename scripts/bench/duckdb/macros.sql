-- Functions microconv has and DuckDB lacks, as DuckDB macros.

-- A UTC timestamp as Arrow casts it to text (what microconv keeps as the
-- source's event_time_raw): RFC 3339 with 0, 3 or 6 fraction digits, the
-- fewest that are exact, and a Z.
CREATE OR REPLACE MACRO arrow_timestamp_text(t) AS (
  strftime(t::TIMESTAMP, '%Y-%m-%dT%H:%M:%S')
  || CASE
       WHEN epoch_us(t) % 1000000 = 0 THEN ''
       WHEN epoch_us(t) % 1000 = 0 THEN '.' || lpad(CAST((epoch_us(t) % 1000000 + 1000000) % 1000000 // 1000 AS VARCHAR), 3, '0')
       ELSE '.' || lpad(CAST((epoch_us(t) % 1000000 + 1000000) % 1000000 AS VARCHAR), 6, '0')
     END
  || 'Z'
);

-- The statistics functions the lift query needs (DuckDB has no normal CDF,
-- Fisher test or Benjamini-Hochberg). They follow
-- src/functions/stats/math.rs formula for formula; only the normal tail is
-- computed differently (statrs uses erfc; here a series and a continued
-- fraction, agreeing with it to about 1e-13 relative).

-- Upper tail of the standard normal, P(Z > x), for x >= 0: below 3 from
-- Marsaglia's series Phi(x) = 1/2 + phi(x) * sum x^(2k+1) / (2k+1)!!, from 3
-- on from the continued fraction of Mills' ratio evaluated backwards.
CREATE OR REPLACE MACRO norm_sf_pos(x) AS (
  CASE
    WHEN x IS NULL THEN NULL
    WHEN x = 0 THEN 0.5
    WHEN x < 3 THEN
      0.5 - exp(-x * x / 2) / sqrt(2 * pi()) * list_sum(list_transform(range(0, 120),
        lambda k: exp((2 * k + 1) * ln(x) - ((k + 1) * ln(2) + lgamma(k + 1.5) - 0.5 * ln(pi())))))
    ELSE
      exp(-x * x / 2) / sqrt(2 * pi())
        / list_reduce([x] || range(600, 0, -1)::DOUBLE[], lambda acc, k: x + k / acc)
  END
);

-- Katz log risk-ratio interval (math.rs risk_ratio).
CREATE OR REPLACE MACRO risk_ratio(x1, n1, x0, n0, z) AS (
  CASE
    WHEN n1 = 0 OR n0 = 0 OR x0 = 0 THEN
      {'estimate': NULL::DOUBLE, 'lower': NULL::DOUBLE, 'upper': NULL::DOUBLE}
    WHEN x1 = 0 THEN
      {'estimate': (x1 / n1) / (x0 / n0), 'lower': NULL::DOUBLE, 'upper': NULL::DOUBLE}
    ELSE {
      'estimate': (x1 / n1) / (x0 / n0),
      'lower': exp(ln((x1 / n1) / (x0 / n0))
        - z * sqrt(greatest(1.0 / x1 - 1.0 / n1 + 1.0 / x0 - 1.0 / n0, 0.0))),
      'upper': exp(ln((x1 / n1) / (x0 / n0))
        + z * sqrt(greatest(1.0 / x1 - 1.0 / n1 + 1.0 / x0 - 1.0 / n0, 0.0)))
    }
  END
);

-- Woolf's odds-ratio interval (math.rs odds_ratio); a=x1, b=n1-x1, c=x0, d=n0-x0.
CREATE OR REPLACE MACRO odds_ratio(x1, n1, x0, n0, z) AS (
  CASE
    WHEN n1 - x1 = 0 OR x0 = 0 THEN
      {'estimate': NULL::DOUBLE, 'lower': NULL::DOUBLE, 'upper': NULL::DOUBLE}
    WHEN x1 = 0 OR n0 - x0 = 0 THEN
      {'estimate': (x1 * (n0 - x0)) / ((n1 - x1) * x0), 'lower': NULL::DOUBLE, 'upper': NULL::DOUBLE}
    ELSE {
      'estimate': (x1 * (n0 - x0)) / ((n1 - x1) * x0),
      'lower': exp(ln((x1 * (n0 - x0)) / ((n1 - x1) * x0))
        - z * sqrt(1.0 / x1 + 1.0 / (n1 - x1) + 1.0 / x0 + 1.0 / (n0 - x0))),
      'upper': exp(ln((x1 * (n0 - x0)) / ((n1 - x1) * x0))
        + z * sqrt(1.0 / x1 + 1.0 / (n1 - x1) + 1.0 / x0 + 1.0 / (n0 - x0)))
    }
  END
);

-- Pooled two-proportion z test, two-sided (math.rs z_test_p).
CREATE OR REPLACE MACRO z_test_p_value(x1, n1, x0, n0) AS (
  CASE
    WHEN n1 = 0 OR n0 = 0 THEN NULL
    WHEN sqrt((x1 + x0) / (n1 + n0) * (1 - (x1 + x0) / (n1 + n0)) * (1.0 / n1 + 1.0 / n0)) = 0 THEN NULL
    ELSE least(1.0, 2 * norm_sf_pos(abs(
      (x1 / n1 - x0 / n0)
        / sqrt((x1 + x0) / (n1 + n0) * (1 - (x1 + x0) / (n1 + n0)) * (1.0 / n1 + 1.0 / n0)))))
  END
);

-- ln C(n, k)
CREATE OR REPLACE MACRO ln_choose(n, k) AS (lgamma(n + 1) - lgamma(k + 1) - lgamma(n - k + 1));

-- Fisher's exact test, two-sided: the tables with the observed margins no
-- more likely than the observed one, with R's relative tolerance 1e-7
-- (math.rs fisher_exact_p). Hypergeometric(N = n1 + n0, K = x1 + x0, draws n1).
CREATE OR REPLACE MACRO fisher_exact_p_value(x1, n1, x0, n0) AS (
  CASE
    WHEN n1 = 0 OR n0 = 0 THEN NULL
    ELSE least(1.0, list_sum(list_transform(
      list_filter(
        list_transform(
          range(greatest(0, n1 - ((n1 + n0) - (x1 + x0)))::BIGINT, least(x1 + x0, n1)::BIGINT + 1),
          lambda x: ln_choose(x1 + x0, x) + ln_choose((n1 + n0) - (x1 + x0), n1 - x)
            - ln_choose(n1 + n0, n1)),
        lambda l: l <= ln_choose(x1 + x0, x1) + ln_choose((n1 + n0) - (x1 + x0), n1 - x1)
            - ln_choose(n1 + n0, n1) + ln(1 + 1e-7)),
      lambda l: exp(l))))
  END
);

-- The test the lift tables use (two_proportion.rs): Fisher's when the
-- smallest expected cell count is below 5, else the z test; NULL when a
-- group is empty.
CREATE OR REPLACE MACRO two_proportion_test(x1, n1, x0, n0) AS (
  CASE
    WHEN n1 = 0 OR n0 = 0 THEN NULL
    WHEN least(n1, n0) * least(x1 + x0, (n1 + n0) - (x1 + x0)) < 5 * (n1 + n0) THEN 'fisher'
    ELSE 'z'
  END
);

CREATE OR REPLACE MACRO two_proportion_p_value(x1, n1, x0, n0) AS (
  CASE two_proportion_test(x1, n1, x0, n0)
    WHEN 'fisher' THEN fisher_exact_p_value(x1, n1, x0, n0)
    WHEN 'z' THEN z_test_p_value(x1, n1, x0, n0)
  END
);
