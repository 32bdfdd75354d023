//! The `[journeys]` and `[attribution]` config sections: raw TOML structs,
//! their validation into [`AttributionSettings`], the named SQL parameters
//! they become (`$attribution_lookback_seconds`, ...) and the optional cost
//! table (`attribution_costs`), read from a Parquet/CSV file or listed inline.

use std::path::Path;
use std::sync::Arc;

use chrono::NaiveDate;
use datafusion::arrow::array::{
    Array, ArrayRef, AsArray, Date32Array, Float64Array, RecordBatch, StringArray,
};
use datafusion::arrow::compute::{cast_with_options, CastOptions};
use datafusion::arrow::datatypes::{DataType, Date32Type, Field, Float64Type, Schema};
use datafusion::datasource::MemTable;
use datafusion::prelude::SessionContext;
use datafusion::scalar::ScalarValue;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::config::settings::parse_duration;

/// Name of the cost reference table.
pub const COSTS_TABLE: &str = "attribution_costs";

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
    pub edge_node: Option<String>,
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
    pub conversions: Option<String>,
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

/// Which event column names the nodes of `path_edges`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EdgeNode {
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
    /// `None` when no cost data is configured (ROAS columns are then NULL).
    pub costs: Option<Vec<CostRow>>,
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
            costs: None,
        }
    }
}

/// Validate both sections; `rel` resolves a config-relative path.
pub fn resolve(
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
    let first_conversion_only = match attribution.conversions.as_deref() {
        None | Some("all") => false,
        Some("first") => true,
        Some(other) => {
            return Err(Error::setting(
                "attribution.conversions",
                format!("`{other}` is not all or first"),
            ))
        }
    };
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
    let edge_node = match journeys.edge_node.as_deref() {
        None | Some("event_name") => EdgeNode::EventName,
        Some("page") => EdgeNode::Page,
        Some("category") => EdgeNode::Category,
        Some(other) => {
            return Err(Error::setting(
                "journeys.edge_node",
                format!("`{other}` is not one of event_name, page, category"),
            ))
        }
    };
    let costs = match (&attribution.cost_file, attribution.costs.is_empty()) {
        (Some(_), false) => {
            return Err(Error::setting(
                "attribution.cost_file",
                "give either cost_file or [[attribution.costs]], not both",
            ))
        }
        (Some(file), true) => Some(read_cost_file(Path::new(&rel(file)))?),
        (None, false) => Some(inline_costs(&attribution.costs)?),
        (None, true) => None,
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

fn check_cost(key: &str, channel: &str, cost: f64) -> Result<()> {
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

/// Read a cost file (Parquet, or CSV with a header row) with columns `day`,
/// `channel`, `cost` and optionally `campaign`.
fn read_cost_file(path: &Path) -> Result<Vec<CostRow>> {
    let key = "attribution.cost_file";
    let fail = |m: String| Error::setting(key, format!("{}: {m}", path.display()));
    let file = std::fs::File::open(path).map_err(|e| fail(e.to_string()))?;
    let is_csv = path
        .extension()
        .is_some_and(|x| x.eq_ignore_ascii_case("csv"));
    let batches: Vec<RecordBatch> = if is_csv {
        read_csv(file).map_err(fail)?
    } else {
        parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder::try_new(file)
            .and_then(|b| b.build())
            .map_err(|e| fail(e.to_string()))?
            .collect::<std::result::Result<_, _>>()
            .map_err(|e| fail(e.to_string()))?
    };
    let mut rows = Vec::new();
    for batch in &batches {
        cost_rows(batch, &mut rows).map_err(fail)?;
    }
    for (i, r) in rows.iter().enumerate() {
        check_cost(key, &r.channel, r.cost).map_err(|e| fail(format!("row {}: {e}", i + 1)))?;
    }
    Ok(rows)
}

/// Every CSV column as text; types are fixed by [`cost_rows`].
fn read_csv(file: std::fs::File) -> std::result::Result<Vec<RecordBatch>, String> {
    use std::io::{BufRead, BufReader, Seek};
    let mut reader = BufReader::new(file);
    let mut header = String::new();
    reader.read_line(&mut header).map_err(|e| e.to_string())?;
    let fields: Vec<Field> = header
        .trim_end_matches(['\r', '\n'])
        .split(',')
        .map(|h| Field::new(h.trim().trim_matches('"'), DataType::Utf8, true))
        .collect();
    let mut file = reader.into_inner();
    file.rewind().map_err(|e| e.to_string())?;
    datafusion::arrow::csv::ReaderBuilder::new(Arc::new(Schema::new(fields)))
        .with_header(true)
        .build(file)
        .map_err(|e| e.to_string())?
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| e.to_string())
}

fn column<'a>(batch: &'a RecordBatch, name: &str) -> Option<&'a ArrayRef> {
    let schema = batch.schema();
    let idx = schema
        .fields()
        .iter()
        .position(|f| f.name().eq_ignore_ascii_case(name))?;
    Some(batch.column(idx))
}

fn as_type(array: &ArrayRef, to: &DataType, name: &str) -> std::result::Result<ArrayRef, String> {
    let options = CastOptions {
        safe: false,
        ..Default::default()
    };
    cast_with_options(array, to, &options)
        .map_err(|e| format!("column `{name}` cannot be read as {to}: {e}"))
}

fn cost_rows(batch: &RecordBatch, out: &mut Vec<CostRow>) -> std::result::Result<(), String> {
    let need = |name: &str| column(batch, name).ok_or_else(|| format!("no column `{name}`"));
    let day = as_type(need("day")?, &DataType::Date32, "day")?;
    let channel = as_type(need("channel")?, &DataType::Utf8, "channel")?;
    let cost = as_type(need("cost")?, &DataType::Float64, "cost")?;
    let campaign = column(batch, "campaign")
        .map(|c| as_type(c, &DataType::Utf8, "campaign"))
        .transpose()?;
    let day = day.as_primitive::<Date32Type>();
    let channel = channel.as_string::<i32>();
    let cost = cost.as_primitive::<Float64Type>();
    let campaign = campaign.as_ref().map(|c| c.as_string::<i32>());
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch");
    for i in 0..batch.num_rows() {
        let row = out.len() + 1;
        if day.is_null(i) || channel.is_null(i) || cost.is_null(i) {
            return Err(format!("row {row}: day, channel and cost are required"));
        }
        let day = epoch
            .checked_add_signed(chrono::Duration::days(i64::from(day.value(i))))
            .ok_or_else(|| format!("row {row}: day out of range"))?;
        out.push(CostRow {
            day,
            channel: channel.value(i).to_string(),
            campaign: campaign
                .filter(|c| !c.is_null(i) && !c.value(i).is_empty())
                .map(|c| c.value(i).to_string()),
            cost: cost.value(i),
        });
    }
    Ok(())
}

/// The named SQL parameters of these settings.
pub fn params(s: &AttributionSettings) -> Vec<(String, ScalarValue)> {
    let [first, middle, last] = s.position_weights;
    let int = |k: &str, v: i64| (k.to_string(), ScalarValue::Int64(Some(v)));
    let float = |k: &str, v: f64| (k.to_string(), ScalarValue::Float64(Some(v)));
    vec![
        int("attribution_lookback_seconds", s.lookback_seconds),
        int("time_decay_half_life_seconds", s.half_life_seconds),
        float("position_first_weight", first),
        float("position_middle_weight", middle),
        float("position_last_weight", last),
        (
            "attribute_first_conversion_only".to_string(),
            ScalarValue::Boolean(Some(s.first_conversion_only)),
        ),
        int("max_path_length", s.max_path_length),
        int("max_paths", s.max_paths),
        (
            "path_edge_node".to_string(),
            ScalarValue::Utf8(Some(s.edge_node.as_str().to_string())),
        ),
    ]
}

/// Register `attribution_costs` (empty when no costs are configured).
pub fn register(ctx: &SessionContext, s: &AttributionSettings) -> Result<()> {
    let schema = Arc::new(Schema::new(vec![
        Field::new("day", DataType::Date32, false),
        Field::new("channel", DataType::Utf8, false),
        Field::new("campaign", DataType::Utf8, true),
        Field::new("cost", DataType::Float64, false),
    ]));
    let rows = s.costs.as_deref().unwrap_or(&[]);
    let epoch = NaiveDate::from_ymd_opt(1970, 1, 1).expect("epoch");
    let batch = RecordBatch::try_new(
        schema.clone(),
        vec![
            Arc::new(Date32Array::from_iter_values(
                rows.iter()
                    .map(|r| r.day.signed_duration_since(epoch).num_days() as i32),
            )),
            Arc::new(StringArray::from_iter_values(
                rows.iter().map(|r| r.channel.as_str()),
            )),
            Arc::new(
                rows.iter()
                    .map(|r| r.campaign.as_deref())
                    .collect::<StringArray>(),
            ),
            Arc::new(Float64Array::from_iter_values(rows.iter().map(|r| r.cost))),
        ],
    )?;
    ctx.deregister_table(COSTS_TABLE)?;
    ctx.register_table(
        COSTS_TABLE,
        Arc::new(MemTable::try_new(schema, vec![vec![batch]])?),
    )?;
    Ok(())
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
        let t: T = toml::from_str(text).unwrap();
        resolve(&t.journeys, &t.attribution, &|p: &str| p.to_string())
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
        let costs = s.costs.unwrap();
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
            ("[journeys]\nedge_node = \"url\"\n", "journeys.edge_node"),
            (
                "[attribution]\nconversions = \"repeat\"\n",
                "attribution.conversions",
            ),
            (
                "[[attribution.costs]]\nday = \"March\"\nchannel = \"x\"\ncost = 1.0\n",
                "attribution.costs[0].day",
            ),
            (
                "[[attribution.costs]]\nday = \"2026-03-01\"\nchannel = \"x\"\ncost = -1.0\n",
                "attribution.costs[0]",
            ),
            (
                "[attribution]\ncost_file = \"/nonexistent/costs.parquet\"\n",
                "attribution.cost_file",
            ),
        ] {
            let err = resolve_toml(text).unwrap_err();
            assert!(err.to_string().contains(key), "{text}: {err}");
            assert_eq!(err.exit_code(), 2);
        }
    }

    #[test]
    fn cost_csv_is_read_and_checked() {
        let dir = tempfile::tempdir().unwrap();
        let good = dir.path().join("costs.csv");
        std::fs::write(
            &good,
            "day,channel,campaign,cost\n2026-03-01,paid_search,spring,10.5\n2026-03-02,email,,2\n",
        )
        .unwrap();
        let rows = read_cost_file(&good).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].campaign.as_deref(), Some("spring"));
        assert_eq!(rows[0].cost, 10.5);
        assert_eq!(rows[1].day, NaiveDate::from_ymd_opt(2026, 3, 2).unwrap());
        let bad = dir.path().join("bad.csv");
        std::fs::write(&bad, "day,channel,cost\n2026-03-01,paid_search,lots\n").unwrap();
        let err = read_cost_file(&bad).unwrap_err().to_string();
        assert!(
            err.contains("attribution.cost_file") && err.contains("cost"),
            "{err}"
        );
        let missing = dir.path().join("missing.csv");
        std::fs::write(&missing, "day,cost\n2026-03-01,1\n").unwrap();
        let err = read_cost_file(&missing).unwrap_err().to_string();
        assert!(err.contains("no column `channel`"), "{err}");
    }
}
