//! The bundled queries, compiled into the binary so an installed microconv
//! needs no source tree. Add a line here when you add a file to `queries/`;
//! a test checks that this list and the folder agree.

/// (file name, SQL text) of every bundled query, sorted by file name.
pub static BUNDLED: &[(&str, &str)] = &[
    (
        "attribution.sql",
        include_str!("../../queries/attribution.sql"),
    ),
    (
        "attribution_touchpoints.sql",
        include_str!("../../queries/attribution_touchpoints.sql"),
    ),
    (
        "channel_attribution.sql",
        include_str!("../../queries/channel_attribution.sql"),
    ),
    (
        "clv_calibration.sql",
        include_str!("../../queries/clv_calibration.sql"),
    ),
    ("clv_model.sql", include_str!("../../queries/clv_model.sql")),
    (
        "clv_predictions.sql",
        include_str!("../../queries/clv_predictions.sql"),
    ),
    (
        "clv_purchase_periods.sql",
        include_str!("../../queries/clv_purchase_periods.sql"),
    ),
    ("clv_rfm.sql", include_str!("../../queries/clv_rfm.sql")),
    (
        "clv_validation.sql",
        include_str!("../../queries/clv_validation.sql"),
    ),
    (
        "cohort_retention.sql",
        include_str!("../../queries/cohort_retention.sql"),
    ),
    (
        "conversions.sql",
        include_str!("../../queries/conversions.sql"),
    ),
    ("daily_kpis.sql", include_str!("../../queries/daily_kpis.sql")),
    (
        "experiment_assignments.sql",
        include_str!("../../queries/experiment_assignments.sql"),
    ),
    (
        "experiments.sql",
        include_str!("../../queries/experiments.sql"),
    ),
    (
        "friction_points.sql",
        include_str!("../../queries/friction_points.sql"),
    ),
    (
        "funnel_chains.sql",
        include_str!("../../queries/funnel_chains.sql"),
    ),
    (
        "funnel_daily.sql",
        include_str!("../../queries/funnel_daily.sql"),
    ),
    (
        "funnel_segments.sql",
        include_str!("../../queries/funnel_segments.sql"),
    ),
    (
        "funnel_stages.sql",
        include_str!("../../queries/funnel_stages.sql"),
    ),
    (
        "funnel_steps.sql",
        include_str!("../../queries/funnel_steps.sql"),
    ),
    (
        "funnel_users.sql",
        include_str!("../../queries/funnel_users.sql"),
    ),
    (
        "journey_paths.sql",
        include_str!("../../queries/journey_paths.sql"),
    ),
    (
        "journey_touchpoints.sql",
        include_str!("../../queries/journey_touchpoints.sql"),
    ),
    ("journeys.sql", include_str!("../../queries/journeys.sql")),
    ("lift_cells.sql", include_str!("../../queries/lift_cells.sql")),
    (
        "lift_firsts.sql",
        include_str!("../../queries/lift_firsts.sql"),
    ),
    ("lift_users.sql", include_str!("../../queries/lift_users.sql")),
    (
        "markov_attribution.sql",
        include_str!("../../queries/markov_attribution.sql"),
    ),
    (
        "micro_conversion_lift.sql",
        include_str!("../../queries/micro_conversion_lift.sql"),
    ),
    (
        "micro_conversion_lift_adjusted.sql",
        include_str!("../../queries/micro_conversion_lift_adjusted.sql"),
    ),
    (
        "micro_conversion_lift_by_segment.sql",
        include_str!("../../queries/micro_conversion_lift_by_segment.sql"),
    ),
    ("path_edges.sql", include_str!("../../queries/path_edges.sql")),
    (
        "retargeting_audiences.sql",
        include_str!("../../queries/retargeting_audiences.sql"),
    ),
    (
        "session_events.sql",
        include_str!("../../queries/session_events.sql"),
    ),
    ("sessions.sql", include_str!("../../queries/sessions.sql")),
    (
        "stage_transitions.sql",
        include_str!("../../queries/stage_transitions.sql"),
    ),
];
