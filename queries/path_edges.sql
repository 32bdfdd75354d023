-- grain: one row per from_node x to_node
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
steps AS (
  SELECT
    session_id,
    node,
    event_time,
    LAG(node) OVER (PARTITION BY session_id ORDER BY event_seq) AS prev_node,
    LAG(event_time) OVER (PARTITION BY session_id ORDER BY event_seq) AS prev_time,
    LEAD(node) OVER (PARTITION BY session_id ORDER BY event_seq) IS NULL AS is_last
  FROM nodes
),
edges AS (
  SELECT
    session_id,
    COALESCE(prev_node, '(entry)') AS from_node,
    node AS to_node,
    (CAST(event_time AS BIGINT) - CAST(prev_time AS BIGINT)) / 1e6 AS seconds
  FROM steps
  UNION ALL
  SELECT session_id, node, '(exit)', CAST(NULL AS DOUBLE)
  FROM steps
  WHERE is_last
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
outgoing AS (
  SELECT from_node, SUM(transitions) AS from_transitions
  FROM counted
  GROUP BY from_node
)
SELECT
  c.from_node,
  c.to_node,
  c.transitions,
  c.sessions,
  o.from_transitions,
  CAST(c.transitions AS DOUBLE) / o.from_transitions AS share,
  c.avg_seconds
FROM counted c
JOIN outgoing o ON c.from_node = o.from_node
