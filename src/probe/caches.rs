//! The memory levels the bandwidth probe streams: CPU 0's data and unified caches from sysfs
//! (`<root>/index*/{level,type,size,coherency_line_size,shared_cpu_list}`), typical sizes for
//! the architecture where sysfs has none (QEMU guests often have none), and DRAM, with a working
//! set bounded by the memory the kernel says is available.

use crate::record::CacheLevel;
use std::path::Path;

/// Where Linux describes CPU 0's caches.
pub const SYSFS_CPU0_CACHES: &str = "/sys/devices/system/cpu/cpu0/cache";

/// DRAM's working set: this many times the largest cache, so that no cache holds it...
pub const DRAM_CACHE_FACTOR: u64 = 4;
/// ...and at least this much.
pub const DRAM_MIN_BYTES: u64 = 32 << 20;
/// At most this fraction (1/N) of MemAvailable is ever allocated for it.
pub const DRAM_MEM_AVAILABLE_DIVISOR: u64 = 8;
/// Below this many times the largest cache, a buffer is not DRAM's: no figure then.
pub const DRAM_MIN_CACHE_FACTOR: u64 = 2;

/// One level the probe streams, with the buffer size it uses there.
#[derive(Debug, Clone, PartialEq)]
pub struct Level {
    /// `L1`, `L2`, `L3` or `DRAM`.
    pub name: String,
    pub capacity_bytes: Option<u64>,
    /// `sysfs` or `assumed`.
    pub capacity_from: &'static str,
    pub working_set_bytes: u64,
}

/// Parses a sysfs cache size: `32K`, `8M`, `1G`, or plain bytes.
fn parse_size(text: &str) -> Option<u64> {
    let t = text.trim();
    let (digits, unit) = match t.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((at, _)) => t.split_at(at),
        None => (t, ""),
    };
    let mult = match unit.trim() {
        "" => 1,
        "K" | "k" => 1 << 10,
        "M" | "m" => 1 << 20,
        "G" | "g" => 1 << 30,
        _ => return None,
    };
    digits.parse::<u64>().ok()?.checked_mul(mult)
}

/// Number of CPUs in a cpu list such as `0-3,6` (None if it does not parse).
fn count_cpus(list: &str) -> Option<usize> {
    let mut n = 0usize;
    for part in list.trim().split(',').filter(|p| !p.is_empty()) {
        n += match part.split_once('-') {
            Some((a, b)) => {
                let (a, b) = (a.parse::<usize>().ok()?, b.parse::<usize>().ok()?);
                b.checked_sub(a)? + 1
            }
            None => {
                part.parse::<usize>().ok()?;
                1
            }
        };
    }
    (n > 0).then_some(n)
}

/// CPU 0's data and unified caches under `root` (normally [`SYSFS_CPU0_CACHES`]), by level;
/// instruction caches are skipped, and so is an entry whose level, type or size is missing.
/// Empty where the directory does not exist.
pub fn read_caches(root: &Path) -> Vec<CacheLevel> {
    let Ok(entries) = std::fs::read_dir(root) else {
        return Vec::new();
    };
    let read = |dir: &Path, file: &str| std::fs::read_to_string(dir.join(file)).ok();
    let mut out: Vec<CacheLevel> = Vec::new();
    for entry in entries.flatten() {
        let dir = entry.path();
        if !entry.file_name().to_string_lossy().starts_with("index") {
            continue;
        }
        let level = read(&dir, "level").and_then(|s| s.trim().parse::<u8>().ok());
        let kind = read(&dir, "type").map(|s| s.trim().to_string());
        let size = read(&dir, "size").and_then(|s| parse_size(&s));
        let (Some(level), Some(kind), Some(size_bytes)) = (level, kind, size) else {
            continue;
        };
        if !matches!(kind.as_str(), "Data" | "Unified") || size_bytes == 0 {
            continue;
        }
        if out.iter().any(|c| c.level == level) {
            continue;
        }
        out.push(CacheLevel {
            level,
            kind,
            size_bytes,
            line_bytes: read(&dir, "coherency_line_size").and_then(|s| s.trim().parse().ok()),
            shared_cpus: read(&dir, "shared_cpu_list").and_then(|s| count_cpus(&s)),
        });
    }
    out.sort_by_key(|c| c.level);
    out
}

/// Typical data cache sizes where sysfs says nothing: (level, bytes). aarch64: a Cortex-A72
/// as on the Raspberry Pi 4 (32 KiB L1D, 1 MiB L2); elsewhere 32 KiB L1D and 512 KiB L2. No L3
/// is assumed.
pub fn assumed_caches() -> [(u8, u64); 2] {
    if cfg!(target_arch = "aarch64") {
        [(1, 32 << 10), (2, 1 << 20)]
    } else {
        [(1, 32 << 10), (2, 512 << 10)]
    }
}

pub use crate::context::mem_available_bytes;

/// Why there is no honest DRAM figure: a working set large enough to exceed the caches would
/// not fit in the memory bound.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "DRAM bandwidth not measured: a working set of {DRAM_MIN_CACHE_FACTOR} x the largest cache \
     ({largest_cache} bytes) would take more than 1/{DRAM_MEM_AVAILABLE_DIVISOR} of the \
     available memory ({})",
    mem_available.map_or("unknown".into(), |b| format!("{b} bytes"))
)]
pub struct NoDramFigure {
    pub largest_cache: u64,
    pub mem_available: Option<u64>,
}

/// DRAM's working set: [`DRAM_CACHE_FACTOR`] x the largest cache, at least
/// [`DRAM_MIN_BYTES`], at most 1/[`DRAM_MEM_AVAILABLE_DIVISOR`] of the available memory
/// (and [`DRAM_MIN_BYTES`] when that is unknown), rounded down to 4 KiB. `Err` says why
/// there is no honest DRAM figure: the bound leaves less than [`DRAM_MIN_CACHE_FACTOR`] x the
/// largest cache.
pub fn dram_working_set(
    largest_cache: u64,
    mem_available: Option<u64>,
) -> Result<u64, NoDramFigure> {
    let wanted = largest_cache
        .saturating_mul(DRAM_CACHE_FACTOR)
        .max(DRAM_MIN_BYTES);
    let bound = match mem_available {
        Some(avail) => avail / DRAM_MEM_AVAILABLE_DIVISOR,
        None => DRAM_MIN_BYTES,
    };
    let bytes = wanted.min(bound) & !4095;
    if bytes < largest_cache.saturating_mul(DRAM_MIN_CACHE_FACTOR) {
        return Err(NoDramFigure {
            largest_cache,
            mem_available,
        });
    }
    Ok(bytes)
}

/// The levels to stream, smallest first: each cache at half its size (so that it holds the
/// buffer with room to spare), then DRAM; plus a note when DRAM cannot be measured.
pub fn levels(caches: &[CacheLevel], mem_available: Option<u64>) -> (Vec<Level>, Option<String>) {
    let (sizes, from): (Vec<(u8, u64)>, _) = if caches.is_empty() {
        (assumed_caches().to_vec(), "assumed")
    } else {
        (
            caches.iter().map(|c| (c.level, c.size_bytes)).collect(),
            "sysfs",
        )
    };
    let mut out: Vec<Level> = sizes
        .iter()
        .map(|&(level, size)| Level {
            name: format!("L{level}"),
            capacity_bytes: Some(size),
            capacity_from: from,
            working_set_bytes: (size / 2).max(64),
        })
        .collect();
    let largest = sizes.iter().map(|s| s.1).max().unwrap_or(0);
    match dram_working_set(largest, mem_available) {
        Ok(bytes) => {
            out.push(Level {
                name: "DRAM".into(),
                capacity_bytes: None,
                capacity_from: from,
                working_set_bytes: bytes,
            });
            (out, None)
        }
        Err(note) => (out, Some(note.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn index(root: &Path, i: usize, files: &[(&str, &str)]) {
        let dir = root.join(format!("index{i}"));
        std::fs::create_dir_all(&dir).unwrap();
        for (name, text) in files {
            std::fs::write(dir.join(name), format!("{text}\n")).unwrap();
        }
    }

    #[test]
    fn sysfs_tree_gives_data_and_unified_caches_by_level() {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        let cache = |level: &str, kind: &str, size: &str, shared: &str| {
            [
                ("level", level.to_string()),
                ("type", kind.to_string()),
                ("size", size.to_string()),
                ("coherency_line_size", "64".to_string()),
                ("shared_cpu_list", shared.to_string()),
            ]
        };
        let write = |i, c: [(&str, String); 5]| {
            let files: Vec<(&str, &str)> = c.iter().map(|(k, v)| (*k, v.as_str())).collect();
            index(root, i, &files);
        };
        write(3, cache("3", "Unified", "32768K", "0-1,4"));
        write(0, cache("1", "Data", "32K", "0"));
        write(1, cache("1", "Instruction", "32K", "0"));
        write(2, cache("2", "Unified", "512K", "0"));
        index(root, 4, &[("level", "4"), ("type", "Unified")]); // no size: skipped
        std::fs::create_dir_all(root.join("uevent_not_an_index")).unwrap();

        let caches = read_caches(root);
        let summary: Vec<_> = caches
            .iter()
            .map(|c| (c.level, c.kind.as_str(), c.size_bytes, c.shared_cpus))
            .collect();
        assert_eq!(
            summary,
            [
                (1, "Data", 32 << 10, Some(1)),
                (2, "Unified", 512 << 10, Some(1)),
                (3, "Unified", 32 << 20, Some(3)),
            ]
        );
        assert!(caches.iter().all(|c| c.line_bytes == Some(64)));

        let (levels, note) = levels(&caches, Some(16 << 30));
        assert_eq!(note, None);
        let names: Vec<_> = levels.iter().map(|l| l.name.as_str()).collect();
        assert_eq!(names, ["L1", "L2", "L3", "DRAM"]);
        assert_eq!(levels[0].working_set_bytes, 16 << 10, "half of L1");
        assert_eq!(levels[3].working_set_bytes, 128 << 20, "4 x L3");
        assert_eq!(levels[3].capacity_bytes, None);
        assert!(levels.iter().all(|l| l.capacity_from == "sysfs"));
    }

    #[test]
    fn no_sysfs_means_assumed_sizes() {
        let tmp = tempfile::tempdir().unwrap();
        assert!(read_caches(&tmp.path().join("absent")).is_empty());
        let (levels, _) = levels(&[], Some(1 << 30));
        assert_eq!(levels.len(), 3, "L1, L2, DRAM: {levels:?}");
        assert!(levels.iter().all(|l| l.capacity_from == "assumed"));
        assert_eq!(levels[2].working_set_bytes, DRAM_MIN_BYTES);
    }

    #[test]
    fn sizes_and_cpu_lists() {
        assert_eq!(parse_size("32K"), Some(32 << 10));
        assert_eq!(parse_size("8M\n"), Some(8 << 20));
        assert_eq!(parse_size("4096"), Some(4096));
        assert_eq!(parse_size("12Q"), None);
        assert_eq!(parse_size("K"), None);
        assert_eq!(count_cpus("0-3,6\n"), Some(5));
        assert_eq!(count_cpus("0"), Some(1));
        assert_eq!(count_cpus("3-1"), None);
        assert_eq!(count_cpus(""), None);
    }

    #[test]
    fn dram_working_set_is_bounded_by_available_memory() {
        let meminfo = "MemTotal:  2000000 kB\nMemAvailable:    1048576 kB\nBuffers: 1 kB\n";
        let avail = mem_available_bytes(meminfo);
        assert_eq!(avail, Some(1 << 30));
        assert_eq!(mem_available_bytes("MemTotal: 1 kB\n"), None);
        // 4 x 1 MiB is below the 32 MiB floor; 1 GiB / 8 allows it
        assert_eq!(dram_working_set(1 << 20, avail), Ok(32 << 20));
        // 4 x 32 MiB wanted, but 512 MiB available allows only 64 MiB
        assert_eq!(dram_working_set(32 << 20, Some(512 << 20)), Ok(64 << 20));
        // unknown available memory: the floor only
        assert!(dram_working_set(32 << 20, None).is_err());
        assert_eq!(dram_working_set(1 << 20, None), Ok(32 << 20));
        // too little memory to exceed the caches: no DRAM figure, and a note saying why
        let err = dram_working_set(32 << 20, Some(100 << 20))
            .unwrap_err()
            .to_string();
        assert!(err.contains("not measured"), "{err}");
        let (levels, note) = levels(&[], Some(4 << 20));
        assert_eq!(levels.len(), 2);
        assert!(note.is_some());
    }
}
