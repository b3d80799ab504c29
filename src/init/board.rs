//! What PID 1 does to the machine before measuring: mounts the pseudo file systems, loads the
//! image's kernel modules, sets the cpufreq governor, finds and mounts the card, names the
//! results file and lists the card's models.

use std::path::{Path, PathBuf};

/// Where things live once init has mounted them.
pub(super) const BOOT_MOUNT: &str = "/boot";

pub(super) fn mount_pseudo_filesystems() -> Vec<String> {
    use rustix::mount::{MountFlags, mount};
    let mut notes = Vec::new();
    for (src, dir, fs) in [
        ("proc", "/proc", "proc"),
        ("sysfs", "/sys", "sysfs"),
        ("devtmpfs", "/dev", "devtmpfs"),
    ] {
        let _ = std::fs::create_dir_all(dir);
        match mount(src, dir, fs, MountFlags::empty(), None) {
            Err(e) if e != rustix::io::Errno::BUSY => {
                notes.push(format!("mounting {fs} on {dir}: {e}"))
            }
            _ => {}
        }
    }
    notes
}

/// Loads the modules the image lists in /lib/modules/load.order (file names, in dependency
/// order). A module already present (built in, or loaded) is fine; a failure is a run note.
pub(super) fn load_modules() -> Vec<String> {
    let dir = Path::new("/lib/modules");
    let Ok(order) = std::fs::read_to_string(dir.join("load.order")) else {
        return Vec::new();
    };
    let mut notes = Vec::new();
    for name in order
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let loaded = std::fs::File::open(dir.join(name))
            .map_err(|e| e.to_string())
            .and_then(|f| match rustix::system::finit_module(&f, c"", 0) {
                Ok(()) | Err(rustix::io::Errno::EXIST) => Ok(()),
                Err(e) => Err(e.to_string()),
            });
        if let Err(e) = loaded {
            notes.push(format!("loading kernel module {name}: {e}"));
        }
    }
    notes
}

/// Sets `governor` on every cpufreq policy; silent when the kernel has no cpufreq driver (the
/// header's context then shows no governor).
pub(super) fn set_governor(governor: &str) -> Vec<String> {
    if governor == "keep" {
        return Vec::new();
    }
    let policies = std::fs::read_dir("/sys/devices/system/cpu/cpufreq")
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("policy"));
    policies
        .filter_map(|p| {
            let file = p.path().join("scaling_governor");
            std::fs::write(&file, governor)
                .err()
                .map(|e| format!("setting governor {governor} in {}: {e}", file.display()))
        })
        .collect()
}

/// Lets this process read the PMU counters from user space (`kernel.perf_user_access = 1`,
/// arm64 Linux >= 5.17) unless told to read them with `read(2)`; a kernel without the sysctl
/// is not a problem (the header says why reads are `syscall`), a failed write is a note.
pub(super) fn allow_user_counter_reads(reads: crate::counters::ReadMode) -> Vec<String> {
    let sysctl = crate::counters::user::SYSCTL;
    if reads == crate::counters::ReadMode::Syscall || !Path::new(sysctl).exists() {
        return Vec::new();
    }
    match std::fs::write(sysctl, "1") {
        Ok(()) => Vec::new(),
        Err(e) => vec![format!(
            "setting {sysctl} to 1: {e}; counters read with read(2)"
        )],
    }
}

/// Block partitions in the order a card is looked for: SD/eMMC, virtio, USB/SATA.
fn partitions() -> Vec<String> {
    let mut found: Vec<String> = std::fs::read_dir("/sys/class/block")
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.path().join("partition").exists())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    search_order(&mut found);
    found
}

fn search_order(names: &mut [String]) {
    let rank = |n: &str| ["mmcblk", "vd", "sd"].iter().position(|p| n.starts_with(p));
    names.sort_by_key(|n| (rank(n).unwrap_or(9), n.clone()));
}

fn mount_vfat(device: &str) -> rustix::io::Result<()> {
    use rustix::mount::{MountFlags, mount};
    let _ = std::fs::create_dir_all(BOOT_MOUNT);
    mount(device, BOOT_MOUNT, "vfat", MountFlags::NOATIME, None)
}

/// Why no boot partition was mounted.
#[derive(Debug, thiserror::Error)]
pub(super) enum BootError {
    #[error("mounting the boot partition {device} on {BOOT_MOUNT}: {cause}")]
    Mount {
        device: String,
        cause: rustix::io::Errno,
    },
    /// `seen`: what each partition seen gave.
    #[error(
        "no boot partition found (a FAT partition with hiddencost.conf) within {wait_s} s; \
         partitions seen: [{}]",
        seen.join("; ")
    )]
    NotFound { wait_s: u64, seen: Vec<String> },
}

/// Mounts the boot partition on /boot and returns its device. `auto`: the first FAT partition
/// that holds a `hiddencost.conf`, waiting up to 10 s for the card to be probed; a device
/// path: that one (waiting for its node to appear).
pub(super) fn mount_boot(device: &str) -> Result<String, BootError> {
    const WAIT: std::time::Duration = std::time::Duration::from_secs(10);
    let start = std::time::Instant::now();
    let pause = || std::thread::sleep(std::time::Duration::from_millis(100));
    if device != "auto" {
        while !Path::new(device).exists() && start.elapsed() < WAIT {
            pause();
        }
        return mount_vfat(device)
            .map(|()| device.to_string())
            .map_err(|cause| BootError::Mount {
                device: device.to_string(),
                cause,
            });
    }
    // What each partition seen gave: `None` a FAT without hiddencost.conf, or the mount error.
    let mut seen: Vec<(String, Option<String>)> = Vec::new();
    loop {
        for name in partitions() {
            let dev = format!("/dev/{name}");
            let at = seen.iter().position(|(d, _)| *d == dev);
            if at.is_some_and(|i| seen[i].1.is_none()) {
                continue;
            }
            let outcome = match mount_vfat(&dev) {
                Ok(()) if Path::new(BOOT_MOUNT).join("hiddencost.conf").exists() => return Ok(dev),
                Ok(()) => {
                    let _ =
                        rustix::mount::unmount(BOOT_MOUNT, rustix::mount::UnmountFlags::empty());
                    None
                }
                Err(e) => Some(e.to_string()),
            };
            match at {
                Some(i) => seen[i].1 = outcome,
                None => seen.push((dev, outcome)),
            }
        }
        if start.elapsed() >= WAIT {
            let seen: Vec<String> = seen
                .iter()
                .map(|(dev, outcome)| match outcome {
                    None => format!("{dev}: FAT without hiddencost.conf"),
                    Some(e) => format!("{dev}: not mountable as vfat ({e})"),
                })
                .collect();
            return Err(BootError::NotFound {
                wait_s: WAIT.as_secs(),
                seen,
            });
        }
        pause();
    }
}

/// `results/<time>.jsonl` on the card, with `-2`, `-3`, ... when a file of that name exists:
/// a board without a real-time clock starts every boot in 1970, so two runs can share a time.
pub(super) fn results_file(card: &Path, now: std::time::SystemTime) -> PathBuf {
    let stamp = crate::context::rfc3339(now).replace(':', "-");
    let dir = card.join("results");
    let mut path = dir.join(format!("{stamp}.jsonl"));
    for n in 2.. {
        if !path.exists() {
            break;
        }
        path = dir.join(format!("{stamp}-{n}.jsonl"));
    }
    path
}

/// The card's own models: every `.onnx` in /boot/models, sorted.
pub(super) fn card_models() -> Vec<String> {
    let mut found: Vec<String> = std::fs::read_dir(Path::new(BOOT_MOUNT).join("models"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            p.extension()
                .is_some_and(|x| x.eq_ignore_ascii_case("onnx"))
        })
        .map(|p| p.display().to_string())
        .collect();
    found.sort();
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cards_are_looked_for_first() {
        let mut names: Vec<String> = ["sda1", "zram0p1", "vda1", "mmcblk1p2", "mmcblk1p1", "sda2"]
            .map(String::from)
            .to_vec();
        search_order(&mut names);
        assert_eq!(
            names,
            ["mmcblk1p1", "mmcblk1p2", "vda1", "sda1", "sda2", "zram0p1"]
        );
    }

    #[test]
    fn results_files_never_collide() {
        let card = tempfile::tempdir().unwrap();
        std::fs::create_dir(card.path().join("results")).unwrap();
        let boot = std::time::UNIX_EPOCH + std::time::Duration::from_secs(7);
        let first = results_file(card.path(), boot);
        assert!(
            first.ends_with("results/1970-01-01T00-00-07Z.jsonl"),
            "{first:?}"
        );
        std::fs::write(&first, "x").unwrap();
        let second = results_file(card.path(), boot);
        assert_ne!(first, second);
        assert!(second.to_string_lossy().ends_with("-2.jsonl"), "{second:?}");
    }
}
