-- The most common channel paths (the `(other)` remainder left out).
SELECT path_rank, path, users, converters, conversion_rate, revenue,
       share_of_users
FROM journey_paths
WHERE path_rank IS NOT NULL
ORDER BY path_rank
LIMIT 15
