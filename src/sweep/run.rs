//! Running a sweep: one header (every variant listed as a model), a pilot of each variant into
//! no sink, the runs per variant chosen to fit the budget, then each variant measured by
//! `bench` exactly as `bench` measures a model, while it still fits; an error record for model
//! `run` names the variants the budget left out; the end record.

use super::budget::{self, Pilot};
use super::{Variant, source};
use crate::bench::{self, BenchOptions, Metadata, Outcome, Session};
use crate::record::{EndRecord, ErrorRecord, Record};
use crate::sink::{Sink, SinkError};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

/// Budget of a sweep when none is given (`--budget`, `hiddencost.sweep_budget`).
pub const DEFAULT_BUDGET: Duration = Duration::from_secs(120);
/// Largest budget accepted: a day.
pub const MAX_BUDGET_SECONDS: f64 = 86_400.0;

/// Share of the budget the machine probe may take (its own budget is capped to it).
pub const PROBE_SHARE: f64 = 0.1;

/// Fewest timed runs a variant gets: fewer gives no spread worth the name (the budget then
/// skips variants instead).
pub const MIN_RUNS: usize = 5;

/// Plain options of a sweep (the CLI and PID 1 fill them in).
#[derive(Debug, Clone)]
pub struct SweepOptions {
    /// The measurement, as for `bench`: events, optimize level, warm-up, counters, probe...
    /// `runs` is the most timed runs a variant gets; `models` and `metadata` are ignored (the
    /// sweep fills them from its variants).
    pub bench: BenchOptions,
    pub threads: usize,
    /// The whole sweep's wall time, probe and pilots included.
    pub budget: Duration,
    /// Seed of the micro-models' weights.
    pub seed: u64,
}

/// Where the sweep is, for a progress bar or PID 1's console.
#[derive(Debug, Clone, Copy)]
pub enum Phase<'a> {
    /// The quick run that estimates variant `index`'s cost (written nowhere).
    Pilot { index: usize, name: &'a str },
    /// The measured run: bench's own events (its records written).
    Measure(bench::Event<'a>),
}

/// What a sweep produced.
#[derive(Debug, Default)]
pub struct SweepOutcome {
    pub outcome: Outcome,
    /// Timed runs per variant.
    pub runs: usize,
    /// Labels of the variants the budget left out.
    pub skipped: Vec<String>,
    /// The estimate of the measured part (runs chosen) against the time it had.
    pub planned: Duration,
    pub available: Duration,
}

/// The bench options of a sweep over `variants`: their sources and metadata (a variant that
/// cannot be built becomes an error record, as an unknown zoo model does).
pub fn bench_options(variants: &[Variant], opts: &SweepOptions) -> BenchOptions {
    let mut metadata: BTreeMap<String, Result<Metadata, String>> = BTreeMap::new();
    let mut models = Vec::new();
    for v in variants {
        match source(v, opts.seed) {
            Ok((src, meta)) => {
                metadata.insert(src.label(), Ok(meta));
                models.push(src);
            }
            Err(e) => {
                let src = crate::model::ModelSource::Bytes {
                    name: v.model_name(),
                    source: v.label(),
                    bytes: Default::default(),
                };
                metadata.insert(src.label(), Err(e.to_string()));
                models.push(src);
            }
        }
    }
    BenchOptions {
        models,
        metadata,
        ..opts.bench.clone()
    }
}

/// Runs the sweep over `variants` into `sink`. Only a sink failure is an `Err`.
pub fn run(
    variants: &[Variant],
    opts: &SweepOptions,
    sink: &mut Sink,
    progress: &mut dyn FnMut(Phase),
) -> Result<SweepOutcome, SinkError> {
    let t0 = Instant::now();
    let mut now = || t0.elapsed();
    let mut bench_opts = bench_options(variants, opts);
    // The machine probe is part of the budget: at most a tenth of it.
    bench_opts.probe_budget = bench_opts
        .probe_budget
        .map(|p| p.min(opts.budget.mul_f64(PROBE_SHARE)));
    let mut session = Session::open(&bench_opts, opts.threads, sink)?;
    for note in &bench_opts.notes {
        write_error(sink, "run", note)?;
    }
    let families: Vec<&str> = variants.iter().map(|v| v.family).collect();

    // Pilots: one round each, into no sink.
    let pilot_opts = BenchOptions {
        warmup: 0,
        runs: 1,
        ..bench_opts.clone()
    };
    let passes = session.counters.passes() as u64;
    let mut null = Sink::from_writer(Box::new(std::io::sink()), "pilot");
    let pilot_limit = opts.budget.mul_f64(budget::PILOT_SHARE);
    let pilots = budget::pilots::<SinkError>(variants.len(), pilot_limit, &mut now, &mut |ix| {
        let src = &pilot_opts.models[ix];
        progress(Phase::Pilot {
            index: ix,
            name: &src.name(),
        });
        let mut scratch = Outcome::default();
        let started = Instant::now();
        let result = bench::bench_one(
            src,
            &pilot_opts,
            &mut session.counters,
            &mut null,
            &mut scratch,
        )?;
        let elapsed_ns = started.elapsed().as_nanos() as u64;
        Ok(match (result, scratch.models.last()) {
            (Ok(()), Some(m)) => Some(Pilot {
                elapsed_ns,
                rounds: 1,
                clean_ns: m.latency_ns.median,
                profiled_ns: m.profiled_latency_median_ns,
                passes,
            }),
            _ => None,
        })
    })?;
    let available = opts.budget.saturating_sub(now());
    let Some(estimates) = budget::fill(&pilots, &families) else {
        // Nothing could even be piloted: measure in order until the budget is over, each at
        // the fewest runs (the failures become their error records).
        log::warn!("sweep: no variant could be piloted; measuring at {MIN_RUNS} runs");
        let costs = vec![0; variants.len()];
        return measure(
            variants,
            &bench_opts,
            &costs,
            MIN_RUNS,
            opts,
            session,
            sink,
            progress,
            &mut now,
            available,
        );
    };
    let runs = budget::choose_runs(
        &estimates,
        bench_opts.warmup,
        available,
        MIN_RUNS,
        bench_opts.runs,
    );
    let costs: Vec<u64> = estimates
        .iter()
        .map(|e| e.cost_ns(bench_opts.warmup, runs))
        .collect();
    measure(
        variants,
        &bench_opts,
        &costs,
        runs,
        opts,
        session,
        sink,
        progress,
        &mut now,
        available,
    )
}

#[allow(clippy::too_many_arguments)]
fn measure(
    variants: &[Variant],
    bench_opts: &BenchOptions,
    costs: &[u64],
    runs: usize,
    opts: &SweepOptions,
    mut session: Session,
    sink: &mut Sink,
    progress: &mut dyn FnMut(Phase),
    now: &mut dyn FnMut() -> Duration,
    available: Duration,
) -> Result<SweepOutcome, SinkError> {
    let planned = Duration::from_nanos(costs.iter().fold(0u64, |a, &c| a.saturating_add(c)));
    log::info!(
        "sweep: {} variants at {runs} timed runs each, about {:.1} s of the {:.1} s left",
        variants.len(),
        planned.as_secs_f64(),
        available.as_secs_f64()
    );
    let measured_opts = BenchOptions {
        runs,
        ..bench_opts.clone()
    };
    let mut outcome = Outcome::default();
    let skipped = budget::execute::<SinkError>(costs, opts.budget, now, &mut |ix| {
        bench::measure_one(
            ix,
            &measured_opts.models[ix],
            &measured_opts,
            &mut session.counters,
            sink,
            &mut outcome,
            &mut |event| progress(Phase::Measure(event)),
        )
    })?;
    let skipped: Vec<String> = skipped.iter().map(|&ix| variants[ix].label()).collect();
    if !skipped.is_empty() {
        let message = format!(
            "sweep budget of {:.0} s spent: {} of {} variants not measured ({}); give a larger \
             --budget or fewer --runs or --families",
            opts.budget.as_secs_f64(),
            skipped.len(),
            variants.len(),
            skipped.join(", ")
        );
        log::warn!("{message}");
        write_error(sink, "run", &message)?;
    }
    sink.write(&Record::End(EndRecord {
        models_ok: outcome.models.len(),
        models_failed: outcome.errors.len(),
        elapsed_ns: session.started.elapsed().as_nanos() as u64,
    }))?;
    sink.sync()?;
    Ok(SweepOutcome {
        outcome,
        runs,
        skipped,
        planned,
        available,
    })
}

fn write_error(sink: &mut Sink, model: &str, message: &str) -> Result<(), SinkError> {
    sink.write(&Record::Error(ErrorRecord {
        model: model.into(),
        message: message.into(),
    }))
}
