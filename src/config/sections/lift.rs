//! Configuration of the lift analyses: the `[lift]` table, `[[experiments]]`
//! and `[[audiences]]`. Raw TOML structs, their validation into
//! [`LiftSettings`] (errors name the key), and how they reach SQL: scalar
//! settings as `$lift_*` parameters, lists as reference tables.

use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::conversions::{check_names, names_of, Conversion, ConversionKind};
use crate::config::units::{is_identifier, parse_positive_duration};
use crate::error::{Error, Result};

/// `[lift]`
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LiftConfig {
    /// Analysis window before the end of the as-of day, e.g. "90d"; default:
    /// all events up to as-of.
    pub lookback: Option<String>,
    /// Fewer exposed or unexposed users than this: `low_sample`.
    pub min_group_users: Option<u32>,
    /// Fewer converters than this in either group: `low_sample`.
    pub min_converters: Option<u32>,
    /// Confidence level of every interval (default 0.95).
    pub confidence: Option<f64>,
    /// Benjamini–Hochberg false discovery rate for `significant` (0.05).
    pub fdr: Option<f64>,
    /// p1 at or above this: `too_good_to_be_true` (0.9).
    pub too_good_p1: Option<f64>,
    /// Micro conversions that are steps of the purchase itself (flagged
    /// `too_good_to_be_true`).
    pub purchase_steps: Option<Vec<String>>,
    /// Prevalence increase, in percentage points, behind `opportunity` (10).
    pub opportunity_points: Option<f64>,
    /// Sample-ratio-mismatch p-value below this flags an experiment (0.001).
    pub srm_alpha: Option<f64>,
}

/// `[[experiments]]`: settings for one experiment found in the events.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ExperimentConfig {
    pub name: String,
    /// The control variant (default: `control` if present, else the first
    /// alphabetically).
    pub control: Option<String>,
    /// Conversions to report (default: all).
    pub conversions: Option<Vec<String>>,
    /// Expected traffic split, variant = weight (default: equal).
    pub weights: Option<BTreeMap<String, f64>>,
}

/// `[[audiences]]`
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AudienceConfig {
    pub name: String,
    /// `micro` (did one of `micro`) or `high_intent` (intent score at least
    /// `min_intent_score`).
    pub kind: Option<AudienceKind>,
    pub micro: Option<Vec<String>>,
    /// Macro conversions that exclude a user (default: all macros).
    #[serde(rename = "macro")]
    pub macros: Option<Vec<String>>,
    pub window_days: Option<u32>,
    /// `window`: no macro conversion in the window; `ever`: none up to as-of.
    pub exclude_converted: Option<ExcludeConverted>,
    pub min_intent_score: Option<f64>,
    pub description: Option<String>,
}

/// Who is in an audience.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AudienceKind {
    /// Did one of the audience's micro conversions.
    #[default]
    Micro,
    /// Intent score at least `min_intent_score`.
    HighIntent,
}

/// Which macro conversions keep a user out of an audience.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ExcludeConverted {
    /// One in the audience's window.
    #[default]
    Window,
    /// One at any time up to as-of.
    Ever,
}

impl AudienceKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AudienceKind::Micro => "micro",
            AudienceKind::HighIntent => "high_intent",
        }
    }
}

impl ExcludeConverted {
    pub fn as_str(self) -> &'static str {
        match self {
            ExcludeConverted::Window => "window",
            ExcludeConverted::Ever => "ever",
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Experiment {
    pub name: String,
    pub control: Option<String>,
    pub conversions: Vec<String>,
    pub weights: Vec<(String, f64)>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Audience {
    pub name: String,
    pub kind: AudienceKind,
    pub micro: Vec<String>,
    pub macros: Vec<String>,
    pub window_days: i64,
    pub exclude: ExcludeConverted,
    pub min_intent_score: Option<f64>,
    pub description: Option<String>,
}

/// Validated lift, experiment and audience settings.
#[derive(Debug, Clone, PartialEq)]
pub struct LiftSettings {
    pub lookback_seconds: Option<i64>,
    pub min_group_users: i64,
    pub min_converters: i64,
    pub confidence: f64,
    pub fdr: f64,
    pub too_good_p1: f64,
    pub purchase_steps: Vec<String>,
    pub opportunity_points: f64,
    pub srm_alpha: f64,
    pub experiments: Vec<Experiment>,
    pub audiences: Vec<Audience>,
}

fn probability(key: &str, v: Option<f64>, default: f64) -> Result<f64> {
    let v = v.unwrap_or(default);
    if v > 0.0 && v < 1.0 {
        Ok(v)
    } else {
        Err(Error::setting(
            key,
            format!("must be between 0 and 1 (exclusive), got {v}"),
        ))
    }
}

/// Validate `[lift]`, `[[experiments]]` and `[[audiences]]`.
pub fn validate(
    l: &LiftConfig,
    experiments: &[ExperimentConfig],
    audiences: &[AudienceConfig],
    defs: &[Conversion],
) -> Result<LiftSettings> {
    let lookback_seconds = l
        .lookback
        .as_deref()
        .map(|s| parse_positive_duration(s).map_err(|m| Error::setting("lift.lookback", m)))
        .transpose()?;
    let opportunity_points = l.opportunity_points.unwrap_or(10.0);
    if !(opportunity_points > 0.0 && opportunity_points <= 100.0) {
        return Err(Error::setting(
            "lift.opportunity_points",
            "must be between 0 and 100 percentage points",
        ));
    }
    let purchase_steps = l.purchase_steps.clone().unwrap_or_default();
    check_names(
        "lift.purchase_steps",
        &purchase_steps,
        Some(ConversionKind::Micro),
        defs,
    )?;
    Ok(LiftSettings {
        lookback_seconds,
        min_group_users: i64::from(l.min_group_users.unwrap_or(30)),
        min_converters: i64::from(l.min_converters.unwrap_or(5)),
        confidence: probability("lift.confidence", l.confidence, 0.95)?,
        fdr: probability("lift.fdr", l.fdr, 0.05)?,
        too_good_p1: probability("lift.too_good_p1", l.too_good_p1, 0.9)?,
        purchase_steps,
        opportunity_points,
        srm_alpha: probability("lift.srm_alpha", l.srm_alpha, 0.001)?,
        experiments: validate_experiments(experiments, defs)?,
        audiences: validate_audiences(audiences, defs)?,
    })
}

fn validate_experiments(list: &[ExperimentConfig], defs: &[Conversion]) -> Result<Vec<Experiment>> {
    let mut seen = BTreeSet::new();
    list.iter()
        .enumerate()
        .map(|(i, e)| {
            let key = |k: &str| format!("experiments[{i}].{k} ({})", e.name);
            if !seen.insert(e.name.clone()) {
                return Err(Error::setting(key("name"), "defined twice"));
            }
            let conversions = e.conversions.clone().unwrap_or_default();
            check_names(
                &format!("experiments[{i}].conversions"),
                &conversions,
                None,
                defs,
            )?;
            let weights: Vec<(String, f64)> =
                e.weights.clone().unwrap_or_default().into_iter().collect();
            for (variant, w) in &weights {
                if !(w.is_finite() && *w > 0.0) {
                    return Err(Error::setting(
                        key(&format!("weights.{variant}")),
                        "must be a positive number",
                    ));
                }
            }
            Ok(Experiment {
                name: e.name.clone(),
                control: e.control.clone(),
                conversions,
                weights,
            })
        })
        .collect()
}

fn validate_audiences(list: &[AudienceConfig], defs: &[Conversion]) -> Result<Vec<Audience>> {
    let mut seen = BTreeSet::new();
    list.iter()
        .enumerate()
        .map(|(i, a)| {
            let key = |k: &str| format!("audiences[{i}].{k} ({})", a.name);
            if !is_identifier(&a.name) {
                return Err(Error::setting(
                    key("name"),
                    "use lowercase letters, digits and _",
                ));
            }
            if !seen.insert(a.name.clone()) {
                return Err(Error::setting(key("name"), "defined twice"));
            }
            let kind = a.kind.unwrap_or_default();
            let micro = match (&a.micro, kind) {
                (Some(m), _) if !m.is_empty() => m.clone(),
                (_, AudienceKind::HighIntent) => names_of(defs, ConversionKind::Micro),
                _ => {
                    return Err(Error::setting(
                        key("micro"),
                        "list the micro conversions of the audience",
                    ))
                }
            };
            check_names(
                &format!("audiences[{i}].micro"),
                &micro,
                Some(ConversionKind::Micro),
                defs,
            )?;
            let macros = a
                .macros
                .clone()
                .unwrap_or_else(|| names_of(defs, ConversionKind::Macro));
            check_names(
                &format!("audiences[{i}].macro"),
                &macros,
                Some(ConversionKind::Macro),
                defs,
            )?;
            let exclude = a.exclude_converted.unwrap_or_default();
            let window_days = i64::from(a.window_days.unwrap_or(30));
            if window_days < 1 {
                return Err(Error::setting(key("window_days"), "must be at least 1"));
            }
            let min_intent_score = match (kind, a.min_intent_score) {
                (AudienceKind::HighIntent, s) => {
                    let s = s.unwrap_or(3.0);
                    if !(s.is_finite() && s > 0.0) {
                        return Err(Error::setting(
                            key("min_intent_score"),
                            "must be a positive number",
                        ));
                    }
                    Some(s)
                }
                (_, Some(_)) => {
                    return Err(Error::setting(
                        key("min_intent_score"),
                        "only applies to kind = \"high_intent\"",
                    ))
                }
                _ => None,
            };
            Ok(Audience {
                name: a.name.clone(),
                kind,
                micro,
                macros,
                window_days,
                exclude,
                min_intent_score,
                description: a.description.clone(),
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    const CONVERSIONS: &str = "[[conversions]]\nname = \"add_to_cart\"\nkind = \"micro\"\nwhen = \"true\"\n[[conversions]]\nname = \"purchase\"\nkind = \"macro\"\nwhen = \"true\"\n";

    fn resolve_text(extra: &str) -> Result<LiftSettings> {
        let text = format!("{CONVERSIONS}{extra}");
        Ok(crate::config::Settings::from_toml(&text)?.lift)
    }

    #[test]
    fn defaults() {
        let s = resolve_text("").unwrap();
        assert_eq!(s.lookback_seconds, None);
        assert_eq!((s.min_group_users, s.min_converters), (30, 5));
        assert_eq!((s.confidence, s.fdr, s.too_good_p1), (0.95, 0.05, 0.9));
        assert_eq!(s.opportunity_points, 10.0);
        assert!(s.experiments.is_empty() && s.audiences.is_empty());
    }

    #[test]
    fn audience_defaults_fill_in_macros_and_high_intent_micros() {
        let s = resolve_text(
            "[[audiences]]\nname = \"cart\"\nmicro = [\"add_to_cart\"]\n[[audiences]]\nname = \"hot\"\nkind = \"high_intent\"\n",
        )
        .unwrap();
        assert_eq!(s.audiences[0].macros, vec!["purchase".to_string()]);
        assert_eq!(
            (s.audiences[0].window_days, s.audiences[0].exclude),
            (30, ExcludeConverted::Window)
        );
        assert_eq!(s.audiences[1].micro, vec!["add_to_cart".to_string()]);
        assert_eq!(s.audiences[1].min_intent_score, Some(3.0));
    }

    #[test]
    fn bad_values_name_their_key() {
        for (text, key) in [
            ("[lift]\nlookback = \"soon\"\n", "lift.lookback"),
            ("[lift]\nconfidence = 95\n", "lift.confidence"),
            ("[lift]\npurchase_steps = [\"purchase\"]\n", "lift.purchase_steps[0]"),
            ("[lift]\npurchase_steps = [\"nope\"]\n", "lift.purchase_steps[0]"),
            ("[[audiences]]\nname = \"a\"\n", "audiences[0].micro"),
            ("[[audiences]]\nname = \"a\"\nmicro = [\"purchase\"]\n", "audiences[0].micro[0]"),
            ("[[audiences]]\nname = \"a\"\nmicro = [\"add_to_cart\"]\nexclude_converted = \"never\"\n", "never"),
            ("[[experiments]]\nname = \"x\"\nconversions = [\"nope\"]\n", "experiments[0].conversions[0]"),
            ("[[experiments]]\nname = \"x\"\nweights = { a = 0 }\n", "experiments[0].weights.a"),
        ] {
            let err = resolve_text(text).unwrap_err().to_string();
            assert!(err.contains(key), "{key}: {err}");
        }
        let err = resolve_text("[lift]\nlookbak = \"7d\"\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("lookbak"), "{err}");
    }
}
