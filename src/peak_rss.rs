//! Resident memory of this process, for the summary, the manifest and
//! benchmarks. Linux only (through /proc); elsewhere the figures are absent.
//!
//! Two figures: the process-wide peak as the OS keeps it (`VmHWM`, also what
//! `/usr/bin/time` reports; never reset here), and the peak of each stage of
//! a run, which a background thread samples (`VmRSS` every
//! [`SAMPLE_EVERY`]) between [`Stage::start`] and [`Stage::peak`]. A stage's
//! figure can miss a spike shorter than the sampling interval; the
//! process-wide one misses nothing.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Once, Weak};
use std::time::Duration;

/// How often the stage sampler reads the resident set size.
pub const SAMPLE_EVERY: Duration = Duration::from_millis(10);

/// The peaks of the stages running now (tables of a run can run side by
/// side: each keeps the largest reading taken while it ran).
static STAGES: Mutex<Vec<Weak<AtomicU64>>> = Mutex::new(Vec::new());
static SAMPLER: Once = Once::new();

/// One stage being measured: from [`Stage::start`] to [`Stage::peak`].
pub struct Stage {
    peak: Arc<AtomicU64>,
}

impl Stage {
    /// Start measuring a stage (and the sampler, on first use).
    pub fn start() -> Stage {
        let peak = Arc::new(AtomicU64::new(current_bytes().unwrap_or(0)));
        if let Ok(mut stages) = STAGES.lock() {
            stages.retain(|s| s.strong_count() > 0);
            stages.push(Arc::downgrade(&peak));
        }
        SAMPLER.call_once(|| {
            if current_bytes().is_none() {
                return; // not Linux: nothing to sample
            }
            let spawned = std::thread::Builder::new()
                .name("microconv-rss".into())
                .spawn(|| loop {
                    if let Some(now) = current_bytes() {
                        sample(now);
                    }
                    std::thread::sleep(SAMPLE_EVERY);
                });
            // without the thread, stages report what the last reading saw
            drop(spawned);
        });
        Stage { peak }
    }

    /// The peak resident set size while the stage ran, so far, in bytes
    /// (of the whole process: stages running beside it count too).
    pub fn peak(&self) -> Option<u64> {
        let now = current_bytes()?;
        Some(self.peak.fetch_max(now, Ordering::Relaxed).max(now))
    }
}

fn sample(now: u64) {
    if let Ok(stages) = STAGES.lock() {
        for stage in stages.iter().filter_map(Weak::upgrade) {
            stage.fetch_max(now, Ordering::Relaxed);
        }
    }
}

/// Have the allocator give freed memory back to the OS instead of keeping
/// it for later: call once, first thing in `main`.
///
/// glibc's malloc serves a large allocation with its own mapping only up to
/// a threshold that grows to 32 MiB as the program frees large blocks, and
/// it keeps what is freed below that in its arenas. A sort or a join frees
/// and allocates buffers of a few MiB all the time, so the resident set grew
/// far past what was live: at 10M events under a 256 MiB pool, 753 MB RSS
/// for about 290 MB live. A fixed threshold of 1 MiB (no growth), and
/// trimming an arena's top beyond 1 MiB, brought it to 458 MB for the same
/// wall time (the kernel maps and unmaps more: system time +35%).
/// The glibc variables `MALLOC_MMAP_THRESHOLD_` and `MALLOC_TRIM_THRESHOLD_`
/// still win when set. Other allocators and platforms: nothing to do.
pub fn hand_back_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        const THRESHOLD: libc::c_int = 1 << 20;
        if std::env::var_os("MALLOC_MMAP_THRESHOLD_").is_none() {
            // SAFETY: mallopt only sets a malloc parameter; no allocation
            // is in flight that it could disturb (glibc locks its arenas)
            unsafe { libc::mallopt(libc::M_MMAP_THRESHOLD, THRESHOLD) };
        }
        if std::env::var_os("MALLOC_TRIM_THRESHOLD_").is_none() {
            // SAFETY: as above
            unsafe { libc::mallopt(libc::M_TRIM_THRESHOLD, THRESHOLD) };
        }
    }
}

/// The peak resident set size of the whole process so far, in bytes.
pub fn process_peak() -> Option<u64> {
    status_kb("VmHWM:").map(|kb| kb * 1024)
}

/// The resident set size now, in bytes.
pub fn current_bytes() -> Option<u64> {
    status_kb("VmRSS:").map(|kb| kb * 1024)
}

fn status_kb(key: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(key))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

#[cfg(test)]
mod tests {
    #[test]
    fn peaks_see_an_allocation_that_is_gone() {
        if super::current_bytes().is_none() {
            return; // not Linux
        }
        let stage = super::Stage::start();
        let before = super::current_bytes().unwrap();
        {
            let v = vec![1u8; 64 << 20];
            assert!(v.iter().map(|&b| b as u64).sum::<u64>() == 64 << 20);
            // a reading while it is resident (the sampler may not have run)
            assert!(stage.peak().unwrap() >= before + (60 << 20));
        }
        // freed: the peaks stay
        let peak = stage.peak().unwrap();
        let process = super::process_peak().unwrap();
        assert!(peak >= before + (60 << 20), "{before} -> {peak}");
        // the kernel's counters are per-CPU approximations: VmHWM can lag
        // a VmRSS reading by a few hundred KB
        assert!(process + (4 << 20) >= peak, "{process} < {peak}");
        assert!(process >= before + (60 << 20), "{before} -> {process}");
    }
}
