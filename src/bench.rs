//! The `bench` flow: header, then for each model its node, op and model records (or an error
//! record), then the end marker. Every record goes to the sink as soon as it exists; one failing
//! model never stops the others.

use crate::context;
use crate::cost;
use crate::counters::{self, CounterSet};
use crate::model::{self, ModelSource, Optimize};
use crate::noise;
use crate::probe::{self, ProbeOptions};
use crate::record::*;
use crate::runner::{self, RunConfig, Schedule};
use crate::sink::{Sink, SinkError};
use crate::stats;
use crate::zoo::{self, ZooError, ZooOptions};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};
use tract_linalg::multithread::Executor;

/// Extra facts about a model, carried into its model record.
pub type Metadata = BTreeMap<String, serde_json::Value>;

/// Builds zoo model `name` in memory: a source that goes through the same loading path as a
/// file, and the zoo's metadata (published errors, the PyTorch module's params and thop MACs).
pub fn zoo_source(name: &str, opts: &ZooOptions) -> Result<(ModelSource, Metadata), ZooError> {
    let info = zoo::info(name).ok_or_else(|| ZooError::Unknown(name.to_string()))?;
    let (proto, stats) = zoo::build_with_stats(info.name, opts)?;
    let source = ModelSource::Bytes {
        name: info.name.to_string(),
        source: format!("zoo:{}", info.name),
        bytes: Arc::new(zoo::to_bytes(&proto)),
    };
    let meta: Metadata = [
        ("zoo", serde_json::json!(info.name)),
        ("display_name", serde_json::json!(info.display_name)),
        ("top1_error", serde_json::json!(info.top1_error)),
        ("top5_error", serde_json::json!(info.top5_error)),
        ("reference", serde_json::json!(info.reference)),
        ("pytorch_params", serde_json::json!(stats.params)),
        ("pytorch_thop_macs", serde_json::json!(stats.macs_thop)),
        ("seed", serde_json::json!(opts.seed)),
        ("fold_bn", serde_json::json!(opts.fold_bn)),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    Ok((source, meta))
}

/// Turns model arguments into sources: `zoo:NAME` is built in memory, anything else is a path;
/// no argument at all means the whole zoo. A zoo model that cannot be built is an error record
/// later, not a reason to stop.
pub fn resolve(args: &[String], opts: &ZooOptions) -> Vec<(ModelSource, Result<Metadata, String>)> {
    let zoo_all: Vec<String>;
    let args = if args.is_empty() {
        zoo_all = zoo::NAMES.iter().map(|n| format!("zoo:{n}")).collect();
        &zoo_all
    } else {
        args
    };
    args.iter()
        .map(|arg| match arg.strip_prefix("zoo:") {
            Some(name) => match zoo_source(name, opts) {
                Ok((src, meta)) => (src, Ok(meta)),
                Err(e) => (
                    ModelSource::Bytes {
                        name: name.into(),
                        source: arg.clone(),
                        bytes: Arc::default(),
                    },
                    Err(e.to_string()),
                ),
            },
            None => (ModelSource::Path(PathBuf::from(arg)), Ok(Metadata::new())),
        })
        .collect()
}

/// Plain options of a bench run (the CLI converts its arguments into this).
#[derive(Debug, Clone)]
pub struct BenchOptions {
    pub models: Vec<ModelSource>,
    pub input_shape: Option<Vec<usize>>,
    pub optimize: Optimize,
    pub warmup: usize,
    pub runs: usize,
    /// How clean and per-op runs are ordered (`--schedule`).
    pub schedule: Schedule,
    pub events: Vec<counters::EventSpec>,
    /// How counters are read at op boundaries (`--counter-reads`).
    pub counter_reads: counters::ReadMode,
    pub cpu: Option<usize>,
    pub fake_counters: bool,
    /// Extra facts per model label (e.g. the zoo's published errors) for the model record; an
    /// `Err` is a model that could not even be prepared (an unknown zoo name).
    pub metadata: BTreeMap<String, Result<Metadata, String>>,
    /// Run-wide problems found before the run (e.g. a setting PID 1 mode had to ignore): written
    /// as `error` records for model "run" right after the header.
    pub notes: Vec<String>,
    /// Budget of the machine probe run before the models (its figures go in the header's
    /// `machine`); `None` skips it (`machine: null`).
    pub probe_budget: Option<Duration>,
}

/// What a run produced, for the terminal summary and the exit status.
#[derive(Debug, Default)]
pub struct Outcome {
    pub ops: Vec<OpRecord>,
    pub models: Vec<ModelRecord>,
    pub errors: Vec<ErrorRecord>,
}

/// What [`run`] tells its caller as it goes: the progress bar's and PID 1's hook.
#[derive(Debug, Clone, Copy)]
pub enum Event<'a> {
    /// A model is about to be loaded (index in [`BenchOptions::models`], its name).
    Start { index: usize, name: &'a str },
    /// A model is over: its record, or the error record it became (both already written).
    Done {
        index: usize,
        name: &'a str,
        result: Result<&'a ModelRecord, &'a ErrorRecord>,
    },
}

/// Called with every [`Event`], between models (never while one is measured).
pub type Progress<'a> = &'a mut dyn FnMut(Event);

/// What the header says the counters count.
pub fn counted_threads(threads: usize) -> String {
    if threads > 1 {
        format!(
            "the calling thread and the {threads} threads of the matmul pool \
             (inherited counters, summed by the kernel)"
        )
    } else {
        "the calling thread (tract runs single-threaded)".into()
    }
}

pub fn header(
    opts: &BenchOptions,
    threads: usize,
    counters: &CounterSet,
    machine: Option<Machine>,
) -> Header {
    Header {
        schema_version: SCHEMA_VERSION,
        tool: env!("CARGO_PKG_NAME").into(),
        tool_version: env!("CARGO_PKG_VERSION").into(),
        tract_version: model::TRACT_VERSION.into(),
        timestamp: context::rfc3339(SystemTime::now()),
        options: RunOptions {
            models: opts.models.iter().map(ModelSource::label).collect(),
            input_shape: opts.input_shape.clone(),
            optimize: opts.optimize.as_str().into(),
            warmup: opts.warmup,
            runs: opts.runs,
            events: opts.events.iter().map(|e| e.name.clone()).collect(),
            cpu: opts.cpu,
            fake_counters: opts.fake_counters,
            threads,
            schedule: opts.schedule.as_str().into(),
        },
        context: context::read(),
        events: counters.status.clone(),
        passes: counters.passes(),
        counted_threads: Some(counted_threads(threads)),
        counter_access: Some(CounterAccess {
            requested: opts.counter_reads.as_str().into(),
            passes: counters.methods(),
            syscall_reason: counters.syscall_reason.clone(),
        }),
        machine,
    }
}

/// The `models` and `metadata` of [`BenchOptions`] for model arguments (see [`resolve`]).
pub fn models_and_metadata(
    args: &[String],
    zoo: &ZooOptions,
) -> (Vec<ModelSource>, BTreeMap<String, Result<Metadata, String>>) {
    let resolved = resolve(args, zoo);
    let metadata = resolved
        .iter()
        .map(|(src, meta)| (src.label(), meta.clone()))
        .collect();
    (resolved.into_iter().map(|(src, _)| src).collect(), metadata)
}

/// Benchmarks every model single-threaded, streaming records to `sink`. Only a sink failure is
/// an `Err`: model failures become error records and the run goes on.
pub fn run(opts: &BenchOptions, sink: &mut Sink, progress: Progress) -> Result<Outcome, SinkError> {
    run_threaded(opts, 1, sink, progress)
}

/// The counters of a run: the fake ones, or perf_event groups that also count the matmul pool's
/// threads when there is a pool (`threads` > 1).
pub fn open_counters(
    events: &[counters::EventSpec],
    fake: bool,
    threads: usize,
    reads: counters::ReadMode,
) -> CounterSet {
    if fake {
        counters::fake::open(events)
    } else {
        counters::perf::open(events, threads > 1, reads)
    }
}

/// [`run`] with tract's matrix products on a pool of `threads` threads when `threads` > 1
/// (`--threads`). The pool is built after the counters are opened, so that its threads inherit
/// them, and is dropped at the end of the run. The machine probe runs next, with the same
/// counters and pool, and its figures go in the header.
pub fn run_threaded(
    opts: &BenchOptions,
    threads: usize,
    sink: &mut Sink,
    progress: Progress,
) -> Result<Outcome, SinkError> {
    let mut session = Session::open(opts, threads, sink)?;
    run_models(opts, &mut session.counters, sink, progress, session.started)
}

/// What a run holds from its header to its end record: the counters, the matmul pool (set
/// back to single-threaded when the session is dropped) and the run's clock. `run_threaded`
/// and `sweep` (which chooses each model's runs itself) both measure through one.
pub(crate) struct Session {
    pub(crate) counters: CounterSet,
    pool: bool,
    pub(crate) started: Instant,
}

impl Session {
    /// Opens the counters, then the matmul pool when `threads` > 1 (so that its threads inherit
    /// them), runs the machine probe, and writes the header (and a pool failure's error record).
    pub(crate) fn open(
        opts: &BenchOptions,
        threads: usize,
        sink: &mut Sink,
    ) -> Result<Session, SinkError> {
        let threads = threads.max(1);
        let started = Instant::now();
        let mut counters = open_counters(
            &opts.events,
            opts.fake_counters,
            threads,
            opts.counter_reads,
        );
        let pool = (threads > 1).then(|| matmul_pool(threads));
        let running = if matches!(pool, Some(Err(_))) {
            1
        } else {
            threads
        };
        let machine = opts.probe_budget.map(|budget| {
            let probe = ProbeOptions {
                budget,
                threads: running,
            };
            probe::run(&probe, &mut counters)
        });
        let header = Record::Header(header(opts, running, &counters, machine));
        let session = Session {
            counters,
            pool: pool.is_some(),
            started,
        };
        sink.write(&header)?;
        if let Some(Err(message)) = &pool {
            log::error!("{message}");
            sink.write(&Record::Error(ErrorRecord {
                model: "run".into(),
                message: message.clone(),
            }))?;
        }
        Ok(session)
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if self.pool {
            tract_linalg::multithread::set_default_executor(Executor::SingleThread);
        }
    }
}

/// Builds the matmul pool and makes it tract's default executor (the caller sets
/// `Executor::SingleThread` back when it is done).
pub fn matmul_pool(threads: usize) -> Result<(), String> {
    let built =
        std::panic::catch_unwind(|| Executor::multithread_with_name(threads, "hiddencost-mm"));
    match built {
        Ok(executor) => {
            tract_linalg::multithread::set_default_executor(executor);
            log::info!("tract matmuls on {threads} threads");
            Ok(())
        }
        Err(_) => Err(format!(
            "could not start {threads} threads for --threads: the run goes on single-threaded"
        )),
    }
}

fn run_models(
    opts: &BenchOptions,
    counters: &mut CounterSet,
    sink: &mut Sink,
    progress: Progress,
    started: Instant,
) -> Result<Outcome, SinkError> {
    for note in &opts.notes {
        let rec = ErrorRecord {
            model: "run".into(),
            message: note.clone(),
        };
        sink.write(&Record::Error(rec))?;
    }
    let mut outcome = Outcome::default();
    for (ix, src) in opts.models.iter().enumerate() {
        measure_one(ix, src, opts, counters, sink, &mut outcome, progress)?;
    }
    sink.write(&Record::End(EndRecord {
        models_ok: outcome.models.len(),
        models_failed: outcome.errors.len(),
        elapsed_ns: started.elapsed().as_nanos() as u64,
    }))?;
    sink.sync()?;
    Ok(outcome)
}

/// One model. The outer `Result` is the sink's, the inner one the model's.
/// Model `index` of a run: its records, or the error record it became, written and synced;
/// `progress` told before ([`Event::Start`]) and after ([`Event::Done`]). `bench` and `sweep`
/// measure each model through this.
pub(crate) fn measure_one(
    index: usize,
    src: &ModelSource,
    opts: &BenchOptions,
    counters: &mut CounterSet,
    sink: &mut Sink,
    outcome: &mut Outcome,
    progress: Progress,
) -> Result<(), SinkError> {
    let name = src.name();
    progress(Event::Start { index, name: &name });
    match bench_one(src, opts, counters, sink, outcome)? {
        Ok(()) => {
            if let Some(record) = outcome.models.last() {
                progress(Event::Done {
                    index,
                    name: &name,
                    result: Ok(record),
                });
            }
        }
        Err(message) => {
            log::error!("{message}");
            let rec = ErrorRecord {
                model: src.label(),
                message,
            };
            sink.write(&Record::Error(rec.clone()))?;
            progress(Event::Done {
                index,
                name: &name,
                result: Err(&rec),
            });
            outcome.errors.push(rec);
        }
    }
    sink.sync()
}

pub(crate) fn bench_one(
    src: &ModelSource,
    opts: &BenchOptions,
    counters: &mut CounterSet,
    sink: &mut Sink,
    outcome: &mut Outcome,
) -> Result<Result<(), String>, SinkError> {
    let metadata = match opts.metadata.get(&src.label()) {
        Some(Err(message)) => return Ok(Err(message.clone())),
        Some(Ok(meta)) => meta.clone(),
        None => Metadata::new(),
    };
    let peak_reset = context::reset_peak_rss();
    let t_load = Instant::now();
    // tract must never take the run down: a panic on a hostile model becomes an error record.
    let loaded =
        std::panic::catch_unwind(|| model::load(src, opts.input_shape.as_deref(), opts.optimize));
    let loaded = match loaded {
        Ok(Ok(m)) => m,
        Ok(Err(e)) => return Ok(Err(e.to_string())),
        Err(_) => {
            return Ok(Err(format!(
                "{}: tract panicked while loading it",
                src.label()
            )));
        }
    };
    let load_ns = t_load.elapsed().as_nanos() as u64;
    for node in node_records(&loaded.info.name, &loaded.info.sources) {
        sink.write(&Record::Node(node))?;
    }
    log::info!(
        "{}: {} source nodes, {} executed nodes, {} MACs",
        loaded.info.name,
        loaded.info.sources.len(),
        loaded.exec.len(),
        loaded.info.totals.macs
    );
    let cfg = RunConfig {
        warmup: opts.warmup,
        runs: opts.runs,
        schedule: opts.schedule,
    };
    let cpufreq_start = context::read().cpufreq;
    let thermal_start = context::thermal();
    let measured = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        runner::measure(&loaded, counters, cfg)
    }));
    let mut m = match measured {
        Ok(Ok(m)) => m,
        Ok(Err(e)) => return Ok(Err(e.to_string())),
        Err(_) => {
            return Ok(Err(format!(
                "{}: tract panicked while running it",
                src.label()
            )));
        }
    };
    for op in &m.ops {
        sink.write(&Record::Op(op.clone()))?;
    }
    let sum_op_wall_median_ns = m.ops.iter().map(|o| o.wall_ns.median).sum();
    let paired = runner::paired(&m, opts.schedule);
    let clean_in_order = m.clean_ns.clone();
    m.profiled_ns.sort_unstable();
    m.unattributed_ns.sort_unstable();
    m.counter_read_ns.sort_unstable();
    let latency_ns = stats::latency(&mut m.clean_ns);
    let thermal_end = context::thermal();
    let warnings = noise::check(&noise::Observed {
        latency: &latency_ns,
        clean_ns: &clean_in_order,
        profiled_over_clean: paired.as_ref().map(|p| p.profiled_over_clean.median),
        cpu_share: cpu_share(&m, opts.fake_counters),
        cpufreq: &cpufreq_start,
        cpu: opts.cpu,
        thermal_start: &thermal_start,
        thermal_end: &thermal_end,
    });
    // tract's optimize-level fallback (model::load) first.
    let fallback = loaded.fallback.iter().map(|message| NoiseWarning {
        kind: "optimize".into(),
        message: message.clone(),
    });
    let warnings: Vec<NoiseWarning> = fallback.chain(warnings).collect();
    for w in &warnings {
        log::warn!("{}: {}", loaded.info.name, w.message);
    }
    let record = ModelRecord {
        model: loaded.info.name.clone(),
        source: loaded.info.source.clone(),
        input_shape: loaded.info.input_shape.clone(),
        output_shapes: loaded.info.output_shapes.clone(),
        optimize: loaded.optimize.as_str().into(),
        source_nodes: loaded.info.sources.len(),
        executed_nodes: loaded.exec.len(),
        cost: loaded.info.totals,
        latency_ns,
        runs: opts.runs,
        warmup: opts.warmup,
        sum_op_wall_median_ns,
        profiled_latency_median_ns: stats::percentile(&m.profiled_ns, 50.0),
        unattributed_median_ns: Some(stats::percentile(&m.unattributed_ns, 50.0)),
        counter_read_median_ns: Some(stats::percentile(&m.counter_read_ns, 50.0)),
        counter_totals: std::mem::take(&mut m.run_totals),
        paired,
        warnings,
        peak_rss_bytes: context::peak_rss_bytes(),
        load_ns,
        thermal_end,
        metadata,
    };
    if !peak_reset {
        log::debug!("peak RSS could not be reset: it is the process peak so far");
    }
    sink.write(&Record::Model(record.clone()))?;
    outcome.ops.extend(m.ops);
    outcome.models.push(record);
    Ok(Ok(()))
}

/// Median task-clock of a per-op run over its median end-to-end time (`profiled_ns` sorted):
/// the share of the runs the process was on the CPU; `None` without task-clock, or with fake
/// counters (they count no time).
fn cpu_share(m: &runner::Measurement, fake: bool) -> Option<f64> {
    if fake {
        return None;
    }
    let task_ns = m.run_totals.get("task-clock").copied().flatten()?;
    let wall_ns = stats::percentile(&m.profiled_ns, 50.0);
    (wall_ns > 0).then(|| task_ns as f64 / wall_ns as f64)
}

/// Node records of a model's source graph.
pub fn node_records(model: &str, sources: &[cost::SourceNode]) -> Vec<NodeRecord> {
    sources
        .iter()
        .map(|s| NodeRecord {
            model: model.to_string(),
            node: s.name.clone(),
            op_type: s.op_type.clone(),
            category: s.category.to_string(),
            input_shapes: s.input_shapes.clone(),
            output_shapes: s.output_shapes.clone(),
            cost: s.cost,
        })
        .collect()
}
