//! Loading within the memory there is: logs larger than the memory left stop with
//! [`AnalyzeError::OutOfMemory`] before an allocation fails (which aborts the process).

use crate::error::AnalyzeError;
use std::path::Path;

/// Share of the memory available at the start that loading may take: the rest is for the
/// analysis and the report, which need about a third of what the records take (measured in
/// BENCHMARKS.md §9, "Peak memory below the logs' size").
const LOAD_SHARE: f64 = 0.6;

/// What loading may hold, checked after every chunk of a log.
pub(super) struct MemoryGuard {
    /// Resident bytes of the process when loading began.
    start_rss_bytes: u64,
    /// Memory the caller said is available then (`None`: no check).
    available_bytes: Option<u64>,
}

impl MemoryGuard {
    pub fn new(available_bytes: Option<u64>) -> Self {
        MemoryGuard {
            start_rss_bytes: resident_bytes().unwrap_or(0),
            available_bytes,
        }
    }

    /// `Err` when what loading holds now passes its share of the memory available.
    pub fn check(&self, path: &Path, line: usize, read_bytes: u64) -> Result<(), AnalyzeError> {
        let Some(available) = self.available_bytes else {
            return Ok(());
        };
        let Some(rss) = resident_bytes() else {
            return Ok(());
        };
        let held = rss.saturating_sub(self.start_rss_bytes);
        if (held as f64) <= LOAD_SHARE * available as f64 {
            return Ok(());
        }
        Err(AnalyzeError::OutOfMemory {
            path: path.to_path_buf(),
            line,
            read_bytes,
            held_bytes: held,
            available_bytes: available,
            share_pct: (100.0 * held as f64 / available.max(1) as f64).round() as u64,
            load_pct: (100.0 * LOAD_SHARE).round() as u64,
        })
    }
}

/// The process's resident memory (`VmRSS` of /proc/self/status), in bytes.
fn resident_bytes() -> Option<u64> {
    status_bytes("VmRSS:")
}

/// The process's peak resident memory so far (`VmHWM`), in bytes: for `-vv`'s phase lines.
pub fn peak_resident_bytes() -> Option<u64> {
    status_bytes("VmHWM:")
}

/// A `kB` field of /proc/self/status, in bytes.
fn status_bytes(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    let kib: u64 = line[field.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    kib.checked_mul(1024)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_budget_smaller_than_what_is_held_stops_with_the_place_and_numbers() {
        let guard = MemoryGuard {
            start_rss_bytes: 0,
            available_bytes: Some(3 << 20),
        };
        let e = guard
            .check(Path::new("big.jsonl"), 12, 3 << 29)
            .unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("after 1.50 GiB of big.jsonl (line 12)"),
            "{text}"
        );
        assert!(
            text.contains("of the 3.0 MiB available (loading may take 60%"),
            "{text}"
        );
        assert!(resident_bytes().is_some_and(|b| b > 0));
        let unlimited = MemoryGuard::new(None);
        assert!(unlimited.check(Path::new("x"), 1, 1).is_ok());
        let roomy = MemoryGuard::new(Some(u64::MAX / 2));
        assert!(roomy.check(Path::new("x"), 1, 1).is_ok());
    }
}
