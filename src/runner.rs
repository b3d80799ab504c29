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

use crate::counters::{CounterGroup, CounterSet, MAX_GROUP_EVENTS};
use crate::model::LoadedModel;
use crate::record::{CounterValue, OpRecord, WallNs};
use crate::stats;
use crate::timer;
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

/// Bytes of the samples `measure` keeps for `ops` executed ops over `runs` runs with
/// `counters` (every word of every pass, kept until the records are built); `None` when the
/// count overflows.
pub fn sample_bytes(ops: usize, runs: usize, counters: &CounterSet) -> Option<u64> {
    let strides: Vec<u64> = if counters.groups.is_empty() {
        vec![3]
    } else {
        counters
            .groups
            .iter()
            .map(|g| 3 + g.events().len() as u64)
            .collect()
    };
    let (ops, runs) = (ops as u64, runs as u64);
    let per_pass = strides.iter().try_fold(0u64, |acc, &stride| {
        // words (per run, op and word) and totals (per run, stride - 1 words)
        let words = runs.checked_mul(ops)?.checked_mul(stride)?;
        acc.checked_add(words.checked_add(runs.checked_mul(stride - 1)?)?)
    })?;
    // clean_ns, then profiled, op-sum, unattributed and counter-read times per recorded run
    let series = runs.checked_mul(1 + 4 * strides.len() as u64)?;
    per_pass.checked_add(series)?.checked_mul(8)
}

/// A zeroed buffer of `len` words, or `None` when it cannot be allocated.
fn zeroed(len: usize) -> Option<Vec<u64>> {
    let mut v = Vec::new();
    v.try_reserve_exact(len).ok()?;
    v.resize(len, 0);
    Some(v)
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
    /// Per event name: median over runs of the count from the run's first to its last read
    /// (`None` when the event was not counted). With one read per boundary this equals the sum
    /// of the ops' counts of that run.
    pub run_totals: BTreeMap<String, Option<u64>>,
    /// Passes whose counter reads failed (their counters are null in the records).
    pub failed_passes: Vec<usize>,
}

const NO_SLOT: u32 = u32::MAX;

/// Raw samples of one pass: per run, per executed node, `stride` words:
/// wall ns, Δtime_enabled, Δtime_running, Δvalue per event of the group.
struct PassSamples {
    stride: usize,
    words: Vec<u64>,
    /// Per run, `stride - 1` words: the counts from the run's first read to its last.
    totals: Vec<u64>,
    read_errors: u64,
}

impl PassSamples {
    /// Zeroed samples for `runs` runs of `ops` executed ops and `events` counters; `None` when
    /// they cannot be allocated.
    fn new(runs: usize, ops: usize, events: usize) -> Option<PassSamples> {
        let stride = 3 + events;
        let words = zeroed(runs.checked_mul(ops)?.checked_mul(stride)?)?;
        let totals = zeroed(runs.checked_mul(stride - 1)?)?;
        Some(PassSamples {
            stride,
            words,
            totals,
            read_errors: 0,
        })
    }
}

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
    let fail = |cause: anyhow::Error| RunError::Inference {
        model: model.info.name.clone(),
        cause,
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

    m.ops = (0..n)
        .map(|slot| op_record(model, slot, counters, &samples, &m.failed_passes, cfg.runs))
        .collect();
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

/// The paired ratios of a measurement: each round's per-op runs against its clean run. With
/// several passes a round's ratio is the mean of its passes' runs over its clean run (one ratio
/// per round: the rounds are the independent pairs the interval assumes). `None` without runs.
pub fn paired(m: &Measurement, schedule: Schedule) -> Option<crate::record::Paired> {
    let runs = m.clean_ns.len();
    let passes = m.profiled_ns.len().checked_div(runs)?;
    let ratios = |of: &[u64]| -> Vec<f64> {
        (0..runs)
            .filter(|&r| m.clean_ns[r] > 0)
            .map(|r| {
                let sum: f64 = (0..passes).map(|p| of[p * runs + r] as f64).sum();
                sum / passes as f64 / m.clean_ns[r] as f64
            })
            .collect()
    };
    let interval = |of: &[u64]| stats::median_interval(&ratios(of), stats::MEDIAN_CONFIDENCE);
    Some(crate::record::Paired {
        schedule: schedule.as_str().into(),
        profiled_over_clean: interval(&m.profiled_ns)?,
        sum_op_over_clean: interval(&m.op_sum_ns)?,
    })
}

/// The pass counting event `ev` and the event's position in that pass's group, unless the
/// event is unavailable or its pass failed.
fn member_of(counters: &CounterSet, failed: &[usize], ev: usize) -> Option<(usize, usize)> {
    let status = &counters.status[ev];
    let p = status
        .pass
        .filter(|p| status.available && !failed.contains(p))?;
    let member = counters
        .groups
        .get(p)?
        .events()
        .iter()
        .position(|&e| e == ev)?;
    Some((p, member))
}

fn op_record(
    model: &LoadedModel,
    slot: usize,
    counters: &CounterSet,
    passes: &[PassSamples],
    failed: &[usize],
    runs: usize,
) -> OpRecord {
    let n = model.exec.len();
    let at = |pass: &PassSamples, run: usize| (run * n + slot) * pass.stride;
    let mut wall: Vec<u64> = passes
        .iter()
        .flat_map(|p| (0..runs).map(move |r| p.words[at(p, r)]))
        .collect();
    let wall_ns: WallNs = stats::wall(&mut wall);

    let mut values: BTreeMap<String, Option<CounterValue>> = BTreeMap::new();
    for (ev, status) in counters.status.iter().enumerate() {
        // Events of a group read per run have no per-op counts (null).
        let per_op = member_of(counters, failed, ev).filter(|&(p, _)| counters.groups[p].per_op());
        let measured = per_op.map(|(p, member)| {
            let pass = &passes[p];
            let mut v: Vec<u64> = (0..runs)
                .map(|r| pass.words[at(pass, r) + 3 + member])
                .collect();
            let enabled: u64 = (0..runs).map(|r| pass.words[at(pass, r) + 1]).sum();
            let running: u64 = (0..runs).map(|r| pass.words[at(pass, r) + 2]).sum();
            v.sort_unstable();
            CounterValue {
                median: stats::percentile(&v, 50.0),
                running_ratio: if enabled == 0 {
                    0.0
                } else {
                    running as f64 / enabled as f64
                },
            }
        });
        values.insert(status.name.clone(), measured);
    }

    let e = &model.exec[slot];
    let source = e.source.map(|s| &model.info.sources[s]);
    OpRecord {
        model: model.info.name.clone(),
        node_id: e.node_id,
        node: e.name.clone(),
        op: e.op.clone(),
        source_node: source.map(|s| s.name.clone()),
        source_op: source.map(|s| s.op_type.clone()),
        category: e.category.to_string(),
        source_category: source.map(|s| s.category.to_string()),
        fused_sources: e
            .fused
            .iter()
            .map(|&s| model.info.sources[s].name.clone())
            .collect(),
        input_shapes: e.input_shapes.clone(),
        output_shapes: e.output_shapes.clone(),
        order: slot,
        cost: e.cost,
        wall_ns,
        counters: values,
    }
}

#[cfg(test)]
#[path = "runner_tests.rs"]
mod tests;
