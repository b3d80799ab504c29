//! PID 1 mode: hiddencost as the only program of a minimal Linux image.
//!
//! When the kernel starts hiddencost as init, it: mounts proc, sys and devtmpfs (tract reads
//! /proc/cpuinfo to choose its kernels); loads the kernel modules the image lists in
//! `/lib/modules/load.order` (card reader, FAT, thermal sensor, cpufreq); reads its settings
//! from the kernel command line (`hiddencost.models=zoo:resnet50,zoo:vgg16 hiddencost.runs=20
//! ...`), then from `hiddencost.conf` on the boot partition, which it finds by itself (the
//! first FAT partition holding a `hiddencost.conf`); sets the cpufreq governor (`performance`
//! unless told otherwise); benchmarks the models plus any
//! `.onnx` file in the card's `models/` folder; streams the records to the serial port and to
//! `results/<time>.jsonl` on the card (fsync per model); prints an end marker; syncs, unmounts
//! and powers off. Nothing may panic through to the kernel: every failure becomes an error
//! record (or a line on the console) and a clean power-off.

use crate::bench::{self, BenchOptions};
use crate::counters;
use crate::model::Optimize;
use crate::sink::{Sink, Target};
use crate::zoo::ZooOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

/// Printed on the console when a run is over (on the data port, the `end` record marks it).
pub const END_MARKER: &str = "HIDDENCOST-END";

/// Settings of an unattended run. Kernel command line keys are `hiddencost.<key>=<value>`;
/// the same keys, without the prefix, go in `hiddencost.conf` (`key = value`, `#` comments).
#[derive(Debug, Clone, PartialEq)]
pub struct InitConfig {
    /// Models (`zoo:NAME` or paths); empty means the whole zoo.
    pub models: Vec<String>,
    pub runs: usize,
    pub warmup: usize,
    pub events: String,
    pub optimize: Optimize,
    /// Threads for tract's matrix products (`--threads`); 1 is what the study measured.
    pub threads: usize,
    /// Data port, `/dev/ttyS1[@baud]`; `console` for init's own stdout (the kernel console);
    /// `none` for no serial output.
    pub serial: Option<String>,
    /// Block device of the boot partition (FAT) that holds models/ and gets results/; `auto`
    /// finds it, `none` runs without a card.
    pub boot_device: String,
    /// cpufreq governor to set on every policy before measuring; `keep` leaves it alone.
    pub governor: String,
    /// Power off at the end (`hiddencost.poweroff=0` keeps the machine up, for debugging).
    pub poweroff: bool,
    pub fake_counters: bool,
}

impl Default for InitConfig {
    fn default() -> Self {
        InitConfig {
            models: Vec::new(),
            runs: 20,
            warmup: 5,
            events: counters::DEFAULT_EVENTS.to_string(),
            optimize: Optimize::Full,
            threads: 1,
            // The Raspberry Pi 4's header UART (GPIO 14/15) with the mainline device tree.
            serial: Some("/dev/ttyS1".into()),
            boot_device: "auto".into(),
            governor: "performance".into(),
            poweroff: true,
            fake_counters: false,
        }
    }
}

impl InitConfig {
    /// Applies one `key=value` setting; returns a warning for an unknown key or a bad value
    /// (the setting is then ignored: an unattended run goes on with its defaults).
    pub fn set(&mut self, key: &str, value: &str) -> Option<String> {
        let bad = || Some(format!("hiddencost.{key}={value}: bad value, ignored"));
        match key {
            "models" => {
                self.models = value
                    .split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(String::from)
                    .collect()
            }
            "runs" => match value.parse() {
                Ok(n) if n > 0 => self.runs = n,
                _ => return bad(),
            },
            "threads" => match value.parse() {
                Ok(n) if n > 0 => self.threads = n,
                _ => return bad(),
            },
            "warmup" => match value.parse() {
                Ok(n) => self.warmup = n,
                _ => return bad(),
            },
            "events" => match counters::parse_events(value) {
                Ok(_) => self.events = value.to_string(),
                Err(e) => return Some(format!("hiddencost.events: {e}; using the defaults")),
            },
            "optimize" => {
                self.optimize = match value {
                    "none" => Optimize::None,
                    "declutter" => Optimize::Declutter,
                    "full" => Optimize::Full,
                    _ => return bad(),
                }
            }
            "serial" => self.serial = (value != "none").then(|| value.to_string()),
            "boot" => self.boot_device = value.to_string(),
            "governor" => match value {
                "" => return bad(),
                v if v.contains(['/', '.']) => return bad(),
                v => self.governor = v.to_string(),
            },
            "poweroff" => self.poweroff = !matches!(value, "0" | "no" | "false"),
            "fake_counters" => self.fake_counters = matches!(value, "1" | "yes" | "true"),
            _ => return Some(format!("unknown setting hiddencost.{key}, ignored")),
        }
        None
    }

    /// Applies the `hiddencost.*` words of a kernel command line.
    pub fn apply_cmdline(&mut self, cmdline: &str) -> Vec<String> {
        cmdline
            .split_whitespace()
            .filter_map(|w| w.strip_prefix("hiddencost."))
            .filter_map(|kv| match kv.split_once('=') {
                Some((k, v)) => self.set(k, v),
                None => Some(format!("hiddencost.{kv}: no value, ignored")),
            })
            .collect()
    }

    /// Applies a `hiddencost.conf` file: `key = value` lines, `#` comments.
    pub fn apply_file(&mut self, text: &str) -> Vec<String> {
        text.lines()
            .map(|l| l.split('#').next().unwrap_or("").trim())
            .filter(|l| !l.is_empty())
            .filter_map(|l| match l.split_once('=') {
                Some((k, v)) => self.set(k.trim().trim_start_matches("hiddencost."), v.trim()),
                None => Some(format!(
                    "hiddencost.conf: `{l}` is not key = value, ignored"
                )),
            })
            .collect()
    }
}

/// Where things live once init has mounted them.
const BOOT_MOUNT: &str = "/boot";

fn mount_pseudo_filesystems() -> Vec<String> {
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
fn load_modules() -> Vec<String> {
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
fn set_governor(governor: &str) -> Vec<String> {
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

/// Mounts the boot partition on /boot and returns its device. `auto`: the first FAT partition
/// that holds a `hiddencost.conf`, waiting up to 10 s for the card to be probed; a device
/// path: that one (waiting for its node to appear).
fn mount_boot(device: &str) -> Result<String, String> {
    const WAIT: std::time::Duration = std::time::Duration::from_secs(10);
    let start = std::time::Instant::now();
    let pause = || std::thread::sleep(std::time::Duration::from_millis(100));
    if device != "auto" {
        while !Path::new(device).exists() && start.elapsed() < WAIT {
            pause();
        }
        return mount_vfat(device)
            .map(|()| device.to_string())
            .map_err(|e| format!("mounting the boot partition {device} on {BOOT_MOUNT}: {e}"));
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
            return Err(format!(
                "no boot partition found (a FAT partition with hiddencost.conf) within {} s; \
                 partitions seen: [{}]",
                WAIT.as_secs(),
                seen.join("; ")
            ));
        }
        pause();
    }
}

/// `results/<time>.jsonl` on the card, with `-2`, `-3`, ... when a file of that name exists:
/// a board without a real-time clock starts every boot in 1970, so two runs can share a time.
fn results_file(card: &Path, now: std::time::SystemTime) -> PathBuf {
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
fn card_models() -> Vec<String> {
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

fn console(line: &str) {
    let _ = writeln!(std::io::stderr(), "hiddencost: {line}");
}

/// Runs the unattended benchmark, adding to `cfg_notes` what went wrong; returns whether to
/// power off at the end.
fn run(cfg_notes: &mut Vec<String>) -> Result<bool, String> {
    let mut cfg = InitConfig::default();
    let cmdline = std::fs::read_to_string("/proc/cmdline").unwrap_or_default();
    cfg_notes.extend(cfg.apply_cmdline(&cmdline));
    let card = match (cfg.boot_device.as_str() != "none").then(|| mount_boot(&cfg.boot_device)) {
        None => false,
        Some(Ok(device)) => {
            console(&format!("boot partition {device} on {BOOT_MOUNT}"));
            if let Ok(text) = std::fs::read_to_string(Path::new(BOOT_MOUNT).join("hiddencost.conf"))
            {
                cfg_notes.extend(cfg.apply_file(&text));
            }
            true
        }
        Some(Err(e)) => {
            cfg_notes.push(format!("{e}; results go to the serial port only"));
            false
        }
    };
    cfg_notes.extend(set_governor(&cfg.governor));
    let mut models = cfg.models.clone();
    if card {
        let extra = card_models();
        if models.is_empty() && !extra.is_empty() {
            models = crate::zoo::NAMES
                .iter()
                .map(|n| format!("zoo:{n}"))
                .collect();
        }
        models.extend(extra);
    }

    let mut targets = Vec::new();
    match cfg.serial.as_deref() {
        None => {}
        Some("console") => targets.push(Target::Stdout),
        Some(serial) => match Target::parse(&format!("serial:{serial}")) {
            Ok(target) => targets.push(target),
            Err(e) => cfg_notes.push(format!("hiddencost.serial={serial}: {e}; no serial output")),
        },
    }
    if card {
        targets.push(Target::File(results_file(
            Path::new(BOOT_MOUNT),
            std::time::SystemTime::now(),
        )));
    }
    let (mut sink, failed) = match Sink::open_any(&targets) {
        Ok(opened) => opened,
        // Nothing else to write to: the records go to the console rather than nowhere.
        Err(e) => {
            cfg_notes.push(format!("{e}; the records go to the console"));
            Sink::open_any(&[Target::Stdout]).map_err(|e| e.to_string())?
        }
    };
    cfg_notes.extend(failed.iter().map(|e| format!("{e}; going on without it")));
    let (models, metadata) = bench::models_and_metadata(&models, &ZooOptions::default());
    let opts = BenchOptions {
        models,
        metadata,
        input_shape: None,
        optimize: cfg.optimize,
        warmup: cfg.warmup,
        runs: cfg.runs,
        events: counters::parse_events(&cfg.events).map_err(|e| e.to_string())?,
        cpu: None,
        fake_counters: cfg.fake_counters,
        notes: cfg_notes.clone(),
    };
    let outcome = bench::run_threaded(&opts, cfg.threads, &mut sink, &mut |ix, name| {
        console(&format!("model {} {name}", ix + 1))
    })
    .map_err(|e| e.to_string())?;
    console(&format!(
        "{} model(s) measured, {} failed; records on {}",
        outcome.models.len(),
        outcome.errors.len(),
        sink.label()
    ));
    Ok(cfg.poweroff)
}

/// Entry point when running as PID 1. Never returns.
pub fn main() -> ! {
    let mut notes = mount_pseudo_filesystems();
    notes.extend(load_modules());
    let poweroff = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(&mut notes)))
    {
        Ok(Ok(poweroff)) => poweroff,
        Ok(Err(e)) => {
            console(&format!("error: {e}"));
            true
        }
        Err(_) => {
            console("error: internal panic caught; powering off");
            true
        }
    };
    for note in &notes {
        console(note);
    }
    console(END_MARKER);
    rustix::fs::sync();
    let _ = rustix::mount::unmount(BOOT_MOUNT, rustix::mount::UnmountFlags::empty());
    if poweroff {
        let _ = rustix::system::reboot(rustix::system::RebootCommand::PowerOff);
    }
    // PID 1 must not exit (the kernel would panic): wait for the power to go.
    loop {
        std::thread::sleep(std::time::Duration::from_secs(3600));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_command_line() {
        let mut c = InitConfig::default();
        let notes = c.apply_cmdline(
            "console=tty1 root=/dev/ram0 hiddencost.models=zoo:resnet50,zoo:vgg16 \
             hiddencost.runs=7 hiddencost.serial=/dev/ttyS0@921600 hiddencost.optimize=none \
             hiddencost.poweroff=0 hiddencost.bogus=1 hiddencost.runs=x hiddencost.flag",
        );
        assert_eq!(c.models, ["zoo:resnet50", "zoo:vgg16"]);
        assert_eq!(c.runs, 7, "a bad later value keeps the good one");
        assert_eq!(c.serial.as_deref(), Some("/dev/ttyS0@921600"));
        assert_eq!(c.optimize, Optimize::None);
        assert!(!c.poweroff);
        assert_eq!(notes.len(), 3, "{notes:?}");
        assert!(notes[0].contains("unknown setting hiddencost.bogus"));
        assert!(notes[1].contains("runs=x"));
        assert!(notes[2].contains("no value"));
    }

    #[test]
    fn config_file_overrides_and_comments() {
        let mut c = InitConfig::default();
        let notes = c.apply_file(
            "# on the card\nruns = 3\nhiddencost.warmup=1  # trailing comment\nserial = none\n\
             events = cycles,r17\nnonsense line\n",
        );
        assert_eq!((c.runs, c.warmup), (3, 1));
        assert_eq!(c.serial, None);
        assert_eq!(c.events, "cycles,r17");
        assert_eq!(notes.len(), 1);
        let notes = c.apply_file("events = cycels");
        assert!(notes[0].contains("unknown event"), "{notes:?}");
        assert_eq!(
            c.events, "cycles,r17",
            "a bad event list keeps the previous one"
        );
    }

    #[test]
    fn defaults_and_card_settings() {
        let c = InitConfig::default();
        assert_eq!(c.serial.as_deref(), Some("/dev/ttyS1"));
        assert_eq!(
            (c.boot_device.as_str(), c.governor.as_str()),
            ("auto", "performance")
        );
        let mut c = InitConfig::default();
        let notes = c.apply_cmdline(
            "hiddencost.governor=ondemand hiddencost.boot=none hiddencost.serial=console \
             hiddencost.governor=../../x",
        );
        assert_eq!(c.governor, "ondemand", "a path-like governor is refused");
        assert_eq!(c.threads, 1);
        assert!(c.apply_cmdline("hiddencost.threads=4").is_empty());
        assert_eq!(c.threads, 4);
        assert_eq!(
            c.apply_cmdline("hiddencost.threads=0").len(),
            1,
            "0 threads refused"
        );
        assert_eq!(c.threads, 4);
        assert_eq!(c.boot_device, "none");
        assert_eq!(c.serial.as_deref(), Some("console"));
        assert_eq!(notes.len(), 1, "{notes:?}");
    }

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
