//! Fitting the kernel model: NNLS per kernel type, per category and over every call, the
//! nearest-calls part, and the end-to-end map from the sum over a model's calls to its clean
//! latency.

use super::{
    CacheKnees, EndToEnd, F, KernelCall, KernelCoefficients, KernelModel, MIN_SAMPLES,
    MIN_WEIGHT_NS, features, near_call,
};
use crate::compute::nearest::{NearCall, Nearest};
use crate::compute::stats::NormalEquations;
use std::borrow::Cow;
use std::collections::BTreeMap;

/// One training model: its calls with their measured median wall time, its clean latency and
/// the measured sum over its ops.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainingModel {
    pub calls: Vec<(KernelCall, f64)>,
    pub latency_ns: f64,
    pub sum_op_ns: f64,
}

/// A relative-error row: x / y against 1.
fn add_relative(ne: &mut NormalEquations, x: &[f64], y: f64) {
    let w = 1.0 / y.max(MIN_WEIGHT_NS);
    let xw: Vec<f64> = x.iter().map(|v| v * w).collect();
    ne.add_row(&xw, y * w);
}

fn fit_rows(rows: &[([f64; F], f64)]) -> KernelCoefficients {
    let mut ne = NormalEquations::new(F);
    for (x, y) in rows {
        ne.add_row(x, *y);
    }
    let mut c = KernelCoefficients::from_array(&ne.solve_nnls(), rows.len());
    let errors: Vec<f64> = rows
        .iter()
        .filter(|(_, y)| *y > 0.0)
        .map(|(x, y)| ((c.call_ns(x) - y) / y).abs() * 100.0)
        .collect();
    if !errors.is_empty() {
        c.train_mape_pct = errors.iter().sum::<f64>() / errors.len() as f64;
    }
    c
}

/// Fits the kernel model; `None` without any kernel call.
pub fn fit(models: &[TrainingModel], knees: CacheKnees) -> Option<KernelModel> {
    let mut by_kernel: BTreeMap<Cow<'_, str>, Vec<([f64; F], f64)>> = BTreeMap::new();
    let mut by_category: BTreeMap<Cow<'_, str>, Vec<([f64; F], f64)>> = BTreeMap::new();
    let mut pooled: Vec<([f64; F], f64)> = Vec::new();
    let mut near: Vec<(usize, Cow<'_, str>, Cow<'_, str>, NearCall)> = Vec::new();
    for (i, m) in models.iter().enumerate() {
        for (call, ns) in &m.calls {
            if !ns.is_finite() || *ns < 0.0 {
                continue;
            }
            let (kernel, category) = (call.kernel_key(), call.category_key());
            let row = (features(call, &knees), *ns);
            by_kernel.entry(kernel.clone()).or_default().push(row);
            by_category.entry(category.clone()).or_default().push(row);
            near.push((i, kernel, category, near_call(call, *ns)));
            pooled.push(row);
        }
    }
    if pooled.is_empty() {
        return None;
    }
    let own = |rows: BTreeMap<Cow<'_, str>, Vec<([f64; F], f64)>>| {
        rows.into_iter()
            .filter(|(_, r)| r.len() >= MIN_SAMPLES)
            .map(|(k, r)| (k.to_string(), fit_rows(&r)))
            .collect::<BTreeMap<_, _>>()
    };
    let mut model = KernelModel {
        knees,
        kernels: own(by_kernel),
        categories: own(by_category),
        pooled: fit_rows(&pooled),
        end_to_end: EndToEnd::default(),
        calls: pooled.len(),
        models: models.len(),
        nearest: Nearest::fit(
            &(near.iter())
                .map(|(i, k, c, call)| (*i, k.as_ref(), c.as_ref(), *call))
                .collect::<Vec<_>>(),
            MIN_SAMPLES,
        ),
    };
    model.end_to_end = fit_end_to_end(models);
    Some(model)
}

/// `latency = a · Σ op time + b · ops + c` over the training models (relative error, NNLS);
/// the identity (a = 1) when no model has both.
fn fit_end_to_end(models: &[TrainingModel]) -> EndToEnd {
    let mut ne = NormalEquations::new(3);
    let mut used = 0;
    for m in models {
        if m.latency_ns > 0.0 && m.sum_op_ns > 0.0 && !m.calls.is_empty() {
            add_relative(
                &mut ne,
                &[m.sum_op_ns, m.calls.len() as f64, 1.0],
                m.latency_ns,
            );
            used += 1;
        }
    }
    if used == 0 {
        return EndToEnd::default();
    }
    let c = ne.solve_nnls();
    if c[0] <= 0.0 {
        return EndToEnd {
            models: used,
            ..EndToEnd::default()
        };
    }
    EndToEnd {
        per_op_scale: c[0],
        ns_per_executed_op: c[1],
        ns_per_inference: c[2],
        models: used,
    }
}
