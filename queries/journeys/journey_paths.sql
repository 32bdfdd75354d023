-- grain: one row per distinct channel path (collapsed, truncated), plus at most one '(other)' row
-- key: path
-- description: How many users took each channel path, how many of them
-- converted, and their revenue. Paths are the journeys' collapsed channel
-- paths; a path with more than $max_path_length channels keeps its first
-- ceil(L/2) and last floor(L/2) channels around a '(...)' marker. The
-- $max_paths paths with the most users get a row each (ties by path); the
-- rest are summed into one '(other)' row, so the rows always add up to all
-- users, converters and revenue.
WITH numbered AS (
  -- k from the start and from the end; m = k + k_from_end - 1 entries. Two
  -- running windows, each streaming over a sort that spills: COUNT(*) OVER
  -- (PARTITION BY user_id) would be a window over whole partitions, which
  -- holds all of its input in memory, outside the memory limit
  SELECT
    user_id,
    channel,
    ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY touch_seq) AS k,
    ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY touch_seq DESC) AS k_from_end
  FROM journey_touchpoints
  WHERE new_channel
),
entries AS (
  SELECT user_id, channel, k, CAST(k AS BIGINT) + CAST(k_from_end AS BIGINT) - 1 AS m
  FROM numbered
),
labelled AS (
  SELECT
    user_id,
    k,
    m > $max_path_length AS truncated,
    CASE
      WHEN m <= $max_path_length THEN channel
      WHEN k <= ($max_path_length + 1) / 2 THEN channel
      WHEN k > m - $max_path_length / 2 THEN channel
      WHEN k = ($max_path_length + 1) / 2 + 1 THEN '(...)'
    END AS label,
    0 AS is_journey,
    CAST(NULL AS BOOLEAN) AS converted,
    CAST(NULL AS DOUBLE) AS first_order_revenue,
    CAST(NULL AS DOUBLE) AS total_revenue
  FROM entries
),
-- each user's path with their journey's outcome, by one aggregation over
-- the path entries and the journeys (UNION ALL) rather than a join of two
-- per-user tables: the aggregation's output needs no sort (a sort-merge
-- join would sort it, a hash join would hold one side whole), which is
-- what a tight memory limit needs (see daily_kpis). HAVING keeps the users
-- in both, as the inner join did (a user's journey is one row).
user_paths AS (
  SELECT
    user_id,
    string_agg_by(label, ' > ', k) FILTER (WHERE label IS NOT NULL) AS path,
    SUM(CASE WHEN label IS NOT NULL AND label <> '(...)' THEN 1 ELSE 0 END) AS path_length,
    bool_or(truncated) AS truncated,
    bool_or(converted) AS converted,
    MAX(first_order_revenue) AS first_order_revenue,
    MAX(total_revenue) AS total_revenue
  FROM (
    SELECT * FROM labelled
    UNION ALL
    SELECT user_id, NULL, NULL, NULL, 1, converted, first_order_revenue, total_revenue
    FROM journeys
  )
  GROUP BY user_id
  HAVING COUNT(k) > 0 AND SUM(is_journey) > 0
),
per_path AS (
  SELECT
    path,
    MAX(path_length) AS path_length,
    bool_or(truncated) AS truncated,
    COUNT(*) AS users,
    SUM(CASE WHEN converted THEN 1 ELSE 0 END) AS converters,
    SUM(first_order_revenue) AS revenue,
    SUM(total_revenue) AS total_revenue
  FROM user_paths
  GROUP BY path
),
ranked AS (
  SELECT *, ROW_NUMBER() OVER (ORDER BY users DESC, path) AS path_rank
  FROM per_path
),
-- one pass over ranked: a top path is a group of its own (its rank), the
-- rest share the NULL group, the '(other)' row (a UNION of two SELECTs
-- from ranked would compute ranked, and all before it, twice)
path_rows AS (
  SELECT
    CAST(CASE WHEN path_rank <= $max_paths THEN path_rank END AS BIGINT) AS path_rank,
    CASE WHEN MIN(path_rank) <= $max_paths THEN MAX(path) ELSE '(other)' END AS path,
    CAST(CASE WHEN MIN(path_rank) <= $max_paths THEN MAX(path_length) END AS BIGINT) AS path_length,
    CASE WHEN MIN(path_rank) <= $max_paths THEN bool_or(truncated) END AS truncated,
    COUNT(*) AS distinct_paths,
    SUM(users) AS users,
    SUM(converters) AS converters,
    SUM(revenue) AS revenue,
    SUM(total_revenue) AS total_revenue
  FROM ranked
  GROUP BY 1
),
total AS (
  SELECT COUNT(*) AS all_users FROM journeys
)
SELECT
  r.path_rank,
  r.path,
  r.path_length,
  r.truncated,
  r.distinct_paths,
  r.users,
  r.converters,
  CAST(r.converters AS DOUBLE) / r.users AS conversion_rate,
  r.revenue,
  r.total_revenue,
  CAST(r.users AS DOUBLE) / t.all_users AS share_of_users
FROM path_rows r
CROSS JOIN total t
