//! Measuring one loaded model: a clean timing pass, then one per-op pass per counter group.
//!
//! Clean pass: `warmup` whole inferences, then `runs` timed ones with no hook: the end-to-end
//! latency users get. Per-op passes: the same runs through tract's per-node hook
//! (`SimpleState::run_plan_with_eval`). The hook never clones the node's inputs (that would keep
//! extra references alive and push ops onto copy paths), allocates, logs or formats; it writes
//! into buffers allocated before the pass, and medians and records are computed after it.
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

use crate::counters::{CounterGroup, CounterSet, MAX_GROUP_EVENTS};
use crate::model::LoadedModel;
use crate::record::{CounterValue, OpRecord, WallNs};
use crate::stats;
use crate::timer;
use std::collections::BTreeMap;
use std::time::Instant;
use tract_core::internal::*;

#[derive(Debug, Clone, Copy)]
pub struct RunConfig {
    pub warmup: usize,
    pub runs: usize,
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
    // clean_ns, then profiled, unattributed and counter-read times per recorded run
    let series = runs.checked_mul(1 + 3 * strides.len() as u64)?;
    per_pass.checked_add(series)?.checked_mul(8)
}

/// A zeroed buffer of `len` words, or `None` when it cannot be allocated.
fn zeroed(len: usize) -> Option<Vec<u64>> {
    let mut v = Vec::new();
    v.try_reserve_exact(len).ok()?;
    v.resize(len, 0);
    Some(v)
}

/// An empty buffer with room for `len` words, or `None` when it cannot be allocated.
fn with_room(len: usize) -> Option<Vec<u64>> {
    let mut v = Vec::new();
    v.try_reserve_exact(len).ok()?;
    Some(v)
}

/// What measuring one model produced.
pub struct Measurement {
    pub clean_ns: Vec<u64>,
    /// End-to-end time of every recorded run of every per-op pass.
    pub profiled_ns: Vec<u64>,
    /// Per recorded run: end-to-end minus the ops' wall times minus the counter reads.
    pub unattributed_ns: Vec<u64>,
    /// Per recorded run: time spent reading counters (the profiler's own cost).
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

/// Words of one counter read: time_enabled, time_running, one per event.
type Reading = [u64; MAX_GROUP_EVENTS + 2];

fn run_pass(
    model: &LoadedModel,
    slot_of: &[u32],
    mut group: Option<&mut Box<dyn CounterGroup>>,
    cfg: RunConfig,
    out: &mut Measurement,
) -> TractResult<Option<PassSamples>> {
    let n = model.exec.len();
    let events = group.as_ref().map(|g| g.events().len()).unwrap_or(0);
    let width = 2 + events;
    let stride = 1 + width;
    let words_len = cfg.runs.checked_mul(n).and_then(|w| w.checked_mul(stride));
    let totals_len = cfg.runs.checked_mul(width);
    let (Some(mut words), Some(mut totals)) =
        (words_len.and_then(zeroed), totals_len.and_then(zeroed))
    else {
        return Ok(None);
    };
    let mut read_errors = 0u64;
    let mut state = SimpleState::new(&model.plan)?;
    if let Some(g) = group.as_mut() {
        g.enable()?;
    }
    // One unrecorded run first: page in weights and let caches settle, as the clean pass did.
    for run in 0..cfg.runs + 1 {
        let recorded = run > 0;
        let base = run.saturating_sub(1) * n * stride;
        let mut first: Reading = [0; MAX_GROUP_EVENTS + 2];
        let mut last: Reading = [0; MAX_GROUP_EVENTS + 2];
        let mut have_first = false;
        let mut read_ticks = 0u64;
        let start = timer::now();
        state.run_plan_with_eval(model.inputs.clone(), |ctx, op_state, node, inputs| {
            let slot = slot_of[node.id];
            if slot == NO_SLOT || !recorded {
                return tract_core::plan::eval(ctx, op_state, node, inputs);
            }
            if !have_first {
                if let Some(g) = group.as_mut() {
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
            if let Some(g) = group.as_mut() {
                let mut now: Reading = [0; MAX_GROUP_EVENTS + 2];
                read_errors += g.read(&mut now).is_err() as u64;
                for i in 0..width {
                    words[at + 1 + i] = now[i].wrapping_sub(last[i]);
                }
                last = now;
                read_ticks += timer::now().wrapping_sub(t1);
            }
            result
        })?;
        let e2e_ticks = timer::now().wrapping_sub(start);
        if recorded {
            let run_ix = run - 1;
            for i in 0..width {
                totals[run_ix * width + i] = last[i].wrapping_sub(first[i]);
            }
            let ops_ticks: u64 = (0..n).map(|slot| words[base + slot * stride]).sum();
            let e2e = timer::ticks_to_ns(e2e_ticks);
            let ops = timer::ticks_to_ns(ops_ticks);
            let reads = timer::ticks_to_ns(read_ticks);
            out.profiled_ns.push(e2e);
            out.counter_read_ns.push(reads);
            out.unattributed_ns
                .push(e2e.saturating_sub(ops).saturating_sub(reads));
        }
    }
    if let Some(g) = group.as_mut() {
        g.disable()?;
    }
    for w in words.iter_mut().step_by(stride) {
        *w = timer::ticks_to_ns(*w);
    }
    Ok(Some(PassSamples {
        stride,
        words,
        totals,
        read_errors,
    }))
}

/// Runs the clean pass and every per-op pass, and builds the op records.
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

    // Clean pass.
    let mut state = SimpleState::new(&model.plan).map_err(fail)?;
    for _ in 0..cfg.warmup {
        state.run(model.inputs.clone()).map_err(fail)?;
    }
    let mut clean_ns = with_room(cfg.runs).ok_or_else(too_much)?;
    for _ in 0..cfg.runs {
        let t = Instant::now();
        state.run(model.inputs.clone()).map_err(fail)?;
        clean_ns.push(t.elapsed().as_nanos() as u64);
    }
    drop(state);

    // Per-op passes, one per counter group (one without counters if there are none).
    let samples = cfg.runs * counters.passes();
    let mut m = Measurement {
        clean_ns,
        profiled_ns: with_room(samples).ok_or_else(too_much)?,
        unattributed_ns: with_room(samples).ok_or_else(too_much)?,
        counter_read_ns: with_room(samples).ok_or_else(too_much)?,
        ops: Vec::new(),
        run_totals: BTreeMap::new(),
        failed_passes: Vec::new(),
    };
    let mut passes: Vec<PassSamples> = Vec::new();
    let pass = |r: Result<Option<PassSamples>, TractError>| match r {
        Ok(Some(p)) => Ok(p),
        Ok(None) => Err(too_much()),
        Err(e) => Err(fail(e)),
    };
    if counters.groups.is_empty() {
        passes.push(pass(run_pass(model, &slot_of, None, cfg, &mut m))?);
    }
    for group in counters.groups.iter_mut() {
        passes.push(pass(run_pass(model, &slot_of, Some(group), cfg, &mut m))?);
    }
    m.failed_passes = passes
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
        .map(|slot| op_record(model, slot, counters, &passes, &m.failed_passes, cfg.runs))
        .collect();
    for (ev, status) in counters.status.iter().enumerate() {
        let total = member_of(counters, &m.failed_passes, ev).map(|(p, member)| {
            let pass = &passes[p];
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
        let measured = member_of(counters, failed, ev).map(|(p, member)| {
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
mod tests {
    use super::*;
    use crate::counters::{DEFAULT_EVENTS, fake, parse_events};

    #[test]
    fn sample_memory_grows_with_runs_ops_and_events() {
        let none = fake::open(&[]);
        // one pass without counters: 3 words per op and run, 2 per run of totals, and
        // 4 series of one word per run (clean, profiled, unattributed, counter reads)
        assert_eq!(sample_bytes(10, 100, &none), Some(8 * (3000 + 200 + 400)));
        let default = fake::open(&parse_events(DEFAULT_EVENTS).unwrap());
        let bytes = sample_bytes(2000, 30_000, &default).unwrap();
        // the 30,000 runs of a 2,000-op model: gigabytes, which `measure` must check
        assert!(bytes > 1 << 30, "{bytes}");
        assert_eq!(sample_bytes(2000, 1 << 62, &default), None, "overflow");
        assert_eq!(sample_bytes(usize::MAX, usize::MAX, &none), None);
    }
}
