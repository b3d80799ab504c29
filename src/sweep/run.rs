//! Running a sweep through one [`Session`]: the machine probe (within a tenth of the budget),
//! one header (every variant listed as a model), a pilot of each variant into no sink, the
//! runs per variant chosen to fit the budget, then each variant measured exactly as `bench`
//! measures a model while it still fits ([`SweepPlan`]); a note names the variants the budget
//! left out; the end record.

use super::{Variant, source};
use crate::budget::Monotonic;
use crate::budget::runs::{self as budget, Pilot};
use crate::session::{Job, Outcome, Phase, Plan, Progress, RunConfig, Session};
use crate::settings::Settings;
use crate::sink::{Sink, SinkError};
use std::time::{Duration, Instant};

/// Share of the budget the machine probe may take (its own budget is capped to it).
pub const PROBE_SHARE: f64 = 0.1;

/// Fewest timed runs a variant gets: fewer gives no spread worth the name (the budget then
/// skips variants instead).
pub const MIN_RUNS: usize = 5;

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

/// The jobs of a sweep over `variants` (a variant that cannot be built becomes an error
/// record, as an unknown zoo model does).
pub fn jobs(variants: &[Variant], seed: u64) -> Vec<Job> {
    variants
        .iter()
        .map(|v| match source(v, seed) {
            Ok((source, meta)) => Job {
                source,
                metadata: Ok(meta),
            },
            Err(e) => Job::failed(v.model_name(), v.label(), e.into()),
        })
        .collect()
}

/// The measured part of a sweep: every variant at `runs`, each started only while its
/// estimated cost still fits before the budget's end.
pub struct SweepPlan {
    jobs: Vec<Job>,
    run: RunConfig,
    costs_ns: Vec<u64>,
    deadline: budget::Deadline,
    budget: Duration,
    /// Timed runs per variant.
    pub runs: usize,
    /// The estimate of the measured part (runs chosen) against the time it had.
    pub planned: Duration,
    pub available: Duration,
}

impl Plan for SweepPlan {
    fn jobs(&self) -> &[Job] {
        &self.jobs
    }
    fn run(&self, _index: usize) -> RunConfig {
        self.run
    }
    fn phase(&self) -> Phase {
        Phase::Variants {
            variants: self.jobs.len(),
        }
    }
    fn fits(&mut self, index: usize) -> bool {
        self.deadline.fits(self.costs_ns[index])
    }
    fn left_out(&self, first: usize) -> String {
        let left = &self.jobs[first..];
        format!(
            "sweep budget of {:.0} s spent: {} of {} variants not measured ({}); give a larger \
             budget (`sweep --budget`, `study --sweep-budget`, `sweep_budget` on a card) or fewer \
             --runs",
            self.budget.as_secs_f64(),
            left.len(),
            self.jobs.len(),
            crate::session::some_labels(left)
        )
    }
}

impl SweepPlan {
    /// Pilots each of `variants` once in `session` (into no sink), then chooses the runs per
    /// variant that fit what is left of `total` on `clock` (at most `settings.runs`, at least
    /// [`MIN_RUNS`]). Only a sink failure is an `Err`.
    pub fn pilot(
        session: &mut Session,
        variants: &[Variant],
        clock: Monotonic,
        total: Duration,
        progress: &mut dyn Progress,
    ) -> Result<SweepPlan, SinkError> {
        let settings = session.settings().clone();
        let jobs = jobs(variants, settings.seed);
        let families: Vec<&str> = variants.iter().map(|v| v.family).collect();
        let passes = session.counters().passes() as u64;
        let pilot_run = RunConfig {
            warmup: 0,
            runs: 1,
            schedule: settings.schedule,
        };
        let pilot_limit = total.mul_f64(budget::PILOT_SHARE);
        progress.phase(Phase::Pilots {
            models: variants.len(),
        });
        let pilots = budget::pilots::<SinkError>(variants.len(), pilot_limit, &clock, &mut |ix| {
            progress.start(ix, &jobs[ix].source.name());
            let started = Instant::now();
            let pilot = session.pilot(&jobs[ix], pilot_run)?;
            let elapsed_ns = started.elapsed().as_nanos() as u64;
            Ok(pilot.map(|m| Pilot {
                elapsed_ns,
                rounds: 1,
                clean_ns: m.latency_ns.median,
                profiled_ns: m.profiled_latency_median_ns,
                passes,
            }))
        })?;
        let available = total.saturating_sub(budget::elapsed(&clock));
        let (runs, costs_ns) = match budget::fill(&pilots, &families) {
            Some(estimates) => {
                let runs = budget::choose_runs(
                    &estimates,
                    settings.warmup,
                    available,
                    MIN_RUNS,
                    settings.runs,
                );
                let costs = estimates
                    .iter()
                    .map(|e| e.cost_ns(settings.warmup, runs))
                    .collect();
                (runs, costs)
            }
            // Nothing could even be piloted: measure in order until the budget is over, each
            // at the fewest runs (the failures become their error records).
            None => {
                log::warn!("sweep: no variant could be piloted; measuring at {MIN_RUNS} runs");
                (MIN_RUNS, vec![0; variants.len()])
            }
        };
        let planned = Duration::from_nanos(costs_ns.iter().fold(0u64, |a, &c| a.saturating_add(c)));
        log::info!(
            "sweep: {} variants at {runs} timed runs each, about {:.1} s of the {:.1} s left",
            variants.len(),
            planned.as_secs_f64(),
            available.as_secs_f64()
        );
        Ok(SweepPlan {
            jobs,
            run: RunConfig {
                warmup: settings.warmup,
                runs,
                schedule: settings.schedule,
            },
            costs_ns,
            deadline: budget::Deadline::new(clock, total),
            budget: total,
            runs,
            planned,
            available,
        })
    }

    /// Labels of the variants left out once `outcome` (this plan's run) is over.
    pub fn skipped(&self, outcome: &Outcome) -> Vec<String> {
        let done = outcome.models.len() + outcome.errors.len();
        self.jobs[done.min(self.jobs.len())..]
            .iter()
            .map(|j| j.source.label())
            .collect()
    }

    /// What the plan's run did.
    pub fn outcome(&self, outcome: Outcome) -> SweepOutcome {
        SweepOutcome {
            skipped: self.skipped(&outcome),
            outcome,
            runs: self.runs,
            planned: self.planned,
            available: self.available,
        }
    }
}

/// Labels of `variants`, as the header lists them.
pub fn labels(variants: &[Variant]) -> Vec<String> {
    variants.iter().map(Variant::label).collect()
}

/// Runs the sweep over `variants` into `sink` within `total` (the machine probe's time
/// included), with `settings` (`runs` is the most a variant gets) and the run's `notes`. Only a
/// sink failure is an `Err`.
pub fn run(
    variants: &[Variant],
    settings: &Settings,
    total: Duration,
    notes: &[String],
    sink: &mut Sink,
    progress: &mut dyn Progress,
) -> Result<SweepOutcome, SinkError> {
    let clock = Monotonic::new();
    let mut session = Session::open(settings);
    // The machine probe is part of the budget: at most a tenth of it.
    let machine = settings
        .probe_budget
        .map(|p| session.probe(p.min(total.mul_f64(PROBE_SHARE)), progress));
    session.start(sink, labels(variants), machine, notes)?;
    let mut plan = SweepPlan::pilot(&mut session, variants, clock, total, progress)?;
    let outcome = session.run(&mut plan, sink, progress)?;
    session.finish(sink)?;
    Ok(plan.outcome(outcome))
}
