-- grain: one row per funnel x user (x session for funnels with count = "sessions") that reached the funnel's first step
-- description: queries/internal/funnel_chains.sql. microconv's
-- window_funnel_times (a Rust UDAF following ClickHouse's windowFunnel,
-- src/functions/funnel/algo.rs) in `ordered` mode, as SQL. The UDAF walks a
-- unit's events in (time, step) order keeping, per step k, the chain of the
-- latest event that matched step k; a step-k event matches when step k-1
-- has matched before it, is at most `window` after that chain's step 1 and
-- (max_gap) at most the gap after its step k-1. So the matching events are
-- found level by level, one recursion per level: each step-k event takes
-- the chain of the latest matched step-(k-1) event at or before its time
-- (at equal times step k-1 sorts first, and events with equal time and
-- step carry equal chains), carried forward by a window over both. (An
-- ASOF join would say it more directly, but DuckDB does not run ASOF joins
-- inside recursive CTEs.) The furthest level reached and the chain of its
-- earliest matching event are the UDAF's answer.
-- Only `ordered` funnels (duckdb_side.py refuses the other modes).
WITH RECURSIVE step_rows AS (
  -- one row per conversion x funnel step it is (a conversion may be several)
  SELECT
    f.funnel,
    f.window_seconds,
    s.step,
    s.max_gap_seconds,
    c.user_id,
    CASE WHEN f.count_by = 'sessions' THEN c.session_id END AS unit_session,
    COALESCE(CASE WHEN f.count_by = 'sessions' THEN c.session_id END, '') AS unit_key,
    c.conversion_time AS t
  FROM conversions c
  JOIN funnel_step_definitions s ON s.conversion = c.conversion
  JOIN funnel_definitions f ON f.funnel = s.funnel
),
matched AS (
  SELECT funnel, user_id, unit_key, step, t, t AS start_t, [t] AS path
  FROM step_rows
  WHERE step = 1
  UNION ALL
  SELECT funnel, user_id, unit_key, step, t, prev.start_t, list_append(prev.path, t)
  FROM (
    SELECT
      *,
      -- the latest matched step-(k-1) event up to here, for step k = level
      last_value(CASE WHEN is_prev THEN {'t': t, 'start_t': start_t, 'path': path} END IGNORE NULLS)
        OVER (PARTITION BY funnel, user_id, unit_key, level ORDER BY t, is_prev DESC
              ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS prev
    FROM (
      SELECT funnel, user_id, unit_key, step + 1 AS level, step, t, start_t, path,
        NULL::BIGINT AS window_seconds, NULL::BIGINT AS max_gap_seconds, true AS is_prev
      FROM matched
      UNION ALL
      SELECT funnel, user_id, unit_key, step AS level, step, t, NULL, NULL,
        window_seconds, max_gap_seconds, false AS is_prev
      FROM step_rows
      WHERE step > 1
    ) both_levels
  ) carried
  WHERE NOT is_prev
    AND prev IS NOT NULL
    AND epoch_us(t) <= epoch_us(prev.start_t) + window_seconds * 1000000
    AND (max_gap_seconds IS NULL OR epoch_us(t) - epoch_us(prev.t) <= max_gap_seconds * 1000000)
),
best AS (
  SELECT funnel, user_id, unit_key, arg_max(path, [step, -epoch_us(t)]) AS step_times
  FROM matched
  GROUP BY funnel, user_id, unit_key
),
entries AS (
  SELECT funnel, user_id, unit_key, any_value(unit_session) AS unit_session, MAX(t) AS last_entry_at
  FROM step_rows
  WHERE step = 1
  GROUP BY funnel, user_id, unit_key
)
SELECT
  b.funnel,
  b.user_id,
  e.unit_session,
  b.step_times,
  e.last_entry_at,
  CAST(len(b.step_times) AS INT) AS furthest_step,
  b.step_times[1] AS entered_at,
  b.step_times[len(b.step_times)] AS last_step_at
FROM best b
JOIN entries e ON e.funnel = b.funnel AND e.user_id = b.user_id AND e.unit_key = b.unit_key
