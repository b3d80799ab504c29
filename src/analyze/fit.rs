//! The latency models: a per-category linear model on source-node features, next to the
//! MACs-only baseline, both validated leave-one-model-out, exported as `fit.json`. Reading
//! fit.json and predicting a new model live in [`super::predict`].
//!
//! Node model (per device): each source ONNX node's measured time (Σ median wall time of the
//! executed ops attributed to it) is fitted by non-negative least squares, one coefficient set
//! per category, on [`FEATURES`]: MACs, bytes read, bytes written, weight bytes and 1 per node.
//! A model's prediction is `scale · Σ nodes`, `scale` mapping the per-op (profiled) time onto
//! clean end-to-end latency (fitted through the origin on the training models; it also absorbs
//! unattributed ops). Categories unseen in training use coefficients fitted on all nodes.
//! MACs-only baseline: `latency = a · MACs + b` over models, also non-negative least squares.
//! Reading fit.json and predicting live in [`super::predict`].

use super::load::{Dataset, ModelRun};
use super::stats::{NormalEquations, mape_pct};
use crate::record::{Cost, NodeRecord};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};

pub const FIT_FORMAT: &str = "hiddencost-fit";
pub const FIT_VERSION: u32 = 1;
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

    pub fn node_ns(&self, cost: &Cost) -> f64 {
        let x = features(cost);
        let c = [
            self.ns_per_mac,
            self.ns_per_byte_read,
            self.ns_per_byte_written,
            self.ns_per_weight_byte,
            self.ns_per_node,
        ];
        x.iter().zip(c).map(|(a, b)| a * b).sum()
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

/// Error summary of one latency model over the held-out models.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Score {
    pub mape_pct: f64,
    pub within_10pct: usize,
}

/// One held-out model: measured and predicted clean latency (median).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeldOut {
    pub model: String,
    pub measured_ns: f64,
    pub node_model_ns: f64,
    pub macs_only_ns: f64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Validation {
    pub method: String,
    pub models: usize,
    pub node_model: Score,
    pub macs_only: Score,
    pub per_model: Vec<HeldOut>,
}

/// Everything needed to predict on one device.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DeviceFit {
    pub device: String,
    pub device_model: Option<String>,
    pub cpu_model: Option<String>,
    /// Models fitted on (all usable models of the device).
    pub models: Vec<String>,
    pub categories: BTreeMap<String, Coefficients>,
    /// Fitted on every node, used for categories absent from `categories`.
    pub default: Coefficients,
    /// Clean latency / Σ predicted node time.
    pub scale: f64,
    pub macs_only: MacsOnly,
    /// `None` with fewer than 3 models.
    pub validation: Option<Validation>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FeatureDef {
    pub name: String,
    pub unit: String,
    pub definition: String,
}

/// The content of fit.json.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FitFile {
    pub format: String,
    pub version: u32,
    pub target: String,
    pub node_model: String,
    pub features: Vec<FeatureDef>,
    pub devices: Vec<DeviceFit>,
}

/// The source nodes of one model as (category, cost, measured ns) samples.
fn node_samples(run: &ModelRun) -> Vec<(&str, &Cost, f64)> {
    let mut ns_by_node: HashMap<&str, u64> = HashMap::new();
    for op in &run.ops {
        if let Some(src) = op.source_node.as_deref() {
            *ns_by_node.entry(src).or_default() += op.wall_ns.median;
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

fn fit_node_model(train: &[&ModelRun]) -> NodeModel {
    let mut per_category: BTreeMap<String, NormalEquations> = BTreeMap::new();
    let mut pooled = NormalEquations::new(FEATURES.len());
    for run in train {
        for (category, cost, ns) in node_samples(run) {
            let x = features(cost);
            per_category
                .entry(category.to_string())
                .or_insert_with(|| NormalEquations::new(FEATURES.len()))
                .add_row(&x, ns);
            pooled.add_row(&x, ns);
        }
    }
    let categories = per_category
        .into_iter()
        .map(|(c, ne)| (c, Coefficients::from_vec(&ne.solve_nnls(), ne.rows())))
        .collect();
    let default = Coefficients::from_vec(&pooled.solve_nnls(), pooled.rows());
    let mut model = NodeModel {
        categories,
        default,
        scale: 1.0,
    };
    let (mut yp, mut pp) = (0.0, 0.0);
    for run in train {
        let p = model.latency_ns(&run.nodes);
        yp += run.model.latency_ns.median as f64 * p;
        pp += p * p;
    }
    if pp > 0.0 && (yp / pp).is_finite() {
        model.scale = yp / pp;
    }
    model
}

fn fit_macs_only(train: &[&ModelRun]) -> MacsOnly {
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

/// Leave-one-model-out folds over `n` models: (held-out index, training indices).
pub fn lomo_folds(n: usize) -> Vec<(usize, Vec<usize>)> {
    (0..n)
        .map(|held| (held, (0..n).filter(|&i| i != held).collect()))
        .collect()
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

fn validate(runs: &[&ModelRun]) -> Option<Validation> {
    if runs.len() < 3 {
        return None;
    }
    let mut per_model = Vec::new();
    for (held, train_ix) in lomo_folds(runs.len()) {
        let train: Vec<&ModelRun> = train_ix.iter().map(|&i| runs[i]).collect();
        let run = runs[held];
        per_model.push(HeldOut {
            model: run.model.model.clone(),
            measured_ns: run.model.latency_ns.median as f64,
            node_model_ns: fit_node_model(&train).latency_ns(&run.nodes),
            macs_only_ns: fit_macs_only(&train).latency_ns(run.model.cost.macs),
        });
    }
    let measured: Vec<f64> = per_model.iter().map(|h| h.measured_ns).collect();
    let node: Vec<f64> = per_model.iter().map(|h| h.node_model_ns).collect();
    let macs: Vec<f64> = per_model.iter().map(|h| h.macs_only_ns).collect();
    Some(Validation {
        method: "leave-one-model-out".into(),
        models: runs.len(),
        node_model: score(&node, &measured),
        macs_only: score(&macs, &measured),
        per_model,
    })
}

/// Fits every device that has at least one model with node records. Returns the fit and the
/// models left out (device, model, why).
pub fn fit_all(data: &Dataset) -> (FitFile, Vec<(String, String, String)>) {
    let mut devices = Vec::new();
    let mut left_out = Vec::new();
    for (ix, device) in data.devices.iter().enumerate() {
        let mut runs: Vec<&ModelRun> = Vec::new();
        for run in data.runs.iter().filter(|r| r.device == ix) {
            if run.nodes.is_empty() {
                left_out.push((
                    device.label.clone(),
                    run.model.model.clone(),
                    "no node records".into(),
                ));
            } else if run.model.latency_ns.median == 0 {
                left_out.push((
                    device.label.clone(),
                    run.model.model.clone(),
                    "latency median is 0".into(),
                ));
            } else {
                runs.push(run);
            }
        }
        if runs.is_empty() {
            continue;
        }
        let node = fit_node_model(&runs);
        devices.push(DeviceFit {
            device: device.label.clone(),
            device_model: device.context.device_model.clone(),
            cpu_model: device.context.cpu_model.clone(),
            models: runs.iter().map(|r| r.model.model.clone()).collect(),
            categories: node.categories,
            default: node.default,
            scale: node.scale,
            macs_only: fit_macs_only(&runs),
            validation: validate(&runs),
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
        features: FEATURES
            .iter()
            .map(|(n, u, d)| FeatureDef {
                name: n.to_string(),
                unit: u.to_string(),
                definition: d.to_string(),
            })
            .collect(),
        devices,
    };
    (fit, left_out)
}

#[cfg(test)]
#[path = "fit_tests.rs"]
mod tests;
