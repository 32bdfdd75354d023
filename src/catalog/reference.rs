//! The reference tables: the config's lists as small tables the queries
//! join (conversion definitions, channel rules, funnels, lift, experiments,
//! audiences, costs). One function per section, all through
//! [`super::tables`].

use chrono::NaiveDate;
use datafusion::prelude::SessionContext;

use super::tables::{float64, int32, int64, int64_list, register, text};
use crate::config::sections::attribution::CostRow;
use crate::config::sections::channels::ChannelRule;
use crate::config::sections::conversions::Conversion;
use crate::config::sections::funnels::Funnel;
use crate::config::sections::lift::LiftSettings;
use crate::error::Result;

fn some(v: &str) -> Option<String> {
    Some(v.to_string())
}

pub fn conversions(ctx: &SessionContext, defs: &[Conversion]) -> Result<()> {
    register(
        ctx,
        "conversion_definitions",
        vec![
            text("name", defs.iter().map(|c| some(&c.name))),
            text("kind", defs.iter().map(|c| some(c.kind.as_str()))),
            text(
                "stage",
                defs.iter().map(|c| c.stage.map(|s| s.as_str().into())),
            ),
            text("scope", defs.iter().map(|c| some(c.scope.as_str()))),
            text("when_sql", defs.iter().map(|c| some(&c.when))),
            text("value_sql", defs.iter().map(|c| c.value.clone())),
            text("description", defs.iter().map(|c| c.description.clone())),
        ],
    )
}

pub fn channel_rules(ctx: &SessionContext, rules: &[ChannelRule]) -> Result<()> {
    register(
        ctx,
        "channel_rules",
        vec![
            int32("priority", (1..=rules.len() as i32).map(Some)).required(),
            text("channel", rules.iter().map(|r| some(&r.name))).required(),
            text("when_sql", rules.iter().map(|r| some(&r.when))).required(),
        ],
    )
}

pub fn pageview_events(ctx: &SessionContext, names: &[String]) -> Result<()> {
    register(
        ctx,
        "pageview_events",
        vec![text("event_name", names.iter().map(|n| some(n)))],
    )
}

pub fn funnels(ctx: &SessionContext, funnels: &[Funnel]) -> Result<()> {
    let name = |f: &Funnel| some(&f.name);
    register(
        ctx,
        "funnel_definitions",
        vec![
            text("funnel", funnels.iter().map(name)),
            int32("steps", funnels.iter().map(|f| Some(f.steps.len() as i32))),
            int64(
                "window_seconds",
                funnels.iter().map(|f| Some(f.window_seconds)),
            ),
            text("mode", funnels.iter().map(|f| some(f.mode.as_str()))),
            text("count_by", funnels.iter().map(|f| some(f.count.name()))),
            int64_list(
                "max_gap_seconds",
                funnels.iter().map(|f| Some(f.max_gap_seconds.clone())),
            ),
            text("description", funnels.iter().map(|f| f.description.clone())),
        ],
    )?;
    let steps: Vec<(&Funnel, usize)> = funnels
        .iter()
        .flat_map(|f| (0..f.steps.len()).map(move |i| (f, i)))
        .collect();
    register(
        ctx,
        "funnel_step_definitions",
        vec![
            text("funnel", steps.iter().map(|(f, _)| name(f))),
            int32("step", steps.iter().map(|(_, i)| Some(*i as i32 + 1))),
            text("conversion", steps.iter().map(|(f, i)| some(&f.steps[*i]))),
            int64(
                "max_gap_seconds",
                steps.iter().map(|(f, i)| f.max_gap_seconds[*i]),
            ),
        ],
    )?;
    let pairs = |list: fn(&Funnel) -> &Vec<String>| -> Vec<(String, String)> {
        funnels
            .iter()
            .flat_map(|f| list(f).iter().map(|x| (f.name.clone(), x.clone())))
            .collect()
    };
    for (table_name, column, rows) in [
        ("funnel_exclusions", "conversion", pairs(|f| &f.exclude)),
        ("funnel_breakdowns", "breakdown", pairs(|f| &f.breakdowns)),
    ] {
        register(
            ctx,
            table_name,
            vec![
                text("funnel", rows.iter().map(|(f, _)| Some(f.clone()))),
                text(column, rows.iter().map(|(_, x)| Some(x.clone()))),
            ],
        )?;
    }
    Ok(())
}

/// Name of the cost reference table.
pub const COSTS_TABLE: &str = "attribution_costs";

/// `attribution_costs` (empty when no costs are configured).
pub fn costs(ctx: &SessionContext, rows: &[CostRow]) -> Result<()> {
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch");
    let days = rows
        .iter()
        .map(|r| Some(r.day.signed_duration_since(epoch).num_days() as i32));
    register(
        ctx,
        COSTS_TABLE,
        vec![
            super::tables::date32("day", days).required(),
            text("channel", rows.iter().map(|r| some(&r.channel))).required(),
            text("campaign", rows.iter().map(|r| r.campaign.clone())),
            float64("cost", rows.iter().map(|r| Some(r.cost))).required(),
        ],
    )
}

/// The lift, experiment and audience tables.
pub fn lift(ctx: &SessionContext, s: &LiftSettings) -> Result<()> {
    register(
        ctx,
        "lift_purchase_steps",
        vec![text("conversion", s.purchase_steps.iter().map(|c| some(c)))],
    )?;

    let e = &s.experiments;
    register(
        ctx,
        "experiment_definitions",
        vec![
            text("experiment", e.iter().map(|x| some(&x.name))),
            text("control_variant", e.iter().map(|x| x.control.clone())),
        ],
    )?;
    let pairs: Vec<(&str, &str)> = e
        .iter()
        .flat_map(|x| {
            x.conversions
                .iter()
                .map(move |c| (x.name.as_str(), c.as_str()))
        })
        .collect();
    register(
        ctx,
        "experiment_conversions",
        vec![
            text("experiment", pairs.iter().map(|p| some(p.0))),
            text("conversion", pairs.iter().map(|p| some(p.1))),
        ],
    )?;
    let weights: Vec<(&str, &str, f64)> = e
        .iter()
        .flat_map(|x| {
            x.weights
                .iter()
                .map(move |(v, w)| (x.name.as_str(), v.as_str(), *w))
        })
        .collect();
    register(
        ctx,
        "experiment_weights",
        vec![
            text("experiment", weights.iter().map(|p| some(p.0))),
            text("variant", weights.iter().map(|p| some(p.1))),
            float64("weight", weights.iter().map(|p| Some(p.2))),
        ],
    )?;

    let a = &s.audiences;
    register(
        ctx,
        "audience_definitions",
        vec![
            text("audience", a.iter().map(|x| some(&x.name))),
            text("kind", a.iter().map(|x| some(x.kind.as_str()))),
            int64("window_days", a.iter().map(|x| Some(x.window_days))),
            text(
                "exclude_converted",
                a.iter().map(|x| some(x.exclude.as_str())),
            ),
            float64("min_intent_score", a.iter().map(|x| x.min_intent_score)),
            text("description", a.iter().map(|x| x.description.clone())),
        ],
    )?;
    let roles: Vec<(&str, &str, &str)> = a
        .iter()
        .flat_map(|x| {
            let micro = x
                .micro
                .iter()
                .map(move |c| (x.name.as_str(), "micro", c.as_str()));
            let macros = x
                .macros
                .iter()
                .map(move |c| (x.name.as_str(), "macro", c.as_str()));
            micro.chain(macros)
        })
        .collect();
    register(
        ctx,
        "audience_conversions",
        vec![
            text("audience", roles.iter().map(|p| some(p.0))),
            text("role", roles.iter().map(|p| some(p.1))),
            text("conversion", roles.iter().map(|p| some(p.2))),
        ],
    )
}
