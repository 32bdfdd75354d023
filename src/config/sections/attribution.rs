//! The `[journeys]` and `[attribution]` config sections: raw TOML structs and
//! their validation into [`AttributionSettings`]. A cost file is only named
//! here; the catalog reads it.

use std::path::PathBuf;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use crate::config::units::parse_duration;
use crate::error::{Error, Result};

/// `[journeys]` as written.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct JourneysConfig {
    /// `journey_paths`: paths with more (collapsed) touches keep their first
    /// and last touches around a `(...)` marker.
    pub max_path_length: Option<i64>,
    /// `journey_paths`: at most this many path rows; the rest are summed
    /// into one `(other)` row.
    pub max_paths: Option<i64>,
    /// `path_edges` nodes: `event_name`, `page` or `category`.
    pub edge_node: Option<EdgeNode>,
}

/// `[attribution]` as written.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AttributionConfig {
    /// Sessions this long before a conversion are its touchpoints ("30d").
    pub lookback: Option<String>,
    /// Half-life of the `time_decay` model ("7d").
    pub time_decay_half_life: Option<String>,
    /// `position_based` weights of the first, middle and last touches.
    pub position_weights: Option<Vec<f64>>,
    /// Which macro conversions are attributed: `all` (default) or `first`
    /// (each user's first only: new-customer acquisition).
    pub conversions: Option<AttributedConversions>,
    /// Parquet or CSV file with columns day, channel, campaign (optional), cost.
    pub cost_file: Option<String>,
    /// Inline cost rows.
    #[serde(default)]
    pub costs: Vec<CostConfig>,
}

/// One inline `[[attribution.costs]]` row.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct CostConfig {
    pub day: String,
    pub channel: String,
    pub campaign: Option<String>,
    pub cost: f64,
}

/// Which macro conversions are attributed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AttributedConversions {
    #[default]
    All,
    First,
}

/// Which event column names the nodes of `path_edges`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EdgeNode {
    #[default]
    EventName,
    Page,
    Category,
}

impl EdgeNode {
    pub fn as_str(self) -> &'static str {
        match self {
            EdgeNode::EventName => "event_name",
            EdgeNode::Page => "page",
            EdgeNode::Category => "category",
        }
    }
}

/// Spend of one day, channel and (optionally) campaign.
#[derive(Debug, Clone, PartialEq)]
pub struct CostRow {
    pub day: NaiveDate,
    pub channel: String,
    pub campaign: Option<String>,
    pub cost: f64,
}

/// Validated journey and attribution settings.
#[derive(Debug, Clone, PartialEq)]
pub struct AttributionSettings {
    pub lookback_seconds: i64,
    pub half_life_seconds: i64,
    /// first, middle, last; non-negative, summing to 1.
    pub position_weights: [f64; 3],
    /// Attribute only each user's first macro conversion.
    pub first_conversion_only: bool,
    pub max_path_length: i64,
    pub max_paths: i64,
    pub edge_node: EdgeNode,
    /// Where spend comes from; none means the ROAS columns are NULL.
    pub costs: CostSource,
}

/// Where the `attribution_costs` rows come from.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum CostSource {
    #[default]
    None,
    /// A Parquet or CSV file (path resolved against the config's folder).
    File(PathBuf),
    Inline(Vec<CostRow>),
}

impl Default for AttributionSettings {
    fn default() -> Self {
        AttributionSettings {
            lookback_seconds: 30 * 86_400,
            half_life_seconds: 7 * 86_400,
            position_weights: [0.4, 0.2, 0.4],
            first_conversion_only: false,
            max_path_length: 5,
            max_paths: 1000,
            edge_node: EdgeNode::EventName,
            costs: CostSource::None,
        }
    }
}

/// Validate both sections; `rel` resolves a config-relative path.
pub fn validate(
    journeys: &JourneysConfig,
    attribution: &AttributionConfig,
    rel: &dyn Fn(&str) -> String,
) -> Result<AttributionSettings> {
    let d = AttributionSettings::default();
    let duration = |key: &str, value: &Option<String>, default: i64| -> Result<i64> {
        let Some(text) = value else {
            return Ok(default);
        };
        let seconds = parse_duration(text).map_err(|m| Error::setting(key, m))?;
        if seconds <= 0 {
            return Err(Error::setting(key, "must be longer than 0s"));
        }
        Ok(seconds)
    };
    let lookback_seconds = duration(
        "attribution.lookback",
        &attribution.lookback,
        d.lookback_seconds,
    )?;
    let half_life_seconds = duration(
        "attribution.time_decay_half_life",
        &attribution.time_decay_half_life,
        d.half_life_seconds,
    )?;
    let position_weights = match &attribution.position_weights {
        None => d.position_weights,
        Some(w) => position_weights(w)?,
    };
    let first_conversion_only =
        attribution.conversions.unwrap_or_default() == AttributedConversions::First;
    let max_path_length = journeys.max_path_length.unwrap_or(d.max_path_length);
    if max_path_length < 2 {
        return Err(Error::setting(
            "journeys.max_path_length",
            "must be at least 2 (the first and the last touch)",
        ));
    }
    let max_paths = journeys.max_paths.unwrap_or(d.max_paths);
    if max_paths < 1 {
        return Err(Error::setting("journeys.max_paths", "must be at least 1"));
    }
    let edge_node = journeys.edge_node.unwrap_or_default();
    let costs = match (&attribution.cost_file, attribution.costs.is_empty()) {
        (Some(_), false) => {
            return Err(Error::setting(
                "attribution.cost_file",
                "give either cost_file or [[attribution.costs]], not both",
            ))
        }
        (Some(file), true) => CostSource::File(PathBuf::from(rel(file))),
        (None, false) => CostSource::Inline(inline_costs(&attribution.costs)?),
        (None, true) => CostSource::None,
    };
    Ok(AttributionSettings {
        lookback_seconds,
        half_life_seconds,
        position_weights,
        first_conversion_only,
        max_path_length,
        max_paths,
        edge_node,
        costs,
    })
}

fn position_weights(w: &[f64]) -> Result<[f64; 3]> {
    let key = "attribution.position_weights";
    let [first, middle, last] = w else {
        return Err(Error::setting(
            key,
            "give three weights: first, middle, last (e.g. [0.4, 0.2, 0.4])",
        ));
    };
    if w.iter().any(|x| !x.is_finite() || *x < 0.0) {
        return Err(Error::setting(key, "weights must be non-negative numbers"));
    }
    if (first + middle + last - 1.0).abs() > 1e-9 {
        return Err(Error::setting(key, "weights must sum to 1"));
    }
    if first + last <= 0.0 {
        return Err(Error::setting(
            key,
            "the first and last weights cannot both be 0 (a two-touch path splits them)",
        ));
    }
    Ok([*first, *middle, *last])
}

/// A cost row is usable: a channel and a non-negative finite cost.
pub fn check_cost(key: &str, channel: &str, cost: f64) -> Result<()> {
    if channel.trim().is_empty() {
        return Err(Error::setting(key, "channel is empty"));
    }
    if !cost.is_finite() || cost < 0.0 {
        return Err(Error::setting(
            key,
            format!("cost {cost} is not a non-negative number"),
        ));
    }
    Ok(())
}

fn inline_costs(rows: &[CostConfig]) -> Result<Vec<CostRow>> {
    rows.iter()
        .enumerate()
        .map(|(i, r)| {
            let key = format!("attribution.costs[{i}]");
            let day = NaiveDate::parse_from_str(r.day.trim(), "%Y-%m-%d").map_err(|_| {
                Error::setting(
                    format!("{key}.day"),
                    format!("`{}` is not a YYYY-MM-DD date", r.day),
                )
            })?;
            check_cost(&key, &r.channel, r.cost)?;
            Ok(CostRow {
                day,
                channel: r.channel.clone(),
                campaign: r.campaign.clone(),
                cost: r.cost,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolve_toml(text: &str) -> Result<AttributionSettings> {
        #[derive(Deserialize)]
        struct T {
            #[serde(default)]
            journeys: JourneysConfig,
            #[serde(default)]
            attribution: AttributionConfig,
        }
        let t: T = toml::from_str(text).map_err(|e| Error::setting("toml", e.to_string()))?;
        validate(&t.journeys, &t.attribution, &|p: &str| p.to_string())
    }

    #[test]
    fn defaults() {
        let s = resolve_toml("").unwrap();
        assert_eq!(s, AttributionSettings::default());
        assert_eq!(s.lookback_seconds, 2_592_000);
        assert_eq!(s.half_life_seconds, 604_800);
    }

    #[test]
    fn values_are_read() {
        let s = resolve_toml(
            "[journeys]\nmax_path_length = 3\nmax_paths = 7\nedge_node = \"page\"\n\
             [attribution]\nlookback = \"14d\"\ntime_decay_half_life = \"1d\"\n\
             position_weights = [0.3, 0.4, 0.3]\nconversions = \"first\"\n\
             [[attribution.costs]]\nday = \"2026-03-01\"\nchannel = \"paid_search\"\ncost = 12.5\n",
        )
        .unwrap();
        assert_eq!(s.lookback_seconds, 14 * 86_400);
        assert_eq!(s.half_life_seconds, 86_400);
        assert_eq!(s.position_weights, [0.3, 0.4, 0.3]);
        assert!(s.first_conversion_only);
        assert_eq!((s.max_path_length, s.max_paths), (3, 7));
        assert_eq!(s.edge_node, EdgeNode::Page);
        let CostSource::Inline(costs) = s.costs else {
            panic!("inline costs expected")
        };
        assert_eq!(costs.len(), 1);
        assert_eq!(costs[0].cost, 12.5);
        assert_eq!(costs[0].campaign, None);
    }

    #[test]
    fn bad_values_name_their_key() {
        for (text, key) in [
            ("[attribution]\nlookback = \"0d\"\n", "attribution.lookback"),
            (
                "[attribution]\ntime_decay_half_life = \"soon\"\n",
                "attribution.time_decay_half_life",
            ),
            (
                "[attribution]\nposition_weights = [0.5, 0.5]\n",
                "attribution.position_weights",
            ),
            (
                "[attribution]\nposition_weights = [0.5, 0.2, 0.4]\n",
                "attribution.position_weights",
            ),
            (
                "[attribution]\nposition_weights = [0.0, 1.0, 0.0]\n",
                "attribution.position_weights",
            ),
            (
                "[journeys]\nmax_path_length = 1\n",
                "journeys.max_path_length",
            ),
            ("[journeys]\nmax_paths = 0\n", "journeys.max_paths"),
            ("[journeys]\nedge_node = \"url\"\n", "url"),
            ("[attribution]\nconversions = \"repeat\"\n", "repeat"),
            (
                "[[attribution.costs]]\nday = \"March\"\nchannel = \"x\"\ncost = 1.0\n",
                "attribution.costs[0].day",
            ),
            (
                "[[attribution.costs]]\nday = \"2026-03-01\"\nchannel = \"x\"\ncost = -1.0\n",
                "attribution.costs[0]",
            ),
        ] {
            let err = resolve_toml(text).unwrap_err();
            assert!(err.to_string().contains(key), "{text}: {err}");
            assert_eq!(err.exit_code(), 2);
        }
    }
}
