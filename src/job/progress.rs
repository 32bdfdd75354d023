//! What a run tells whoever watches it while it runs: a person at a
//! terminal (a progress bar), cron's mail (a line per finished table) or a
//! log collector (structured records). The job calls an [`Observer`]; the
//! CLI picks the one that fits where stderr goes (`cli::progress`).

use super::NodeResult;

/// Told of a run's steps as they happen. Every method does nothing by
/// default.
pub trait Observer: Send + Sync {
    /// The run `run_id` starts: the input stage, then `tables` tables.
    fn run_started(&self, _run_id: &str, _tables: usize) {}
    /// The input stage is done.
    fn input_done(&self, _summary: &InputDone) {}
    /// Table `index` (0-based, in run order) starts.
    fn table_started(&self, _index: usize, _name: &str) {}
    /// Table `index` is computed and staged.
    fn table_done(&self, _index: usize, _result: &NodeResult, _internal: bool) {}
    /// Every table is staged; publishing starts.
    fn publishing(&self) {}
    /// The run ended (published or failed); the observer stops drawing.
    fn finished(&self) {}
}

/// The input stage, as an observer sees it.
#[derive(Debug, Clone)]
pub struct InputDone {
    pub events: u64,
    pub rejected: u64,
    pub seconds: f64,
    pub peak_rss_bytes: Option<u64>,
}

/// Watches nothing: tests, library use.
pub struct Silent;

impl Observer for Silent {}
