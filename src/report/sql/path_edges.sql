-- The busiest transitions between events, entry and exit included.
SELECT from_node, to_node, transitions, sessions, share, avg_seconds
FROM path_edges
ORDER BY transitions DESC, from_node, to_node
LIMIT 40
