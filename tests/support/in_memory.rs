//! The whole job run in-process with every result kept in memory (no
//! Parquet), as the SQL tests do.

use microconv::config::Settings;
use microconv::job::Job;
use microconv::sink::MemoryStore;

/// Plan and run the whole job over `settings.events` with every result kept
/// in memory; the job's context then holds every table.
pub async fn run_in_memory(settings: Settings) -> microconv::Result<Job> {
    let job = Job::new(settings, &[])?;
    let discovery = microconv::input::discover(&job.settings().events, job.settings().as_of)?;
    let mapped = job.read(&discovery.files).await?;
    let prepared = job.prepare(mapped, &MemoryStore).await?;
    job.run(&prepared, &MemoryStore).await?;
    Ok(job)
}
