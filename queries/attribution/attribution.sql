-- grain: one row per attributed macro conversion x touchpoint x model
-- key: conversion_id, model, touch_seq
-- description: Credit of every touchpoint (session) for every macro
-- conversion under five rule-based models. first_touch: all to the first
-- touch; last_touch: all to the last; linear: 1/n each; position_based:
-- $position_first_weight to the first, $position_last_weight to the last
-- and $position_middle_weight shared by the ones between (one touch gets
-- 1, two touches split first:last); time_decay: proportional to
-- 2^(-days before the conversion / half-life). credit sums to 1 per
-- conversion and model; credited_revenue = credit x conversion_value.
-- Every macro conversion is attributed, or each user's first only with
-- [attribution] conversions = "first" (conversion_number: the user's n-th).
WITH models AS (
  SELECT column1 AS model
  FROM (VALUES ('first_touch'), ('last_touch'), ('linear'), ('position_based'), ('time_decay')) v
),
credited AS (
  SELECT
    t.*,
    m.model,
    CASE m.model
      WHEN 'first_touch' THEN CASE WHEN t.touch_seq = 1 THEN 1.0 ELSE 0.0 END
      WHEN 'last_touch' THEN CASE WHEN t.touch_seq = t.touches THEN 1.0 ELSE 0.0 END
      WHEN 'linear' THEN 1.0 / t.touches
      WHEN 'position_based' THEN CASE
        WHEN t.touches = 1 THEN 1.0
        WHEN t.touches = 2 THEN
          CASE WHEN t.touch_seq = 1 THEN $position_first_weight ELSE $position_last_weight END
            / ($position_first_weight + $position_last_weight)
        WHEN t.touch_seq = 1 THEN $position_first_weight
        WHEN t.touch_seq = t.touches THEN $position_last_weight
        ELSE $position_middle_weight / (t.touches - 2)
      END
      ELSE t.decay_credit
    END AS credit
  FROM attribution_touchpoints t
  CROSS JOIN models m
)
SELECT
  conversion_id,
  conversion,
  user_id,
  conversion_time,
  conversion_number,
  value AS conversion_value,
  model,
  touch_seq,
  touches,
  session_id,
  touch_time,
  channel,
  campaign,
  seconds_before / 86400.0 AS days_before,
  credit,
  credit * value AS credited_revenue
FROM credited
