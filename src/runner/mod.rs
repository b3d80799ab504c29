//! Measuring one loaded model: clean runs and per-op runs, one per-op pass per counter group.
//!
//! Clean runs: whole inferences with no hook, the end-to-end latency users get. Per-op runs:
//! the same inferences through tract's per-node hook (`SimpleState::run_plan_with_eval`). The
//! hook never clones the node's inputs (that would keep extra references alive and push ops
//! onto copy paths), allocates, logs or formats; it writes into buffers allocated before the
//! first run, and medians and records are computed after the last.
//!
//! Schedule ([`Schedule`]): by default the runs are *interleaved*: after a shared warm-up
//! (`warmup` clean runs, then one unrecorded run of each per-op pass), each of the `runs` rounds
//! runs one clean run and one run of every per-op pass, in reverse order every other round
//! (clean, pass 0, pass 1, ... then ..., pass 1, pass 0, clean), so that a clean run and the
//! per-op runs it is paired with see the same machine state, and a steady drift does not favour
//! either side. `separate` runs all clean runs first, then each pass's runs (the order before
//! interleaving). A counter group is enabled for its own runs only.
//!
//! One counter read per boundary: the hook reads the clock before and after the op's own
//! evaluation (its `wall_ns`), then reads the counter group once. The counts of an op are the
//! difference between that read and the previous one (the end of the previous recorded op, or,
//! for the first op of a run, a read just before it), so the counts of consecutive ops add up
//! exactly to the run's total between its first and last read, with nothing counted twice; they
//! include tract's dispatch between the two ops (storing outputs, freeing tensors, gathering
//! inputs, the model-input node). The time of that dispatch is not in any op's `wall_ns`: per
//! run, end-to-end minus the ops' wall times minus the time spent in counter reads is the
//! *unattributed* time, reported on its own.
//!
//! A group of software events only (`CounterGroup::per_op` false) is not read at op boundaries:
//! a `read(2)` there costs more than its counts tell. It is read just before the run and just
//! after it, outside the timed window: its events get run totals and no per-op counts.

mod samples;

use crate::counters::{CounterGroup, CounterSet, MAX_GROUP_EVENTS};
use crate::model::{LoadedModel, NodeFailure, OnnxNodes, Stage};
use crate::record::{OpRecord, Spread};
use crate::stats;
use crate::timer;
use samples::{PassSamples, member_of, op_record, zeroed};
pub use samples::{paired, sample_bytes};
use std::collections::BTreeMap;
use tract_core::internal::*;

#[derive(Debug, Clone, Copy)]
pub struct RunConfig {
    pub warmup: usize,
    pub runs: usize,
    pub schedule: Schedule,
}

/// How clean and per-op runs are ordered (see the module's documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Schedule {
    #[default]
    Interleaved,
    Separate,
}

impl Schedule {
    pub fn as_str(self) -> &'static str {
        match self {
            Schedule::Interleaved => "interleaved",
            Schedule::Separate => "separate",
        }
    }
}

/// Which run comes when: `(round, None)` is round `round`'s clean run, `(round, Some(p))` its
/// run of per-op pass `p`; in execution order, for `runs` rounds and `passes` per-op passes.
pub fn run_order(
    schedule: Schedule,
    runs: usize,
    passes: usize,
) -> impl Iterator<Item = (usize, Option<usize>)> {
    let per_round = passes + 1;
    (0..runs * per_round).map(move |i| {
        // `slot` 0 is the clean run, `slot` p + 1 pass p
        let (round, slot) = match schedule {
            Schedule::Interleaved => {
                let (round, at) = (i / per_round, i % per_round);
                (round, if round % 2 == 1 { passes - at } else { at })
            }
            Schedule::Separate => (i % runs, i / runs),
        };
        (round, slot.checked_sub(1))
    })
}

#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("{model}: inference failed: {cause:#}")]
    Inference { model: String, cause: anyhow::Error },
    /// A failure at a node of the model, in the model's terms.
    #[error("{model}: {failure}")]
    Node {
        model: String,
        failure: Box<NodeFailure>,
    },
    #[error(
        "{model}: --runs {runs} of its {ops} executed ops need {needed} for the per-op samples, \
         more than half of the {available} of memory available: use fewer runs"
    )]
    Memory {
        model: String,
        runs: usize,
        ops: usize,
        needed: String,
        available: String,
    },
}

/// What measuring one model produced.
pub struct Measurement {
    /// End-to-end time of every clean run, by round.
    pub clean_ns: Vec<u64>,
    /// End-to-end time of every recorded run of every per-op pass: pass `p`'s run of round `r`
    /// at `p * runs + r` (paired with `clean_ns[r]`).
    pub profiled_ns: Vec<u64>,
    /// Per recorded per-op run (indexed as `profiled_ns`): the sum of the ops' wall times.
    pub op_sum_ns: Vec<u64>,
    /// Per recorded per-op run: end-to-end minus the ops' wall times minus the counter reads.
    pub unattributed_ns: Vec<u64>,
    /// Per recorded per-op run: time spent reading counters (the profiler's own cost).
    pub counter_read_ns: Vec<u64>,
    pub ops: Vec<OpRecord>,
    /// Per executed op (as `ops`): its wall times in ns over every recorded run of every pass,
    /// with their percentiles (what the machine probe's figures are built from).
    pub op_wall_spread_ns: Vec<Spread>,
    /// Per event name: median over runs of the count from the run's first to its last read
    /// (`None` when the event was not counted). With one read per boundary this equals the sum
    /// of the ops' counts of that run.
    pub run_totals: BTreeMap<String, Option<u64>>,
    /// Passes whose counter reads failed (their counters are null in the records).
    pub failed_passes: Vec<usize>,
}

const NO_SLOT: u32 = u32::MAX;

/// Words of one counter read: time_enabled, time_running, one per event.
type Reading = [u64; MAX_GROUP_EVENTS + 2];

/// One run through the per-op hook. `round` is `None` for the unrecorded warm-up run of a pass
/// (page in weights, let caches settle): nothing of it is kept. Recorded runs write the ops'
/// samples into `samples` and the run's times at `at` of `m`'s per-op series.
#[allow(clippy::too_many_arguments)]
fn hooked_run(
    state: &mut TypedSimpleState,
    model: &LoadedModel,
    slot_of: &[u32],
    mut group: Option<&mut Box<dyn CounterGroup>>,
    samples: &mut PassSamples,
    round: Option<usize>,
    at: usize,
    m: &mut Measurement,
) -> TractResult<()> {
    let n = model.exec.len();
    let stride = samples.stride;
    let width = stride - 1;
    let recorded = round.is_some();
    let base = round.unwrap_or(0) * n * stride;
    let words = &mut samples.words;
    let mut read_errors = 0u64;
    let mut first: Reading = [0; MAX_GROUP_EVENTS + 2];
    let mut last: Reading = [0; MAX_GROUP_EVENTS + 2];
    let mut have_first = false;
    let mut read_ticks = 0u64;
    // A group that is not read per op is read around the run, outside its timed window.
    let per_run = group.as_ref().is_some_and(|g| !g.per_op());
    if let Some(g) = group.as_mut() {
        g.enable()?;
        if per_run && recorded {
            read_errors += g.read(&mut first).is_err() as u64;
        }
    }
    let mut per_op = if per_run { None } else { group.as_mut() };
    let start = timer::now();
    let ran = state.run_plan_with_eval(model.inputs.clone(), |ctx, op_state, node, inputs| {
        let slot = slot_of[node.id];
        if slot == NO_SLOT || !recorded {
            return tract_core::plan::eval(ctx, op_state, node, inputs);
        }
        if !have_first {
            if let Some(g) = per_op.as_mut() {
                let r0 = timer::now();
                read_errors += g.read(&mut first).is_err() as u64;
                last = first;
                read_ticks += timer::now().wrapping_sub(r0);
            }
            have_first = true;
        }
        let t0 = timer::now();
        let result = tract_core::plan::eval(ctx, op_state, node, inputs);
        let t1 = timer::now();
        let at = base + slot as usize * stride;
        words[at] = t1.wrapping_sub(t0);
        if let Some(g) = per_op.as_mut() {
            let mut now: Reading = [0; MAX_GROUP_EVENTS + 2];
            read_errors += g.read(&mut now).is_err() as u64;
            for i in 0..width {
                words[at + 1 + i] = now[i].wrapping_sub(last[i]);
            }
            last = now;
            read_ticks += timer::now().wrapping_sub(t1);
        }
        result
    });
    let e2e_ticks = timer::now().wrapping_sub(start);
    if let Some(g) = group.as_mut() {
        if per_run && recorded {
            read_errors += g.read(&mut last).is_err() as u64;
        }
        g.disable()?;
    }
    ran?;
    samples.read_errors += read_errors;
    if let Some(round) = round {
        for i in 0..width {
            samples.totals[round * width + i] = last[i].wrapping_sub(first[i]);
        }
        let ops_ticks: u64 = (0..n).map(|slot| words[base + slot * stride]).sum();
        for w in words[base..base + n * stride].iter_mut().step_by(stride) {
            *w = timer::ticks_to_ns(*w);
        }
        let e2e = timer::ticks_to_ns(e2e_ticks);
        let ops = timer::ticks_to_ns(ops_ticks);
        let reads = timer::ticks_to_ns(read_ticks);
        m.profiled_ns[at] = e2e;
        m.op_sum_ns[at] = ops;
        m.counter_read_ns[at] = reads;
        m.unattributed_ns[at] = e2e.saturating_sub(ops).saturating_sub(reads);
    }
    Ok(())
}

/// One clean run: the whole inference with no hook, its end-to-end time in ns.
fn clean_run(state: &mut TypedSimpleState, model: &LoadedModel) -> TractResult<u64> {
    let start = timer::now();
    state.run(model.inputs.clone())?;
    Ok(timer::ticks_to_ns(timer::now().wrapping_sub(start)))
}

/// Runs the clean and per-op runs in `cfg.schedule`'s order, and builds the op records.
pub fn measure(
    model: &LoadedModel,
    counters: &mut CounterSet,
    cfg: RunConfig,
) -> Result<Measurement, RunError> {
    let fail = |cause: anyhow::Error| {
        let model_name = model.info.name.clone();
        let nodes = OnnxNodes::of_sources(&model.info.sources);
        match nodes.failure(&cause, Stage::Running) {
            Some(failure) => RunError::Node {
                model: model_name,
                failure: Box::new(failure),
            },
            None => RunError::Inference {
                model: model_name,
                cause,
            },
        }
    };
    let n = model.exec.len();
    // Samples are checked against the memory available before any is allocated: a failed
    // allocation aborts the process.
    let needed = sample_bytes(n, cfg.runs, counters);
    let available = crate::context::memory_available_bytes();
    let too_much = || RunError::Memory {
        model: model.info.name.clone(),
        runs: cfg.runs,
        ops: n,
        needed: needed.map_or("more than 2^64 bytes".into(), crate::model::bytes_text),
        available: available.map_or("unknown".into(), crate::model::bytes_text),
    };
    match (needed, available) {
        (None, _) => return Err(too_much()),
        (Some(b), Some(a)) if b > a / 2 => return Err(too_much()),
        _ => {}
    }
    let mut slot_of = vec![NO_SLOT; model.plan.model().nodes().len()];
    for (slot, e) in model.exec.iter().enumerate() {
        slot_of[e.node_id] = slot as u32;
    }

    // One per-op pass per counter group, one without counters if there are none.
    let passes = counters.passes();
    let events = |p: usize| counters.groups.get(p).map_or(0, |g| g.events().len());
    let mut samples: Vec<PassSamples> = Vec::new();
    for p in 0..passes {
        samples.push(PassSamples::new(cfg.runs, n, events(p)).ok_or_else(too_much)?);
    }
    let series = || zeroed(cfg.runs * passes).ok_or_else(too_much);
    let mut m = Measurement {
        clean_ns: zeroed(cfg.runs).ok_or_else(too_much)?,
        profiled_ns: series()?,
        op_sum_ns: series()?,
        unattributed_ns: series()?,
        counter_read_ns: series()?,
        ops: Vec::new(),
        op_wall_spread_ns: Vec::new(),
        run_totals: BTreeMap::new(),
        failed_passes: Vec::new(),
    };

    // One state for every run: clean and per-op runs share its buffers and caches.
    let mut state = SimpleState::new(&model.plan).map_err(fail)?;
    let mut hooked =
        |state: &mut TypedSimpleState, p: usize, round: Option<usize>, m: &mut Measurement| {
            let group = counters.groups.get_mut(p);
            let at = p * cfg.runs + round.unwrap_or(0);
            hooked_run(state, model, &slot_of, group, &mut samples[p], round, at, m).map_err(fail)
        };
    for _ in 0..cfg.warmup {
        clean_run(&mut state, model).map_err(fail)?;
    }
    match cfg.schedule {
        // The shared warm-up: one unrecorded run of every pass before the first round.
        Schedule::Interleaved => {
            for p in 0..passes {
                hooked(&mut state, p, None, &mut m)?;
            }
            for (round, run) in run_order(cfg.schedule, cfg.runs, passes) {
                match run {
                    None => m.clean_ns[round] = clean_run(&mut state, model).map_err(fail)?,
                    Some(p) => hooked(&mut state, p, Some(round), &mut m)?,
                }
            }
        }
        // Each pass after the clean runs, starting with an unrecorded run of its own.
        Schedule::Separate => {
            let mut started = vec![false; passes];
            for (round, run) in run_order(cfg.schedule, cfg.runs, passes) {
                match run {
                    None => m.clean_ns[round] = clean_run(&mut state, model).map_err(fail)?,
                    Some(p) => {
                        if !std::mem::replace(&mut started[p], true) {
                            hooked(&mut state, p, None, &mut m)?;
                        }
                        hooked(&mut state, p, Some(round), &mut m)?;
                    }
                }
            }
        }
    }
    drop(state);

    m.failed_passes = samples
        .iter()
        .enumerate()
        .filter(|(_, p)| p.read_errors > 0)
        .map(|(i, _)| i)
        .collect();
    for &p in &m.failed_passes {
        log::warn!(
            "{}: counter reads failed in pass {p}; its counters are null",
            model.info.name
        );
    }

    (m.ops, m.op_wall_spread_ns) = (0..n)
        .map(|slot| op_record(model, slot, counters, &samples, &m.failed_passes, cfg.runs))
        .unzip();
    for (ev, status) in counters.status.iter().enumerate() {
        let total = member_of(counters, &m.failed_passes, ev).map(|(p, member)| {
            let pass = &samples[p];
            let width = pass.stride - 1;
            let mut v: Vec<u64> = (0..cfg.runs)
                .map(|r| pass.totals[r * width + 2 + member])
                .collect();
            v.sort_unstable();
            stats::percentile(&v, 50.0)
        });
        m.run_totals.insert(status.name.clone(), total);
    }
    Ok(m)
}

#[cfg(test)]
mod tests;
