//! `microconv report`: one self-contained HTML page of a run's published
//! tables, `<out>/report/as_of=<date>/index.html`, written at the end of
//! every run and rebuilt on demand for any as-of date still published.
//!
//! The page is computed from the published tables only (and the run's
//! manifest), never from the run's memory, so a past date's report can be
//! rebuilt the same. Each section's data is a small SQL query over one
//! published table (`src/report/sql/*.sql`); the rows go into the page as
//! JSON and the charts are drawn in the browser by Apache ECharts, inlined
//! with the page's script and style so it opens from disk with no network.
//! ECharts because one library covers every chart the report needs (lines,
//! bars, a heatmap, a Sankey diagram, error bars through custom series),
//! draws SVG (readable by tests and crisp in print) and is Apache-2.0; the
//! page is assembled by the `minijinja` template engine, whose `tojson`
//! filter escapes the data for a `<script>` element.

use std::path::{Path, PathBuf};

use datafusion::arrow::array::RecordBatch;
use datafusion::arrow::json::writer::{JsonArray, WriterBuilder};
use datafusion::prelude::{ParquetReadOptions, SessionContext};
use serde_json::{json, Map, Value};

use crate::error::{Error, Result};
use crate::sink::published_dir;

/// One section's data: the query and the published table it reads.
struct SectionQuery {
    name: &'static str,
    reads: &'static str,
    sql: &'static str,
}

macro_rules! section_query {
    ($name:literal, $reads:literal) => {
        SectionQuery {
            name: $name,
            reads: $reads,
            sql: include_str!(concat!("sql/", $name, ".sql")),
        }
    };
}

const QUERIES: &[SectionQuery] = &[
    section_query!("kpis", "daily_kpis"),
    section_query!("funnel_steps", "funnel_steps"),
    section_query!("friction_points", "friction_points"),
    section_query!("lift", "micro_conversion_lift"),
    section_query!("path_edges", "path_edges"),
    section_query!("journey_paths", "journey_paths"),
    section_query!("channel_attribution", "channel_attribution"),
    section_query!("markov_attribution", "markov_attribution"),
    section_query!("rfm_segments", "clv_rfm"),
    section_query!("clv_tiers", "clv_predictions"),
    section_query!("clv_validation", "clv_validation"),
    section_query!("cohort_retention", "cohort_retention"),
    section_query!("experiments", "experiments"),
];

const TEMPLATE: &str = include_str!("assets/report.html");
const STYLE: &str = include_str!("assets/report.css");
const SCRIPT: &str = include_str!("assets/report.js");
/// Apache ECharts 5 (Apache-2.0), the minified browser build from npm.
const ECHARTS: &str = include_str!("assets/echarts.min.js");

/// The folder of the output directory the reports are written to, one
/// `as_of=<date>` folder each (so no table may have this name).
pub const REPORT_DIR: &str = "report";

/// Where the report of `as_of` is written.
pub fn report_path(out: &Path, as_of: &str) -> PathBuf {
    published_dir(out, REPORT_DIR, as_of).join("index.html")
}

/// Build the report of the tables published for `as_of` under `out` and
/// write it (atomically) to [`report_path`].
pub async fn write(out: &Path, as_of: &str) -> Result<PathBuf> {
    let data = collect(out, as_of).await?;
    let path = report_path(out, as_of);
    let html = render(&data).map_err(|message| Error::Report {
        path: path.clone(),
        message,
    })?;
    // a temp file renamed into place: a reader never sees half a page. Not
    // one of the publish's counted, fsynced steps: the page is derived from
    // what was published and can be rebuilt at any time.
    let dir = path.parent().expect("report_path has a parent");
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let tmp = dir.join(".index.html.tmp");
    std::fs::write(&tmp, html.as_bytes()).map_err(|e| Error::io(&tmp, e))?;
    std::fs::rename(&tmp, &path).map_err(|e| Error::io(&path, e))?;
    Ok(path)
}

/// The as-of date of the latest published run under `out`.
pub fn latest_as_of(out: &Path) -> Result<String> {
    let latest = out.join("_manifests").join("latest.json");
    let text = std::fs::read_to_string(&latest).map_err(|e| Error::io(&latest, e))?;
    let manifest: Value = serde_json::from_str(&text).map_err(|e| Error::Report {
        path: latest.clone(),
        message: format!("not a run manifest: {e}"),
    })?;
    manifest["as_of"]
        .as_str()
        .map(str::to_owned)
        .ok_or_else(|| Error::Report {
            path: latest,
            message: "the manifest has no as_of".into(),
        })
}

/// The report's data: each section's rows (NULL for a table not published
/// for `as_of`) and the run's manifest.
async fn collect(out: &Path, as_of: &str) -> Result<Value> {
    let ctx = SessionContext::new();
    let mut sections = Map::new();
    let mut published = Vec::new();
    for q in QUERIES {
        let dir = published_dir(out, q.reads, as_of);
        if !dir.is_dir() {
            sections.insert(q.name.into(), Value::Null);
            continue;
        }
        if !ctx.table_exist(q.reads)? {
            let mut url = dir.to_string_lossy().into_owned();
            url.push('/');
            ctx.register_parquet(q.reads, &url, ParquetReadOptions::default())
                .await?;
            published.push(q.reads);
        }
        let batches = ctx.sql(q.sql).await?.collect().await?;
        sections.insert(q.name.into(), rows(&batches)?);
    }
    if published.is_empty() {
        return Err(Error::Report {
            path: report_path(out, as_of),
            message: format!(
                "no table is published for as-of {as_of} under {}",
                out.display()
            ),
        });
    }
    Ok(json!({
        "as_of": as_of,
        "version": env!("CARGO_PKG_VERSION"),
        "run": run_manifest(out, as_of),
        "sections": sections,
    }))
}

/// Rows as JSON objects, NULLs explicit.
fn rows(batches: &[RecordBatch]) -> Result<Value> {
    let mut writer = WriterBuilder::new()
        .with_explicit_nulls(true)
        .build::<_, JsonArray>(Vec::new());
    for batch in batches {
        writer.write(batch)?;
    }
    writer.finish()?;
    let bytes = writer.into_inner();
    if bytes.is_empty() {
        return Ok(Value::Array(vec![]));
    }
    Ok(serde_json::from_slice(&bytes).unwrap_or(Value::Array(vec![])))
}

/// What the run section shows, from the newest manifest of a run that
/// published `as_of` (NULL when there is none, e.g. outputs copied
/// without `_manifests`).
fn run_manifest(out: &Path, as_of: &str) -> Value {
    let prefix = format!("run-{as_of}-");
    let dir = out.join("_manifests");
    let newest = std::fs::read_dir(&dir)
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with(&prefix) && n.ends_with(".json"))
        .max();
    let Some(name) = newest else {
        return Value::Null;
    };
    let Some(m) = std::fs::read_to_string(dir.join(name))
        .ok()
        .and_then(|t| serde_json::from_str::<Value>(&t).ok())
    else {
        return Value::Null;
    };
    let tables = |key: &str| -> Vec<Value> {
        m[key]
            .as_array()
            .into_iter()
            .flatten()
            .map(|t| {
                json!({
                    "name": t["name"], "rows": t["rows"], "seconds": t["seconds"],
                    "peak_rss_bytes": t["peak_rss_bytes"],
                })
            })
            .collect()
    };
    json!({
        "run_id": m["run_id"],
        "started_at": m["started_at"],
        "seconds": m["seconds"],
        "input_files": m["inputs"].as_array().map(Vec::len),
        "input_rows": m["input_rows"],
        "input_seconds": m["input_seconds"],
        "peak_rss_bytes": m["peak_rss_bytes"],
        "tables": tables("tables"),
        "internal_tables": tables("internal_tables"),
    })
}

/// The page: the template with the data, style, script and ECharts inlined.
fn render(data: &Value) -> std::result::Result<String, String> {
    let mut env = minijinja::Environment::new();
    env.add_template("report.html", TEMPLATE)
        .map_err(|e| e.to_string())?;
    let template = env.get_template("report.html").map_err(|e| e.to_string())?;
    let inline = |code: &str| minijinja::Value::from_safe_string(code.to_owned());
    template
        .render(minijinja::context! {
            as_of => data["as_of"],
            version => data["version"],
            data => data,
            style => inline(STYLE),
            script => inline(SCRIPT),
            echarts => inline(ECHARTS),
        })
        .map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inlined_code_cannot_close_its_script_element() {
        for (name, code) in [("report.js", SCRIPT), ("echarts.min.js", ECHARTS)] {
            assert!(
                !code.to_ascii_lowercase().contains("</script"),
                "{name} contains </script"
            );
        }
    }

    #[test]
    fn data_in_the_page_is_escaped_for_its_script_element() {
        let html = render(&json!({
            "as_of": "2026-03-02", "version": "x",
            "sections": {"kpis": [{"channel": "</script><b>"}]},
        }))
        .unwrap();
        assert!(!html.contains("</script><b>"));
        assert!(
            html.contains("\\u003c/script\\u003e\\u003cb\\u003e"),
            "tojson escapes <, >"
        );
    }
}
