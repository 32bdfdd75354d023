-- grain: one row per attributed macro conversion x touchpoint
-- key: conversion_id, touch_seq
-- description: The touchpoints of every macro conversion (of each user's
-- first one only when [attribution] conversions = "first"): the user's
-- sessions that started at most $attribution_lookback_seconds before the
-- conversion (the boundary included) and not after it, plus the session the
-- conversion happened in. conversion_id is '<conversion>:<event_id>' (or
-- '<conversion>:<session_id>' for session-scope conversions). touch_seq
-- orders the touches by session start (ties by session_id);
-- conversion_number is the user's n-th macro conversion (by time).
-- decay_credit is the time-decay credit: 2^(-seconds_before / half-life),
-- normalised over the conversion's touches.
-- output: internal
WITH numbered_conversions AS (
  SELECT
    conversion || ':' || COALESCE(event_id, session_id) AS conversion_id,
    conversion,
    user_id,
    session_id,
    conversion_time,
    COALESCE(value, 0.0) AS value,
    CAST(ROW_NUMBER() OVER (
      PARTITION BY user_id ORDER BY conversion_time, conversion, event_id, session_id
    ) AS BIGINT) AS conversion_number
  FROM conversions
  WHERE kind = 'macro'
),
conv AS (
  SELECT *
  FROM numbered_conversions
  WHERE conversion_number = 1 OR NOT $attribute_first_conversion_only
),
touches AS (
  SELECT
    c.conversion_id,
    c.conversion,
    c.user_id,
    c.conversion_time,
    c.conversion_number,
    c.value,
    s.session_id,
    s.session_start AS touch_time,
    COALESCE(s.channel, '(none)') AS channel,
    COALESCE(s.campaign, '(none)') AS campaign,
    seconds_between(s.session_start, c.conversion_time) AS seconds_before
  FROM conv c
  JOIN sessions s ON s.user_id = c.user_id
  WHERE (s.session_start <= c.conversion_time
      AND seconds_between(s.session_start, c.conversion_time) <= $attribution_lookback_seconds)
    OR s.session_id = c.session_id
),
-- The per-conversion figures that need all of a conversion's touches
-- (touches, the nearest touch, the sum of the weights) come from running
-- windows, latest touch first, and then earliest first: a window over the
-- whole partition (no ORDER BY) holds all of its input in memory, outside
-- the memory limit, where these stream over sorts that spill. (Each of the
-- two orders has a ROW_NUMBER, which DataFusion cannot compute in reverse:
-- it sorts again rather than reading one order as the other reversed.)
from_latest AS (
  SELECT
    *,
    CAST(ROW_NUMBER() OVER latest_first AS BIGINT) AS touches_from_end,
    -- the smallest seconds_before: that of the latest touch
    FIRST_VALUE(seconds_before) OVER latest_first AS nearest_seconds_before
  FROM touches
  WINDOW latest_first AS (
    PARTITION BY conversion_id ORDER BY touch_time DESC NULLS LAST, session_id DESC NULLS LAST
  )
),
weighted AS (
  SELECT
    *,
    -- relative to the nearest touch (weight 1), so the sum never underflows to 0
    power(0.5, (seconds_before - nearest_seconds_before) / $time_decay_half_life_seconds)
      AS decay_weight
  FROM from_latest
),
summed AS (
  SELECT
    *,
    SUM(decay_weight) OVER (
      PARTITION BY conversion_id ORDER BY touch_time DESC NULLS LAST, session_id DESC NULLS LAST
      ROWS UNBOUNDED PRECEDING
    ) AS weight_from_end
  FROM weighted
),
numbered AS (
  SELECT
    *,
    CAST(ROW_NUMBER() OVER earliest_first AS BIGINT) AS touch_seq,
    -- the earliest touch's sum from the end is the sum of all
    FIRST_VALUE(weight_from_end) OVER earliest_first AS weight_total
  FROM summed
  WINDOW earliest_first AS (
    PARTITION BY conversion_id ORDER BY touch_time, session_id
  )
)
SELECT
  conversion_id,
  conversion,
  user_id,
  conversion_time,
  conversion_number,
  value,
  session_id,
  touch_time,
  channel,
  campaign,
  seconds_before,
  touch_seq,
  touch_seq + touches_from_end - 1 AS touches,
  decay_weight,
  decay_weight / weight_total AS decay_credit
FROM numbered
