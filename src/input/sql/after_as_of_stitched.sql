-- Good rows of `_input` from the end of the as-of day on, as
-- after_as_of.sql, with the identities of events_stitched.sql: the last
-- login known at the end of the as-of day (a backtest does not see later
-- logins), from a window over each user_id's good rows, before and after.
WITH good AS (
  SELECT *,
    LAST_VALUE(CASE WHEN event_time < $as_of_end AND NOT regexp_like(_login_id, '^\s*$')
      THEN _login_id END)
      IGNORE NULLS OVER (
        PARTITION BY user_id ORDER BY event_time, event_id
        ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING
      ) AS person
  FROM _input
  WHERE reject_reason IS NULL
)
SELECT event_id, COALESCE(person, user_id) AS user_id, event_time, event_name, session_id,
  channel, source, medium, campaign, device, country, page, product_id, category, revenue,
  experiment, variant,
  * EXCEPT (event_id, user_id, event_time, event_name, session_id, channel, source, medium,
      campaign, device, country, page, product_id, category, revenue, experiment, variant,
    _source_file, _raw_event_time, reject_reason, _login_id, person),
  user_id AS anonymous_id
FROM good
WHERE event_time >= $as_of_end
