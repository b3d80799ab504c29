//! What the commands share: stdout that tolerates a closed pipe, the default output name,
//! pinning to a CPU, and the terminal's progress bar.

use crate::record::{ErrorRecord, ModelRecord};
use crate::session::{Phase, Progress};
use anyhow::{Context, Result, bail};

/// `results/<UTC time>-<host>`: a new name per run, for a log file or a study directory.
pub(super) fn default_stem() -> String {
    let stamp = crate::context::rfc3339(std::time::SystemTime::now()).replace(':', "-");
    let host = crate::context::read()
        .hostname
        .unwrap_or_else(|| "host".into());
    format!("results/{stamp}-{host}")
}

/// Writes to stdout; a closed pipe (`| head`) ends the output quietly instead of panicking.
pub(super) fn say(text: &str) -> Result<()> {
    use std::io::Write;
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => r.context("writing to stdout"),
    }
}

/// Whether `e` is a closed pipe on the output (`hiddencost bench --out - | head`): the reader
/// is done, so the command ends quietly, as command-line tools do.
pub fn is_broken_pipe(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        matches!(
            cause.downcast_ref::<crate::sink::SinkError>(),
            Some(crate::sink::SinkError::BrokenPipe { .. })
        ) || cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// Pins the process to `cpu` (`--cpu`), warning that a matmul pool then shares it.
pub(super) fn pin(cpu: Option<usize>, threads: usize) -> Result<()> {
    let Some(cpu) = cpu else {
        return Ok(());
    };
    if threads > 1 {
        log::warn!(
            "--cpu {cpu} also pins the {threads} matmul threads to CPU {cpu}: they take turns"
        );
    }
    if cpu >= rustix::thread::CpuSet::MAX_CPU {
        bail!(
            "cannot pin to CPU {cpu} (--cpu): CPU numbers go up to {}",
            rustix::thread::CpuSet::MAX_CPU - 1
        );
    }
    let mut set = rustix::thread::CpuSet::new();
    set.set(cpu);
    rustix::thread::sched_setaffinity(None, &set)
        .with_context(|| format!("cannot pin to CPU {cpu} (--cpu)"))
}

/// The terminal's progress: a bar over the models of the phase under way, with the model's
/// name (`pilot NAME` while a sweep estimates its variants, `eager NAME` for the models run
/// with `--optimize none`). Drawn on stderr, and only where stderr is a terminal (indicatif's
/// own rule).
pub(super) struct Bar {
    bar: indicatif::ProgressBar,
    prefix: &'static str,
}

impl Bar {
    pub(super) fn new() -> Bar {
        let bar = indicatif::ProgressBar::new(0);
        bar.set_style(
            indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
        );
        Bar { bar, prefix: "" }
    }

    pub(super) fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

impl Progress for Bar {
    fn phase(&mut self, phase: Phase) {
        self.prefix = match phase {
            Phase::Pilots { .. } => "pilot ",
            Phase::Variants { .. } => "design probe ",
            Phase::Eager { .. } => "eager ",
            Phase::Rewrites { .. } => "rewrite ",
            Phase::Probe { .. } | Phase::Models { .. } => "",
        };
        match phase.jobs() {
            None => self.bar.set_message(match phase {
                Phase::Probe { budget } => {
                    format!("machine probe (up to {} s)", budget.as_secs_f64())
                }
                _ => String::new(),
            }),
            Some(n) => {
                self.bar.set_length(n as u64);
                self.bar.set_position(0);
            }
        }
    }

    fn start(&mut self, index: usize, name: &str) {
        self.bar.set_position(index as u64);
        self.bar.set_message(format!("{}{name}", self.prefix));
    }

    fn done(&mut self, index: usize, _name: &str, _result: Result<&ModelRecord, &ErrorRecord>) {
        self.bar.set_position(index as u64 + 1);
    }
}
