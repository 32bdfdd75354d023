//! Human-readable text for the CLI: the run summary, the dry-run plan, the
//! query list and the validation report.

use std::fmt::Write;

use datafusion::arrow::datatypes::Schema;

use crate::dag::{Node, NodeKind};
use crate::input::{Discovery, InputCounts};
use crate::job::nightly::{Plan, RunSummary};
use crate::job::Prepared;
use crate::sink::manifest::type_name;
use crate::sink::published_dir;

/// `1234567` -> `1,234,567`
pub fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn input_line(files: usize, c: &InputCounts) -> String {
    let mut s = format!(
        "input: {files} file(s), {} rows, {} rejected",
        thousands(c.rows),
        thousands(c.rejected_total())
    );
    if !c.rejected.is_empty() {
        let parts: Vec<String> = c
            .rejected
            .iter()
            .map(|(r, n)| format!("{r}: {}", thousands(*n)))
            .collect();
        let _ = write!(s, " ({})", parts.join(", "));
    }
    if c.after_as_of > 0 {
        let _ = write!(
            s,
            ", {} after the as-of day (excluded)",
            thousands(c.after_as_of)
        );
    }
    s
}

fn mb(bytes: Option<u64>) -> String {
    bytes
        .map(|b| format!("{:.0}", b as f64 / 1e6))
        .unwrap_or_else(|| "-".into())
}

pub fn run_summary(s: &RunSummary) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "microconv {} run, as of {}",
        env!("CARGO_PKG_VERSION"),
        s.as_of
    );
    let _ = writeln!(out, "{}", input_line(s.files, &s.counts));
    let width = s
        .stages
        .iter()
        .map(|t| t.name.len())
        .max()
        .unwrap_or(5)
        .max(7);
    let row = |name: &str, rows: u64, secs: f64, peak: Option<u64>| {
        format!(
            "{name:<width$}  {:>12}  {secs:>8.2}  {:>8}\n",
            thousands(rows),
            mb(peak)
        )
    };
    let _ = writeln!(
        out,
        "{:<width$}  {:>12}  {:>8}  {:>8}",
        "table", "rows", "seconds", "peak MB"
    );
    out.push_str(&row(
        "(input)",
        s.counts.rows,
        s.input_seconds,
        s.input_peak_rss_bytes,
    ));
    for t in &s.stages {
        out.push_str(&row(&t.name, t.rows, t.seconds, t.peak_rss_bytes));
    }
    let _ = writeln!(
        out,
        "published {} tables to {} in {:.1} s (peak RSS {} MB); manifest {}",
        s.tables.len(),
        s.out_dir.display(),
        s.seconds,
        mb(s.peak_rss_bytes).trim(),
        s.manifest.display()
    );
    match &s.report {
        Some(Ok(path)) => {
            let _ = writeln!(out, "report: {}", path.display());
        }
        Some(Err(why)) => {
            let _ = writeln!(out, "warning: the report was not written: {why}");
        }
        None => {}
    }
    out
}

pub fn plan(p: &Plan) -> String {
    let mut out = String::new();
    let bytes: u64 = p.discovery.files.iter().map(|f| f.bytes).sum();
    let _ = writeln!(out, "dry run: nothing will be written");
    let _ = writeln!(
        out,
        "inputs: {} file(s), {:.1} MB",
        p.discovery.files.len(),
        bytes as f64 / 1e6
    );
    for f in &p.discovery.files {
        let _ = writeln!(out, "  {}", f.path.display());
    }
    if p.discovery.skipped_after_as_of > 0 {
        let _ = writeln!(
            out,
            "  ({} partition file(s) after the as-of date are skipped)",
            p.discovery.skipped_after_as_of
        );
    }
    let as_of = p
        .as_of
        .clone()
        .unwrap_or_else(|| "<date of the latest event>".into());
    let _ = writeln!(out, "as of: {as_of}");
    let _ = writeln!(out, "queries, in run order:");
    for (i, n) in p.nodes.iter().enumerate() {
        let dest = if n.internal() {
            "(internal, not published)".to_string()
        } else {
            published_dir(&p.out_dir, &n.name, &as_of)
                .display()
                .to_string()
        };
        let _ = writeln!(
            out,
            "{:>3}. {} [{}] reads {} -> {}",
            i + 1,
            n.name,
            n.origin(),
            n.reads.join(", "),
            dest
        );
    }
    let _ = writeln!(
        out,
        "  +  rejected_events -> {}",
        published_dir(&p.out_dir, "rejected_events", &as_of).display()
    );
    out
}

pub fn queries(nodes: &[Node]) -> String {
    let mut out = String::new();
    for (i, n) in nodes.iter().enumerate() {
        let (grain, description) = match &n.kind {
            NodeKind::Sql(q) => (
                q.grain
                    .clone()
                    .unwrap_or_else(|| "(no grain header)".into()),
                q.description.clone(),
            ),
            NodeKind::Builtin(b) => (
                b.description().to_string(),
                "built from the [[conversions]] config".into(),
            ),
        };
        let internal = if n.internal() { ", internal" } else { "" };
        let _ = writeln!(
            out,
            "{:>3}. {} ({}{internal}) {}",
            i + 1,
            n.name,
            n.origin(),
            n.path()
        );
        let _ = writeln!(out, "     reads: {}", n.reads.join(", "));
        let _ = writeln!(out, "     grain: {grain}");
        if !description.is_empty() {
            let _ = writeln!(out, "     {description}");
        }
    }
    out
}

pub fn validation(d: &Discovery, p: &Prepared, events: &Schema) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}", input_line(d.files.len(), &p.counts));
    let _ = writeln!(
        out,
        "events: {} (as of {})",
        thousands(p.event_rows),
        p.as_of
    );
    let _ = writeln!(out, "mapped schema:");
    for f in events.fields() {
        let _ = writeln!(out, "  {:<12} {}", f.name(), type_name(f.data_type()));
    }
    out
}
