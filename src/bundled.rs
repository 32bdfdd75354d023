//! The bundled queries, compiled into the binary so an installed microconv
//! needs no source tree. Add a line here when you add a file to `queries/`;
//! a test checks that this list and the folder agree.

/// (file name, SQL text) of every bundled query, sorted by file name.
pub static BUNDLED: &[(&str, &str)] = &[
    (
        "conversions.sql",
        include_str!("../queries/conversions.sql"),
    ),
    ("daily_kpis.sql", include_str!("../queries/daily_kpis.sql")),
    (
        "session_events.sql",
        include_str!("../queries/session_events.sql"),
    ),
    ("sessions.sql", include_str!("../queries/sessions.sql")),
];
