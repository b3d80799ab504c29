//! Command-line interface: clap types live here and are converted to plain option structs
//! before anything runs.

use crate::bench::{self, BenchOptions};
use crate::counters;
use crate::model::{ModelSource, Optimize};
use crate::record::{ModelCostRecord, Record};
use crate::sink::{Sink, Target};
use crate::summary;
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
}

#[derive(ValueEnum, Debug, Clone, Copy)]
pub enum OptimizeArg {
    None,
    Declutter,
    Full,
}

#[derive(Args, Debug)]
pub struct ModelArgs {
    /// ONNX model files.
    #[arg(value_name = "MODEL")]
    pub models: Vec<String>,
    /// Input shape of the first input, e.g. 1,3,32,32 (default: the model's own static shape).
    #[arg(long, value_name = "N,C,H,W", value_parser = parse_shape)]
    pub input_shape: Option<Shape>,
}

#[derive(Args, Debug)]
pub struct BenchArgs {
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
    /// Where records go: FILE, `-` (stdout), or serial:/dev/ttyX[@baud]. Default: a new file
    /// under results/.
    #[arg(long, value_name = "TARGET")]
    pub out: Option<String>,
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

fn sources(args: &ModelArgs) -> Result<Vec<ModelSource>> {
    if args.models.is_empty() {
        bail!("no model given: pass one or more .onnx files");
    }
    Ok(args
        .models
        .iter()
        .map(|m| ModelSource::Path(PathBuf::from(m)))
        .collect())
}

fn default_out() -> String {
    let stamp = crate::context::rfc3339(std::time::SystemTime::now()).replace(':', "-");
    let host = crate::context::read()
        .hostname
        .unwrap_or_else(|| "host".into());
    format!("results/{stamp}-{host}.jsonl")
}

/// Runs the parsed command; returns the process exit code.
pub fn dispatch(cli: Cli) -> Result<i32> {
    match cli.command {
        Command::Bench(args) => bench_cmd(args),
        Command::Cost(args) => cost_cmd(args),
    }
}

fn bench_cmd(args: BenchArgs) -> Result<i32> {
    let opts = BenchOptions {
        models: sources(&args.model)?,
        input_shape: args.model.input_shape.clone().map(|s| s.0),
        optimize: args.optimize.into(),
        warmup: args.warmup,
        runs: args.runs as usize,
        events: args.events.0,
        cpu: args.cpu,
        fake_counters: args.fake_counters,
        metadata: Default::default(),
    };
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
    let out = args.out.unwrap_or_else(default_out);
    let target = Target::parse(&out)?;
    let mut sink = Sink::open(&target)?;
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
    let outcome = bench::run(&opts, &mut sink, &mut progress)?;
    bar.finish_and_clear();
    if target != Target::Stdout {
        print!("{}", summary::render(&outcome.models, &outcome.ops));
        println!("\nrecords: {}", sink.label());
    }
    Ok(if outcome.errors.is_empty() { 0 } else { 1 })
}

fn cost_cmd(args: CostArgs) -> Result<i32> {
    let mut failed = 0;
    let mut sink = Sink::from_writer(Box::new(std::io::stdout()), "stdout");
    for src in sources(&args.model)? {
        let st = match crate::model::load_static(
            &src,
            args.model.input_shape.as_ref().map(|s| s.0.as_slice()),
        ) {
            Ok(st) => st,
            Err(e) => {
                eprintln!("error: {e}");
                failed += 1;
                continue;
            }
        };
        let nodes = bench::node_records(&st.name, &st.sources);
        if args.json {
            for n in nodes {
                sink.write(&Record::Node(n))?;
            }
            sink.write(&Record::ModelCost(ModelCostRecord {
                model: st.name.clone(),
                source: st.source.clone(),
                input_shape: st.input_shape.clone(),
                output_shapes: st.output_shapes.clone(),
                source_nodes: st.sources.len(),
                cost: st.totals,
            }))?;
        } else {
            println!("{} ({}), input {:?}", st.name, st.source, st.input_shape);
            print!("{}", summary::render_cost(&nodes));
            let t = st.totals;
            println!(
                "total: {} params, {} MACs, {} thop MACs, {} FLOPs, {} bytes read, {} bytes written\n",
                t.params, t.macs, t.thop_macs, t.flops, t.bytes_read, t.bytes_written
            );
        }
    }
    Ok(if failed == 0 { 0 } else { 1 })
}
