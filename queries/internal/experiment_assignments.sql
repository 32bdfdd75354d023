-- grain: one row per experiment x user seen in it
-- key: experiment, user_id
-- description: Who was seen in each A/B test, for the experiments table:
-- variants is the number of variants the user's events carried (more than
-- one excludes the user), variant the first of them alphabetically, and
-- assigned_at the time of the user's first event carrying the experiment.
-- A table of its own so that experiments, which reads it through several
-- CTEs, scans the events once.
-- output: internal
WITH seen AS (
  SELECT experiment, variant, user_id, MIN(event_time) AS first_seen
  FROM events
  WHERE experiment IS NOT NULL AND variant IS NOT NULL
  GROUP BY experiment, variant, user_id
)
SELECT experiment, user_id, COUNT(*) AS variants, MIN(variant) AS variant, MIN(first_seen) AS assigned_at
FROM seen
GROUP BY experiment, user_id
