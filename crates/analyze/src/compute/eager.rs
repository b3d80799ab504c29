//! Eager against optimized: each model measured twice on one device, at the runtime's graph
//! optimizations (`Dataset::runs`) and eager, each ONNX node on its own (`Dataset::eager`,
//! `--optimize none`, as the study's PyTorch ran them). Per model and summed per device: clean
//! latency, op time, the hidden time (ops with zero MACs) both ways and what the optimizations
//! removed of it; op time per executed category both ways; which source nodes lost their own
//! op (merged into another node's kernel, or left without any op: folded into weights or fused
//! unnamed) and what they cost eager; the MACs-only model's leave-one-model-out error and the
//! spread of achieved GMAC/s under each. Values only: the report words them.

use super::fit::fit_macs_only;
use super::metrics::{ModelMetrics, fraction, ordered_keys};
use super::stats::mape_pct;
use crate::load::{Dataset, ModelRun};
use std::collections::{BTreeMap, HashMap, HashSet};

/// The MACs-only model is validated leave-one-model-out from this many models on.
pub const MIN_MODELS_FOR_FIT: usize = 3;

/// One model (or their sum) measured one way.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Side {
    /// Clean end-to-end latency, median.
    pub latency_ns: u64,
    /// Σ of the ops' median wall time.
    pub op_ns: u64,
    /// Σ of the median wall time of the executed ops with zero MACs.
    pub hidden_ns: u64,
    pub ops: usize,
    pub macs: u64,
}

impl Side {
    fn of(run: &ModelRun, m: &ModelMetrics) -> Side {
        Side {
            latency_ns: run.model.latency_ns.median,
            op_ns: m.total.wall_ns,
            hidden_ns: m.hidden_executed_ns,
            ops: m.total.ops,
            macs: run.model.cost.macs,
        }
    }

    fn add(&mut self, o: &Side) {
        self.latency_ns = self.latency_ns.saturating_add(o.latency_ns);
        self.op_ns = self.op_ns.saturating_add(o.op_ns);
        self.hidden_ns = self.hidden_ns.saturating_add(o.hidden_ns);
        self.ops = self.ops.saturating_add(o.ops);
        self.macs = self.macs.saturating_add(o.macs);
    }

    /// Hidden time over op time.
    pub fn hidden_share(&self) -> f64 {
        fraction(self.hidden_ns, self.op_ns)
    }

    /// Achieved GMAC/s: MACs over clean median latency (`None` at latency 0).
    pub fn gmacs(&self) -> Option<f64> {
        (self.latency_ns > 0).then(|| self.macs as f64 / self.latency_ns as f64)
    }
}

/// Eager hidden time minus optimized hidden time (negative: the optimized run has more).
pub fn removed_ns(optimized: &Side, eager: &Side) -> i64 {
    (eager.hidden_ns as i128 - optimized.hidden_ns as i128)
        .clamp(i64::MIN as i128, i64::MAX as i128) as i64
}

/// [`removed_ns`] as a share of the eager hidden time (0 without eager hidden time).
pub fn removed_share(optimized: &Side, eager: &Side) -> f64 {
    if eager.hidden_ns == 0 {
        0.0
    } else {
        removed_ns(optimized, eager) as f64 / eager.hidden_ns as f64
    }
}

/// What the Findings say of one device's models measured both ways.
#[derive(Debug, Clone, PartialEq)]
pub struct EagerFinding {
    pub tract_version: String,
    pub optimize: String,
    pub models: usize,
    pub optimized: Side,
    pub eager: Side,
    /// (source category, nodes without their own op optimized, their eager ns), largest first.
    pub gone: Vec<(String, usize, u64)>,
    pub macs_only_mape_pct: Option<BothWays>,
    pub gmacs_spread: Option<BothWays>,
}

/// One model measured both ways on one device.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelPair {
    pub model: String,
    /// Index into `Dataset::runs`.
    pub optimized_run: usize,
    /// Index into `Dataset::eager`.
    pub eager_run: usize,
    pub optimized: Side,
    pub eager: Side,
}

/// Op count and time of one executed category.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Time {
    pub ops: usize,
    pub ns: u64,
}

/// One executed category, summed over the device's pairs.
#[derive(Debug, Clone, PartialEq)]
pub struct CategoryPair {
    pub category: String,
    pub optimized: Time,
    pub eager: Time,
}

/// The source nodes of one ONNX op type that had an op of their own eager, and what became of
/// them optimized, summed over the device's pairs.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct SourceFate {
    pub source_op: String,
    /// Category of those source nodes.
    pub category: String,
    /// Source nodes of this type with an executed op eager.
    pub nodes: usize,
    /// Of those, nodes with no op of their own optimized that an optimized op names (its
    /// executed node is named after them, or lists them in `fused_sources`): merged into
    /// another node's kernel.
    pub merged: usize,
    /// Nodes that no optimized op names: folded into weights, or fused without a trace.
    pub removed: usize,
    /// Eager time of the merged and removed nodes (their ops' median wall time).
    pub eager_ns: u64,
    /// The part of `eager_ns` in ops with zero MACs.
    pub eager_hidden_ns: u64,
}

impl SourceFate {
    /// Nodes without an op of their own optimized.
    pub fn gone(&self) -> usize {
        self.merged + self.removed
    }
}

/// The MACs-only model's leave-one-model-out mean absolute percentage error, both ways.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BothWays {
    pub optimized: f64,
    pub eager: f64,
}

/// Everything eager against optimized on one device.
#[derive(Debug, Clone, PartialEq)]
pub struct EagerDevice {
    /// Index into `Dataset::devices`.
    pub device: usize,
    /// The runtime and the optimize level of the optimized runs (of the first model).
    pub tract_version: String,
    pub optimize: String,
    /// In the order of `Dataset::runs`.
    pub models: Vec<ModelPair>,
    /// The models summed.
    pub optimized: Side,
    pub eager: Side,
    /// Executed categories in display order.
    pub categories: Vec<CategoryPair>,
    /// Source op types with at least one node without an op of its own optimized, largest
    /// eager time first.
    pub fates: Vec<SourceFate>,
    /// MACs-only error in percent (`None` below [`MIN_MODELS_FOR_FIT`] models).
    pub macs_only_mape_pct: Option<BothWays>,
    /// Fastest over slowest achieved GMAC/s of the models (`None` below 2 models with a rate).
    pub gmacs_spread: Option<BothWays>,
}

impl EagerDevice {
    /// Eager hidden time minus optimized hidden time, all models.
    pub fn removed_ns(&self) -> i64 {
        removed_ns(&self.optimized, &self.eager)
    }

    /// What the optimizations removed as a share of the eager hidden time.
    pub fn removed_share(&self) -> f64 {
        removed_share(&self.optimized, &self.eager)
    }

    /// The Finding: the sums, the source categories that lost the most eager time (at most
    /// `top`), the errors and spreads.
    pub fn finding(&self, top: usize) -> EagerFinding {
        let mut gone = self.gone_by_category();
        gone.truncate(top);
        EagerFinding {
            tract_version: self.tract_version.clone(),
            optimize: self.optimize.clone(),
            models: self.models.len(),
            optimized: self.optimized,
            eager: self.eager,
            gone,
            macs_only_mape_pct: self.macs_only_mape_pct,
            gmacs_spread: self.gmacs_spread,
        }
    }

    /// The fates summed by source category, largest eager time first: (category, nodes
    /// without their own op, their eager ns).
    pub fn gone_by_category(&self) -> Vec<(String, usize, u64)> {
        let mut by: BTreeMap<&str, (usize, u64)> = BTreeMap::new();
        for f in &self.fates {
            let e = by.entry(f.category.as_str()).or_default();
            e.0 += f.gone();
            e.1 += f.eager_ns;
        }
        let mut v: Vec<(String, usize, u64)> = by
            .into_iter()
            .map(|(c, (n, ns))| (c.to_string(), n, ns))
            .collect();
        v.sort_by(|a, b| b.2.cmp(&a.2).then(a.0.cmp(&b.0)));
        v
    }
}

/// Every device with at least one model measured both ways, in device order; `metrics` is
/// parallel to `Dataset::runs`.
pub fn compare(data: &Dataset, metrics: &[ModelMetrics]) -> Vec<EagerDevice> {
    if data.eager.is_empty() {
        return Vec::new();
    }
    let mut eager_of: HashMap<(usize, &str), usize> = HashMap::new();
    for (ix, r) in data.eager.iter().enumerate() {
        eager_of
            .entry((r.device, r.model.model.as_str()))
            .or_insert(ix);
    }
    // Per device, (optimized run, eager run) of each model's first optimized run.
    let mut pairs: BTreeMap<usize, Vec<(usize, usize)>> = BTreeMap::new();
    let mut seen = HashSet::new();
    for (i, r) in data.runs.iter().enumerate() {
        let key = (r.device, r.model.model.as_str());
        if let Some(&e) = eager_of.get(&key)
            && seen.insert(key)
        {
            pairs.entry(r.device).or_default().push((i, e));
        }
    }
    pairs
        .into_iter()
        .map(|(d, pairs)| device(data, metrics, d, &pairs))
        .collect()
}

fn device(
    data: &Dataset,
    metrics: &[ModelMetrics],
    d: usize,
    pairs: &[(usize, usize)],
) -> EagerDevice {
    let mut models = Vec::new();
    let (mut optimized, mut eager) = (Side::default(), Side::default());
    let mut categories: BTreeMap<String, CategoryPair> = BTreeMap::new();
    let mut fates: BTreeMap<String, SourceFate> = BTreeMap::new();
    for &(o, e) in pairs {
        let (orun, erun) = (&data.runs[o], &data.eager[e]);
        let em = ModelMetrics::compute(&erun.nodes, &erun.ops);
        let pair = ModelPair {
            model: orun.model.model.clone(),
            optimized_run: o,
            eager_run: e,
            optimized: Side::of(orun, &metrics[o]),
            eager: Side::of(erun, &em),
        };
        optimized.add(&pair.optimized);
        eager.add(&pair.eager);
        for (side, m) in [(true, &metrics[o]), (false, &em)] {
            for (c, agg) in &m.executed {
                let row = categories.entry(c.clone()).or_insert_with(|| CategoryPair {
                    category: c.clone(),
                    optimized: Time::default(),
                    eager: Time::default(),
                });
                let t = if side {
                    &mut row.optimized
                } else {
                    &mut row.eager
                };
                t.ops += agg.ops;
                t.ns += agg.wall_ns;
            }
        }
        source_fates(orun, erun, &mut fates);
        models.push(pair);
    }
    let order = ordered_keys(categories.keys());
    let categories = order.iter().filter_map(|c| categories.remove(c)).collect();
    let mut fates: Vec<SourceFate> = fates.into_values().filter(|f| f.gone() > 0).collect();
    fates.sort_by(|a, b| {
        b.eager_ns
            .cmp(&a.eager_ns)
            .then(a.source_op.cmp(&b.source_op))
    });
    let runs = |eager: bool| -> Vec<&ModelRun> {
        pairs
            .iter()
            .map(|&(o, e)| if eager { &data.eager[e] } else { &data.runs[o] })
            .collect()
    };
    let both = |f: fn(&[&ModelRun]) -> Option<f64>| {
        Some(BothWays {
            optimized: f(&runs(false))?,
            eager: f(&runs(true))?,
        })
    };
    let first = &data.runs[pairs[0].0];
    EagerDevice {
        device: d,
        tract_version: first.header.tract_version.clone(),
        optimize: first.model.optimize.clone(),
        models,
        optimized,
        eager,
        categories,
        fates,
        macs_only_mape_pct: both(macs_only_mape_pct),
        gmacs_spread: both(gmacs_spread),
    }
}

/// Adds what became of `eager`'s source nodes in `optimized` to `fates`, by source op type.
fn source_fates(optimized: &ModelRun, eager: &ModelRun, fates: &mut BTreeMap<String, SourceFate>) {
    let own: HashSet<&str> = optimized
        .ops
        .iter()
        .filter_map(|op| op.source_node.as_deref())
        .collect();
    // Every name an optimized op carries: its executed node's name and each prefix of it that
    // ends before a '.' (tract names a fused kernel after a node it absorbed, with suffixes:
    // `…/Relu.low.prefused`), and the nodes listed in its `fused_sources`.
    let mut named: HashSet<&str> = HashSet::new();
    for op in &optimized.ops {
        let name: &str = &op.node;
        named.insert(name);
        for (i, _) in name.match_indices('.') {
            named.insert(&name[..i]);
        }
        named.extend(op.fused_sources.iter().map(|s| s.as_str()));
    }
    let node_of: HashMap<&str, &crate::record::NodeRecord> =
        eager.nodes.iter().map(|n| (n.node.as_str(), n)).collect();
    // Eager time per source node, in first-op order.
    let mut nodes: Vec<(&str, u64, u64, &str, &str)> = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    for op in &eager.ops {
        let Some(src) = op.source_node.as_deref() else {
            continue;
        };
        let ix = *index.entry(src).or_insert_with(|| {
            let n = node_of.get(src);
            let op_type = n.map(|n| n.op_type.as_str()).or(op.source_op.as_deref());
            let category = n
                .map(|n| n.category.as_str())
                .or(op.source_category.as_deref());
            nodes.push((
                src,
                0,
                0,
                op_type.unwrap_or("?"),
                category.unwrap_or("other"),
            ));
            nodes.len() - 1
        });
        nodes[ix].1 = nodes[ix].1.saturating_add(op.wall_ns.median);
        if op.cost.macs == 0 {
            nodes[ix].2 = nodes[ix].2.saturating_add(op.wall_ns.median);
        }
    }
    for (src, ns, hidden_ns, op_type, category) in nodes {
        let f = fates
            .entry(op_type.to_string())
            .or_insert_with(|| SourceFate {
                source_op: op_type.to_string(),
                category: category.to_string(),
                ..SourceFate::default()
            });
        f.nodes += 1;
        if own.contains(src) {
            continue;
        }
        if named.contains(src) {
            f.merged += 1;
        } else {
            f.removed += 1;
        }
        f.eager_ns += ns;
        f.eager_hidden_ns += hidden_ns;
    }
}

/// Mean absolute percentage error of `latency = a · MACs + b` fitted on all models but one and
/// predicting it, over the models (`None` below [`MIN_MODELS_FOR_FIT`]).
pub fn macs_only_mape_pct(runs: &[&ModelRun]) -> Option<f64> {
    if runs.len() < MIN_MODELS_FOR_FIT {
        return None;
    }
    let (mut predicted, mut measured) = (Vec::new(), Vec::new());
    for (i, run) in runs.iter().enumerate() {
        let train: Vec<&ModelRun> = runs
            .iter()
            .enumerate()
            .filter(|(j, _)| *j != i)
            .map(|(_, r)| *r)
            .collect();
        predicted.push(fit_macs_only(&train).latency_ns(run.model.cost.macs));
        measured.push(run.model.latency_ns.median as f64);
    }
    mape_pct(&predicted, &measured)
}

/// Highest over lowest achieved GMAC/s (MACs / clean median latency) of the models with MACs
/// and a latency (`None` below 2 of them).
pub fn gmacs_spread(runs: &[&ModelRun]) -> Option<f64> {
    let rates: Vec<f64> = runs
        .iter()
        .filter(|r| r.model.latency_ns.median > 0 && r.model.cost.macs > 0)
        .map(|r| r.model.cost.macs as f64 / r.model.latency_ns.median as f64)
        .collect();
    if rates.len() < 2 {
        return None;
    }
    let hi = rates.iter().copied().fold(f64::MIN, f64::max);
    let lo = rates.iter().copied().fold(f64::MAX, f64::min);
    Some(hi / lo)
}
