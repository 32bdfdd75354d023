//! `[[conversions]]`: the micro and macro conversions, as SQL conditions on
//! events (or sessions) that the builtin hit tables evaluate.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::config::units::is_identifier;
use crate::error::{Error, Result};

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ConversionConfig {
    pub name: String,
    pub kind: ConversionKind,
    pub stage: Option<Stage>,
    pub scope: Option<Scope>,
    pub when: String,
    pub value: Option<String>,
    pub description: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ConversionKind {
    Micro,
    Macro,
}

/// What a conversion's `when` is evaluated on.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    #[default]
    Event,
    Session,
}

/// Funnel stage: top, middle or bottom of the funnel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Stage {
    Tof,
    Mof,
    Bof,
}

impl ConversionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ConversionKind::Micro => "micro",
            ConversionKind::Macro => "macro",
        }
    }
}

impl Scope {
    pub fn as_str(self) -> &'static str {
        match self {
            Scope::Event => "event",
            Scope::Session => "session",
        }
    }
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Tof => "TOF",
            Stage::Mof => "MOF",
            Stage::Bof => "BOF",
        }
    }
}

/// One validated conversion definition.
#[derive(Debug, Clone)]
pub struct Conversion {
    pub name: String,
    pub kind: ConversionKind,
    pub stage: Option<Stage>,
    pub scope: Scope,
    pub when: String,
    pub value: Option<String>,
    pub description: Option<String>,
}

/// Validate the list: names are identifiers and unique.
pub fn validate(list: &[ConversionConfig]) -> Result<Vec<Conversion>> {
    let mut seen = BTreeSet::new();
    list.iter()
        .enumerate()
        .map(|(i, c)| {
            let key = |k: &str| format!("conversions[{i}].{k} ({})", c.name);
            if !is_identifier(&c.name) {
                return Err(Error::setting(
                    key("name"),
                    "use lowercase letters, digits and _",
                ));
            }
            if !seen.insert(c.name.clone()) {
                return Err(Error::setting(key("name"), "defined twice"));
            }
            Ok(Conversion {
                name: c.name.clone(),
                kind: c.kind,
                stage: c.stage,
                scope: c.scope.unwrap_or_default(),
                when: c.when.clone(),
                value: c.value.clone(),
                description: c.description.clone(),
            })
        })
        .collect()
}

/// Names of the conversions of `kind`, in config order.
pub fn names_of(defs: &[Conversion], kind: ConversionKind) -> Vec<String> {
    defs.iter()
        .filter(|d| d.kind == kind)
        .map(|d| d.name.clone())
        .collect()
}

/// Check that every name in `names` (config key `key`) is a defined
/// conversion, of `kind` when given.
pub fn check_names(
    key: &str,
    names: &[String],
    kind: Option<ConversionKind>,
    defs: &[Conversion],
) -> Result<()> {
    for (i, n) in names.iter().enumerate() {
        match defs.iter().find(|d| &d.name == n) {
            None => {
                return Err(Error::setting(
                    format!("{key}[{i}]"),
                    format!("`{n}` is not a conversion defined in [[conversions]]"),
                ))
            }
            Some(d) if kind.is_some_and(|k| k != d.kind) => {
                return Err(Error::setting(
                    format!("{key}[{i}]"),
                    format!("`{n}` is not a {} conversion", d.kind.other().as_str()),
                ));
            }
            Some(_) => {}
        }
    }
    Ok(())
}

impl ConversionKind {
    fn other(self) -> ConversionKind {
        match self {
            ConversionKind::Micro => ConversionKind::Macro,
            ConversionKind::Macro => ConversionKind::Micro,
        }
    }
}
