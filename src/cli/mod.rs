//! Command-line interface: clap types live here and are converted to plain option structs
//! before anything runs; the commands themselves are in [`commands`].

mod commands;
mod sweep;
pub use commands::dispatch;
pub use sweep::SweepArgs;

use crate::counters;
use crate::model::Optimize;
use crate::zoo::ZooOptions;
use anyhow::Result;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::time::Duration;

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
    Analyze(AnalyzeArgs),
    /// Predict a model's latency from its static cost and a fit.json from `analyze`.
    Predict(PredictArgs),
    /// Score a fit.json's latency predictors (kernel model, node model, MACs only) on logged
    /// models it was not fitted on: within ±5%, ±10%, MAPE, Spearman rho.
    Validate(ValidateArgs),
    /// The whole study in one go: bench (default: the zoo), then analyze into one directory.
    Study(StudyArgs),
    /// Design probes: micro-models at matched MACs that differ in one design choice (conv type,
    /// channels, shuffle, merge, kernel size, activation, BatchNorm, spatial size), plus
    /// single-kernel probes, measured like `bench` within a time budget.
    Sweep(SweepArgs),
    /// Measure this machine's own limits (matmul peak, bandwidth per memory level, dispatch
    /// floor, counter-read cost): what `bench` puts in its header's `machine`.
    Probe(ProbeArgs),
    /// Print the JSON lines (the records) of a LAVA job log (the server's log.yaml, lava-run's
    /// logs.yaml or stderr) on stdout, as the card wrote them; unreadable entries on stderr.
    LavaRecords {
        /// The LAVA job log.
        #[arg(value_name = "LOG")]
        log: PathBuf,
    },
}

#[derive(Subcommand, Debug)]
pub enum ZooCommand {
    /// List the models with their size, MACs and published error.
    List {
        /// JSON lines instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Write models as .onnx files (DIR/NAME.onnx).
    Export {
        dir: PathBuf,
        /// Which models (default: all ten).
        names: Vec<String>,
        #[command(flatten)]
        zoo: ZooArgs,
    },
}

#[derive(Args, Debug, Clone, Copy)]
pub struct ZooArgs {
    /// Seed of the zoo models' weights.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Fold BatchNorm into the convolutions of zoo models (exporter style).
    #[arg(long)]
    pub fold_bn: bool,
}

impl From<ZooArgs> for ZooOptions {
    fn from(z: ZooArgs) -> ZooOptions {
        ZooOptions {
            seed: z.seed,
            fold_bn: z.fold_bn,
        }
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

impl From<CounterReadsArg> for counters::ReadMode {
    fn from(r: CounterReadsArg) -> Self {
        match r {
            CounterReadsArg::Auto => counters::ReadMode::Auto,
            CounterReadsArg::Syscall => counters::ReadMode::Syscall,
        }
    }
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

#[derive(Args, Debug)]
pub struct BenchArgs {
    #[command(flatten)]
    pub measure: MeasureArgs,
    /// Where records go: FILE, `-` (stdout), or serial:/dev/ttyX[@baud]. Default: a new file
    /// under results/.
    #[arg(long, value_name = "TARGET")]
    pub out: Option<String>,
}

#[derive(Args, Debug)]
pub struct StudyArgs {
    #[command(flatten)]
    pub measure: MeasureArgs,
    /// Directory for the log (bench.jsonl) and the report (report/). Default: a new directory
    /// under results/.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// CSV with columns model,top1_error[,top5_error] for models outside the zoo.
    #[arg(long, value_name = "CSV")]
    pub accuracy: Option<PathBuf>,
}

#[derive(Args, Debug)]
pub struct AnalyzeArgs {
    /// JSON-lines logs written by `hiddencost bench` (several models, devices, runs), serial
    /// captures, or LAVA job logs (log.yaml).
    #[arg(required = true, value_name = "LOG")]
    pub logs: Vec<PathBuf>,
    /// Directory for report.md, CSV tables, SVG plots, fit.json and traces.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// CSV with columns model,top1_error[,top5_error] (percent) for models outside the zoo.
    #[arg(long, value_name = "CSV")]
    pub accuracy: Option<PathBuf>,
    /// Also write the dataset as tables into DIR: `parquet` writes ops.parquet, models.parquet
    /// and runs.parquet (needs a build with `--features parquet`).
    #[arg(long, value_name = "FORMAT")]
    pub export: Option<ExportArg>,
}

/// Formats of `analyze --export`.
#[derive(ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ExportArg {
    Parquet,
}

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

/// What a measurement needs, shared by `bench` and `study`.
#[derive(Args, Debug)]
pub struct MeasureArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// How far tract optimizes the graph: none/declutter show every source op on its own.
    #[arg(long, value_enum, default_value = "full")]
    pub optimize: OptimizeArg,
    /// Untimed whole inferences before the timed ones.
    #[arg(long, default_value_t = 5)]
    pub warmup: usize,
    /// Timed inferences, in the clean pass and in each per-op pass.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..))]
    pub runs: u64,
    /// Order of the clean and per-op runs: interleaved rounds, or the passes one after another.
    #[arg(long, value_enum, default_value = "interleaved")]
    pub schedule: ScheduleArg,
    /// Counters to read around each op: sets (default, memory, stalls, simd, all: resolved for
    /// this CPU), names (cycles, l2d_cache_refill, ...) or raw rNN hex; task-clock, page-faults
    /// and context-switches are always added.
    #[arg(long, default_value = counters::DEFAULT_EVENTS, value_parser = parse_event_list)]
    pub events: EventList,
    /// How the counters are read at each op boundary (the header's `counter_access` says how
    /// they were, and why not from user space).
    #[arg(long, value_enum, default_value = "auto")]
    pub counter_reads: CounterReadsArg,
    /// Pin the benchmark to this CPU.
    #[arg(long)]
    pub cpu: Option<usize>,
    /// Threads for tract's matrix products (a pool beside the calling thread when above 1; the
    /// counters then also count the pool's threads).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=256))]
    pub threads: u64,
    /// Deterministic fake counters (for tests).
    #[arg(long, hide = true)]
    pub fake_counters: bool,
    /// Seconds the machine probe may take before the models (its figures go in the header's
    /// `machine`; it stops earlier when they are done); 0 skips it.
    #[arg(long, value_name = "SECONDS", default_value = "3", value_parser = parse_seconds)]
    pub probe_budget: Seconds,
}

#[derive(Args, Debug)]
pub struct ProbeArgs {
    /// Print the `machine` record as one JSON object instead of a table.
    #[arg(long)]
    pub json: bool,
    /// Also measure the matmul peak on a pool of this many threads (as `bench --threads`).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..=256))]
    pub threads: u64,
    /// Most seconds the probe may take (it stops earlier when its figures are done).
    #[arg(long, value_name = "SECONDS", default_value = "3", value_parser = parse_positive_seconds)]
    pub budget: Seconds,
    /// Counter groups whose read cost is measured (as `bench --events`).
    #[arg(long, default_value = counters::DEFAULT_EVENTS, value_parser = parse_event_list)]
    pub events: EventList,
    /// How the counters are read (as `bench --counter-reads`).
    #[arg(long, value_enum, default_value = "auto")]
    pub counter_reads: CounterReadsArg,
    /// Pin the probe to this CPU.
    #[arg(long)]
    pub cpu: Option<usize>,
    /// Deterministic fake counters (for tests).
    #[arg(long, hide = true)]
    pub fake_counters: bool,
}

/// A duration in seconds given on the command line (a newtype so clap takes it as one value).
#[derive(Debug, Clone, Copy)]
pub struct Seconds(pub Duration);

/// Longest probe budget accepted: a probe is meant to take seconds.
const MAX_PROBE_SECONDS: f64 = 600.0;

fn parse_seconds(s: &str) -> Result<Seconds, String> {
    match s.trim().parse::<f64>() {
        Ok(x) if (0.0..=MAX_PROBE_SECONDS).contains(&x) => Ok(Seconds(Duration::from_secs_f64(x))),
        _ => Err(format!(
            "`{s}` is not a number of seconds from 0 to {MAX_PROBE_SECONDS}"
        )),
    }
}

fn parse_positive_seconds(s: &str) -> Result<Seconds, String> {
    match parse_seconds(s)? {
        Seconds(d) if d.is_zero() => Err(format!(
            "`{s}` leaves the probe no time (bench's --probe-budget 0 is what skips it)"
        )),
        seconds => Ok(seconds),
    }
}

#[derive(Args, Debug)]
pub struct CostArgs {
    #[command(flatten)]
    pub model: ModelArgs,
    /// JSON lines (node records, then one model_cost record per model) instead of a table.
    #[arg(long)]
    pub json: bool,
}

/// A parsed `--events` list (a newtype so clap takes it as one value).
#[derive(Debug, Clone)]
pub struct EventList(pub Vec<counters::EventSpec>);

fn parse_event_list(s: &str) -> Result<EventList, String> {
    counters::parse_events(s)
        .map(EventList)
        .map_err(|e| e.to_string())
}

/// A tensor shape given on the command line (a newtype so clap takes it as one value).
#[derive(Debug, Clone)]
pub struct Shape(pub Vec<usize>);

fn parse_shape(s: &str) -> Result<Shape, String> {
    let dims: Result<Vec<usize>, _> = s.split(',').map(|d| d.trim().parse::<usize>()).collect();
    match dims {
        Ok(d) if !d.is_empty() && d.iter().all(|&x| x > 0) => Ok(Shape(d)),
        _ => Err(format!(
            "`{s}` is not a shape like 1,3,32,32 (positive integers)"
        )),
    }
}

impl From<ScheduleArg> for crate::runner::Schedule {
    fn from(s: ScheduleArg) -> Self {
        match s {
            ScheduleArg::Interleaved => crate::runner::Schedule::Interleaved,
            ScheduleArg::Separate => crate::runner::Schedule::Separate,
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
