//! Every op of one model against its run's roofs (see the module doc of [`super`]).

use super::{BoundAgg, ComputeRoof, KERNEL_CATEGORIES, ModelBounds, PEAK_RAISE_LIMIT, Roofs};
use crate::load::Op;
use crate::record::Cost;
use std::collections::BTreeMap;

/// An op's MAC rate (MACs per second of its median), 0 when it has no MACs or no time.
fn mac_rate(op: &Op) -> f64 {
    let ns = op.wall_ns.median as f64;
    if op.cost.macs > 0 && ns > 0.0 {
        op.cost.macs as f64 / ns * 1e9
    } else {
        0.0
    }
}

/// Every op of a model against `roofs`. The floor is the cheaper of the probe's and the
/// run's fastest op: an op that only changes a tensor's geometry costs less than the probe's
/// Relu, which allocates its output. Likewise the peak is the higher of the probe's and the
/// model's fastest kernel, when that is within [`PEAK_RAISE_LIMIT`] of the probe's: a roof
/// is never below a rate this machine reached. Integer ops are held to the integer peak (never
/// raised: the probe's integer product is the same kernel as theirs), and never raise the f32
/// one.
pub fn model_bounds(roofs: &Roofs, ops: &[Op]) -> ModelBounds {
    let fastest = ops
        .iter()
        .map(|o| o.wall_ns.median as f64)
        .filter(|ns| *ns > 0.0)
        .reduce(f64::min);
    let rates: Vec<f64> = ops.iter().map(mac_rate).collect();
    let probe_peak = roofs.peak_macs_per_s;
    // The rate above which an op beats its peak: `None` for an integer op without a roof.
    let beaten = |cost: &Cost| roofs.peak_for(cost).map(|(p, s)| p * (1.0 + s));
    let is_kernel = |op: &Op| KERNEL_CATEGORIES.contains(&op.category.as_str());
    let raised = ops
        .iter()
        .zip(&rates)
        .filter(|(op, r)| {
            let f32_beaten = probe_peak * (1.0 + roofs.peak_spread);
            op.cost.int8_macs == 0
                && is_kernel(op)
                && **r > f32_beaten
                && **r <= probe_peak * PEAK_RAISE_LIMIT
        })
        .map(|(_, r)| *r)
        .reduce(f64::max);
    let mut roofs = roofs.clone();
    if let Some(ns) = fastest.filter(|ns| *ns < roofs.floor_ns) {
        roofs.floor_ns = ns;
    }
    if let Some(rate) = raised {
        roofs.peak_macs_per_s = rate;
    }
    let roofs = &roofs;
    let mut m = ModelBounds {
        roofs: roofs.clone(),
        probe_peak_macs_per_s: probe_peak,
        ops: Vec::with_capacity(ops.len()),
        total: BoundAgg::default(),
        by_category: BTreeMap::new(),
        by_limiter: BTreeMap::new(),
        below_bound: Vec::new(),
        over_peak: Vec::new(),
        peak_beaten: Vec::new(),
        rates,
        int8_unbounded: Vec::new(),
    };
    for (i, op) in ops.iter().enumerate() {
        let measured = op.wall_ns.median as f64;
        let b = roofs.bound(&op.op, &op.cost, measured);
        let tolerance = roofs.tolerance(&b);
        if measured * (1.0 + tolerance) < b.bound_ns {
            m.below_bound.push(i);
        }
        if b.roof == ComputeRoof::Int8Unmeasured {
            m.int8_unbounded.push(i);
        }
        if beaten(&op.cost).is_some_and(|rate| m.rates[i] > rate) {
            if is_kernel(op) {
                m.peak_beaten.push(i);
            } else {
                m.over_peak.push(i);
            }
        }
        m.total.add(measured, &b);
        m.by_category
            .entry(op.category.to_string())
            .or_default()
            .add(measured, &b);
        m.by_limiter
            .entry(roofs.limiter_name(b.limiter))
            .or_default()
            .add(measured, &b);
        m.ops.push(b);
    }
    m
}
