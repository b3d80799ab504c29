//! PID 1 mode: hiddencost as the only program of a minimal Linux image.
//!
//! When the kernel starts hiddencost as init, it: mounts proc, sys and devtmpfs (tract reads
//! /proc/cpuinfo to choose its kernels); reads its settings from the kernel command line
//! (`hiddencost.models=zoo:resnet50,zoo:vgg16 hiddencost.runs=20 ...`), then from
//! `hiddencost.conf` on the boot partition if it can mount one; benchmarks the models plus any
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

/// Printed on the console (and the data port, if different) when a run is over.
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
    /// Data port, `/dev/ttyAMA0[@baud]`; `none` for no serial output.
    pub serial: Option<String>,
    /// Block device of the boot partition (FAT) that holds models/ and gets results/.
    pub boot_device: String,
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
            serial: Some("/dev/ttyAMA0".into()),
            boot_device: "/dev/mmcblk0p1".into(),
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

fn mount_boot(device: &str) -> Result<(), String> {
    use rustix::mount::{MountFlags, mount};
    let _ = std::fs::create_dir_all(BOOT_MOUNT);
    // The device node may appear a moment after devtmpfs is mounted (mmc probing).
    for _ in 0..50 {
        if Path::new(device).exists() {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    mount(device, BOOT_MOUNT, "vfat", MountFlags::NOATIME, None)
        .map_err(|e| format!("mounting the boot partition {device} on {BOOT_MOUNT}: {e}"))
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
    let card = match mount_boot(&cfg.boot_device) {
        Ok(()) => {
            if let Ok(text) = std::fs::read_to_string(Path::new(BOOT_MOUNT).join("hiddencost.conf"))
            {
                cfg_notes.extend(cfg.apply_file(&text));
            }
            true
        }
        Err(e) => {
            cfg_notes.push(format!("{e}; results go to the serial port only"));
            false
        }
    };
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
    if let Some(serial) = &cfg.serial {
        targets.push(Target::parse(&format!("serial:{serial}")).map_err(|e| e.to_string())?);
    }
    if card {
        let stamp = crate::context::rfc3339(std::time::SystemTime::now()).replace(':', "-");
        targets.push(Target::File(PathBuf::from(format!(
            "{BOOT_MOUNT}/results/{stamp}.jsonl"
        ))));
    }
    let (mut sink, failed) = Sink::open_any(&targets).map_err(|e| e.to_string())?;
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
    let outcome = bench::run(&opts, &mut sink, &mut |ix, name| {
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
}
