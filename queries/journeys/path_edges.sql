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
    session_id,
    node,
    event_time,
    LAG(session_id) OVER w AS prev_session,
    LAG(node) OVER w AS prev_node,
    LAG(event_time) OVER w AS prev_time,
    LEAD(session_id) OVER w AS next_session
  FROM nodes
  WINDOW w AS (PARTITION BY hash_bucket(session_id) ORDER BY session_id, event_seq)
),
-- each step gives its edge (k = 1) and, after a session's last event, the
-- exit edge (k = 2): one pass over steps instead of a UNION reading it twice
edges AS (
  SELECT
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
  FROM steps
  CROSS JOIN (VALUES (1), (2)) AS v(k)
  WHERE k = 1 OR next_session IS DISTINCT FROM session_id
),
-- per session first, so distinct sessions need no hash set per edge
per_session AS (
  SELECT
    from_node,
    to_node,
    session_id,
    COUNT(*) AS transitions,
    SUM(seconds) AS seconds,
    COUNT(seconds) AS timed
  FROM edges
  GROUP BY from_node, to_node, session_id
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
