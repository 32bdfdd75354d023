//! Configuration as data: the only place that turns settings into reference
//! tables (lists: conversion definitions, funnels, costs...) and typed SQL
//! parameters (scalars: `$session_timeout_seconds`...), so queries stay
//! plain SQL with no templating.

pub mod costs;
pub mod params;
pub mod reference;
pub mod tables;

use datafusion::prelude::SessionContext;

pub use params::{InputParams, Params};

use crate::config::sections::attribution::{CostRow, CostSource};
use crate::config::Settings;
use crate::error::Result;

/// Names of the reference tables registered by [`Catalog::register`].
pub const REFERENCE_TABLES: &[&str] = &[
    "conversion_definitions",
    "channel_rules",
    "pageview_events",
    "run_params",
    "funnel_definitions",
    "funnel_step_definitions",
    "funnel_exclusions",
    "funnel_breakdowns",
    reference::COSTS_TABLE,
    "lift_purchase_steps",
    "experiment_definitions",
    "experiment_conversions",
    "experiment_weights",
    "audience_definitions",
    "audience_conversions",
];

/// The reference data of a run, loaded before any event is read (so a bad
/// cost file fails the run before anything is written).
#[derive(Debug, Clone)]
pub struct Catalog {
    costs: Vec<CostRow>,
}

impl Catalog {
    /// Read what the settings point at (the cost file, if any).
    pub fn load(settings: &Settings) -> Result<Catalog> {
        let costs = match &settings.attribution.costs {
            CostSource::None => Vec::new(),
            CostSource::Inline(rows) => rows.clone(),
            CostSource::File(path) => costs::read_cost_file(path)?,
        };
        Ok(Catalog { costs })
    }

    /// Register every reference table, `run_params` from `params`.
    pub fn register(
        &self,
        ctx: &SessionContext,
        settings: &Settings,
        params: &Params,
    ) -> Result<()> {
        reference::conversions(ctx, &settings.conversions)?;
        reference::channel_rules(ctx, &settings.channel_rules)?;
        reference::pageview_events(ctx, &settings.sessions.pageview_events)?;
        tables::register(
            ctx,
            "run_params",
            vec![
                tables::text("name", params.values().iter().map(|(k, _)| Some(k.clone()))),
                tables::text(
                    "value",
                    params.values().iter().map(|(_, v)| Some(v.to_string())),
                ),
            ],
        )?;
        reference::funnels(ctx, &settings.funnels)?;
        reference::costs(ctx, &self.costs)?;
        reference::lift(ctx, &settings.lift)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_cost_file_is_named_before_anything_runs() {
        let s = Settings::from_toml("[attribution]\ncost_file = \"/nonexistent/costs.parquet\"\n")
            .unwrap();
        let err = Catalog::load(&s).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("attribution.cost_file") && text.contains("/nonexistent/costs.parquet"),
            "{text}"
        );
        assert_eq!(err.exit_code(), 2);
    }
}
