-- grain: one row per event
-- key: event_id
-- description: The canonical events with their session. Where the source has
-- no session_id, a session is a run of one user's events with no gap longer
-- than $session_timeout_seconds (a gap of exactly the timeout stays in the
-- session), among that user's events without a source session_id; its id is
-- `<user_id>#<start, UTC, ISO>`. event_seq numbers the events of a session
-- from 1; dwell_seconds is the time to the next event of the same session
-- (NULL for its last event). Ties in time are ordered by event_id. A
-- source session_id shared by several users is one session per user, with
-- the id `<user_id>#<session_id>`.
-- output: internal
--
-- Two branches, each event sorted once: the events without a source
-- session_id are ordered by user, which splits and numbers their sessions in
-- one pass (a session is a run of consecutive rows there); those with one
-- are ordered by session. Each runs per bucket (PARTITION BY a hash_bucket
-- column): every user (session) lies wholly in one of 1,024 buckets, the
-- buckets are spread over target_partitions streams that sort and window in
-- parallel, and a LAG/LEAD that checks the neighbour's key gives the same
-- answer as a window per user (far slower with millions of users). Row
-- numbers restart per bucket, so they are only compared within a user or a
-- session. The bucket is a column computed once and carried along: a window
-- PARTITION BY the expression hash_bucket(...) in each CTE would not be known
-- to share the previous window's order, and each would sort again.
WITH computed AS (
  SELECT e.*, hash_bucket(user_id) AS user_bucket
  FROM events e
  WHERE session_id IS NULL
),
ordered AS (
  SELECT
    *,
    ROW_NUMBER() OVER w AS rn,
    LAG(user_id) OVER w AS prev_user,
    LAG(event_time) OVER w AS prev_time
  FROM computed
  WINDOW w AS (PARTITION BY user_bucket ORDER BY user_id, event_time, event_id)
),
starts AS (
  SELECT
    *,
    (prev_user IS DISTINCT FROM user_id)
      OR seconds_between(prev_time, event_time) > $session_timeout_seconds
      AS is_new
  FROM ordered
),
grouped AS (
  SELECT
    *,
    -- the current session's first row, packed in one DECIMAL as
    -- row number * 10^18 + (its time in microseconds + 5 * 10^17): row
    -- numbers grow along the order within a bucket, so a running MAX finds
    -- the latest session start without crossing users, and carries its row
    -- number and time with it (one pass; a join back to the start rows
    -- would sort the events twice)
    MAX(CASE WHEN is_new
      THEN CAST(rn AS DECIMAL(38, 0)) * 1000000000000000000
        + (CAST(event_time AS BIGINT) + 500000000000000000)
    END) OVER (
      PARTITION BY user_bucket ORDER BY user_id, event_time, event_id
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS packed_start
  FROM starts
),
-- LEAD after the running MAX, in a window of its own: a running MAX over
-- the output of a LEAD window is many times slower in DataFusion 55 (with
-- one partition, 10M events took 260 s instead of 20 s)
computed_next AS (
  SELECT
    *,
    LEAD(user_id) OVER w AS next_user,
    LEAD(event_time) OVER w AS next_time
  FROM grouped
  WINDOW w AS (PARTITION BY user_bucket ORDER BY user_id, event_time, event_id)
),
computed_sessions AS (
  SELECT
    event_id, user_id, event_time, event_name,
    user_id || '#' || to_char(
      arrow_cast(CAST(packed_start % 1000000000000000000 AS BIGINT) - 500000000000000000,
        'Timestamp(Microsecond, Some("UTC"))'),
      '%Y-%m-%dT%H:%M:%S%.6fZ') AS session_id,
    channel, source, medium, campaign, device, country, page, product_id, category,
    revenue, experiment, variant,
    CAST(rn - CAST((packed_start - packed_start % 1000000000000000000)
      / 1000000000000000000 AS BIGINT) + 1 AS BIGINT) AS event_seq,
    -- the next event is in the session unless it starts a new one
    CASE
      WHEN next_user = user_id
        AND seconds_between(event_time, next_time) <= $session_timeout_seconds
      THEN seconds_between(event_time, next_time)
    END AS dwell_seconds,
    -- then any source columns kept by [input] keep (none by default)
    * EXCEPT (event_id, user_id, event_time, event_name, session_id, channel, source, medium,
      campaign, device, country, page, product_id, category, revenue, experiment, variant,
      user_bucket, rn, prev_user, prev_time, is_new, packed_start, next_user, next_time)
  FROM computed_next
),
sourced AS (
  SELECT e.*, hash_bucket(session_id) AS session_bucket
  FROM events e
  WHERE session_id IS NOT NULL
),
-- A source session_id is unique only within a user (GA4's ga_session_id
-- is a per-user counter; two users of a REES46 export can share a
-- user_session), so sessions are keyed by user and id: an id seen with
-- one user stays as it is, an id shared by users becomes
-- `<user_id>#<id>` for each of them. The bucket stays the source id's, so
-- each session still lies wholly in one bucket.
-- The id's lowest and highest user come from running windows that stream
-- over their sorts (which spill): MIN() and MAX() OVER (PARTITION BY
-- session_bucket, session_id) would be windows over whole partitions,
-- which hold all of their input (every event with a source session id) in
-- memory, outside the memory limit. Each order ends with event_id, so that
-- neither is the other reversed (DataFusion would then compute one as a
-- window over whole partitions again).
owned AS (
  SELECT
    * EXCEPT (session_id, lowest_user, highest_user),
    CASE
      WHEN lowest_user = highest_user THEN session_id
      ELSE user_id || '#' || session_id
    END AS session_id
  FROM (
    SELECT
      *,
      FIRST_VALUE(user_id) OVER (
        PARTITION BY session_bucket, session_id ORDER BY user_id, event_id
      ) AS lowest_user,
      FIRST_VALUE(user_id) OVER (
        PARTITION BY session_bucket, session_id ORDER BY user_id DESC, event_id
      ) AS highest_user
    FROM sourced
  )
),
in_session AS (
  SELECT
    *,
    ROW_NUMBER() OVER s AS rn,
    LAG(session_id) OVER s AS prev_session
  FROM owned
  WINDOW s AS (PARTITION BY session_bucket ORDER BY session_id, event_time, event_id)
),
numbered AS (
  SELECT
    *,
    MAX(CASE WHEN prev_session IS DISTINCT FROM session_id THEN rn END) OVER (
      PARTITION BY session_bucket ORDER BY session_id, event_time, event_id
      ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW
    ) AS first_rn
  FROM in_session
),
-- LEAD after the running MAX, in a window of its own: a running MAX over
-- the output of a LEAD window is several times slower in DataFusion 55
-- (21 s instead of 2 s on 10M events)
next AS (
  SELECT
    *,
    LEAD(session_id) OVER s AS next_session,
    LEAD(event_time) OVER s AS next_time
  FROM numbered
  WINDOW s AS (PARTITION BY session_bucket ORDER BY session_id, event_time, event_id)
)
SELECT * FROM computed_sessions
UNION ALL
SELECT
  event_id, user_id, event_time, event_name, session_id,
  channel, source, medium, campaign, device, country, page, product_id, category,
  revenue, experiment, variant,
  CAST(rn - first_rn + 1 AS BIGINT) AS event_seq,
  CASE
    WHEN next_session = session_id
    THEN seconds_between(event_time, next_time)
  END AS dwell_seconds,
  * EXCEPT (event_id, user_id, event_time, event_name, session_id, channel, source, medium,
      campaign, device, country, page, product_id, category, revenue, experiment, variant,
    session_bucket, rn, prev_session, first_rn, next_session, next_time)
FROM next
