//! PID 1 mode: hiddencost as the only program of a minimal Linux image.
//!
//! When the kernel starts hiddencost as init, it: mounts proc, sys and devtmpfs (tract reads
//! /proc/cpuinfo to choose its kernels); loads the kernel modules the image lists in
//! `/lib/modules/load.order` (card reader, FAT, thermal sensor, cpufreq); reads its settings
//! from the kernel command line (`hiddencost.models=zoo:resnet50,zoo:vgg16 hiddencost.runs=20
//! ...`), then from `hiddencost.conf` on the boot partition, which it finds by itself (the
//! first FAT partition holding a `hiddencost.conf`); sets the cpufreq governor (`performance`
//! unless told otherwise); runs the study (`study`): the machine probe, the design probes within
//! `sweep_budget`, the models plus any `.onnx` file in the card's `models/` folder, their
//! rewrites unless `rewrites = no` (with their int8 forms when `int8 = yes`), then the same
//! models eager unless `eager = no`; streams the
//! records to the serial port and to `results/<time>.jsonl` on the card (fsync per model);
//! prints an end marker; syncs, unmounts and powers off. Nothing may panic through to the kernel: every failure becomes an error
//! record (or a line on the console) and a clean power-off.

mod board;
mod config;
mod sweep;

pub use config::InitConfig;

use crate::record::{ErrorRecord, ModelRecord};
use crate::session::{self, Phase, Progress};
use crate::sink::{Sink, Target};
use crate::study;
use board::{
    BOOT_MOUNT, allow_user_counter_reads, card_models, load_modules, mount_boot,
    mount_pseudo_filesystems, results_file, set_governor,
};
use std::io::Write;
use std::path::Path;

/// Printed on the console when a run is over (on the data port, the `end` record marks it).
pub const END_MARKER: &str = "HIDDENCOST-END";
/// Printed on the console first thing (before the mounts, so that a run that fails at once has
/// it too): where a LAVA `monitors` test action starts reading (lava/README.md).
pub const START_MARKER: &str = "HIDDENCOST-START";
/// Starts the one line per model that a LAVA monitor turns into a test result.
pub const RESULT_PREFIX: &str = "hiddencost-result:";

/// The console line of a finished model, for LAVA's `monitors` pattern:
/// `hiddencost-result: NAME pass MEDIAN ms` (the clean runs' median latency) or
/// `hiddencost-result: NAME fail`. NAME is the model's name with every character outside
/// `[A-Za-z0-9_.:/-]` replaced by `_`, so that it is one word.
pub fn result_line(name: &str, result: Result<&ModelRecord, &ErrorRecord>) -> String {
    let id: String = name
        .chars()
        .map(|c| match c {
            'A'..='Z' | 'a'..='z' | '0'..='9' | '_' | '.' | ':' | '/' | '-' => c,
            _ => '_',
        })
        .collect();
    let id = if id.is_empty() { "model".into() } else { id };
    match result {
        Ok(record) => format!(
            "{RESULT_PREFIX} {id} pass {:.3} ms",
            record.latency_ns.median as f64 / 1e6
        ),
        Err(_) => format!("{RESULT_PREFIX} {id} fail"),
    }
}

fn console(line: &str) {
    let _ = writeln!(std::io::stderr(), "hiddencost: {line}");
}

/// Progress on the console: a line as each model (or sweep variant, `variant i/n`; rewrite,
/// `rewrite i/n`) starts, and the LAVA result line as it ends (an eager model's name ends in
/// `-eager`, a rewrite's in `_` and the rewrite); pilots and the probe say nothing.
#[derive(Default)]
struct Console {
    /// The phase under way.
    phase: Option<Phase>,
}

impl Progress for Console {
    fn phase(&mut self, phase: Phase) {
        self.phase = Some(phase);
    }

    fn start(&mut self, index: usize, name: &str) {
        let line = match self.phase {
            Some(Phase::Variants { variants }) => {
                format!("variant {}/{variants} {name}", index + 1)
            }
            Some(Phase::Models { .. }) => format!("model {} {name}", index + 1),
            Some(Phase::Eager { models }) => format!("eager {}/{models} {name}", index + 1),
            Some(Phase::Rewrites { models }) => {
                format!("rewrite {}/{models} {name}", index + 1)
            }
            Some(Phase::Probe { .. } | Phase::Pilots { .. }) | None => return,
        };
        console(&line);
    }

    fn done(&mut self, _index: usize, name: &str, result: Result<&ModelRecord, &ErrorRecord>) {
        let line = match self.phase {
            Some(Phase::Variants { .. } | Phase::Models { .. } | Phase::Rewrites { .. }) => {
                result_line(name, result)
            }
            Some(Phase::Eager { .. }) => result_line(&format!("{name}-eager"), result),
            Some(Phase::Probe { .. } | Phase::Pilots { .. }) | None => return,
        };
        let _ = writeln!(std::io::stderr(), "{line}");
    }
}

/// Runs the unattended benchmark, adding to `cfg_notes` what went wrong; returns whether to
/// power off at the end.
fn run(cfg_notes: &mut Vec<String>) -> anyhow::Result<bool> {
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
    cfg_notes.extend(allow_user_counter_reads(cfg.run.counter_reads));
    let mut models = cfg.run.models.clone();
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
            Sink::open_any(&[Target::Stdout])?
        }
    };
    cfg_notes.extend(failed.iter().map(|e| format!("{e}; going on without it")));
    if let Some(families) = cfg.sweep.clone() {
        return sweep::run(&cfg, &families, cfg_notes, &mut sink);
    }
    let jobs = session::resolve(&models, &cfg.run.zoo_options());
    let mut progress = Console::default();
    let variants = study::variants();
    let done = study::run(
        &cfg.run,
        jobs,
        &variants,
        cfg_notes,
        &mut sink,
        &mut progress,
    )?;
    if let Some(sweep) = &done.sweep {
        console(&format!(
            "{} design probe(s) measured at {} runs, {} failed, {} left out by the sweep budget",
            sweep.outcome.models.len(),
            sweep.runs,
            sweep.outcome.errors.len(),
            sweep.skipped.len()
        ));
    }
    if let Some(rewrites) = &done.rewrites {
        console(&format!(
            "{} rewrite(s) measured (as-is runs included), {} failed",
            rewrites.models.len(),
            rewrites.errors.len()
        ));
    }
    if let Some(eager) = &done.eager {
        console(&format!(
            "{} model(s) measured eager, {} failed",
            eager.models.len(),
            eager.errors.len()
        ));
    }
    console(&format!(
        "{} model(s) measured, {} failed; records on {}",
        done.models.models.len(),
        done.models.errors.len(),
        sink.label()
    ));
    Ok(cfg.poweroff)
}

/// Entry point when running as PID 1. Never returns.
pub fn main() -> ! {
    // First, so that a run that fails at once still has a start and an end on the console.
    console(START_MARKER);
    let mut notes = mount_pseudo_filesystems();
    notes.extend(load_modules());
    let poweroff = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run(&mut notes)))
    {
        Ok(Ok(poweroff)) => poweroff,
        Ok(Err(e)) => {
            console(&format!("error: {e:#}"));
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

    fn golden_model() -> ModelRecord {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/zoo_vm.jsonl");
        let text = std::fs::read_to_string(path).unwrap();
        text.lines()
            .find_map(|line| match serde_json::from_str(line) {
                Ok(crate::record::Record::Model(record)) => Some(record),
                _ => None,
            })
            .unwrap()
    }

    #[test]
    fn a_measured_model_is_a_pass_with_its_median_in_ms() {
        let mut record = golden_model();
        record.latency_ns.median = 12_345_678;
        assert_eq!(
            result_line("zoo:mobilenet", Ok(&record)),
            "hiddencost-result: zoo:mobilenet pass 12.346 ms"
        );
        record.latency_ns.median = 999;
        assert_eq!(
            result_line("zoo:mobilenet", Ok(&record)),
            "hiddencost-result: zoo:mobilenet pass 0.001 ms"
        );
    }

    #[test]
    fn a_failed_model_is_a_fail_and_its_name_is_one_word() {
        let error = ErrorRecord {
            model: "my model.onnx".into(),
            message: "no".into(),
        };
        assert_eq!(
            result_line("/boot/models/my model (v2).onnx", Err(&error)),
            "hiddencost-result: /boot/models/my_model__v2_.onnx fail"
        );
        assert_eq!(
            result_line("", Err(&error)),
            "hiddencost-result: model fail"
        );
    }
}
