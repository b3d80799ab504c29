//! Command-line interface: clap types live here and are converted into [`Settings`] (whose
//! `Default` gives every flag its default, and whose parsers check every value) before
//! anything runs; the commands themselves are in `commands`, `sweep` and `zoo`.

mod commands;
mod common;
mod cost;
mod sweep;
mod zoo;
pub use commands::dispatch;
pub use common::is_broken_pipe;
pub use sweep::SweepArgs;
pub use zoo::ZooCommand;

use crate::counters::{self, EventSpec, ReadMode};
use crate::model::Optimize;
use crate::runner::Schedule;
use crate::settings::{Settings, parse};
use clap::{Args, Parser, Subcommand, ValueEnum};
#[cfg(feature = "analyze")]
use std::path::PathBuf;
use std::time::Duration;

/// The defaults the flags show and start from: [`Settings::default`], made once (it resolves
/// the default event list for this CPU, which reads /proc/cpuinfo).
fn defaults() -> &'static Settings {
    static DEFAULTS: std::sync::OnceLock<Settings> = std::sync::OnceLock::new();
    DEFAULTS.get_or_init(Settings::default)
}

#[derive(Parser, Debug)]
#[command(
    name = "hiddencost",
    version,
    about = "Why MAC counts fail to predict inference time: \
per-operator hardware counters for ONNX models on embedded boards"
)]
pub struct Cli {
    /// More log output on stderr (-v info, -vv debug, -vvv trace).
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
    /// Only errors on stderr.
    #[arg(short, long, global = true)]
    pub quiet: bool,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Benchmark models operator by operator and write JSON lines.
    Bench(BenchArgs),
    /// Print the static cost (params, MACs, thop MACs, FLOPs, bytes) of models without running them.
    Cost(CostArgs),
    /// The ten CIFAR-100 networks of the study, built in.
    #[command(subcommand)]
    Zoo(ZooCommand),
    /// Report from logs: where time goes, why (counters), MACs vs latency, a latency model.
    #[cfg(feature = "analyze")]
    Analyze(AnalyzeArgs),
    /// Predict a model's latency from its static cost and a fit.json from `analyze`.
    #[cfg(feature = "analyze")]
    Predict(PredictArgs),
    /// Score a fit.json's latency predictors (kernel model, node model, MACs only) on logged
    /// models it was not fitted on: within ±5%, ±10%, MAPE, Spearman rho.
    #[cfg(feature = "analyze")]
    Validate(ValidateArgs),
    /// The whole study in one go: bench (default: the zoo), then analyze into one directory.
    #[cfg(feature = "analyze")]
    Study(StudyArgs),
    /// What to change in your models: `study` on them, then each model's rewrites (activation to
    /// ReLU, average to max pooling, BatchNorm folded, channel shuffle removed) ranked by the
    /// time each saved on this machine, with the evidence. Accuracy is not measured.
    #[cfg(feature = "analyze")]
    Advise(StudyArgs),
    /// Design probes: micro-models at matched MACs that differ in one design choice (conv type,
    /// channels, shuffle, merge, kernel size, activation, BatchNorm, spatial size), plus
    /// single-kernel probes, measured like `bench` within a time budget.
    Sweep(SweepArgs),
    /// Measure this machine's own limits (matmul peak, bandwidth per memory level, dispatch
    /// floor, counter-read cost): what `bench` puts in its header's `machine`.
    Probe(ProbeArgs),
    /// Print the JSON lines (the records) of a LAVA job log (the server's log.yaml, lava-run's
    /// logs.yaml or stderr) on stdout, as the card wrote them; unreadable entries on stderr.
    #[cfg(feature = "analyze")]
    LavaRecords {
        /// The LAVA job log.
        #[arg(value_name = "LOG")]
        log: PathBuf,
    },
}

#[derive(Args, Debug, Clone, Copy)]
pub struct ZooArgs {
    /// Seed of the zoo models' weights.
    #[arg(long, default_value_t = defaults().seed)]
    pub seed: u64,
    /// Fold BatchNorm into the convolutions of zoo models (exporter style).
    #[arg(long)]
    pub fold_bn: bool,
}

impl ZooArgs {
    fn apply(self, s: &mut Settings) {
        s.seed = self.seed;
        s.fold_bn = self.fold_bn;
    }
}

#[derive(ValueEnum, Debug, Clone, Copy)]
pub enum OptimizeArg {
    None,
    Declutter,
    Full,
}

#[derive(ValueEnum, Debug, Clone, Copy)]
pub enum ScheduleArg {
    /// Clean and per-op runs alternate after a shared warm-up (pairs see the same machine).
    Interleaved,
    /// All clean runs first, then each per-op pass's runs.
    Separate,
}

#[derive(ValueEnum, Debug, Clone, Copy)]
pub enum CounterReadsArg {
    /// Hardware counters read from user space where the kernel allows it (arm64 with
    /// kernel.perf_user_access=1, --threads 1), else one read(2) per group.
    Auto,
    /// One read(2) per group, always.
    Syscall,
}

#[derive(Args, Debug)]
pub struct ModelArgs {
    /// ONNX model files, or zoo:NAME (see `hiddencost zoo list`). Default: the whole zoo.
    #[arg(value_name = "MODEL")]
    pub models: Vec<String>,
    #[command(flatten)]
    pub zoo: ZooArgs,
    /// Input shape of the first input, e.g. 1,3,32,32 (default: the model's own static shape).
    #[arg(long, value_name = "N,C,H,W", value_parser = parse_shape)]
    pub input_shape: Option<Shape>,
}

impl ModelArgs {
    fn apply(self, s: &mut Settings) {
        s.models = self.models;
        s.input_shape = self.input_shape.map(|s| s.0);
        self.zoo.apply(s);
    }

    /// These models' settings, the rest at their defaults.
    pub fn settings(self) -> Settings {
        let mut s = Settings::default();
        self.apply(&mut s);
        s
    }
}

#[derive(Args, Debug)]
pub struct BenchArgs {
    #[command(flatten)]
    pub measure: MeasureArgs,
    /// Where records go: FILE, `-` (stdout), or `serial:/dev/ttyX[@baud]`. Default: a new file
    /// under results/.
    #[arg(long, value_name = "TARGET", value_parser = parse_out)]
    pub out: Option<String>,
}

#[cfg(feature = "analyze")]
#[derive(Args, Debug)]
pub struct StudyArgs {
    #[command(flatten)]
    pub measure: MeasureArgs,
    /// Seconds the design probes (the sweep, pilots included) may take before the models; they
    /// answer RQ4 and fit the kernel latency model. 0 runs none.
    #[arg(long, value_name = "SECONDS", default_value_t = Seconds::from(defaults().sweep_budget), value_parser = parse_sweep_budget)]
    pub sweep_budget: Seconds,
    /// Do not measure the models a second time eager (`--optimize none`: each ONNX node on its
    /// own, as the paper's PyTorch ran them), which shows what tract's fusion removes.
    #[arg(long)]
    pub no_eager: bool,
    /// Do not measure each model's rewrites (activation to ReLU, average to max pooling,
    /// BatchNorm folded, channel shuffle removed), which say what each change saves.
    #[arg(long)]
    pub no_rewrites: bool,
    /// Also measure each model's int8 form (QDQ: the `int8` rewrite) in its rewrite group.
    #[arg(long)]
    pub int8: bool,
    /// Directory for the log (bench.jsonl) and the report (report/). Default: a new directory
    /// under results/.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// CSV with columns `model,top1_error[,top5_error]` for models outside the zoo.
    #[arg(long, value_name = "CSV")]
    pub accuracy: Option<PathBuf>,
}

#[cfg(feature = "analyze")]
#[derive(Args, Debug)]
pub struct AnalyzeArgs {
    /// JSON-lines logs written by `hiddencost bench` (several models, devices, runs), serial
    /// captures, or LAVA job logs (log.yaml).
    #[arg(required = true, value_name = "LOG")]
    pub logs: Vec<PathBuf>,
    /// Directory for report.md, CSV tables, SVG plots, fit.json and traces.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// CSV with columns `model,top1_error[,top5_error]` (percent) for models outside the zoo.
    #[arg(long, value_name = "CSV")]
    pub accuracy: Option<PathBuf>,
    /// Also write the dataset as tables into DIR: `parquet` writes ops.parquet, models.parquet
    /// and runs.parquet (needs a build with `--features parquet`).
    #[arg(long, value_name = "FORMAT")]
    pub export: Option<ExportArg>,
}

/// Formats of `analyze --export`.
#[cfg(feature = "analyze")]
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportArg {
    Parquet,
}

#[cfg(feature = "analyze")]
#[derive(Args, Debug)]
pub struct PredictArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// fit.json written by `hiddencost analyze`.
    #[arg(long, value_name = "FIT")]
    pub fit: PathBuf,
    /// Device label in the fit file, when it holds several.
    #[arg(long)]
    pub device: Option<String>,
}

#[cfg(feature = "analyze")]
#[derive(Args, Debug)]
pub struct ValidateArgs {
    /// Logs of the models to validate on (`hiddencost bench`), with op and node records.
    #[arg(required = true, value_name = "LOG")]
    pub logs: Vec<PathBuf>,
    /// fit.json written by `hiddencost analyze` (e.g. from a sweep log).
    #[arg(long, value_name = "FIT")]
    pub fit: PathBuf,
    /// Device label in the fit file, when it holds several.
    #[arg(long)]
    pub device: Option<String>,
    /// Also write validation.md and validation.csv into this directory.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
}

/// What a measurement needs, shared by `bench` and `study`: the models and how to run them.
#[derive(Args, Debug)]
pub struct MeasureArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    #[command(flatten)]
    pub run: RunArgs,
}

impl MeasureArgs {
    pub fn settings(self) -> Settings {
        let mut s = self.model.settings();
        self.run.apply(&mut s);
        s
    }
}

/// How models are run, shared by `bench`, `study` and `sweep`.
#[derive(Args, Debug)]
pub struct RunArgs {
    /// How far tract optimizes the graph: none/declutter show every source op on its own.
    #[arg(long, value_enum, default_value_t = defaults().optimize.into())]
    pub optimize: OptimizeArg,
    /// Untimed whole inferences before the timed ones.
    #[arg(long, default_value_t = defaults().warmup, value_parser = parse::warmup)]
    pub warmup: usize,
    /// Timed inferences, in the clean pass and in each per-op pass (a sweep's: the most per
    /// variant; fewer when its budget needs it, never below 5).
    #[arg(long, default_value_t = defaults().runs, value_parser = parse::runs)]
    pub runs: usize,
    /// Order of the clean and per-op runs: interleaved rounds, or the passes one after another.
    #[arg(long, value_enum, default_value_t = defaults().schedule.into())]
    pub schedule: ScheduleArg,
    /// Seconds the machine probe may take before the models (its figures go in the header's
    /// `machine`; it stops earlier when they are done); 0 skips it.
    #[arg(long, value_name = "SECONDS", default_value_t = Seconds::from(defaults().probe_budget), value_parser = parse_probe_budget)]
    pub probe_budget: Seconds,
    #[command(flatten)]
    pub counters: CounterArgs,
}

impl RunArgs {
    fn apply(self, s: &mut Settings) {
        s.optimize = self.optimize.into();
        s.warmup = self.warmup;
        s.runs = self.runs;
        s.schedule = self.schedule.into();
        s.probe_budget = (!self.probe_budget.0.is_zero()).then_some(self.probe_budget.0);
        self.counters.apply(s);
    }
}

/// The counters and threads of a measurement, shared by every command that measures.
#[derive(Args, Debug)]
pub struct CounterArgs {
    /// Counters to read around each op: sets (default, memory, stalls, simd, all: resolved for
    /// this CPU), names (cycles, l2d_cache_refill, ...) or raw rNN hex; task-clock, page-faults
    /// and context-switches are always added.
    #[arg(long, default_value = counters::DEFAULT_EVENTS, value_parser = parse_events)]
    pub events: EventList,
    /// How the counters are read at each op boundary (the header's `counter_access` says how
    /// they were, and why not from user space).
    #[arg(long, value_enum, default_value_t = defaults().counter_reads.into())]
    pub counter_reads: CounterReadsArg,
    /// Pin the run to this CPU.
    #[arg(long, value_parser = parse::cpu)]
    pub cpu: Option<usize>,
    /// Threads for tract's matrix products (a pool beside the calling thread when above 1; the
    /// counters then also count the pool's threads).
    #[arg(long, default_value_t = defaults().threads, value_parser = parse::threads)]
    pub threads: usize,
    /// Deterministic fake counters (for tests).
    #[arg(long, hide = true)]
    pub fake_counters: bool,
}

impl CounterArgs {
    fn apply(self, s: &mut Settings) {
        s.events = self.events.0;
        s.counter_reads = self.counter_reads.into();
        s.cpu = self.cpu;
        s.threads = self.threads;
        s.fake_counters = self.fake_counters;
    }
}

#[derive(Args, Debug)]
pub struct ProbeArgs {
    /// Print the `machine` record as one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Most seconds the probe may take (it stops earlier when its figures are done).
    #[arg(long, value_name = "SECONDS", default_value_t = Seconds::from(defaults().probe_budget), value_parser = parse_positive_seconds)]
    pub budget: Seconds,
    #[command(flatten)]
    pub counters: CounterArgs,
}

impl ProbeArgs {
    pub fn settings(self) -> Settings {
        let mut s = Settings {
            probe_budget: Some(self.budget.0),
            ..Settings::default()
        };
        self.counters.apply(&mut s);
        s
    }
}

/// A duration in seconds given on the command line (a newtype so clap takes it as one value).
#[derive(Debug, Clone, Copy)]
pub struct Seconds(pub Duration);

impl From<Option<Duration>> for Seconds {
    fn from(d: Option<Duration>) -> Seconds {
        Seconds(d.unwrap_or_default())
    }
}

impl std::fmt::Display for Seconds {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0.as_secs_f64())
    }
}

/// A parsed `--events` list (a newtype so clap takes it as one value).
#[derive(Debug, Clone)]
pub struct EventList(pub Vec<EventSpec>);

fn parse_events(s: &str) -> Result<EventList, crate::settings::SettingError> {
    parse::events(s).map(EventList)
}

/// A tensor shape given on the command line (a newtype so clap takes it as one value).
#[derive(Debug, Clone)]
pub struct Shape(pub Vec<usize>);

fn parse_shape(s: &str) -> Result<Shape, crate::settings::SettingError> {
    parse::shape(s).map(Shape)
}

fn parse_probe_budget(s: &str) -> Result<Seconds, crate::settings::SettingError> {
    parse::probe_budget(s).map(Seconds::from)
}

fn parse_positive_seconds(s: &str) -> Result<Seconds, crate::settings::SettingError> {
    parse::positive_probe_budget(s).map(Seconds)
}

#[cfg(feature = "analyze")]
fn parse_sweep_budget(s: &str) -> Result<Seconds, crate::settings::SettingError> {
    parse::sweep_budget(s).map(Seconds::from)
}

/// `--out` checked as [`crate::sink::Target::parse`] reads it (a bad baud rate is a usage
/// error), kept as written.
fn parse_out(s: &str) -> Result<String, crate::sink::SinkError> {
    crate::sink::Target::parse(s).map(|_| s.to_string())
}

fn parse_positive_sweep_budget(s: &str) -> Result<Seconds, crate::settings::SettingError> {
    parse::positive_sweep_budget(s).map(Seconds)
}

#[derive(Args, Debug)]
pub struct CostArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// JSON lines (node records, then one model_cost record per model) instead of a table.
    #[arg(long)]
    pub json: bool,
}

impl From<ScheduleArg> for Schedule {
    fn from(s: ScheduleArg) -> Self {
        match s {
            ScheduleArg::Interleaved => Schedule::Interleaved,
            ScheduleArg::Separate => Schedule::Separate,
        }
    }
}

impl From<Schedule> for ScheduleArg {
    fn from(s: Schedule) -> Self {
        match s {
            Schedule::Interleaved => ScheduleArg::Interleaved,
            Schedule::Separate => ScheduleArg::Separate,
        }
    }
}

impl From<OptimizeArg> for Optimize {
    fn from(o: OptimizeArg) -> Optimize {
        match o {
            OptimizeArg::None => Optimize::None,
            OptimizeArg::Declutter => Optimize::Declutter,
            OptimizeArg::Full => Optimize::Full,
        }
    }
}

impl From<Optimize> for OptimizeArg {
    fn from(o: Optimize) -> OptimizeArg {
        match o {
            Optimize::None => OptimizeArg::None,
            Optimize::Declutter => OptimizeArg::Declutter,
            Optimize::Full => OptimizeArg::Full,
        }
    }
}

impl From<CounterReadsArg> for ReadMode {
    fn from(r: CounterReadsArg) -> Self {
        match r {
            CounterReadsArg::Auto => ReadMode::Auto,
            CounterReadsArg::Syscall => ReadMode::Syscall,
        }
    }
}

impl From<ReadMode> for CounterReadsArg {
    fn from(r: ReadMode) -> Self {
        match r {
            ReadMode::Auto => CounterReadsArg::Auto,
            ReadMode::Syscall => CounterReadsArg::Syscall,
        }
    }
}
