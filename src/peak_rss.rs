//! Peak resident memory of this process, measured per stage of a run for
//! the summary, the manifest and benchmarks. Linux only (through /proc);
//! elsewhere the figures are absent.

/// Reset the peak-RSS high-water mark (Linux >= 4.0).
pub fn reset_peak() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// The peak resident set size since the last reset, in bytes.
pub fn peak_bytes() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

#[cfg(test)]
mod tests {
    #[test]
    fn peak_grows_with_an_allocation() {
        if super::peak_bytes().is_none() {
            return; // not Linux
        }
        super::reset_peak();
        let before = super::peak_bytes().unwrap();
        let v = vec![1u8; 64 << 20];
        let after = super::peak_bytes().unwrap();
        assert!(v.iter().map(|&b| b as u64).sum::<u64>() == 64 << 20);
        assert!(after >= before + (60 << 20), "{before} -> {after}");
    }
}
