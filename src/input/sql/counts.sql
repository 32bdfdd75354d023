-- Rows of `_input` by reject reason ('' for good rows), the latest good
-- event time (microseconds) and the good rows from `$as_of_end` on ($as_of_end
-- is NULL when no as-of date was given: none are counted then).
SELECT COALESCE(reject_reason, '') AS reason,
  COUNT(*) AS n,
  MAX(CASE WHEN reject_reason IS NULL THEN CAST(event_time AS BIGINT) END) AS max_us,
  CAST(SUM(CASE WHEN reject_reason IS NULL AND event_time >= $as_of_end THEN 1 ELSE 0 END) AS BIGINT) AS after
FROM _input
GROUP BY 1
ORDER BY 1
