//! The run context recorded in every header: kernel, CPU, memory, frequency governors,
//! temperatures, board model. Everything is read from /proc and /sys, best effort: a field that
//! cannot be read is `null`, never an error.

use crate::record::{Context, CpuFreq, ThermalZone};
use std::fs;
use std::path::Path;

fn read_trim(path: impl AsRef<Path>) -> Option<String> {
    let s = fs::read_to_string(path).ok()?;
    let s = s
        .trim_matches(|c: char| c.is_whitespace() || c == '\0')
        .to_string();
    (!s.is_empty()).then_some(s)
}

fn read_num<T: std::str::FromStr>(path: impl AsRef<Path>) -> Option<T> {
    read_trim(path)?.parse().ok()
}

/// First value of `key` in /proc/cpuinfo-style text.
pub(crate) fn cpuinfo_field(text: &str, key: &str) -> Option<String> {
    text.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        (k.trim() == key).then(|| v.trim().to_string())
    })
}

/// Arm core names by (implementer, part) for the boards people run this on.
fn arm_core_name(implementer: &str, part: &str) -> Option<&'static str> {
    Some(match (implementer, part) {
        ("0x41", "0xd03") => "Cortex-A53",
        ("0x41", "0xd04") => "Cortex-A35",
        ("0x41", "0xd05") => "Cortex-A55",
        ("0x41", "0xd07") => "Cortex-A57",
        ("0x41", "0xd08") => "Cortex-A72",
        ("0x41", "0xd09") => "Cortex-A73",
        ("0x41", "0xd0b") => "Cortex-A76",
        ("0x41", "0xd0c") => "Neoverse-N1",
        ("0x41", "0xd40") => "Neoverse-V1",
        ("0x41", "0xd49") => "Neoverse-N2",
        _ => return None,
    })
}

pub fn thermal() -> Vec<ThermalZone> {
    let mut zones: Vec<ThermalZone> = fs::read_dir("/sys/class/thermal")
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("thermal_zone"))
        .map(|e| ThermalZone {
            zone: e.file_name().to_string_lossy().into_owned(),
            kind: read_trim(e.path().join("type")),
            millicelsius: read_num(e.path().join("temp")),
        })
        .collect();
    zones.sort_by(|a, b| a.zone.cmp(&b.zone));
    zones
}

fn cpufreq(cpu_count: usize) -> Vec<CpuFreq> {
    (0..cpu_count)
        .filter_map(|cpu| {
            let dir = format!("/sys/devices/system/cpu/cpu{cpu}/cpufreq");
            Path::new(&dir).exists().then(|| CpuFreq {
                cpu,
                governor: read_trim(format!("{dir}/scaling_governor")),
                cur_khz: read_num(format!("{dir}/scaling_cur_freq")),
                min_khz: read_num(format!("{dir}/cpuinfo_min_freq")),
                max_khz: read_num(format!("{dir}/cpuinfo_max_freq")),
            })
        })
        .collect()
}

/// Reads the machine's context now.
pub fn read() -> Context {
    let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let implementer = cpuinfo_field(&cpuinfo, "CPU implementer");
    let part = cpuinfo_field(&cpuinfo, "CPU part");
    let cpu_model = cpuinfo_field(&cpuinfo, "model name").or_else(|| {
        let name = arm_core_name(implementer.as_deref()?, part.as_deref()?)?;
        Some(name.to_string())
    });
    let cpu_count = cpuinfo
        .lines()
        .filter(|l| l.starts_with("processor"))
        .count()
        .max(
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1),
        );
    let memory_total_bytes = fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| kb_field_bytes(&m, "MemTotal"));
    Context {
        hostname: read_trim("/proc/sys/kernel/hostname"),
        device_model: read_trim("/proc/device-tree/model")
            .or_else(|| read_trim("/sys/firmware/devicetree/base/model"))
            .or_else(|| read_trim("/sys/class/dmi/id/product_name")),
        kernel_release: read_trim("/proc/sys/kernel/osrelease"),
        kernel_version: read_trim("/proc/sys/kernel/version"),
        arch: std::env::consts::ARCH.to_string(),
        cpu_model,
        cpu_implementer: implementer,
        cpu_part: part,
        cpu_count,
        memory_total_bytes,
        cpufreq: cpufreq(cpu_count),
        thermal: thermal(),
        perf_event_paranoid: read_num("/proc/sys/kernel/perf_event_paranoid"),
    }
}

/// Resets the kernel's peak-RSS mark for this process (Linux >= 4.0); false if not allowed.
pub fn reset_peak_rss() -> bool {
    fs::write("/proc/self/clear_refs", "5").is_ok()
}

/// Peak resident set size of this process (VmHWM), in bytes.
pub fn peak_rss_bytes() -> Option<u64> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    kb_field_bytes(&status, "VmHWM")
}

/// Caps [`memory_available_bytes`] (bytes): to leave memory to other processes of a board, or
/// to make the fuzz tests refuse large models quickly.
pub const MEMORY_CAP_ENV: &str = "HIDDENCOST_MEMORY_BYTES";

/// Memory this process can still allocate, in bytes: `MemAvailable` of /proc/meminfo, or less when
/// the process's cgroup (v2) limits it (`memory.max` minus `memory.current`), its address-space
/// limit does (RLIMIT_AS minus `VmSize`), or [`MEMORY_CAP_ENV`] is set lower; `None` when none is
/// known. What `bench` checks a model's tensors and samples against before allocating them: an
/// allocation the kernel cannot back aborts the process.
pub fn memory_available_bytes() -> Option<u64> {
    let cap = std::env::var(MEMORY_CAP_ENV)
        .ok()
        .and_then(|v| v.trim().parse::<u64>().ok());
    match (system_memory_available_bytes(), cap) {
        (Some(a), Some(c)) => Some(a.min(c)),
        (a, c) => a.or(c),
    }
}

fn system_memory_available_bytes() -> Option<u64> {
    let meminfo = fs::read_to_string("/proc/meminfo").ok();
    let cgroup = fs::read_to_string("/proc/self/cgroup").ok().and_then(|c| {
        let dir = Path::new("/sys/fs/cgroup").join(cgroup_v2_path(&c)?.trim_start_matches('/'));
        let max = read_trim(dir.join("memory.max"))?;
        let current = read_trim(dir.join("memory.current"))?;
        cgroup_left_bytes(&max, &current)
    });
    let address_space = fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            // Under an address-space limit (`ulimit -v`) allocations past it fail however much
            // memory the machine has free.
            let limit = rustix::process::getrlimit(rustix::process::Resource::As).current?;
            Some(limit.saturating_sub(kb_field_bytes(&status, "VmSize")?))
        });
    [
        meminfo.as_deref().and_then(mem_available_bytes),
        cgroup,
        address_space,
    ]
    .into_iter()
    .flatten()
    .min()
}

/// `MemAvailable` from the text of /proc/meminfo, in bytes.
pub fn mem_available_bytes(meminfo: &str) -> Option<u64> {
    kb_field_bytes(meminfo, "MemAvailable")
}

/// A `KEY: N kB` field of /proc/meminfo or /proc/self/status, in bytes (the kernel's kB are
/// KiB); `None` when absent, unreadable or beyond 2^64 bytes.
fn kb_field_bytes(text: &str, key: &str) -> Option<u64> {
    let kib: u64 = cpuinfo_field(text, key)?
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    kib.checked_mul(1024)
}

/// The cgroup v2 path of /proc/self/cgroup's text (its `0::PATH` line).
fn cgroup_v2_path(text: &str) -> Option<&str> {
    text.lines().find_map(|l| l.strip_prefix("0::"))
}

/// What a cgroup's `memory.max` leaves above `memory.current`; `None` for `max` (no limit).
fn cgroup_left_bytes(max: &str, current: &str) -> Option<u64> {
    let max: u64 = max.parse().ok()?;
    let current: u64 = current.parse().ok()?;
    Some(max.saturating_sub(current))
}

/// RFC 3339 UTC timestamp of `t` (no external time crate needed).
pub fn rfc3339(t: std::time::SystemTime) -> String {
    let secs = t
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let (days, rem) = ((secs / 86_400) as i64, secs % 86_400);
    // Civil date from days since 1970-01-01 (H. Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn timestamps() {
        assert_eq!(rfc3339(UNIX_EPOCH), "1970-01-01T00:00:00Z");
        let t = UNIX_EPOCH + Duration::from_secs(1_795_462_245);
        assert_eq!(rfc3339(t), "2026-11-23T19:30:45Z"); // python3 datetime.fromtimestamp(.., utc)
        let leap = UNIX_EPOCH + Duration::from_secs(951_782_400); // 2000-02-29
        assert_eq!(rfc3339(leap), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn cpuinfo_on_a_pi() {
        let text = "processor\t: 0\nCPU implementer\t: 0x41\nCPU part\t: 0xd08\n";
        let imp = cpuinfo_field(text, "CPU implementer").unwrap();
        let part = cpuinfo_field(text, "CPU part").unwrap();
        assert_eq!(arm_core_name(&imp, &part), Some("Cortex-A72"));
    }

    #[test]
    fn kb_fields_are_bytes() {
        let meminfo = "MemTotal:        2000000 kB\nMemAvailable:    1048576 kB\n";
        assert_eq!(kb_field_bytes(meminfo, "MemTotal"), Some(2_048_000_000));
        assert_eq!(mem_available_bytes(meminfo), Some(1 << 30));
        assert_eq!(
            kb_field_bytes("VmHWM:\t  1024 kB\n", "VmHWM"),
            Some(1 << 20)
        );
        assert_eq!(kb_field_bytes("MemTotal: 1 kB\n", "VmHWM"), None);
        assert_eq!(
            kb_field_bytes("VmHWM: 18446744073709551615 kB\n", "VmHWM"),
            None
        );
    }

    #[test]
    fn a_cgroup_limit_leaves_what_is_not_used() {
        assert_eq!(
            cgroup_v2_path("0::/user.slice/a.scope\n"),
            Some("/user.slice/a.scope")
        );
        assert_eq!(cgroup_v2_path("12:memory:/x\n"), None, "v1 only");
        assert_eq!(cgroup_left_bytes("1000", "400"), Some(600));
        assert_eq!(cgroup_left_bytes("1000", "1400"), Some(0));
        assert_eq!(cgroup_left_bytes("max", "400"), None, "no limit");
    }

    #[test]
    fn reads_this_machine() {
        assert!(memory_available_bytes().is_some_and(|b| b > 0));
        let c = read();
        assert!(c.cpu_count >= 1);
        assert!(c.kernel_release.is_some());
        assert!(c.memory_total_bytes.unwrap_or(0) > 0);
    }
}
