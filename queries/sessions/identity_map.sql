-- grain: one row per source user_id that [identity] stitch gave to another user
-- key: anonymous_id
-- description: With [identity] stitch = true, each user_id of the source
-- (an anonymous or device id) that was seen with a login, and the user it
-- now belongs to: the last login it was seen with. Its events, before the
-- login and after, are that user's in every table. Empty without stitching.
SELECT
  anonymous_id,
  user_id,
  COUNT(*) AS events,
  MIN(event_time) AS first_seen,
  MAX(event_time) AS last_seen
FROM events
WHERE anonymous_id IS NOT NULL AND anonymous_id <> user_id
GROUP BY anonymous_id, user_id
