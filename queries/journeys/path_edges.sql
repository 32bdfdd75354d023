-- grain: one row per from_node x to_node
-- key: from_node, to_node
-- description: Transitions between consecutive events of a session, for
-- Sankey and path-exploration charts. Nodes are the events'
-- $path_edge_node ([journeys] edge_node: event_name, page or category;
-- NULL becomes '(none)'); every session adds '(entry)' -> its first node and
-- its last node -> '(exit)'. share = transitions / from_transitions (all
-- transitions out of from_node), so the shares out of each node sum to 1.
-- avg_seconds: mean time between the two events (NULL for entry and exit).
WITH nodes AS (
  SELECT
    session_id,
    hash_bucket(session_id) AS session_bucket,
    event_seq,
    event_time,
    COALESCE(
      CASE $path_edge_node WHEN 'page' THEN page WHEN 'category' THEN category ELSE event_name END,
      '(none)'
    ) AS node
  FROM session_events
),
-- one order per bucket of sessions with neighbour checks instead of a
-- window per session (much faster with millions of sessions; the buckets
-- run in parallel; see session_events)
steps AS (
  SELECT
    session_bucket,
    session_id,
    node,
    event_time,
    LAG(session_id) OVER w AS prev_session,
    LAG(node) OVER w AS prev_node,
    LAG(event_time) OVER w AS prev_time,
    LEAD(session_id) OVER w AS next_session
  FROM nodes
  WINDOW w AS (PARTITION BY session_bucket ORDER BY session_id, event_seq)
),
-- each step gives its edge (k = 1) and, after a session's last event, the
-- exit edge (k = 2): one pass over steps instead of a UNION reading it
-- twice. An unnest keeps the rows in their order and partition (a cross join
-- with VALUES (1), (2) ran as a nested loop join: 6 s at 10M events).
edges AS (
  SELECT
    session_bucket,
    session_id,
    CASE
      WHEN k = 2 THEN node
      WHEN prev_session = session_id THEN prev_node
      ELSE '(entry)'
    END AS from_node,
    CASE WHEN k = 2 THEN '(exit)' ELSE node END AS to_node,
    CASE WHEN k = 1 AND prev_session = session_id
      THEN seconds_between(prev_time, event_time)
    END AS seconds
  FROM (
    SELECT
      *,
      unnest(CASE WHEN next_session IS DISTINCT FROM session_id THEN [1, 2] ELSE [1] END) AS k
    FROM steps
  ) s
),
-- per session first, so distinct sessions need no hash set per edge. With
-- the session's bucket among the keys this runs where the window ran, on
-- rows still in session order: no repartition, and each session's groups
-- are emitted when it ends (optimizer.subset_repartition_threshold, set in
-- engine.rs)
per_session AS (
  SELECT
    from_node,
    to_node,
    COUNT(*) AS transitions,
    SUM(seconds) AS seconds,
    COUNT(seconds) AS timed
  FROM edges
  GROUP BY session_bucket, session_id, from_node, to_node
),
counted AS (
  SELECT
    from_node,
    to_node,
    SUM(transitions) AS transitions,
    COUNT(*) AS sessions,
    SUM(seconds) / SUM(timed) AS avg_seconds
  FROM per_session
  GROUP BY from_node, to_node
),
-- the totals out of each node as a window over counted, not a second CTE
-- reading it: a CTE read twice is computed twice
outgoing AS (
  SELECT *, SUM(transitions) OVER (PARTITION BY from_node) AS from_transitions
  FROM counted
)
SELECT
  from_node,
  to_node,
  transitions,
  sessions,
  from_transitions,
  CAST(transitions AS DOUBLE) / from_transitions AS share,
  avg_seconds
FROM outgoing
