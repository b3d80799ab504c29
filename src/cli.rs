//! Command-line interface: clap types live here and are converted to plain option structs
//! before anything runs.

use crate::analyze;
use crate::bench::{self, BenchOptions};
use crate::counters;
use crate::model::Optimize;
use crate::record::{ModelCostRecord, Record};
use crate::sink::{Sink, Target};
use crate::summary;
use crate::zoo::{self, ZooOptions};
use anyhow::{Context, Result, bail};
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

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
    /// The whole study in one go: bench (default: the zoo), then analyze into one directory.
    Study(StudyArgs),
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
    /// JSON-lines logs written by `hiddencost bench` (several models, devices, runs).
    #[arg(required = true, value_name = "LOG")]
    pub logs: Vec<PathBuf>,
    /// Directory for report.md, CSV tables, SVG plots, fit.json and traces.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// CSV with columns model,top1_error[,top5_error] (percent) for models outside the zoo.
    #[arg(long, value_name = "CSV")]
    pub accuracy: Option<PathBuf>,
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
    /// Counters to read around each op (names or raw rNN hex); task-clock, page-faults and
    /// context-switches are always added.
    #[arg(long, default_value = counters::DEFAULT_EVENTS, value_parser = parse_event_list)]
    pub events: EventList,
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

impl From<OptimizeArg> for Optimize {
    fn from(o: OptimizeArg) -> Optimize {
        match o {
            OptimizeArg::None => Optimize::None,
            OptimizeArg::Declutter => Optimize::Declutter,
            OptimizeArg::Full => Optimize::Full,
        }
    }
}

/// `results/<UTC time>-<host>`: a new name per run, for a log file or a study directory.
fn default_stem() -> String {
    let stamp = crate::context::rfc3339(std::time::SystemTime::now()).replace(':', "-");
    let host = crate::context::read()
        .hostname
        .unwrap_or_else(|| "host".into());
    format!("results/{stamp}-{host}")
}

/// Runs the parsed command; returns the process exit code.
pub fn dispatch(cli: Cli) -> Result<i32> {
    match cli.command {
        Command::Bench(args) => bench_cmd(args),
        Command::Cost(args) => cost_cmd(args),
        Command::Zoo(ZooCommand::List { json }) => zoo_list(json),
        Command::Zoo(ZooCommand::Export { dir, names, zoo }) => {
            zoo_export(&dir, &names, zoo.into())
        }
        Command::Analyze(args) => analyze_cmd(args.logs, args.out, args.accuracy),
        Command::Predict(args) => predict_cmd(args),
        Command::Study(args) => study_cmd(args),
    }
}

fn bench_cmd(args: BenchArgs) -> Result<i32> {
    let target = Target::parse(
        &args
            .out
            .unwrap_or_else(|| format!("{}.jsonl", default_stem())),
    )?;
    let (outcome, label) = measure(args.measure, &target)?;
    if target != Target::Stdout {
        let table = summary::render(&outcome.models, &outcome.ops);
        say(&format!("{table}\nrecords: {label}\n"))?;
    }
    Ok(if outcome.errors.is_empty() { 0 } else { 1 })
}

fn study_cmd(args: StudyArgs) -> Result<i32> {
    let dir = args.out.unwrap_or_else(|| PathBuf::from(default_stem()));
    let log = dir.join("bench.jsonl");
    let (outcome, _) = measure(args.measure, &Target::File(log.clone()))?;
    say(&summary::render(&outcome.models, &outcome.ops))?;
    if outcome.models.is_empty() {
        bail!(
            "no model could be measured, so there is nothing to analyze (see {})",
            log.display()
        );
    }
    analyze_cmd(vec![log], dir.join("report"), args.accuracy)?;
    Ok(if outcome.errors.is_empty() { 0 } else { 1 })
}

/// Benchmarks what `args` names into `target`, with a progress bar on a terminal.
fn measure(args: MeasureArgs, target: &Target) -> Result<(bench::Outcome, String)> {
    let (models, metadata) = bench::models_and_metadata(&args.model.models, &args.model.zoo.into());
    let opts = BenchOptions {
        models,
        metadata,
        input_shape: args.model.input_shape.clone().map(|s| s.0),
        optimize: args.optimize.into(),
        warmup: args.warmup,
        runs: args.runs as usize,
        events: args.events.0,
        cpu: args.cpu,
        fake_counters: args.fake_counters,
        notes: Vec::new(),
    };
    if let (Some(cpu), 2..) = (args.cpu, args.threads) {
        log::warn!(
            "--cpu {cpu} also pins the {} matmul threads to CPU {cpu}: they take turns",
            args.threads
        );
    }
    if let Some(cpu) = args.cpu {
        if cpu >= rustix::thread::CpuSet::MAX_CPU {
            bail!(
                "cannot pin to CPU {cpu} (--cpu): CPU numbers go up to {}",
                rustix::thread::CpuSet::MAX_CPU - 1
            );
        }
        let mut set = rustix::thread::CpuSet::new();
        set.set(cpu);
        rustix::thread::sched_setaffinity(None, &set)
            .with_context(|| format!("cannot pin to CPU {cpu} (--cpu)"))?;
    }
    let mut sink = Sink::open(target)?;
    log::info!("writing records to {}", sink.label());
    let bar = indicatif::ProgressBar::new(opts.models.len() as u64);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let mut progress = |ix: usize, name: &str| {
        bar.set_position(ix as u64);
        bar.set_message(name.to_string());
    };
    let outcome = bench::run_threaded(&opts, args.threads as usize, &mut sink, &mut progress)?;
    bar.finish_and_clear();
    Ok((outcome, sink.label().to_string()))
}

fn analyze_cmd(logs: Vec<PathBuf>, out_dir: PathBuf, accuracy_csv: Option<PathBuf>) -> Result<i32> {
    let opts = analyze::AnalyzeOptions {
        logs,
        out_dir: out_dir.clone(),
        accuracy_csv,
    };
    let summary = analyze::analyze(&opts)?;
    say(&format!(
        "{summary}\nreport: {}\n",
        out_dir.join("report.md").display()
    ))?;
    Ok(0)
}

fn predict_cmd(args: PredictArgs) -> Result<i32> {
    let input_shape = args.model.input_shape.as_ref().map(|s| s.0.as_slice());
    let resolved = bench::resolve(&args.model.models, &args.model.zoo.into());
    if resolved.len() != 1 {
        bail!("predict takes exactly one model (a file or zoo:NAME)");
    }
    let (src, meta) = &resolved[0];
    meta.clone().map_err(anyhow::Error::msg)?;
    let st = crate::model::load_static(src, input_shape)?;
    let nodes = bench::node_records(&st.name, &st.sources);
    let prediction = analyze::predict_device(&nodes, &args.fit, args.device.as_deref())?;
    say(&format!("{}: {prediction}\n", st.name))?;
    Ok(0)
}

/// Writes to stdout; a closed pipe (`| head`) ends the output quietly instead of panicking.
fn say(text: &str) -> Result<()> {
    use std::io::Write;
    match std::io::stdout().lock().write_all(text.as_bytes()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => r.context("writing to stdout"),
    }
}

fn cost_cmd(args: CostArgs) -> Result<i32> {
    let mut failed = 0;
    let mut sink = Sink::from_writer(Box::new(std::io::stdout()), "stdout");
    let input_shape = args.model.input_shape.as_ref().map(|s| s.0.as_slice());
    for (src, meta) in bench::resolve(&args.model.models, &args.model.zoo.into()) {
        let loaded = meta
            .and_then(|_| crate::model::load_static(&src, input_shape).map_err(|e| e.to_string()));
        let st = match loaded {
            Ok(st) => st,
            Err(message) => {
                log::error!("{message}");
                failed += 1;
                continue;
            }
        };
        let nodes = bench::node_records(&st.name, &st.sources);
        if args.json {
            for n in nodes {
                sink.write(&Record::Node(n))?;
            }
            sink.write(&Record::ModelCost(model_cost(&st)))?;
        } else {
            let t = st.totals;
            say(&format!(
                "{} ({}), input {:?}\n{}total: {} params, {} MACs, {} thop MACs, {} FLOPs, \
                 {} bytes read, {} bytes written\n\n",
                st.name,
                st.source,
                st.input_shape,
                summary::render_cost(&nodes),
                t.params,
                t.macs,
                t.thop_macs,
                t.flops,
                t.bytes_read,
                t.bytes_written
            ))?;
        }
    }
    Ok(if failed == 0 { 0 } else { 1 })
}

fn model_cost(st: &crate::model::StaticModel) -> ModelCostRecord {
    ModelCostRecord {
        model: st.name.clone(),
        source: st.source.clone(),
        input_shape: st.input_shape.clone(),
        output_shapes: st.output_shapes.clone(),
        source_nodes: st.sources.len(),
        cost: st.totals,
    }
}

fn zoo_list(json: bool) -> Result<i32> {
    let mut sink = Sink::from_writer(Box::new(std::io::stdout()), "stdout");
    let mut table = format!(
        "{:<14} {:>11} {:>11} {:>14} {:>14} {:>14} {:>8} {:>8}\n",
        "name", "params", "PyTorch", "MACs", "thop MACs", "PyTorch thop", "top-1 %", "top-5 %"
    );
    for info in zoo::all() {
        let (src, meta) = bench::zoo_source(info.name, &ZooOptions::default())?;
        let st = crate::model::load_static(&src, None)?;
        if json {
            sink.write(&Record::ModelCost(model_cost(&st)))?;
            continue;
        }
        let u = |k: &str| meta.get(k).and_then(|v| v.as_u64()).unwrap_or(0);
        table += &format!(
            "{:<14} {:>11} {:>11} {:>14} {:>14} {:>14} {:>8.2} {:>8.2}\n",
            info.name,
            st.totals.params,
            u("pytorch_params"),
            st.totals.macs,
            st.totals.thop_macs,
            u("pytorch_thop_macs"),
            info.top1_error,
            info.top5_error
        );
    }
    if !json {
        table += "\nparams, MACs and thop MACs are computed from the ONNX graph; the PyTorch \
                  columns are those of the reference modules (thop does not see functional \
                  pooling). Errors: CIFAR-100 test set, as published by pytorch-cifar100.\n";
        say(&table)?;
    }
    Ok(0)
}

fn zoo_export(dir: &std::path::Path, names: &[String], opts: ZooOptions) -> Result<i32> {
    std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let names: Vec<&str> = if names.is_empty() {
        zoo::NAMES.to_vec()
    } else {
        names
            .iter()
            .map(|n| n.strip_prefix("zoo:").unwrap_or(n))
            .collect()
    };
    let mut written = String::new();
    for name in names {
        let proto = zoo::build(name, &opts)?;
        let path = dir.join(format!("{}.onnx", name.to_ascii_lowercase()));
        std::fs::write(&path, zoo::to_bytes(&proto))
            .with_context(|| format!("cannot write {}", path.display()))?;
        written += &format!("{}\n", path.display());
    }
    say(&written)?;
    Ok(0)
}
