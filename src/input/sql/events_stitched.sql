-- The canonical `events` with identities stitched ([identity] stitch =
-- true): as events.sql, but a user_id (an anonymous or device id) seen with
-- a login on a good row up to the end of the as-of day becomes the last
-- login it was seen with (by time, ties by event_id), so a person's events
-- before they logged in, and on every device they logged in from, are one
-- user's. anonymous_id keeps the source's user_id on every row. One scan
-- of `_input` (it is a single-pass tee: a join of it with itself could not
-- read it twice), so the last login is a window over each user_id's rows.
WITH good AS (
  SELECT *,
    LAST_VALUE(CASE WHEN NOT regexp_like(_login_id, '^\s*$') THEN _login_id END)
      IGNORE NULLS OVER (
        PARTITION BY user_id ORDER BY event_time, event_id
        ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
      ) AS person
  FROM _input
  WHERE reject_reason IS NULL AND ($as_of_end IS NULL OR event_time < $as_of_end)
)
SELECT event_id, COALESCE(person, user_id) AS user_id, event_time, event_name, session_id,
  channel, source, medium, campaign, device, country, page, product_id, category, revenue,
  experiment, variant,
  * EXCEPT (event_id, user_id, event_time, event_name, session_id, channel, source, medium,
      campaign, device, country, page, product_id, category, revenue, experiment, variant,
    _source_file, _raw_event_time, reject_reason, _login_id, person),
  user_id AS anonymous_id
FROM good
