-- grain: one row per channel
-- key: channel
-- description: First-order Markov chain attribution, computed exactly by
-- markov_attribution() (absorbing-chain linear solve, no simulation).
-- Paths: one per attributed macro conversion (its touchpoints' channels,
-- see attribution) and, as null paths, one per user who never converted
-- (their journey's touchpoints, see journeys). removal_effect: the relative
-- drop in the conversion probability when the channel is removed;
-- removal_share: its share of the sum of removal effects;
-- credited_conversions and credited_revenue: that share of all attributed
-- conversions and their revenue (so they sum to the totals).
WITH converting AS (
  SELECT
    array_agg_by(channel, touch_seq) AS path,
    true AS converted,
    MAX(value) AS revenue
  FROM attribution_touchpoints
  GROUP BY conversion_id
),
non_converting AS (
  SELECT
    array_agg_by(channel, touch_seq) AS path,
    false AS converted,
    0.0 AS revenue
  FROM journey_touchpoints
  WHERE NOT converted
  GROUP BY user_id
),
chain AS (
  SELECT markov_attribution(path, converted, revenue) AS credits
  FROM (
    SELECT path, converted, revenue FROM converting
    UNION ALL
    SELECT path, converted, revenue FROM non_converting
  ) p
),
entries AS (
  SELECT unnest(credits) AS c FROM chain
)
SELECT
  c['channel'] AS channel,
  c['removal_effect'] AS removal_effect,
  c['share'] AS removal_share,
  c['conversions'] AS credited_conversions,
  c['revenue'] AS credited_revenue
FROM entries
