//! Measuring one loaded model: a clean timing pass, then one per-op pass per counter group.
//!
//! Clean pass: `warmup` whole inferences, then `runs` timed ones with no hook: the end-to-end
//! latency users get. Per-op passes: the same runs through tract's per-node hook
//! (`SimpleState::run_plan_with_eval`). Around each node the hook reads the pass's counter
//! group and the clock into buffers allocated before the pass; it never clones the node's
//! inputs (that would keep extra references alive and push ops onto copy paths), allocates,
//! logs or formats. Medians and records are computed after the pass.

use crate::counters::{CounterGroup, CounterSet, MAX_GROUP_EVENTS};
use crate::model::LoadedModel;
use crate::record::{CounterValue, OpRecord, WallNs};
use crate::stats;
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
}

/// What measuring one model produced.
pub struct Measurement {
    pub clean_ns: Vec<u64>,
    pub profiled_ns: Vec<u64>,
    pub ops: Vec<OpRecord>,
    /// Passes whose counter reads failed (their counters are null in the records).
    pub failed_passes: Vec<usize>,
}

const NO_SLOT: u32 = u32::MAX;

/// Raw samples of one pass: per run, per executed node, `stride` words:
/// wall ns, Δtime_enabled, Δtime_running, Δvalue per event of the group.
struct PassSamples {
    stride: usize,
    words: Vec<u64>,
    read_errors: u64,
}

fn run_pass(
    model: &LoadedModel,
    slot_of: &[u32],
    mut group: Option<&mut Box<dyn CounterGroup>>,
    cfg: RunConfig,
    e2e: &mut Vec<u64>,
) -> TractResult<PassSamples> {
    let n = model.exec.len();
    let events = group.as_ref().map(|g| g.events().len()).unwrap_or(0);
    let stride = 3 + events;
    let mut words = vec![0u64; cfg.runs * n * stride];
    let mut read_errors = 0u64;
    let mut state = SimpleState::new(&model.plan)?;
    if let Some(g) = group.as_mut() {
        g.enable()?;
    }
    // One unrecorded run first: page in weights and let caches settle, as the clean pass did.
    for run in 0..cfg.runs + 1 {
        let recorded = run > 0;
        let base = run.saturating_sub(1) * n * stride;
        let start = Instant::now();
        state.run_plan_with_eval(model.inputs.clone(), |ctx, op_state, node, inputs| {
            let slot = slot_of[node.id];
            if slot == NO_SLOT || !recorded {
                return tract_core::plan::eval(ctx, op_state, node, inputs);
            }
            let mut before = [0u64; MAX_GROUP_EVENTS + 2];
            let mut after = [0u64; MAX_GROUP_EVENTS + 2];
            if let Some(g) = group.as_mut() {
                read_errors += g.read(&mut before).is_err() as u64;
            }
            let t0 = Instant::now();
            let result = tract_core::plan::eval(ctx, op_state, node, inputs);
            let wall_ns = t0.elapsed().as_nanos() as u64;
            if let Some(g) = group.as_mut() {
                read_errors += g.read(&mut after).is_err() as u64;
            }
            let at = base + slot as usize * stride;
            words[at] = wall_ns;
            for i in 0..events + 2 {
                words[at + 1 + i] = after[i].wrapping_sub(before[i]);
            }
            result
        })?;
        if recorded {
            e2e.push(start.elapsed().as_nanos() as u64);
        }
    }
    if let Some(g) = group.as_mut() {
        g.disable()?;
    }
    Ok(PassSamples {
        stride,
        words,
        read_errors,
    })
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
    let mut slot_of = vec![NO_SLOT; model.plan.model().nodes().len()];
    for (slot, e) in model.exec.iter().enumerate() {
        slot_of[e.node_id] = slot as u32;
    }

    // Clean pass.
    let mut state = SimpleState::new(&model.plan).map_err(fail)?;
    for _ in 0..cfg.warmup {
        state.run(model.inputs.clone()).map_err(fail)?;
    }
    let mut clean_ns = Vec::with_capacity(cfg.runs);
    for _ in 0..cfg.runs {
        let t = Instant::now();
        state.run(model.inputs.clone()).map_err(fail)?;
        clean_ns.push(t.elapsed().as_nanos() as u64);
    }
    drop(state);

    // Per-op passes, one per counter group (one without counters if there are none).
    let mut profiled_ns = Vec::with_capacity(cfg.runs * counters.passes());
    let mut passes: Vec<PassSamples> = Vec::new();
    if counters.groups.is_empty() {
        passes.push(run_pass(model, &slot_of, None, cfg, &mut profiled_ns).map_err(fail)?);
    }
    for group in counters.groups.iter_mut() {
        passes.push(run_pass(model, &slot_of, Some(group), cfg, &mut profiled_ns).map_err(fail)?);
    }
    let failed_passes: Vec<usize> = passes
        .iter()
        .enumerate()
        .filter(|(_, p)| p.read_errors > 0)
        .map(|(i, _)| i)
        .collect();
    for &p in &failed_passes {
        log::warn!(
            "{}: counter reads failed in pass {p}; its counters are null",
            model.info.name
        );
    }

    let ops = (0..n)
        .map(|slot| op_record(model, slot, counters, &passes, &failed_passes, cfg.runs))
        .collect();
    Ok(Measurement {
        clean_ns,
        profiled_ns,
        ops,
        failed_passes,
    })
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
        let measured = status
            .pass
            .filter(|p| status.available && !failed.contains(p))
            .and_then(|p| {
                let group = counters.groups.get(p)?;
                let member = group.events().iter().position(|&e| e == ev)?;
                let pass = &passes[p];
                let mut v: Vec<u64> = (0..runs)
                    .map(|r| pass.words[at(pass, r) + 3 + member])
                    .collect();
                let enabled: u64 = (0..runs).map(|r| pass.words[at(pass, r) + 1]).sum();
                let running: u64 = (0..runs).map(|r| pass.words[at(pass, r) + 2]).sum();
                v.sort_unstable();
                Some(CounterValue {
                    median: stats::percentile(&v, 50.0),
                    running_ratio: if enabled == 0 {
                        0.0
                    } else {
                        running as f64 / enabled as f64
                    },
                })
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
        input_shapes: e.input_shapes.clone(),
        output_shapes: e.output_shapes.clone(),
        order: slot,
        cost: e.cost,
        wall_ns,
        counters: values,
    }
}
