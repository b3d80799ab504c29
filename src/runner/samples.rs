//! The per-op samples of one model's measurement and what is computed from them after the
//! last run: their size (checked against the memory available before they are allocated), the
//! buffers the hook writes, each op's medians as an [`OpRecord`], the paired ratios.

use super::{Measurement, Schedule};
use crate::counters::CounterSet;
use crate::model::LoadedModel;
use crate::record::{CounterValue, OpRecord, Spread, WallNs};
use crate::stats;
use std::collections::BTreeMap;

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
pub(super) fn zeroed(len: usize) -> Option<Vec<u64>> {
    let mut v = Vec::new();
    v.try_reserve_exact(len).ok()?;
    v.resize(len, 0);
    Some(v)
}

/// Raw samples of one pass: per run, per executed node, `stride` words:
/// wall ns, Δtime_enabled, Δtime_running, Δvalue per event of the group.
pub(super) struct PassSamples {
    pub(super) stride: usize,
    pub(super) words: Vec<u64>,
    /// Per run, `stride - 1` words: the counts from the run's first read to its last.
    pub(super) totals: Vec<u64>,
    pub(super) read_errors: u64,
}

impl PassSamples {
    /// Zeroed samples for `runs` runs of `ops` executed ops and `events` counters; `None` when
    /// they cannot be allocated.
    pub(super) fn new(runs: usize, ops: usize, events: usize) -> Option<PassSamples> {
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
pub(super) fn member_of(
    counters: &CounterSet,
    failed: &[usize],
    ev: usize,
) -> Option<(usize, usize)> {
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

/// The record of the op at `slot`, and the spread of its wall times (ns) over every recorded
/// run of every pass, with their percentiles (`Measurement::op_wall_spread_ns`).
pub(super) fn op_record(
    model: &LoadedModel,
    slot: usize,
    counters: &CounterSet,
    passes: &[PassSamples],
    failed: &[usize],
    runs: usize,
) -> (OpRecord, Spread) {
    let n = model.exec.len();
    let at = |pass: &PassSamples, run: usize| (run * n + slot) * pass.stride;
    let mut wall: Vec<u64> = passes
        .iter()
        .flat_map(|p| (0..runs).map(move |r| p.words[at(p, r)]))
        .collect();
    let wall_ns: WallNs = stats::wall(&mut wall);
    // `wall` is sorted now, and stays so as f64.
    let wall_f64: Vec<f64> = wall.iter().map(|&ns| ns as f64).collect();
    let wall_spread = crate::budget::figures::spread_of_sorted(&wall_f64).unwrap_or_default();

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
    let record = OpRecord {
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
    };
    (record, wall_spread)
}
