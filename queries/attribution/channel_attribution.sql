-- grain: one row per model x channel x campaign, plus one row per model x channel with campaign '(all)'
-- key: model, channel, campaign
-- description: Conversions and revenue credited to each channel (and
-- campaign) by every attribution model: the five rule-based models of
-- `attribution` and 'markov' (channel level only, campaign '(all)'), with
-- spend from the [attribution] cost table when one is configured: cost is
-- the spend of the days from the first session to the as-of date, roas =
-- credited_revenue / cost and cost_per_conversion = cost /
-- credited_conversions. Without cost data, or for a channel/campaign with
-- no cost rows, cost, roas and cost_per_conversion are NULL (not 0). Cost
-- rows without a campaign count in their channel's '(all)' row only.
-- Channels that have spend but no touchpoints get rows with 0 credit.
WITH credited AS (
  SELECT
    model,
    channel,
    CASE WHEN grouping(campaign) = 1 THEN '(all)' ELSE campaign END AS campaign,
    SUM(credit) AS credited_conversions,
    SUM(credited_revenue) AS credited_revenue
  FROM attribution
  GROUP BY GROUPING SETS ((model, channel, campaign), (model, channel))
  UNION ALL
  SELECT 'markov', channel, '(all)', credited_conversions, credited_revenue
  FROM markov_attribution
),
span AS (
  SELECT MIN(CAST(session_start AS DATE)) AS first_day FROM sessions
),
costs AS (
  SELECT
    k.channel,
    CASE WHEN grouping(k.campaign) = 1 THEN '(all)' ELSE k.campaign END AS campaign,
    SUM(k.cost) AS cost
  FROM attribution_costs k
  CROSS JOIN span
  WHERE k.day >= span.first_day AND k.day <= $as_of
  GROUP BY GROUPING SETS ((k.channel, k.campaign), (k.channel))
),
models AS (
  SELECT column1 AS model
  FROM (VALUES ('first_touch'), ('last_touch'), ('linear'), ('position_based'), ('time_decay'), ('markov')) v
),
keys AS (
  SELECT model, channel, campaign FROM credited
  UNION
  SELECT m.model, k.channel, k.campaign
  FROM costs k
  CROSS JOIN models m
  WHERE k.campaign IS NOT NULL AND (m.model <> 'markov' OR k.campaign = '(all)')
)
SELECT
  y.model,
  y.channel,
  y.campaign,
  COALESCE(c.credited_conversions, 0.0) AS credited_conversions,
  COALESCE(c.credited_revenue, 0.0) AS credited_revenue,
  k.cost,
  CASE WHEN k.cost > 0 THEN COALESCE(c.credited_revenue, 0.0) / k.cost END AS roas,
  CASE WHEN COALESCE(c.credited_conversions, 0.0) > 0 THEN k.cost / c.credited_conversions END AS cost_per_conversion
FROM keys y
LEFT JOIN credited c ON y.model = c.model AND y.channel = c.channel AND y.campaign = c.campaign
LEFT JOIN costs k ON y.channel = k.channel AND y.campaign = k.campaign
