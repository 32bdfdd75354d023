//! `[[funnels]]`: funnel definitions as written in the config, validated
//! into [`Funnel`]s (the catalog turns them into the funnel reference
//! tables).

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use super::conversions::Conversion;
use crate::config::units::{is_identifier, parse_duration, parse_positive_duration};
use crate::error::{Error, Result};
use crate::functions::funnel::algo::MAX_STEPS;

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

/// How the steps of a funnel must happen (the modes of `window_funnel`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FunnelMode {
    #[default]
    Ordered,
    StrictOrder,
    StrictDeduplication,
    AnyOrder,
}

impl FunnelMode {
    /// The mode text `window_funnel` takes.
    pub fn as_str(self) -> &'static str {
        match self {
            FunnelMode::Ordered => "ordered",
            FunnelMode::StrictOrder => "strict_order",
            FunnelMode::StrictDeduplication => "strict_deduplication",
            FunnelMode::AnyOrder => "any_order",
        }
    }
}

/// One `[[funnels]]` table.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct FunnelConfig {
    pub name: String,
    /// Conversion names, in order.
    pub steps: Vec<String>,
    /// From the first step, e.g. "7d" (default 7d).
    pub window: Option<String>,
    pub mode: Option<FunnelMode>,
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
    pub count: Option<CountBy>,
    pub description: Option<String>,
}

/// What a funnel counts.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CountBy {
    #[default]
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
    pub mode: FunnelMode,
    /// One per step; `None` = no limit (always `None` for step 1).
    pub max_gap_seconds: Vec<Option<i64>>,
    pub exclude: Vec<String>,
    pub breakdowns: Vec<String>,
    pub count: CountBy,
    pub description: Option<String>,
}

/// Validate the `[[funnels]]` against the defined conversions.
pub fn validate(funnels: &[FunnelConfig], conversions: &[Conversion]) -> Result<Vec<Funnel>> {
    let defined: BTreeSet<&str> = conversions.iter().map(|c| c.name.as_str()).collect();
    let mut names = BTreeSet::new();
    funnels
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let key = |k: &str| format!("funnels[{i}].{k} ({})", f.name);
            if !is_identifier(&f.name) {
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
            let mode = f.mode.unwrap_or_default();
            let max_gap_seconds = match &f.max_gap {
                None => vec![None; f.steps.len()],
                Some(gaps) => resolve_gaps(gaps, f.steps.len(), mode, &key("max_gap"))?,
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
            let count = f.count.unwrap_or_default();
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

fn resolve_gaps(
    gaps: &[String],
    steps: usize,
    mode: FunnelMode,
    key: &str,
) -> Result<Vec<Option<i64>>> {
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
            t => parse_positive_duration(t)
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
    if mode == FunnelMode::AnyOrder && out.iter().any(Option::is_some) {
        return Err(Error::setting(key, "cannot be used with mode any_order"));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::sections::conversions::{ConversionKind, Scope};

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
        let doc: Doc = toml::from_str(text).map_err(|e| Error::setting("toml", e.to_string()))?;
        validate(&doc.funnels, &conversions())
    }

    #[test]
    fn defaults_and_gaps() {
        let f = parse(
            "[[funnels]]\nname = \"f\"\nsteps = [\"view\", \"cart\", \"buy\"]\n\
             max_gap = [\"\", \"1d\", \"\"]\n",
        )
        .unwrap();
        assert_eq!(f[0].window_seconds, 7 * 86_400);
        assert_eq!(f[0].mode, FunnelMode::Ordered);
        assert_eq!(f[0].count, CountBy::Users);
        assert_eq!(f[0].max_gap_seconds, vec![None, Some(86_400), None]);
    }

    #[test]
    fn enum_values_are_checked_when_the_file_is_read() {
        for (extra, word) in [
            ("mode = \"sideways\"\n", "sideways"),
            ("count = \"clicks\"\n", "clicks"),
        ] {
            let text = format!("[[funnels]]\nname = \"f\"\nsteps = [\"view\"]\n{extra}");
            let err = parse(&text).unwrap_err().to_string();
            assert!(err.contains(word) && err.contains("line 4"), "{err}");
        }
    }

    #[test]
    fn bad_values_name_their_key() {
        let base = "[[funnels]]\nname = \"f\"\nsteps = [\"view\", \"cart\"]\n";
        for (extra, key) in [
            ("", "ok"),
            ("window = \"soon\"\n", "funnels[0].window"),
            ("max_gap = [\"\"]\n", "funnels[0].max_gap"),
            ("max_gap = [\"1h\", \"\"]\n", "funnels[0].max_gap"),
            ("exclude = [\"cart\"]\n", "funnels[0].exclude[0]"),
            ("exclude = [\"nope\"]\n", "funnels[0].exclude[0]"),
            ("breakdowns = [\"shoe_size\"]\n", "funnels[0].breakdowns[0]"),
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
