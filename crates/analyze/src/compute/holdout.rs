//! Validation of one device's fitted latency models on models they never saw: each model of
//! some logs predicted by the kernel model (from its op records: the executed kernels and their
//! static cost, not their times), by the node model (from its node records) and by MACs alone,
//! against its measured clean latency (median). Models that were in the training data are
//! listed but kept out of the scores.

use super::fit::{DeviceFit, NodeModel, WITHIN_FRACTION};
use super::kernels::KernelCall;
use super::stats::{mape_pct, spearman};
use crate::load::{Dataset, ModelRun};

/// A prediction within this relative error (5%) counts as "within ±5%".
pub const WITHIN_5_FRACTION: f64 = 0.05;

/// One validated model.
#[derive(Debug, Clone, PartialEq)]
pub struct HeldOutModel {
    /// The device label of the log it was measured in.
    pub device: String,
    pub model: String,
    pub macs: u64,
    pub executed_ops: usize,
    /// Clean end-to-end latency, median.
    pub measured_ns: f64,
    /// Σ of the ops' median wall time in the per-op passes.
    pub measured_sum_op_ns: f64,
    /// The kernel model's prediction (`None` when the fit has no kernel model).
    pub kernel_ns: Option<f64>,
    /// The kernel model's Σ over calls before the end-to-end map (compare with
    /// `measured_sum_op_ns`: the kernels' own error).
    pub kernel_sum_ns: Option<f64>,
    pub node_ns: f64,
    pub macs_only_ns: f64,
    /// Kernel types predicted through a fallback (category or pooled fit).
    pub fallbacks: Vec<String>,
    /// Whether a model of this name was in the fit's training data (then it is not scored).
    pub seen_in_training: bool,
}

/// How one predictor did over the unseen models.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PredictorScore {
    pub models: usize,
    pub within_5pct: usize,
    pub within_10pct: usize,
    pub mape_pct: f64,
    /// Rank correlation of predicted and measured latency (`None` below 3 models or without
    /// spread).
    pub spearman_rho: Option<f64>,
}

impl PredictorScore {
    pub fn of(predicted: &[f64], measured: &[f64]) -> Self {
        let within = |fraction: f64| {
            predicted
                .iter()
                .zip(measured)
                .filter(|(p, m)| **m > 0.0 && ((**p - **m) / **m).abs() <= fraction + 1e-12)
                .count()
        };
        PredictorScore {
            models: measured.len(),
            within_5pct: within(WITHIN_5_FRACTION),
            within_10pct: within(WITHIN_FRACTION),
            mape_pct: mape_pct(predicted, measured).unwrap_or(f64::NAN),
            spearman_rho: if measured.len() >= 3 {
                spearman(predicted, measured)
            } else {
                None
            },
        }
    }
}

/// The validation of one device fit.
#[derive(Debug, Clone, PartialEq)]
pub struct Holdout {
    /// The fit's device label, and how many models it was trained on.
    pub fit_device: String,
    pub trained_models: usize,
    /// Kernel calls the kernel model was fitted on (0 without one).
    pub trained_calls: usize,
    pub per_model: Vec<HeldOutModel>,
    /// Scores over the unseen models (`kernel`: `None` without a kernel model).
    pub kernel: Option<PredictorScore>,
    pub node: PredictorScore,
    pub macs_only: PredictorScore,
    /// Models that could not be validated, and why.
    pub left_out: Vec<(String, String)>,
}

impl Holdout {
    pub fn unseen(&self) -> impl Iterator<Item = &HeldOutModel> {
        self.per_model.iter().filter(|m| !m.seen_in_training)
    }
}

fn held_out(fit: &DeviceFit, node: &NodeModel, data: &Dataset, run: &ModelRun) -> HeldOutModel {
    let calls: Vec<KernelCall> = run.ops.iter().map(KernelCall::of).collect();
    let kernel = fit.kernel_model.as_ref().map(|k| {
        let p = k.predict(&calls);
        let sum: f64 = calls.iter().map(|c| k.call_ns(c)).sum();
        let fallbacks: Vec<String> = p.fallbacks().iter().map(|s| s.kernel.clone()).collect();
        (p.latency_ns, sum, fallbacks)
    });
    HeldOutModel {
        device: data.device_label(run).to_string(),
        model: run.model.model.clone(),
        macs: run.model.cost.macs,
        executed_ops: run.ops.len(),
        measured_ns: run.model.latency_ns.median as f64,
        measured_sum_op_ns: run.model.sum_op_wall_median_ns as f64,
        kernel_ns: kernel.as_ref().map(|k| k.0),
        kernel_sum_ns: kernel.as_ref().map(|k| k.1),
        node_ns: node.latency_ns(&run.nodes),
        macs_only_ns: fit.macs_only.latency_ns(run.model.cost.macs),
        fallbacks: kernel.map(|k| k.2).unwrap_or_default(),
        seen_in_training: fit.models.contains(&run.model.model),
    }
}

/// Validates `fit` on every model of `data` (design probes included) that has op and node
/// records and a clean latency.
pub fn holdout(fit: &DeviceFit, data: &Dataset) -> Holdout {
    let node = NodeModel {
        categories: fit.categories.clone(),
        default: fit.default,
        scale: fit.scale,
    };
    let mut per_model = Vec::new();
    let mut left_out = Vec::new();
    for run in data.runs.iter().chain(&data.probes) {
        let why = if run.ops.is_empty() {
            Some("no op records (measure it with `hiddencost bench`)")
        } else if run.nodes.is_empty() {
            Some("no node records")
        } else if run.model.latency_ns.median == 0 {
            Some("clean latency median is 0")
        } else {
            None
        };
        match why {
            Some(w) => left_out.push((run.model.model.clone(), w.to_string())),
            None => per_model.push(held_out(fit, &node, data, run)),
        }
    }
    let unseen: Vec<&HeldOutModel> = per_model.iter().filter(|m| !m.seen_in_training).collect();
    let measured: Vec<f64> = unseen.iter().map(|m| m.measured_ns).collect();
    let column =
        |f: &dyn Fn(&HeldOutModel) -> f64| -> Vec<f64> { unseen.iter().map(|m| f(m)).collect() };
    let kernel = fit
        .kernel_model
        .as_ref()
        .map(|_| PredictorScore::of(&column(&|m| m.kernel_ns.unwrap_or(f64::NAN)), &measured));
    Holdout {
        fit_device: fit.device.clone(),
        trained_models: fit.models.len(),
        trained_calls: fit.kernel_model.as_ref().map_or(0, |k| k.calls),
        kernel,
        node: PredictorScore::of(&column(&|m| m.node_ns), &measured),
        macs_only: PredictorScore::of(&column(&|m| m.macs_only_ns), &measured),
        per_model,
        left_out,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Hand-computed: measured 100, 200, 400, 800; predicted 104 (+4%), 218 (+9%), 340 (-15%),
    /// 800 (0%): within ±5% 2, within ±10% 3, MAPE (4 + 9 + 15 + 0) / 4 = 7%, ranks equal
    /// (rho 1).
    #[test]
    fn scores_by_hand() {
        let s = PredictorScore::of(&[104.0, 218.0, 340.0, 800.0], &[100.0, 200.0, 400.0, 800.0]);
        assert_eq!((s.models, s.within_5pct, s.within_10pct), (4, 2, 3));
        assert!((s.mape_pct - 7.0).abs() < 1e-9, "{}", s.mape_pct);
        assert!((s.spearman_rho.unwrap() - 1.0).abs() < 1e-12);
        // Swapping two predictions' order: ranks 1 2 4 3 against 1 2 3 4, rho = 1 - 6·2/(4·15)
        let s = PredictorScore::of(&[100.0, 200.0, 900.0, 800.0], &[100.0, 200.0, 400.0, 800.0]);
        assert!((s.spearman_rho.unwrap() - 0.8).abs() < 1e-12);
        // exactly 10% off counts as within ±10%
        let s = PredictorScore::of(&[110.0, 90.0], &[100.0, 100.0]);
        assert_eq!(
            (s.within_5pct, s.within_10pct, s.spearman_rho),
            (0, 2, None)
        );
    }
}
