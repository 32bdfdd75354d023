//! `[[funnels]]`: funnel definitions as written in the config, validated
//! into [`Funnel`]s, and registered as the reference tables the bundled
//! funnel queries read (`funnel_definitions`, `funnel_step_definitions`,
//! `funnel_exclusions`, `funnel_breakdowns`), so the SQL needs no templating.

use std::collections::BTreeSet;
use std::sync::Arc;

use datafusion::arrow::array::StringArray;
use datafusion::arrow::array::{ArrayRef, Int32Array, Int64Array, ListArray, RecordBatch};
use datafusion::arrow::datatypes::{DataType, Field, Int64Type, Schema};
use datafusion::datasource::MemTable;
use datafusion::prelude::SessionContext;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::functions::funnel::algo::MAX_STEPS;
use crate::config::settings::{parse_duration, Conversion};

/// Session attributes a funnel can be broken down by (of the session in
/// which the user entered the funnel).
pub const BREAKDOWNS: &[&str] = &[
    "channel",
    "source",
    "medium",
    "campaign",
    "device",
    "country",
    "landing_page",
];

/// The modes a configured funnel may use.
pub const MODES: &[&str] = &[
    "ordered",
    "strict_order",
    "strict_deduplication",
    "any_order",
];

/// One `[[funnels]]` table.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FunnelConfig {
    pub name: String,
    /// Conversion names, in order.
    pub steps: Vec<String>,
    /// From the first step, e.g. "7d" (default 7d).
    pub window: Option<String>,
    /// ordered | strict_order | strict_deduplication | any_order
    pub mode: Option<String>,
    /// Per step, the longest time since the previous step ("" = no limit).
    pub max_gap: Option<Vec<String>>,
    /// Conversions that put a user out of the funnel when they happen
    /// between the first and the last step reached.
    #[serde(default)]
    pub exclude: Vec<String>,
    /// Attributes of the entry session to break the funnel down by.
    #[serde(default)]
    pub breakdowns: Vec<String>,
    /// users | sessions (the funnel must complete within one session).
    pub count: Option<String>,
    pub description: Option<String>,
}

/// What a funnel counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CountBy {
    Users,
    Sessions,
}

impl CountBy {
    pub fn name(self) -> &'static str {
        match self {
            CountBy::Users => "users",
            CountBy::Sessions => "sessions",
        }
    }
}

/// A validated funnel.
#[derive(Debug, Clone)]
pub struct Funnel {
    pub name: String,
    pub steps: Vec<String>,
    pub window_seconds: i64,
    pub mode: String,
    /// One per step; `None` = no limit (always `None` for step 1).
    pub max_gap_seconds: Vec<Option<i64>>,
    pub exclude: Vec<String>,
    pub breakdowns: Vec<String>,
    pub count: CountBy,
    pub description: Option<String>,
}

/// Validate the `[[funnels]]` against the defined conversions.
pub fn resolve(funnels: &[FunnelConfig], conversions: &[Conversion]) -> Result<Vec<Funnel>> {
    let defined: BTreeSet<&str> = conversions.iter().map(|c| c.name.as_str()).collect();
    let mut names = BTreeSet::new();
    funnels
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let key = |k: &str| format!("funnels[{i}].{k} ({})", f.name);
            let is_identifier = !f.name.is_empty()
                && !f.name.starts_with(|c: char| c.is_ascii_digit())
                && f.name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
            if !is_identifier {
                return Err(Error::setting(
                    key("name"),
                    "use lowercase letters, digits and _",
                ));
            }
            if !names.insert(f.name.as_str()) {
                return Err(Error::setting(key("name"), "defined twice"));
            }
            if f.steps.is_empty() || f.steps.len() > MAX_STEPS {
                return Err(Error::setting(
                    key("steps"),
                    format!("a funnel has 1 to {MAX_STEPS} steps"),
                ));
            }
            let known = |list: &str, j: usize, name: &str| {
                if defined.contains(name) {
                    Ok(())
                } else {
                    Err(Error::setting(
                        key(&format!("{list}[{j}]")),
                        format!("`{name}` is not a conversion defined under [[conversions]]"),
                    ))
                }
            };
            for (j, s) in f.steps.iter().enumerate() {
                known("steps", j, s)?;
            }
            for (j, x) in f.exclude.iter().enumerate() {
                known("exclude", j, x)?;
                if f.steps.contains(x) {
                    return Err(Error::setting(
                        key(&format!("exclude[{j}]")),
                        format!("`{x}` is also a step of the funnel"),
                    ));
                }
            }
            let window_seconds = parse_duration(f.window.as_deref().unwrap_or("7d"))
                .map_err(|m| Error::setting(key("window"), m))?;
            if window_seconds <= 0 {
                return Err(Error::setting(key("window"), "must be longer than 0"));
            }
            let mode = f.mode.clone().unwrap_or_else(|| "ordered".into());
            if !MODES.contains(&mode.as_str()) {
                return Err(Error::setting(
                    key("mode"),
                    format!("`{mode}` is not one of {}", MODES.join(", ")),
                ));
            }
            let max_gap_seconds = match &f.max_gap {
                None => vec![None; f.steps.len()],
                Some(gaps) => resolve_gaps(gaps, f.steps.len(), &mode, &key("max_gap"))?,
            };
            let mut seen = BTreeSet::new();
            for (j, b) in f.breakdowns.iter().enumerate() {
                if !BREAKDOWNS.contains(&b.as_str()) || !seen.insert(b) {
                    return Err(Error::setting(
                        key(&format!("breakdowns[{j}]")),
                        format!(
                            "`{b}` is not one of {} (or is listed twice)",
                            BREAKDOWNS.join(", ")
                        ),
                    ));
                }
            }
            let count = match f.count.as_deref().unwrap_or("users") {
                "users" => CountBy::Users,
                "sessions" => CountBy::Sessions,
                other => {
                    return Err(Error::setting(
                        key("count"),
                        format!("`{other}` is not users or sessions"),
                    ))
                }
            };
            Ok(Funnel {
                name: f.name.clone(),
                steps: f.steps.clone(),
                window_seconds,
                mode,
                max_gap_seconds,
                exclude: f.exclude.clone(),
                breakdowns: f.breakdowns.clone(),
                count,
                description: f.description.clone(),
            })
        })
        .collect()
}

fn resolve_gaps(gaps: &[String], steps: usize, mode: &str, key: &str) -> Result<Vec<Option<i64>>> {
    if gaps.len() != steps {
        return Err(Error::setting(
            key,
            format!(
                "has {} entries; give one per step ({steps}), \"\" for none",
                gaps.len()
            ),
        ));
    }
    let out = gaps
        .iter()
        .map(|g| match g.trim() {
            "" => Ok(None),
            t => parse_duration(t)
                .map(Some)
                .map_err(|m| Error::setting(key, m)),
        })
        .collect::<Result<Vec<_>>>()?;
    if out[0].is_some() {
        return Err(Error::setting(
            key,
            "the first step has no previous step; its entry must be \"\"",
        ));
    }
    if mode == "any_order" && out.iter().any(Option::is_some) {
        return Err(Error::setting(key, "cannot be used with mode any_order"));
    }
    Ok(out)
}

fn text(values: impl IntoIterator<Item = Option<String>>) -> ArrayRef {
    Arc::new(values.into_iter().collect::<StringArray>())
}

fn table(fields: Vec<Field>, columns: Vec<ArrayRef>) -> Result<Arc<MemTable>> {
    let schema = Arc::new(Schema::new(fields));
    let batch = RecordBatch::try_new(schema.clone(), columns)?;
    Ok(Arc::new(MemTable::try_new(schema, vec![vec![batch]])?))
}

/// Register the funnel reference tables (empty when no funnel is defined).
pub fn register(ctx: &SessionContext, funnels: &[Funnel]) -> Result<()> {
    let name = |f: &Funnel| Some(f.name.clone());
    let definitions = table(
        vec![
            Field::new("funnel", DataType::Utf8, true),
            Field::new("steps", DataType::Int32, true),
            Field::new("window_seconds", DataType::Int64, true),
            Field::new("mode", DataType::Utf8, true),
            Field::new("count_by", DataType::Utf8, true),
            Field::new(
                "max_gap_seconds",
                DataType::List(Arc::new(Field::new_list_field(DataType::Int64, true))),
                true,
            ),
            Field::new("description", DataType::Utf8, true),
        ],
        vec![
            text(funnels.iter().map(name)),
            Arc::new(Int32Array::from_iter_values(
                funnels.iter().map(|f| f.steps.len() as i32),
            )),
            Arc::new(Int64Array::from_iter_values(
                funnels.iter().map(|f| f.window_seconds),
            )),
            text(funnels.iter().map(|f| Some(f.mode.clone()))),
            text(funnels.iter().map(|f| Some(f.count.name().to_string()))),
            Arc::new(ListArray::from_iter_primitive::<Int64Type, _, _>(
                funnels.iter().map(|f| Some(f.max_gap_seconds.clone())),
            )),
            text(funnels.iter().map(|f| f.description.clone())),
        ],
    )?;
    replace(ctx, "funnel_definitions", definitions)?;

    let steps: Vec<(&Funnel, usize)> = funnels
        .iter()
        .flat_map(|f| (0..f.steps.len()).map(move |i| (f, i)))
        .collect();
    let step_table = table(
        vec![
            Field::new("funnel", DataType::Utf8, true),
            Field::new("step", DataType::Int32, true),
            Field::new("conversion", DataType::Utf8, true),
            Field::new("max_gap_seconds", DataType::Int64, true),
        ],
        vec![
            text(steps.iter().map(|(f, _)| name(f))),
            Arc::new(Int32Array::from_iter_values(
                steps.iter().map(|(_, i)| *i as i32 + 1),
            )),
            text(steps.iter().map(|(f, i)| Some(f.steps[*i].clone()))),
            Arc::new(
                steps
                    .iter()
                    .map(|(f, i)| f.max_gap_seconds[*i])
                    .collect::<Int64Array>(),
            ),
        ],
    )?;
    replace(ctx, "funnel_step_definitions", step_table)?;

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
        let t = table(
            vec![
                Field::new("funnel", DataType::Utf8, true),
                Field::new(column, DataType::Utf8, true),
            ],
            vec![
                text(rows.iter().map(|(f, _)| Some(f.clone()))),
                text(rows.iter().map(|(_, x)| Some(x.clone()))),
            ],
        )?;
        replace(ctx, table_name, t)?;
    }
    Ok(())
}

fn replace(ctx: &SessionContext, name: &str, table: Arc<MemTable>) -> Result<()> {
    ctx.deregister_table(name)?;
    ctx.register_table(name, table)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::settings::{ConversionKind, Scope};

    fn conversions() -> Vec<Conversion> {
        ["view", "cart", "buy", "refund"]
            .iter()
            .map(|n| Conversion {
                name: n.to_string(),
                kind: ConversionKind::Micro,
                stage: None,
                scope: Scope::Event,
                when: "true".into(),
                value: None,
                description: None,
            })
            .collect()
    }

    fn parse(text: &str) -> Result<Vec<Funnel>> {
        #[derive(Deserialize)]
        struct Doc {
            funnels: Vec<FunnelConfig>,
        }
        let doc: Doc = toml::from_str(text).unwrap();
        resolve(&doc.funnels, &conversions())
    }

    #[test]
    fn defaults_and_gaps() {
        let f = parse(
            "[[funnels]]\nname = \"f\"\nsteps = [\"view\", \"cart\", \"buy\"]\n\
             max_gap = [\"\", \"1d\", \"\"]\n",
        )
        .unwrap();
        assert_eq!(f[0].window_seconds, 7 * 86_400);
        assert_eq!(f[0].mode, "ordered");
        assert_eq!(f[0].count, CountBy::Users);
        assert_eq!(f[0].max_gap_seconds, vec![None, Some(86_400), None]);
    }

    #[test]
    fn bad_values_name_their_key() {
        let base = "[[funnels]]\nname = \"f\"\nsteps = [\"view\", \"cart\"]\n";
        for (extra, key) in [
            ("", "ok"),
            ("mode = \"sideways\"\n", "funnels[0].mode"),
            ("window = \"soon\"\n", "funnels[0].window"),
            ("max_gap = [\"\"]\n", "funnels[0].max_gap"),
            ("max_gap = [\"1h\", \"\"]\n", "funnels[0].max_gap"),
            ("exclude = [\"cart\"]\n", "funnels[0].exclude[0]"),
            ("exclude = [\"nope\"]\n", "funnels[0].exclude[0]"),
            ("breakdowns = [\"shoe_size\"]\n", "funnels[0].breakdowns[0]"),
            ("count = \"clicks\"\n", "funnels[0].count"),
            (
                "mode = \"any_order\"\nmax_gap = [\"\", \"1h\"]\n",
                "funnels[0].max_gap",
            ),
        ] {
            let result = parse(&format!("{base}{extra}"));
            if key == "ok" {
                assert!(result.is_ok());
            } else {
                let err = result.unwrap_err().to_string();
                assert!(err.contains(key), "{extra}: {err}");
            }
        }
        let err = parse("[[funnels]]\nname = \"f\"\nsteps = [\"view\", \"kart\"]\n")
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("funnels[0].steps[1]") && err.contains("kart"),
            "{err}"
        );
        let err = parse("[[funnels]]\nname = \"f\"\nsteps = [\"view\"]\n[[funnels]]\nname = \"f\"\nsteps = [\"view\"]\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("funnels[1].name"), "{err}");
    }
}
