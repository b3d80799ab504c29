//! The one measurement loop. A [`Session`] holds what a run holds from its header to its end
//! record: the counters, tract's matmul pool, the machine probe's figures and the run's clock.
//! `bench`, `study`, `sweep`, `probe` and PID 1 all measure through one; what varies between
//! them sits behind two small traits: a [`Plan`] says what to run and how many runs each model
//! gets (and when a budget stops it), a [`Progress`] says where progress goes (a terminal bar,
//! PID 1's console and LAVA result lines, nowhere).
//!
//! Order in a log: header, the run's notes (error records for model `run`), each model's
//! records as they exist (or its error record), a note naming what a budget left out, the end
//! record. The sink is synced after every model.

mod jobs;
mod measure;

pub use crate::runner::RunConfig;
pub use jobs::{
    Job, JobError, Metadata, of_settings, resolve, rewrite_jobs, some_labels, zoo_int8_name,
    zoo_source,
};
pub use measure::MeasureError;

use crate::context;
use crate::counters::{self, CounterSet};
use crate::model::{self, Optimize};
use crate::probe::{self, ProbeOptions};
use crate::record::*;
use crate::settings::Settings;
use crate::sink::{Sink, SinkError};
use std::time::{Duration, Instant, SystemTime};
use tract_linalg::multithread::Executor;

/// What a run produced, for the terminal summary and the exit status.
#[derive(Debug, Default)]
pub struct Outcome {
    pub ops: Vec<OpRecord>,
    pub models: Vec<ModelRecord>,
    pub errors: Vec<ErrorRecord>,
}

/// What a session is doing, for [`Progress::phase`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// The machine probe, within its budget.
    Probe { budget: Duration },
    /// Quick runs that estimate each model's cost; their records go nowhere.
    Pilots { models: usize },
    /// The measured design probes of a sweep.
    Variants { variants: usize },
    /// The measured models.
    Models { models: usize },
    /// The models again, each ONNX node on its own (`--optimize none`).
    Eager { models: usize },
    /// Rewrites of the models' graphs, each group beside its model as it is (`rewrite`).
    Rewrites { models: usize },
}

impl Phase {
    /// The number of jobs the phase measures; `None` for the probe.
    pub fn jobs(self) -> Option<usize> {
        match self {
            Phase::Probe { .. } => None,
            Phase::Pilots { models }
            | Phase::Variants { variants: models }
            | Phase::Models { models }
            | Phase::Eager { models }
            | Phase::Rewrites { models } => Some(models),
        }
    }
}

/// Where a session's progress goes. Called between models, never while one is measured.
pub trait Progress {
    fn phase(&mut self, _phase: Phase) {}
    /// Model `index` of the phase, `name`, is about to be loaded.
    fn start(&mut self, _index: usize, _name: &str) {}
    /// Model `index` is over: its record, or the error record it became (both written).
    fn done(&mut self, _index: usize, _name: &str, _result: Result<&ModelRecord, &ErrorRecord>) {}
}

/// Progress that goes nowhere.
pub struct Quiet;

impl Progress for Quiet {}

/// What a session runs.
pub trait Plan {
    /// The models, in order.
    fn jobs(&self) -> &[Job];
    /// The warm-up and timed runs of job `index`, and their order.
    fn run(&self, index: usize) -> RunConfig;
    /// What the plan's jobs are, for [`Progress::phase`].
    fn phase(&self) -> Phase {
        Phase::Models {
            models: self.jobs().len(),
        }
    }
    /// The optimize level its models are loaded at; the session's settings' by default.
    fn optimize(&self) -> Option<Optimize> {
        None
    }
    /// Whether job `index` may still start; the first job refused ends the plan (a budget is
    /// spent) and [`Plan::left_out`] words why. Every job runs by default.
    fn fits(&mut self, _index: usize) -> bool {
        true
    }
    /// The note (an error record for model `run`) naming the jobs from `first` on, which
    /// [`Plan::fits`] left out.
    fn left_out(&self, first: usize) -> String {
        format!("not measured: {}", some_labels(&self.jobs()[first..]))
    }
}

/// Which measurement of the models a plan of [`AllJobs`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pass {
    /// The models as given, at the settings' optimize level: what `bench` runs.
    Models,
    /// Each model's ONNX nodes on their own (`--optimize none`), as the paper's PyTorch ran them.
    Eager,
    /// Rewrites of the models' graphs, each group after its model as it is (`rewrite`).
    Rewrites,
}

/// Every job at the settings' runs, as one [`Pass`].
pub struct AllJobs<'a> {
    pub jobs: Vec<Job>,
    pub settings: &'a Settings,
    pub pass: Pass,
}

impl<'a> AllJobs<'a> {
    pub fn new(jobs: Vec<Job>, settings: &'a Settings, pass: Pass) -> AllJobs<'a> {
        AllJobs {
            jobs,
            settings,
            pass,
        }
    }
}

impl Plan for AllJobs<'_> {
    fn jobs(&self) -> &[Job] {
        &self.jobs
    }
    fn run(&self, _index: usize) -> RunConfig {
        RunConfig {
            warmup: self.settings.warmup,
            runs: self.settings.runs,
            schedule: self.settings.schedule,
        }
    }
    fn phase(&self) -> Phase {
        let models = self.jobs.len();
        match self.pass {
            Pass::Models => Phase::Models { models },
            Pass::Eager => Phase::Eager { models },
            Pass::Rewrites => Phase::Rewrites { models },
        }
    }
    fn optimize(&self) -> Option<Optimize> {
        (self.pass == Pass::Eager).then_some(Optimize::None)
    }
}

/// How one job is measured: its runs, and the optimize level its model is loaded at.
#[derive(Debug, Clone, Copy)]
pub struct Run {
    pub config: RunConfig,
    pub optimize: Optimize,
}

/// What a run holds from its header to its end record.
pub struct Session {
    settings: Settings,
    counters: CounterSet,
    /// Threads tract's matmuls really run on (1 when the pool could not be built).
    threads: usize,
    /// Why the pool asked for could not be built.
    pool_error: Option<PoolError>,
    started: Instant,
    outcome_models: usize,
    outcome_errors: usize,
}

impl Session {
    /// Opens the counters, then the matmul pool when `settings.threads` > 1 (so that its
    /// threads inherit the counters); the pool is set back to single-threaded when the session
    /// is dropped.
    pub fn open(settings: &Settings) -> Session {
        let started = Instant::now();
        let threads = settings.threads.max(1);
        let counters = open_counters(settings, threads);
        let pool = (threads > 1).then(|| matmul_pool(threads));
        let pool_error = match pool {
            Some(Err(e)) => {
                log::error!("{e}");
                Some(e)
            }
            _ => None,
        };
        Session {
            settings: settings.clone(),
            counters,
            threads: if pool_error.is_some() { 1 } else { threads },
            pool_error,
            started,
            outcome_models: 0,
            outcome_errors: 0,
        }
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub fn counters(&self) -> &CounterSet {
        &self.counters
    }

    /// Why the matmul pool asked for could not be built (the run then goes on single-threaded).
    pub fn pool_error(&self) -> Option<&PoolError> {
        self.pool_error.as_ref()
    }

    /// The machine probe within `budget`, with the session's counters and pool.
    pub fn probe(&mut self, budget: Duration, progress: &mut dyn Progress) -> Machine {
        progress.phase(Phase::Probe { budget });
        let opts = ProbeOptions {
            budget,
            threads: self.threads,
        };
        probe::run(&opts, &mut self.counters)
    }

    /// Writes the header (listing `labels`, with the probe's `machine`), the pool's failure
    /// and the run's `notes` as error records for model `run`.
    pub fn start(
        &mut self,
        sink: &mut Sink,
        labels: Vec<String>,
        machine: Option<Machine>,
        notes: &[String],
    ) -> Result<(), SinkError> {
        let header = header(
            &self.settings,
            labels,
            self.threads,
            &self.counters,
            machine,
        );
        sink.write(&Record::Header(header))?;
        if let Some(e) = &self.pool_error {
            note(sink, &e.to_string())?;
        }
        for message in notes {
            note(sink, message)?;
        }
        Ok(())
    }

    /// Measures `plan`'s jobs in order while it lets them start, each into `sink` (synced
    /// after each); a note names the jobs its budget left out. Only a sink failure is an
    /// `Err`: a model's failure is its error record, and the run goes on.
    pub fn run(
        &mut self,
        plan: &mut dyn Plan,
        sink: &mut Sink,
        progress: &mut dyn Progress,
    ) -> Result<Outcome, SinkError> {
        let n = plan.jobs().len();
        progress.phase(plan.phase());
        let optimize = plan.optimize().unwrap_or(self.settings.optimize);
        let mut outcome = Outcome::default();
        for index in 0..n {
            if !plan.fits(index) {
                let message = plan.left_out(index);
                log::warn!("{message}");
                note(sink, &message)?;
                break;
            }
            let run = Run {
                config: plan.run(index),
                optimize,
            };
            self.measure(
                index,
                &plan.jobs()[index],
                run,
                sink,
                &mut outcome,
                progress,
            )?;
        }
        self.outcome_models += outcome.models.len();
        self.outcome_errors += outcome.errors.len();
        Ok(outcome)
    }

    /// Model `index` measured as `run` says: its records, or the error record it became,
    /// written and synced; `progress` told before and after.
    pub fn measure(
        &mut self,
        index: usize,
        job: &Job,
        run: Run,
        sink: &mut Sink,
        outcome: &mut Outcome,
        progress: &mut dyn Progress,
    ) -> Result<(), SinkError> {
        let name = job.source.name();
        progress.start(index, &name);
        let measured = measure::model(job, run, &self.settings, &mut self.counters, sink, outcome)?;
        match measured {
            Ok(()) => {
                if let Some(record) = outcome.models.last() {
                    progress.done(index, &name, Ok(record));
                }
            }
            Err(e) => {
                log::error!("{e}");
                let rec = ErrorRecord {
                    model: job.source.label(),
                    message: e.to_string(),
                };
                sink.write(&Record::Error(rec.clone()))?;
                progress.done(index, &name, Err(&rec));
                outcome.errors.push(rec);
            }
        }
        sink.sync()
    }

    /// A quick measurement of `job` whose records go nowhere (a sweep's cost estimate): its
    /// model record, or `None` when it failed (its real measurement writes and logs why).
    pub fn pilot(&mut self, job: &Job, cfg: RunConfig) -> Result<Option<ModelRecord>, SinkError> {
        let mut null = Sink::from_writer(Box::new(std::io::sink()), "pilot");
        let mut scratch = Outcome::default();
        let run = Run {
            config: cfg,
            optimize: self.settings.optimize,
        };
        let measured = measure::model(
            job,
            run,
            &self.settings,
            &mut self.counters,
            &mut null,
            &mut scratch,
        )?;
        Ok(measured.ok().and_then(|()| scratch.models.pop()))
    }

    /// Writes the end record (every model [`Session::run`] measured) and syncs the sink.
    pub fn finish(self, sink: &mut Sink) -> Result<(), SinkError> {
        sink.write(&Record::End(EndRecord {
            models_ok: self.outcome_models,
            models_failed: self.outcome_errors,
            elapsed_ns: self.started.elapsed().as_nanos() as u64,
        }))?;
        sink.sync()
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if self.threads > 1 {
            tract_linalg::multithread::set_default_executor(Executor::SingleThread);
        }
    }
}

/// The whole of `bench`: a session over `jobs` at the settings' runs, the probe first (when
/// the settings give it a budget), `notes` after the header, the end record last.
pub fn bench(
    settings: &Settings,
    jobs: Vec<Job>,
    notes: &[String],
    sink: &mut Sink,
    progress: &mut dyn Progress,
) -> Result<Outcome, SinkError> {
    let mut session = Session::open(settings);
    let machine = settings
        .probe_budget
        .map(|budget| session.probe(budget, progress));
    let labels = jobs.iter().map(|j| j.source.label()).collect();
    session.start(sink, labels, machine, notes)?;
    let mut plan = AllJobs::new(jobs, settings, Pass::Models);
    let outcome = session.run(&mut plan, sink, progress)?;
    session.finish(sink)?;
    Ok(outcome)
}

fn note(sink: &mut Sink, message: &str) -> Result<(), SinkError> {
    sink.write(&Record::Error(ErrorRecord {
        model: "run".into(),
        message: message.into(),
    }))
}

/// The counters of a run: the fake ones, or perf_event groups that also count the matmul pool's
/// threads when there is a pool (`threads` > 1).
fn open_counters(settings: &Settings, threads: usize) -> CounterSet {
    if settings.fake_counters {
        counters::fake::open(&settings.events)
    } else {
        counters::perf::open(&settings.events, threads > 1, settings.counter_reads)
    }
}

/// tract's matmul pool could not be started.
#[derive(Debug, thiserror::Error)]
#[error("could not start {threads} threads for --threads: the run goes on single-threaded")]
pub struct PoolError {
    pub threads: usize,
}

/// Builds the matmul pool and makes it tract's default executor (the session sets
/// `Executor::SingleThread` back when it is dropped).
fn matmul_pool(threads: usize) -> Result<(), PoolError> {
    let built =
        std::panic::catch_unwind(|| Executor::multithread_with_name(threads, "hiddencost-mm"));
    match built {
        Ok(executor) => {
            tract_linalg::multithread::set_default_executor(executor);
            log::info!("tract matmuls on {threads} threads");
            Ok(())
        }
        Err(_) => Err(PoolError { threads }),
    }
}

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

fn header(
    settings: &Settings,
    models: Vec<String>,
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
            models,
            input_shape: settings.input_shape.clone(),
            optimize: settings.optimize.as_str().into(),
            warmup: settings.warmup,
            runs: settings.runs,
            events: settings.events.iter().map(|e| e.name.clone()).collect(),
            cpu: settings.cpu,
            fake_counters: settings.fake_counters,
            threads,
            schedule: settings.schedule.as_str().into(),
        },
        context: context::read(),
        events: counters.status.clone(),
        passes: counters.passes(),
        counted_threads: Some(counted_threads(threads)),
        counter_access: Some(CounterAccess {
            requested: settings.counter_reads.as_str().into(),
            passes: counters.methods(),
            syscall_reason: counters.syscall_reason.clone(),
        }),
        machine,
    }
}

/// Node records of a model's source graph.
pub fn node_records(model: &str, sources: &[crate::cost::SourceNode]) -> Vec<NodeRecord> {
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
