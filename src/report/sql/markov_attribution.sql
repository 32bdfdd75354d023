-- Markov removal effects, one row per channel.
SELECT channel, removal_effect, removal_share, credited_conversions,
       credited_revenue
FROM markov_attribution
ORDER BY removal_effect DESC, channel
