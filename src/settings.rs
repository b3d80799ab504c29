//! The settings of a measurement: one type, [`Settings`], whose `Default` is the only place the
//! defaults live. Every way in reads the same key names through [`Settings::set`]: the command
//! line (`--runs 7` is key `runs`; the CLI's value parsers are the functions of [`parse`]), PID 1
//! (`hiddencost.runs=7` on the kernel command line, `runs = 7` in the card's hiddencost.conf) and
//! the Yocto layer's conf (which writes those kernel command-line words).

use crate::counters::{self, EventSpec, ReadMode};
use crate::model::Optimize;
use crate::runner::Schedule;
use std::time::Duration;

/// Every key [`Settings::set`] takes, in the order the README's settings table lists them.
pub const KEYS: [&str; 18] = [
    "models",
    "input_shape",
    "seed",
    "fold_bn",
    "optimize",
    "warmup",
    "runs",
    "schedule",
    "events",
    "counter_reads",
    "cpu",
    "threads",
    "fake_counters",
    "probe_budget",
    "sweep_budget",
    "eager",
    "rewrites",
    "int8",
];

/// Most untimed warm-up runs per model: enough to reach any steady state, bounded so that a
/// typo cannot start a run that never ends.
pub const MAX_WARMUP: usize = 10_000;
/// Most timed runs per pass: bounded so that a typo cannot start a run that never ends (fewer
/// are refused when their samples do not fit in memory).
pub const MAX_RUNS: usize = 100_000;
/// Highest CPU number `--cpu` pins to (the kernel's affinity mask holds 1024).
pub const MAX_CPU: usize = rustix::thread::CpuSet::MAX_CPU - 1;
/// Most threads of tract's matmul pool.
pub const MAX_THREADS: usize = 256;
/// Longest machine probe: a probe is meant to take seconds.
pub const MAX_PROBE_SECONDS: f64 = 600.0;
/// Longest sweep: a day.
pub const MAX_SWEEP_SECONDS: f64 = 86_400.0;

/// What a measurement runs and how (the CLI's flags, PID 1's `hiddencost.*` words).
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Models (`zoo:NAME` or paths); empty means the whole zoo.
    pub models: Vec<String>,
    /// Input shape of the first input (default: the model's own static shape).
    pub input_shape: Option<Vec<usize>>,
    /// Seed of the zoo models' and the sweep's weights.
    pub seed: u64,
    /// Fold BatchNorm into the convolutions of zoo models (exporter style).
    pub fold_bn: bool,
    /// How far tract optimizes the graph.
    pub optimize: Optimize,
    /// Untimed whole inferences before the timed ones.
    pub warmup: usize,
    /// Timed inferences, in the clean pass and in each per-op pass (the sweep: the most per
    /// variant).
    pub runs: usize,
    /// Order of the clean and per-op runs.
    pub schedule: Schedule,
    /// Counters to read around each op.
    pub events: Vec<EventSpec>,
    /// How counters are read at op boundaries.
    pub counter_reads: ReadMode,
    /// The CPU to pin the run to.
    pub cpu: Option<usize>,
    /// Threads for tract's matrix products (a pool beside the calling thread when above 1).
    pub threads: usize,
    /// Deterministic fake counters (for tests).
    pub fake_counters: bool,
    /// Budget of the machine probe before the models; `None` skips it.
    pub probe_budget: Option<Duration>,
    /// Wall time of the design probes (the sweep), pilots included; `None` runs none in `study`
    /// and the card's default run.
    pub sweep_budget: Option<Duration>,
    /// `study` and the card's default run also measure the models eager (`--optimize none`),
    /// after the models at `optimize`.
    pub eager: bool,
    /// `study` and the card's default run also measure each model's rewrites (`rewrite`: ReLU
    /// for other activations, max for average pooling, BatchNorm folded, channel shuffle
    /// removed), each beside the model as it is, after the models.
    pub rewrites: bool,
    /// `study` and the card's default run also measure each model's int8 form (QDQ, the
    /// `int8` rewrite), in its rewrite group: beside the model as it is, before and after.
    pub int8: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            models: Vec::new(),
            input_shape: None,
            seed: 0,
            fold_bn: false,
            optimize: Optimize::Full,
            warmup: 5,
            runs: 20,
            schedule: Schedule::Interleaved,
            events: counters::parse_events(counters::DEFAULT_EVENTS).unwrap_or_default(),
            counter_reads: ReadMode::Auto,
            cpu: None,
            threads: 1,
            fake_counters: false,
            probe_budget: Some(Duration::from_secs(3)),
            sweep_budget: Some(Duration::from_secs(60)),
            eager: true,
            rewrites: true,
            int8: false,
        }
    }
}

/// Why a setting was refused.
#[derive(Debug, thiserror::Error, PartialEq)]
pub enum SettingError {
    #[error("unknown setting `{0}` (known: {known})", known = KEYS.join(", "))]
    UnknownKey(String),
    #[error("`{value}` is not {expected}")]
    BadValue {
        value: String,
        expected: &'static str,
    },
    #[error("`{value}` leaves the probe no time (a probe budget of 0 is what skips it)")]
    NoProbeTime { value: String },
    #[error("`{value}` leaves the sweep no time (give seconds above 0)")]
    NoSweepTime { value: String },
    #[error("{0}")]
    Events(String),
}

impl Settings {
    /// How zoo models are built (seed, BatchNorm folding).
    pub fn zoo_options(&self) -> crate::zoo::ZooOptions {
        crate::zoo::ZooOptions {
            seed: self.seed,
            fold_bn: self.fold_bn,
        }
    }

    /// Applies one `key = value` setting (the key as the CLI's long flag, with `_` for `-`).
    /// A refused value leaves the setting as it was.
    pub fn set(&mut self, key: &str, value: &str) -> Result<(), SettingError> {
        let value = value.trim();
        match key {
            "models" => self.models = parse::list(value),
            "input_shape" => self.input_shape = Some(parse::shape(value)?),
            "seed" => self.seed = parse::number(value, "a seed (0 to 2^64 - 1)")?,
            "fold_bn" => self.fold_bn = parse::flag(value)?,
            "optimize" => self.optimize = parse::optimize(value)?,
            "warmup" => self.warmup = parse::warmup(value)?,
            "runs" => self.runs = parse::runs(value)?,
            "schedule" => self.schedule = parse::schedule(value)?,
            "events" => self.events = parse::events(value)?,
            "counter_reads" => self.counter_reads = parse::counter_reads(value)?,
            "cpu" => self.cpu = Some(parse::cpu(value)?),
            "threads" => self.threads = parse::threads(value)?,
            "fake_counters" => self.fake_counters = parse::flag(value)?,
            "probe_budget" => self.probe_budget = parse::probe_budget(value)?,
            "sweep_budget" => self.sweep_budget = parse::sweep_budget(value)?,
            "eager" => self.eager = parse::flag(value)?,
            "rewrites" => self.rewrites = parse::flag(value)?,
            "int8" => self.int8 = parse::flag(value)?,
            _ => return Err(SettingError::UnknownKey(key.to_string())),
        }
        Ok(())
    }
}

/// The value parsers of the settings, one per kind of value; the CLI's flags use them too.
pub mod parse {
    use super::*;

    fn bad(value: &str, expected: &'static str) -> SettingError {
        SettingError::BadValue {
            value: value.to_string(),
            expected,
        }
    }

    pub fn number<T: std::str::FromStr>(
        value: &str,
        expected: &'static str,
    ) -> Result<T, SettingError> {
        value.trim().parse().map_err(|_| bad(value, expected))
    }

    /// A comma-separated list; empty items dropped.
    pub fn list(value: &str) -> Vec<String> {
        value
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(String::from)
            .collect()
    }

    pub fn flag(value: &str) -> Result<bool, SettingError> {
        match value.trim() {
            "1" | "yes" | "true" => Ok(true),
            "0" | "no" | "false" => Ok(false),
            _ => Err(bad(value, "a yes/no value (1, yes, true; 0, no, false)")),
        }
    }

    pub fn shape(value: &str) -> Result<Vec<usize>, SettingError> {
        let dims: Result<Vec<usize>, _> = value
            .split(',')
            .map(|d| d.trim().parse::<usize>())
            .collect();
        match dims {
            Ok(d) if !d.is_empty() && d.iter().all(|&x| x > 0) => Ok(d),
            _ => Err(bad(value, "a shape like 1,3,32,32 (positive integers)")),
        }
    }

    pub fn optimize(value: &str) -> Result<Optimize, SettingError> {
        match value.trim() {
            "none" => Ok(Optimize::None),
            "declutter" => Ok(Optimize::Declutter),
            "full" => Ok(Optimize::Full),
            _ => Err(bad(value, "an optimize level (none, declutter, full)")),
        }
    }

    pub fn schedule(value: &str) -> Result<Schedule, SettingError> {
        match value.trim() {
            "interleaved" => Ok(Schedule::Interleaved),
            "separate" => Ok(Schedule::Separate),
            _ => Err(bad(value, "a schedule (interleaved, separate)")),
        }
    }

    pub fn counter_reads(value: &str) -> Result<ReadMode, SettingError> {
        match value.trim() {
            "auto" => Ok(ReadMode::Auto),
            "syscall" => Ok(ReadMode::Syscall),
            _ => Err(bad(value, "a counter read mode (auto, syscall)")),
        }
    }

    pub fn events(value: &str) -> Result<Vec<EventSpec>, SettingError> {
        counters::parse_events(value).map_err(|e| SettingError::Events(e.to_string()))
    }

    pub fn runs(value: &str) -> Result<usize, SettingError> {
        match value.trim().parse::<usize>() {
            // The runner also checks the sample buffers that many runs need against the
            // memory available, and names it.
            Ok(n) if (1..=MAX_RUNS).contains(&n) => Ok(n),
            _ => Err(bad(value, "a number of runs from 1 to 100000")),
        }
    }

    pub fn cpu(value: &str) -> Result<usize, SettingError> {
        match value.trim().parse::<usize>() {
            Ok(n) if n <= MAX_CPU => Ok(n),
            _ => Err(bad(value, "a CPU number from 0 to 1023")),
        }
    }

    pub fn warmup(value: &str) -> Result<usize, SettingError> {
        match value.trim().parse::<usize>() {
            Ok(n) if n <= MAX_WARMUP => Ok(n),
            _ => Err(bad(value, "a number of warm-up runs from 0 to 10000")),
        }
    }

    pub fn threads(value: &str) -> Result<usize, SettingError> {
        match value.trim().parse::<usize>() {
            Ok(n) if (1..=MAX_THREADS).contains(&n) => Ok(n),
            _ => Err(bad(value, "a number of threads from 1 to 256")),
        }
    }

    /// Seconds from 0 to [`MAX_PROBE_SECONDS`]; 0 skips the probe (`None`).
    pub fn probe_budget(value: &str) -> Result<Option<Duration>, SettingError> {
        match value.trim().parse::<f64>() {
            Ok(0.0) => Ok(None),
            Ok(x) if x > 0.0 && x <= MAX_PROBE_SECONDS => Ok(Some(Duration::from_secs_f64(x))),
            _ => Err(bad(value, "a number of seconds from 0 to 600")),
        }
    }

    /// [`probe_budget`] for the probe on its own (`hiddencost probe --budget`), where 0 would
    /// leave it nothing to do.
    pub fn positive_probe_budget(value: &str) -> Result<Duration, SettingError> {
        probe_budget(value)?.ok_or_else(|| SettingError::NoProbeTime {
            value: value.to_string(),
        })
    }

    /// Seconds from 0 to [`MAX_SWEEP_SECONDS`]; 0 runs no sweep (`None`).
    pub fn sweep_budget(value: &str) -> Result<Option<Duration>, SettingError> {
        match value.trim().parse::<f64>() {
            Ok(0.0) => Ok(None),
            Ok(x) if x > 0.0 && x <= MAX_SWEEP_SECONDS => Ok(Some(Duration::from_secs_f64(x))),
            _ => Err(bad(value, "a number of seconds from 0 to 86400")),
        }
    }

    /// [`sweep_budget`] for `hiddencost sweep`, where 0 would leave it nothing to do.
    pub fn positive_sweep_budget(value: &str) -> Result<Duration, SettingError> {
        sweep_budget(value)?.ok_or_else(|| SettingError::NoSweepTime {
            value: value.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_is_taken_and_nothing_else() {
        let samples = [
            ("models", "zoo:vgg16, a.onnx"),
            ("input_shape", "1,3,64,64"),
            ("seed", "7"),
            ("fold_bn", "yes"),
            ("optimize", "none"),
            ("warmup", "0"),
            ("runs", "3"),
            ("schedule", "separate"),
            ("events", "cycles"),
            ("counter_reads", "syscall"),
            ("cpu", "1"),
            ("threads", "2"),
            ("fake_counters", "1"),
            ("probe_budget", "0"),
            ("sweep_budget", "30"),
            ("eager", "no"),
            ("rewrites", "no"),
            ("int8", "yes"),
        ];
        assert_eq!(samples.map(|(k, _)| k), KEYS);
        let mut s = Settings::default();
        for (key, value) in samples {
            assert_eq!(s.set(key, value), Ok(()), "{key}={value}");
        }
        assert_eq!(s.models, ["zoo:vgg16", "a.onnx"]);
        assert_eq!(s.input_shape, Some(vec![1, 3, 64, 64]));
        assert_eq!((s.seed, s.fold_bn, s.optimize), (7, true, Optimize::None));
        assert_eq!((s.warmup, s.runs, s.schedule), (0, 3, Schedule::Separate));
        assert_eq!(s.events[0].name, "cycles");
        assert_eq!(
            (s.counter_reads, s.cpu, s.threads),
            (ReadMode::Syscall, Some(1), 2)
        );
        assert!(s.fake_counters);
        assert_eq!(s.probe_budget, None, "0 skips the probe");
        assert_eq!(s.sweep_budget, Some(Duration::from_secs(30)));
        assert!(!s.eager);
        assert!(!s.rewrites);
        assert!(s.int8);
        assert_eq!(s.set("sweep_budget", "0"), Ok(()));
        assert_eq!(s.sweep_budget, None, "0 runs no sweep");
        assert_eq!(
            s.set("bogus", "1"),
            Err(SettingError::UnknownKey("bogus".into()))
        );
    }

    #[test]
    fn the_defaults() {
        let s = Settings::default();
        assert_eq!((s.warmup, s.runs, s.threads), (5, 20, 1));
        assert_eq!(s.probe_budget, Some(Duration::from_secs(3)));
        assert_eq!(s.sweep_budget, Some(Duration::from_secs(60)));
        assert!(s.eager && s.rewrites && !s.int8);
        assert_eq!(
            s.events,
            counters::parse_events(counters::DEFAULT_EVENTS).unwrap()
        );
        assert!(s.models.is_empty() && s.input_shape.is_none() && s.cpu.is_none());
    }

    #[test]
    fn values_out_of_bounds_are_refused_and_change_nothing() {
        let mut s = Settings::default();
        for (key, value, says) in [
            ("runs", "0", "from 1 to 100000"),
            ("runs", "9223372036854775807", "from 1 to 100000"),
            ("runs", "100001", "from 1 to 100000"),
            ("warmup", "10001", "from 0 to 10000"),
            ("cpu", "1024", "from 0 to 1023"),
            ("cpu", "-1", "from 0 to 1023"),
            ("seed", "18446744073709551616", "0 to 2^64 - 1"),
            ("sweep_budget", "inf", "from 0 to 86400"),
            ("sweep_budget", "86401", "from 0 to 86400"),
            ("warmup", "9223372036854775807", "from 0 to 10000"),
            ("threads", "0", "from 1 to 256"),
            ("threads", "257", "from 1 to 256"),
            ("probe_budget", "-1", "from 0 to 600"),
            ("probe_budget", "NaN", "from 0 to 600"),
            ("probe_budget", "1e9", "from 0 to 600"),
            ("sweep_budget", "-1", "from 0 to 86400"),
            ("input_shape", "1,0,3", "positive integers"),
            ("optimize", "most", "none, declutter, full"),
            ("fold_bn", "maybe", "yes/no"),
        ] {
            let e = s.set(key, value).unwrap_err().to_string();
            assert!(e.contains(says) && e.contains(value), "{key}={value}: {e}");
        }
        assert_eq!(s, Settings::default());
        // The limits themselves are taken; the messages say them.
        assert_eq!(parse::runs("100000"), Ok(MAX_RUNS));
        assert_eq!(parse::warmup("10000"), Ok(MAX_WARMUP));
        assert_eq!(parse::cpu("1023"), Ok(MAX_CPU));
        assert!(matches!(
            s.set("events", "cycels"),
            Err(SettingError::Events(_))
        ));
        assert_eq!(
            parse::positive_probe_budget("0").unwrap_err(),
            SettingError::NoProbeTime { value: "0".into() }
        );
        assert_eq!(
            parse::positive_sweep_budget("0").unwrap_err(),
            SettingError::NoSweepTime { value: "0".into() }
        );
    }
}
