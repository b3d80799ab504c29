//! Facts of one run or of the whole dataset that several modules need: a device's runs with
//! their results, the cpufreq governor, the temperature drift, the achieved MAC rate,
//! latencies per device.

use super::bounds::{ModelBounds, NoRoofs};
use super::metrics::ModelMetrics;
use crate::load::{Dataset, ModelRun};
use std::collections::HashMap;

/// A run of one device with its metrics and bounds.
pub type RunResults<'a> = (
    &'a ModelRun,
    &'a ModelMetrics,
    &'a Result<ModelBounds, NoRoofs>,
);

/// The runs of device `d` with their metrics and bounds (both parallel to `Dataset::runs`).
pub fn of_device<'a>(
    data: &'a Dataset,
    metrics: &'a [ModelMetrics],
    bounds: &'a [Result<ModelBounds, NoRoofs>],
    d: usize,
) -> impl Iterator<Item = RunResults<'a>> {
    data.runs
        .iter()
        .zip(metrics)
        .zip(bounds)
        .filter(move |((r, _), _)| r.device == d)
        .map(|((r, m), b)| (r, m, b))
}

/// Governor of the pinned CPU, else the distinct governors joined by "/" (`None`: no cpufreq).
pub fn governor(run: &ModelRun) -> Option<String> {
    let freq = &run.header.context.cpufreq;
    let pinned = run
        .header
        .options
        .cpu
        .and_then(|c| freq.iter().find(|f| f.cpu == c));
    if let Some(g) = pinned.and_then(|f| f.governor.clone()) {
        return Some(g);
    }
    let mut all: Vec<String> = freq.iter().filter_map(|f| f.governor.clone()).collect();
    all.sort();
    all.dedup();
    (!all.is_empty()).then(|| all.join("/"))
}

/// Largest temperature rise (°C) of any thermal zone between the run's start and this model.
pub fn thermal_drift_c(run: &ModelRun) -> Option<f64> {
    let start = &run.header.context.thermal;
    run.model
        .thermal_end
        .iter()
        .filter_map(|end| {
            let s = start.iter().find(|s| s.zone == end.zone)?;
            Some((end.millicelsius? - s.millicelsius?) as f64 / 1000.0)
        })
        .reduce(f64::max)
}

/// Achieved GMAC/s of the whole model: MACs over clean median latency.
pub fn gmacs(run: &ModelRun) -> Option<f64> {
    let ns = run.model.latency_ns.median;
    (ns > 0).then(|| run.model.cost.macs as f64 / ns as f64)
}

/// `part / whole`, `None` when whole is 0.
pub fn ratio_of(part: u64, whole: u64) -> Option<f64> {
    (whole > 0).then(|| part as f64 / whole as f64)
}

/// Model names in first-seen order, each with its median latency (ns) per device.
pub fn latency_by_device(data: &Dataset) -> Vec<(String, Vec<Option<f64>>)> {
    let mut index: HashMap<&str, usize> = HashMap::new();
    let mut out: Vec<(String, Vec<Option<f64>>)> = Vec::new();
    for r in &data.runs {
        let ix = *index.entry(r.model.model.as_str()).or_insert_with(|| {
            out.push((r.model.model.clone(), vec![None; data.devices.len()]));
            out.len() - 1
        });
        if let Some(slot) = out[ix].1.get_mut(r.device) {
            // A later measurement of the same model on the same device replaced the earlier one
            // at load time, so each slot is written once.
            *slot = Some(r.model.latency_ns.median as f64);
        }
    }
    out
}
