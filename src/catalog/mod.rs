//! Configuration as data: list settings become small reference tables and
//! scalar settings become named SQL parameters (`$session_timeout_seconds`),
//! so queries stay plain SQL with no templating.

use std::sync::Arc;

use chrono::NaiveDate;
use datafusion::arrow::array::{ArrayRef, Int32Array, RecordBatch, StringArray};
use datafusion::arrow::datatypes::{DataType, Field, Schema};
use datafusion::datasource::MemTable;
use datafusion::prelude::SessionContext;
use datafusion::scalar::ScalarValue;

use crate::error::Result;
use crate::schema::UTC;
use crate::config::settings::{ConversionKind, Scope, Settings};

/// Names of the reference tables registered by [`register`].
pub const REFERENCE_TABLES: &[&str] = &[
    "conversion_definitions",
    "channel_rules",
    "pageview_events",
    "run_params",
    "funnel_definitions",
    "funnel_step_definitions",
    "funnel_exclusions",
    "funnel_breakdowns",
    crate::config::sections::attribution::COSTS_TABLE,
    "lift_purchase_steps",
    "experiment_definitions",
    "experiment_conversions",
    "experiment_weights",
    "audience_definitions",
    "audience_conversions",
];

fn text_table(columns: &[&str], rows: Vec<Vec<Option<String>>>) -> Result<Arc<MemTable>> {
    let schema = Arc::new(Schema::new(
        columns
            .iter()
            .map(|c| Field::new(*c, DataType::Utf8, true))
            .collect::<Vec<_>>(),
    ));
    let arrays: Vec<ArrayRef> = (0..columns.len())
        .map(|i| Arc::new(rows.iter().map(|r| r[i].clone()).collect::<StringArray>()) as ArrayRef)
        .collect();
    let batch = RecordBatch::try_new(schema.clone(), arrays)?;
    Ok(Arc::new(MemTable::try_new(schema, vec![vec![batch]])?))
}

/// Register the reference tables built from `settings`.
pub fn register(
    ctx: &SessionContext,
    settings: &Settings,
    params: &[(String, ScalarValue)],
) -> Result<()> {
    let conversions = settings
        .conversions
        .iter()
        .map(|c| {
            vec![
                Some(c.name.clone()),
                Some(match c.kind {
                    ConversionKind::Micro => "micro".into(),
                    ConversionKind::Macro => "macro".into(),
                }),
                c.stage.clone(),
                Some(match c.scope {
                    Scope::Event => "event".into(),
                    Scope::Session => "session".into(),
                }),
                Some(c.when.clone()),
                c.value.clone(),
                c.description.clone(),
            ]
        })
        .collect();
    let t = text_table(
        &[
            "name",
            "kind",
            "stage",
            "scope",
            "when_sql",
            "value_sql",
            "description",
        ],
        conversions,
    )?;
    replace(ctx, "conversion_definitions", t)?;

    let schema = Arc::new(Schema::new(vec![
        Field::new("priority", DataType::Int32, false),
        Field::new("channel", DataType::Utf8, false),
        Field::new("when_sql", DataType::Utf8, false),
    ]));
    let rules = &settings.channel_rules;
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(Int32Array::from_iter_values(1..=rules.len() as i32)),
            Arc::new(
                rules
                    .iter()
                    .map(|r| Some(r.name.clone()))
                    .collect::<StringArray>(),
            ),
            Arc::new(
                rules
                    .iter()
                    .map(|r| Some(r.when.clone()))
                    .collect::<StringArray>(),
            ),
        ],
    )?;
    replace(
        ctx,
        "channel_rules",
        Arc::new(MemTable::try_new(schema, vec![vec![batch]])?),
    )?;

    let pv = settings
        .pageview_events
        .iter()
        .map(|e| vec![Some(e.clone())])
        .collect();
    replace(ctx, "pageview_events", text_table(&["event_name"], pv)?)?;

    let p = params
        .iter()
        .map(|(k, v)| vec![Some(k.clone()), Some(v.to_string())])
        .collect();
    replace(ctx, "run_params", text_table(&["name", "value"], p)?)?;
    crate::config::sections::funnels::register(ctx, &settings.funnels)?;
    crate::config::sections::attribution::register(ctx, &settings.attribution)?;
    crate::config::sections::lift::register(ctx, &settings.lift)?;
    Ok(())
}

fn replace(ctx: &SessionContext, name: &str, table: Arc<MemTable>) -> Result<()> {
    ctx.deregister_table(name)?;
    ctx.register_table(name, table)?;
    Ok(())
}

/// The named SQL parameters of a run. `as_of_end` is the exclusive end of
/// the as-of day (midnight UTC after it).
pub fn params(settings: &Settings, as_of: NaiveDate) -> Vec<(String, ScalarValue)> {
    let end = as_of
        .succ_opt()
        .unwrap_or(as_of)
        .and_hms_opt(0, 0, 0)
        .expect("midnight exists")
        .and_utc();
    let days = as_of
        .signed_duration_since(NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch"))
        .num_days();
    let mut p = vec![
        ("as_of".to_string(), ScalarValue::Date32(Some(days as i32))),
        (
            "as_of_end".to_string(),
            ScalarValue::TimestampMicrosecond(Some(end.timestamp_micros()), Some(UTC.into())),
        ),
        (
            "session_timeout_seconds".to_string(),
            ScalarValue::Int64(Some(settings.session_timeout_seconds)),
        ),
        (
            "engaged_min_seconds".to_string(),
            ScalarValue::Int64(Some(settings.engaged_seconds)),
        ),
        (
            "engaged_min_pageviews".to_string(),
            ScalarValue::Int64(Some(settings.engaged_pageviews)),
        ),
    ];
    p.extend(crate::config::sections::attribution::params(&settings.attribution));
    p.extend(settings.clv.params());
    p.extend(crate::config::sections::lift::params(&settings.lift, as_of));
    p.extend(settings.params.iter().cloned());
    p
}
