//! The engine seam: where a job's queries execute. Today that is one local
//! DataFusion `SessionContext`: runtime (memory pool, spill directory),
//! DataFusion options (defaults, then the config's `[datafusion]` table),
//! and every microconv function. A distributed engine or object-store
//! registration plugs in here, behind the same [`session`] call.

use std::sync::Arc;

use datafusion::execution::disk_manager::{DiskManagerBuilder, DiskManagerMode};
use datafusion::execution::memory_pool::{FairSpillPool, TrackConsumersPool};
use datafusion::execution::runtime_env::RuntimeEnvBuilder;
use datafusion::execution::SessionStateBuilder;
use datafusion::prelude::{SessionConfig, SessionContext};

use crate::config::Settings;
use crate::error::{Error, Result};
use crate::functions;

/// Create the session a job runs in.
pub fn session(settings: &Settings) -> Result<SessionContext> {
    let mut config = SessionConfig::new()
        .with_information_schema(true)
        .with_create_default_catalog_and_schema(true);
    let options = config.options_mut();
    options.execution.parquet.compression = Some(format!("zstd({})", settings.output.zstd_level));
    options.execution.parquet.max_row_group_size = settings.output.max_row_group_size;
    options.execution.parquet.statistics_enabled = Some("page".into());
    // Strings come back as plain Utf8 so output schemas are stable and
    // readable by every Parquet reader.
    options.execution.parquet.schema_force_view_types = false;
    options.sql_parser.map_string_types_to_utf8view = false;
    // Rows hash-partitioned by a bucket (of users, of sessions) stay where
    // they are for any later step keyed by that bucket and more: an
    // aggregate GROUP BY bucket, session_id, ... then runs in the
    // partitions the window ran in, on rows still in order, instead of
    // being repartitioned by all its keys. DataFusion does this only from
    // 4 partitions up by default; the plans partitioned by bucket (see
    // queries/journeys/path_edges.sql) want it at any count.
    options.optimizer.subset_repartition_threshold = 1;
    for (key, value) in &settings.datafusion {
        // keys may be written with or without the `datafusion.` prefix
        let full = if key.starts_with("datafusion.") {
            key.clone()
        } else {
            format!("datafusion.{key}")
        };
        options
            .set(&full, value)
            .map_err(|e| Error::setting(format!("datafusion.\"{key}\""), e.to_string()))?;
    }

    let mut runtime = RuntimeEnvBuilder::new();
    if let Some(limit) = settings.memory_limit {
        let pool = TrackConsumersPool::new(
            FairSpillPool::new(limit),
            std::num::NonZeroUsize::new(5).expect("5 is non-zero"),
        );
        runtime = runtime.with_memory_pool(Arc::new(pool));
    }
    if let Some(dir) = &settings.spill_dir {
        runtime = runtime.with_disk_manager_builder(
            DiskManagerBuilder::default()
                .with_mode(DiskManagerMode::Directories(vec![dir.clone()])),
        );
    }
    let runtime = runtime.build_arc()?;
    let state = SessionStateBuilder::new()
        .with_config(config)
        .with_runtime_env(runtime)
        .with_default_features()
        .build();
    let ctx = SessionContext::new_with_state(state);
    functions::register_all(&ctx);
    Ok(ctx)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn datafusion_options_pass_through_with_or_without_prefix() {
        let s = Settings::from_toml("[datafusion]\n\"execution.target_partitions\" = \"3\"\n\"datafusion.execution.batch_size\" = 1000\n").unwrap();
        let ctx = session(&s).unwrap();
        assert_eq!(ctx.state().config().target_partitions(), 3);
        assert_eq!(ctx.state().config().batch_size(), 1000);
    }

    #[test]
    fn unknown_datafusion_option_names_the_key() {
        let s = Settings::from_toml("[datafusion]\n\"execution.nope\" = \"1\"\n").unwrap();
        let Err(err) = session(&s) else {
            panic!("expected an error")
        };
        assert!(err.to_string().contains("execution.nope"), "{err}");
        assert_eq!(err.exit_code(), 2);
    }
}
