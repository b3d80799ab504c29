//! The latency models: a per-category linear model on source-node features, next to the
//! MACs-only baseline, both validated leave-one-model-out, exported as `fit.json`. Reading
//! fit.json and predicting a new model live in [`crate::predict`](mod@crate::predict).
//!
//! Node model (per device): each source ONNX node's measured time (Σ median wall time of the
//! executed ops attributed to it) is fitted by non-negative least squares, one coefficient set
//! per category, on [`FEATURES`]: MACs, bytes read, bytes written, weight bytes and 1 per node.
//! A model's prediction is `scale · Σ nodes`, `scale` mapping the per-op (profiled) time onto
//! clean end-to-end latency (fitted through the origin on the training models; it also absorbs
//! unattributed ops). Categories unseen in training use coefficients fitted on all nodes.
//! MACs-only baseline: `latency = a · MACs + b` over models, also non-negative least squares.
//! Reading fit.json and predicting live in [`crate::predict`](mod@crate::predict).

use super::kernels::{self, KernelCall, TrainingModel};
use super::stats::{NormalEquations, mape_pct};
use crate::load::{Dataset, ModelRun};
use crate::record::{Cost, NodeRecord};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

#[path = "fit_file.rs"]
mod file;
pub use file::{DeviceFit, FeatureDef, FitFile, HeldOut, Predictor, Score, Validation};
#[path = "fit_sums.rs"]
mod sums;
use sums::{Sums, category_index};

pub const FIT_FORMAT: &str = "hiddencost-fit";
/// Version 2 added the kernel model (`kernel_model`, `kernel_features`), version 3 its
/// nearest-probes part (`kernel_model.nearest`); version 1 and 2 files (without them) are
/// still read.
pub const FIT_VERSION: u32 = 3;
/// The fit.json versions this hiddencost reads.
pub const FIT_VERSIONS_READ: [u32; 3] = [1, 2, 3];
/// A prediction within this relative error (10%) counts as "within ±10%".
pub const WITHIN_FRACTION: f64 = 0.10;

/// (name, unit, definition) of each node feature, in coefficient order.
pub const FEATURES: [(&str, &str, &str); 5] = [
    (
        "macs",
        "MAC",
        "multiply-accumulates of the node (Conv, Gemm, MatMul; 0 otherwise)",
    ),
    (
        "bytes_read",
        "byte",
        "bytes of every input tensor, activations and weights",
    ),
    ("bytes_written", "byte", "bytes of every output tensor"),
    (
        "weight_bytes",
        "byte",
        "bytes of constant inputs (weights, biases, BN statistics)",
    ),
    (
        "node",
        "node",
        "1 for every source node (fixed per-node overhead)",
    ),
];

fn features(cost: &Cost) -> [f64; 5] {
    [
        cost.macs as f64,
        cost.bytes_read as f64,
        cost.bytes_written as f64,
        cost.weight_bytes as f64,
        1.0,
    ]
}

/// Nanoseconds per unit of each feature, for one category.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct Coefficients {
    pub ns_per_mac: f64,
    pub ns_per_byte_read: f64,
    pub ns_per_byte_written: f64,
    pub ns_per_weight_byte: f64,
    pub ns_per_node: f64,
    /// Source nodes this was fitted on.
    pub samples: usize,
}

impl Coefficients {
    fn from_vec(c: &[f64], samples: usize) -> Self {
        Coefficients {
            ns_per_mac: c[0],
            ns_per_byte_read: c[1],
            ns_per_byte_written: c[2],
            ns_per_weight_byte: c[3],
            ns_per_node: c[4],
            samples,
        }
    }

    /// The coefficients in [`FEATURES`] order.
    fn as_array(&self) -> [f64; F] {
        [
            self.ns_per_mac,
            self.ns_per_byte_read,
            self.ns_per_byte_written,
            self.ns_per_weight_byte,
            self.ns_per_node,
        ]
    }

    pub fn node_ns(&self, cost: &Cost) -> f64 {
        let x = features(cost);
        x.iter().zip(self.as_array()).map(|(a, b)| a * b).sum()
    }
}

/// `latency_ns = ns_per_mac · MACs + intercept_ns`.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct MacsOnly {
    pub ns_per_mac: f64,
    pub intercept_ns: f64,
}

impl MacsOnly {
    pub fn latency_ns(&self, macs: u64) -> f64 {
        self.ns_per_mac * macs as f64 + self.intercept_ns
    }
}

/// A model the latency model could not use, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct LeftOut {
    pub device: String,
    pub model: String,
    pub why: String,
}

/// The source nodes of one model as (category, cost, measured ns) samples.
fn node_samples(run: &ModelRun) -> Vec<(&str, &Cost, f64)> {
    let mut ns_by_node: HashMap<&str, u64> = HashMap::new();
    for op in &run.ops {
        if let Some(src) = op.source_node.as_deref() {
            let e = ns_by_node.entry(src).or_default();
            *e = e.saturating_add(op.wall_ns.median);
        }
    }
    run.nodes
        .iter()
        .map(|n| {
            (
                n.category.as_str(),
                &n.cost,
                ns_by_node.get(n.node.as_str()).copied().unwrap_or(0) as f64,
            )
        })
        .collect()
}

/// The node model fitted on some runs.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct NodeModel {
    pub(crate) categories: BTreeMap<String, Coefficients>,
    pub(crate) default: Coefficients,
    pub(crate) scale: f64,
}

impl NodeModel {
    fn coefficients(&self, category: &str) -> &Coefficients {
        self.categories.get(category).unwrap_or(&self.default)
    }

    /// Unscaled per-category sum over nodes.
    pub(crate) fn per_category_ns(&self, nodes: &[NodeRecord]) -> BTreeMap<String, f64> {
        let mut out = BTreeMap::new();
        for n in nodes {
            *out.entry(n.category.clone()).or_insert(0.0) +=
                self.coefficients(&n.category).node_ns(&n.cost);
        }
        out
    }

    pub(crate) fn latency_ns(&self, nodes: &[NodeRecord]) -> f64 {
        self.scale * self.per_category_ns(nodes).values().sum::<f64>()
    }
}

/// Number of node features.
const F: usize = FEATURES.len();

/// The baseline `latency = a · MACs + b`, non-negative least squares over the models.
pub fn fit_macs_only(train: &[&ModelRun]) -> MacsOnly {
    let mut ne = NormalEquations::new(2);
    for run in train {
        ne.add_row(
            &[run.model.cost.macs as f64, 1.0],
            run.model.latency_ns.median as f64,
        );
    }
    let c = ne.solve_nnls();
    MacsOnly {
        ns_per_mac: c[0],
        intercept_ns: c[1],
    }
}

fn score(predicted: &[f64], measured: &[f64]) -> Score {
    let within = predicted
        .iter()
        .zip(measured)
        .filter(|(p, m)| **m > 0.0 && ((*p - *m) / *m).abs() <= WITHIN_FRACTION)
        .count();
    Score {
        mape_pct: mape_pct(predicted, measured).unwrap_or(f64::NAN),
        within_10pct: within,
    }
}

/// Leave-one-model-out: each run predicted by the models fitted on all the others (each fold
/// from `all`, the sums over every run, without the run's own).
fn validate(
    runs: &[&ModelRun],
    probes: &[TrainingModel],
    knees: kernels::CacheKnees,
    categories: &BTreeMap<&str, usize>,
    all: &Sums,
) -> Option<Validation> {
    if runs.len() < 3 {
        return None;
    }
    let trained: Vec<TrainingModel> = runs.iter().map(|r| training_model(r)).collect();
    let mut per_model = Vec::new();
    for (ix, run) in runs.iter().enumerate() {
        let train = all.without(&Sums::of_run(run, categories));
        // The kernel model of this fold: the probes and every other model.
        let others: Vec<TrainingModel> = trained
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != ix)
            .map(|(_, t)| t.clone())
            .chain(probes.iter().cloned())
            .collect();
        let kernel_model_ns = kernels::fit(&others, knees).and_then(|k| {
            let calls: Vec<KernelCall> = run.ops.iter().map(KernelCall::of).collect();
            (!calls.is_empty()).then(|| k.predict(&calls).latency_ns)
        });
        per_model.push(HeldOut {
            model: run.model.model.clone(),
            measured_ns: run.model.latency_ns.median as f64,
            node_model_ns: train.node_model(categories).latency_ns(&run.nodes),
            macs_only_ns: train.macs_only().latency_ns(run.model.cost.macs),
            kernel_model_ns,
        });
    }
    let measured: Vec<f64> = per_model.iter().map(|h| h.measured_ns).collect();
    let node: Vec<f64> = per_model.iter().map(|h| h.node_model_ns).collect();
    let macs: Vec<f64> = per_model.iter().map(|h| h.macs_only_ns).collect();
    let kernel: Option<Vec<f64>> = per_model.iter().map(|h| h.kernel_model_ns).collect();
    Some(Validation {
        method: "leave-one-model-out".into(),
        models: runs.len(),
        node_model: score(&node, &measured),
        macs_only: score(&macs, &measured),
        kernel_model: kernel.map(|k| score(&k, &measured)),
        per_model,
    })
}

/// Fits every device that has at least one model with node records. Returns the fit and the
/// models left out. The node model and MACs only are fitted on the device's models, or, when
/// it has only design probes (a sweep log), on those; the kernel model on both.
pub fn fit_all(data: &Dataset) -> (FitFile, Vec<LeftOut>) {
    let mut devices = Vec::new();
    let mut left_out = Vec::new();
    for (ix, device) in data.devices.iter().enumerate() {
        let has_models = data.runs.iter().any(|r| r.device == ix);
        let measured = if has_models { &data.runs } else { &data.probes };
        let mut runs: Vec<&ModelRun> = Vec::new();
        for run in measured.iter().filter(|r| r.device == ix) {
            if run.nodes.is_empty() {
                left_out.push(LeftOut {
                    device: device.label.clone(),
                    model: run.model.model.clone(),
                    why: "no node records".into(),
                });
            } else if run.model.latency_ns.median == 0 {
                left_out.push(LeftOut {
                    device: device.label.clone(),
                    model: run.model.model.clone(),
                    why: "latency median is 0".into(),
                });
            } else {
                runs.push(run);
            }
        }
        if runs.is_empty() {
            continue;
        }
        let categories = category_index(&runs);
        let mut all = Sums::new(categories.len());
        for run in &runs {
            all.add(&Sums::of_run(run, &categories));
        }
        let node = all.node_model(&categories);
        let probes: Vec<TrainingModel> = data
            .probes
            .iter()
            .filter(|r| has_models && r.device == ix && !r.ops.is_empty())
            .map(training_model)
            .collect();
        let knees = kernels::CacheKnees::of(&runs[0].header);
        let kernel_model = kernels::fit(
            &runs
                .iter()
                .copied()
                .map(training_model)
                .chain(probes.iter().cloned())
                .collect::<Vec<_>>(),
            knees,
        );
        devices.push(DeviceFit {
            device: device.label.clone(),
            device_model: device.context.device_model.clone(),
            cpu_model: device.context.cpu_model.clone(),
            models: runs
                .iter()
                .map(|r| r.model.model.clone())
                .chain(
                    data.probes
                        .iter()
                        .filter(|r| has_models && r.device == ix)
                        .map(|r| r.model.model.clone()),
                )
                .collect(),
            categories: node.categories,
            default: node.default,
            scale: node.scale,
            macs_only: all.macs_only(),
            validation: validate(&runs, &probes, knees, &categories, &all),
            kernel_model,
        });
    }
    let fit = FitFile {
        format: FIT_FORMAT.into(),
        version: FIT_VERSION,
        target:
            "median clean end-to-end latency of one inference, ns (model record latency_ns.median)"
                .into(),
        node_model:
            "latency_ns = scale * sum over source nodes of (coefficients[category] . features); \
                     categories not listed use `default`"
                .into(),
        features: feature_defs(&FEATURES),
        kernel_model: "latency_ns = end_to_end.per_op_scale * sum over executed kernel calls of \
                       call_ns + end_to_end.ns_per_executed_op * calls + \
                       end_to_end.ns_per_inference; call_ns of a kernel type in `nearest.kernels`: \
                       its work (MACs, else bytes read + written) times the geometric mean of the \
                       rates (ns per that work) of its nearest.k nearest calls there with MACs \
                       alike, in (log2(MACs + 1), log2(bytes moved + 1), log2(weight bytes + 1)), \
                       weighted by 1 / (1 + squared distance); of a type not there, the same \
                       over `nearest.categories`[its category]; of any other: \
                       coefficients[kernel type] . kernel_features, a type not in `kernels` \
                       using `categories`[its category], then `pooled`"
            .into(),
        kernel_features: feature_defs(&kernels::FEATURES),
        devices,
    };
    (fit, left_out)
}

/// fit.json's definitions of (name, unit, definition) features.
fn feature_defs(features: &[(&str, &str, &str)]) -> Vec<FeatureDef> {
    features
        .iter()
        .map(|(n, u, d)| FeatureDef {
            name: n.to_string(),
            unit: u.to_string(),
            definition: d.to_string(),
        })
        .collect()
}

/// A run as the kernel model trains on it: its op records with their median wall time.
pub fn training_model(run: &ModelRun) -> TrainingModel {
    TrainingModel {
        calls: run
            .ops
            .iter()
            .map(|op| (KernelCall::of(op), op.wall_ns.median as f64))
            .collect(),
        latency_ns: run.model.latency_ns.median as f64,
        sum_op_ns: run.model.sum_op_wall_median_ns as f64,
    }
}
