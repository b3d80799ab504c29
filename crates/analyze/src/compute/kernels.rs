//! The kernel-level latency model: one linear model per executed tract kernel type (after
//! tract's fusion and rewrites: `OptMatMul`, `DepthWiseConv`, `OptMaxPool`, ...), fitted by
//! non-negative least squares on the op records of some logs (the sweep's micro-models and
//! kernel probes), and a map from the sum over a model's kernels to its clean end-to-end
//! latency. Every coefficient is a number of nanoseconds per unit of a named feature
//! ([`FEATURES`]), so a prediction splits into the kernels' shares.
//!
//! Per kernel call, `ns = c · x` with x = (MACs, other FLOPs, bytes read, bytes written, weight
//! bytes, output rows, bytes beyond L1, beyond L2, beyond L3, 1): the three `beyond` features are the call's bytes (read
//! plus written) when they exceed that cache level, else 0, so the time per byte may only rise
//! (the coefficients are non-negative) where the working set leaves a cache: piecewise linear
//! in bytes with knees at the header's cache sizes. Calls are fitted by plain (unweighted)
//! least squares: a model's latency is a sum over its calls, so the large calls, which make
//! most of it, must be right (weighting by 1 / time, relative error, fitted the many small
//! calls and missed the large ones: kernel sums 19% to 62% low on the zoo log `tests/golden/zoo_vm_probe.jsonl`).
//!
//! A kernel type with at least [`MIN_SAMPLES`] training calls is predicted from its nearest
//! training calls ([`super::nearest`]) rather than its linear fit, which stays as the kernel's
//! cost per unit; a type with fewer uses the nearest calls of its category, then the linear
//! fit of its category (every training call of that category), then the fit of every call
//! (`pooled`); a prediction names the types it did that for. A model's latency is
//! `per_op_scale · Σ calls + ns_per_executed_op · executed ops + ns_per_inference`, fitted on
//! the training models' clean latency against their measured Σ op time (profiled against clean
//! runs, and tract's dispatch between ops).
//!
//! A call with MACs on 8-bit integer operands (`int8_macs`) is keyed apart: its kernel type
//! and its category carry [`INT8_KEY`] (`OptMatMul[i8]`, `conv[i8]`), so tract's integer
//! `OptMatMul` (0.5 GMAC/s on the x86 VM) is never predicted from the f32 one (47 GMAC/s).

use super::nearest::{NearCall, Nearest};
use crate::error::BadFit;
use crate::load::Op;
use crate::record::{Cost, Header};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::BTreeMap;

#[path = "kernels_fit.rs"]
mod fitting;
pub use fitting::{TrainingModel, fit};

/// (name, unit, definition) of each kernel feature, in coefficient order.
pub const FEATURES: [(&str, &str, &str); F] = [
    (
        "macs",
        "MAC",
        "multiply-accumulates of the call (its share of the source node's, by tract's FMA counts)",
    ),
    (
        "flops_other",
        "FLOP",
        "arithmetic besides the MACs: pooling windows, elementwise ops, bias (flops - 2 x macs)",
    ),
    (
        "bytes_read",
        "byte",
        "bytes the call reads: its input tensors, the packed constants its kernel holds, and \
         im2col and packing scratch",
    ),
    (
        "bytes_written",
        "byte",
        "bytes the call writes: its output tensors and the scratch it fills",
    ),
    (
        "weight_bytes",
        "byte",
        "bytes of its constant operands (weights, biases), plain or packed: a subset of \
         bytes_read; per output channel for a depthwise conv",
    ),
    (
        "output_rows",
        "row",
        "rows of the first output (its elements / its innermost dimension): a kernel's loop \
         over rows, e.g. channels x output lines of a depthwise conv",
    ),
    (
        "bytes_beyond_l1",
        "byte",
        "bytes read + written when they exceed the L1 data cache, else 0",
    ),
    (
        "bytes_beyond_l2",
        "byte",
        "bytes read + written when they exceed the L2 cache, else 0",
    ),
    (
        "bytes_beyond_l3",
        "byte",
        "bytes read + written when they exceed the last cache level, else 0",
    ),
    ("call", "call", "1 per executed kernel call"),
];

/// Number of kernel features.
pub const F: usize = 10;

/// A kernel type needs this many training calls for a fit of its own.
pub const MIN_SAMPLES: usize = 10;

/// In the end-to-end map's relative-error rows, models shorter than this (ns) weigh as if they
/// took this long.
const MIN_WEIGHT_NS: f64 = 200.0;

/// One executed kernel call as the model sees it: tract's op name, its category and its static
/// cost. From an op record, or at the CLI edge from tract's plan without running it.
#[derive(Debug, Clone, PartialEq)]
pub struct KernelCall {
    pub op: String,
    pub category: String,
    pub cost: Cost,
    /// Rows of the first output: its elements / its innermost dimension (1 for a scalar).
    pub output_rows: u64,
}

/// Rows of a tensor of this shape: elements / innermost dimension.
pub fn rows(shape: &[usize]) -> u64 {
    match shape.split_last() {
        Some((_, outer)) => outer.iter().map(|&d| d as u64).product(),
        None => 1,
    }
}

impl KernelCall {
    pub fn of(op: &Op) -> Self {
        KernelCall {
            op: op.op.to_string(),
            category: op.category.to_string(),
            cost: op.cost,
            output_rows: op.output_shapes.first().map_or(1, |s| rows(s)),
        }
    }
}

/// A call's size and time as [`super::nearest`] compares them.
fn near_call(call: &KernelCall, wall_ns: f64) -> NearCall {
    NearCall {
        macs: call.cost.macs,
        bytes_moved: call.cost.traffic_bytes(),
        weight_bytes: const_bytes(&call.cost),
        wall_ns,
    }
}

/// What a call on 8-bit integer operands adds to its kernel type and category.
pub const INT8_KEY: &str = "[i8]";

impl KernelCall {
    /// Its kernel type ([`kernel_type`]), with [`INT8_KEY`] when it computes MACs on 8-bit
    /// integers: the same op name runs another kernel then.
    pub fn kernel_key(&self) -> Cow<'_, str> {
        int8_key(kernel_type(&self.op), &self.cost)
    }

    /// Its category, with [`INT8_KEY`] when it computes MACs on 8-bit integers.
    pub fn category_key(&self) -> Cow<'_, str> {
        int8_key(&self.category, &self.cost)
    }
}

fn int8_key<'a>(name: &'a str, cost: &Cost) -> Cow<'a, str> {
    if cost.int8_macs > 0 {
        let mut key = String::with_capacity(name.len() + INT8_KEY.len());
        key.push_str(name);
        key.push_str(INT8_KEY);
        Cow::Owned(key)
    } else {
        Cow::Borrowed(name)
    }
}

/// The kernel type of an executed op name: the name without its argument list, so
/// `OptBinChain(Mul+Add+Max)` and `OptBinChain(Add+Max)` are one type (an elementwise chain),
/// while `Reduce<Sum>` keeps its reducer.
pub fn kernel_type(op: &str) -> &str {
    op.split('(').next().unwrap_or(op).trim()
}

/// The cache sizes the piecewise features bend at (`None`: no knee there).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct CacheKnees {
    pub l1_bytes: Option<u64>,
    pub l2_bytes: Option<u64>,
    pub l3_bytes: Option<u64>,
}

impl CacheKnees {
    /// From the header's machine probe: sysfs cache sizes (data or unified), else the
    /// bandwidth probe's capacities.
    pub fn of(header: &Header) -> Self {
        let Some(m) = header.machine.as_ref() else {
            return CacheKnees::default();
        };
        let level = |n: u8, name: &str| {
            m.caches
                .iter()
                .find(|c| c.level == n && c.kind != "Instruction")
                .map(|c| c.size_bytes)
                .or_else(|| {
                    m.bandwidth
                        .iter()
                        .find(|b| b.level == name)
                        .and_then(|b| b.capacity_bytes)
                })
                .filter(|&b| b > 0)
        };
        CacheKnees {
            l1_bytes: level(1, "L1"),
            l2_bytes: level(2, "L2"),
            l3_bytes: level(3, "L3"),
        }
    }
}

/// Bytes of a call's constant operands, plain inputs and packed ones held by its kernel.
fn const_bytes(cost: &Cost) -> u64 {
    cost.weight_bytes.saturating_add(cost.packed_const_bytes)
}

/// The features of one call, in [`FEATURES`] order.
pub fn features(call: &KernelCall, knees: &CacheKnees) -> [f64; F] {
    let cost = &call.cost;
    let moved = cost.traffic_bytes();
    let beyond = |knee: Option<u64>| match knee {
        Some(k) if moved > k => moved as f64,
        _ => 0.0,
    };
    [
        cost.macs as f64,
        cost.flops.saturating_sub(cost.macs.saturating_mul(2)) as f64,
        cost.traffic_read_bytes() as f64,
        cost.traffic_written_bytes() as f64,
        const_bytes(cost) as f64,
        call.output_rows as f64,
        beyond(knees.l1_bytes),
        beyond(knees.l2_bytes),
        beyond(knees.l3_bytes),
        1.0,
    ]
}

/// Nanoseconds per unit of each feature, for one kernel type (or category, or all calls).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct KernelCoefficients {
    pub ns_per_mac: f64,
    pub ns_per_flop_other: f64,
    pub ns_per_byte_read: f64,
    pub ns_per_byte_written: f64,
    pub ns_per_weight_byte: f64,
    pub ns_per_output_row: f64,
    pub ns_per_byte_beyond_l1: f64,
    pub ns_per_byte_beyond_l2: f64,
    pub ns_per_byte_beyond_l3: f64,
    pub ns_per_call: f64,
    /// Training calls this was fitted on.
    pub samples: usize,
    /// Mean absolute relative error over those calls, percent (how well the linear form fits
    /// the kernel on its own training data; not a held-out figure).
    #[serde(deserialize_with = "super::stats::f64_or_null")]
    pub train_mape_pct: f64,
}

impl KernelCoefficients {
    fn from_array(c: &[f64], samples: usize) -> Self {
        KernelCoefficients {
            ns_per_mac: c[0],
            ns_per_flop_other: c[1],
            ns_per_byte_read: c[2],
            ns_per_byte_written: c[3],
            ns_per_weight_byte: c[4],
            ns_per_output_row: c[5],
            ns_per_byte_beyond_l1: c[6],
            ns_per_byte_beyond_l2: c[7],
            ns_per_byte_beyond_l3: c[8],
            ns_per_call: c[9],
            samples,
            train_mape_pct: f64::NAN,
        }
    }

    pub fn as_array(&self) -> [f64; F] {
        [
            self.ns_per_mac,
            self.ns_per_flop_other,
            self.ns_per_byte_read,
            self.ns_per_byte_written,
            self.ns_per_weight_byte,
            self.ns_per_output_row,
            self.ns_per_byte_beyond_l1,
            self.ns_per_byte_beyond_l2,
            self.ns_per_byte_beyond_l3,
            self.ns_per_call,
        ]
    }

    pub fn call_ns(&self, x: &[f64; F]) -> f64 {
        x.iter().zip(self.as_array()).map(|(a, b)| a * b).sum()
    }

    fn is_valid(&self) -> bool {
        self.as_array().iter().all(|v| v.is_finite() && *v >= 0.0)
    }
}

/// `latency_ns = per_op_scale · Σ calls + ns_per_executed_op · executed ops + ns_per_inference`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct EndToEnd {
    pub per_op_scale: f64,
    pub ns_per_executed_op: f64,
    pub ns_per_inference: f64,
    /// Training models this was fitted on.
    pub models: usize,
}

impl Default for EndToEnd {
    fn default() -> Self {
        EndToEnd {
            per_op_scale: 1.0,
            ns_per_executed_op: 0.0,
            ns_per_inference: 0.0,
            models: 0,
        }
    }
}

/// The fitted kernel model of one device (stored in fit.json).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct KernelModel {
    pub knees: CacheKnees,
    /// By kernel key ([`KernelCall::kernel_key`]: the type, `[i8]` on integer operands), for
    /// keys with at least [`MIN_SAMPLES`] calls.
    pub kernels: BTreeMap<String, KernelCoefficients>,
    /// By executed-op category, for types without a fit of their own.
    pub categories: BTreeMap<String, KernelCoefficients>,
    /// Every training call, for types whose category has no fit either.
    pub pooled: KernelCoefficients,
    pub end_to_end: EndToEnd,
    /// Kernel calls and models it was fitted on.
    pub calls: usize,
    pub models: usize,
    /// The nearest-probes estimate ([`super::nearest`]), which predicts the types it holds in
    /// place of their linear fit (absent in fit.json files before version 3).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nearest: Option<Nearest>,
}

/// Which coefficients a kernel type was predicted with.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum Via {
    /// Its own fit.
    Kernel,
    /// Unseen (or too rare) in training: its category's fit.
    Category(String),
    /// Neither it nor its category in training: the fit over every call.
    Pooled,
}

/// The predicted share of one kernel type in a model.
#[derive(Debug, Clone, PartialEq)]
pub struct KernelShare {
    pub kernel: String,
    pub calls: usize,
    /// `per_op_scale` · its calls' predicted time.
    pub ns: f64,
    pub via: Via,
}

/// A model's latency from its kernel calls.
#[derive(Debug, Clone, PartialEq)]
pub struct KernelPrediction {
    pub latency_ns: f64,
    /// By kernel type, largest first (they and `overhead_ns` sum to `latency_ns`).
    pub shares: Vec<KernelShare>,
    /// `ns_per_executed_op · executed ops + ns_per_inference`.
    pub overhead_ns: f64,
    pub executed_ops: usize,
}

impl KernelPrediction {
    /// The kernel types predicted through a fallback, with the fit they used.
    pub fn fallbacks(&self) -> Vec<&KernelShare> {
        self.shares
            .iter()
            .filter(|s| s.via != Via::Kernel)
            .collect()
    }
}

impl KernelModel {
    /// The coefficients for one call of kernel key `kernel` and category key `category`
    /// ([`KernelCall::kernel_key`], [`KernelCall::category_key`]), and where they came from.
    pub fn coefficients(&self, kernel: &str, category: &str) -> (&KernelCoefficients, Via) {
        if let Some(c) = self.kernels.get(kernel) {
            (c, Via::Kernel)
        } else if let Some(c) = self.categories.get(category) {
            (c, Via::Category(category.to_string()))
        } else {
            (&self.pooled, Via::Pooled)
        }
    }

    /// Unscaled predicted time of one call, and where it came from: the nearest training
    /// calls of its type when the model holds them, else the linear coefficients.
    pub fn call_ns_via(&self, call: &KernelCall) -> (f64, Via) {
        let (kernel, category) = (call.kernel_key(), call.category_key());
        let near = self
            .nearest
            .as_ref()
            .and_then(|n| n.call_ns(&kernel, &category, &near_call(call, 0.0)));
        if let Some(near) = near {
            return match near {
                (ns, None) => (ns, Via::Kernel),
                (ns, Some(category)) => (ns, Via::Category(category.to_string())),
            };
        }
        let (c, via) = self.coefficients(&kernel, &category);
        (c.call_ns(&features(call, &self.knees)), via)
    }

    /// Unscaled predicted time of one call.
    pub fn call_ns(&self, call: &KernelCall) -> f64 {
        self.call_ns_via(call).0
    }

    pub fn predict(&self, calls: &[KernelCall]) -> KernelPrediction {
        let e = &self.end_to_end;
        let mut by_type: BTreeMap<Cow<'_, str>, KernelShare> = BTreeMap::new();
        for call in calls {
            let (ns, via) = self.call_ns_via(call);
            let ns = e.per_op_scale * ns;
            let t = call.kernel_key();
            let share = by_type.entry(t.clone()).or_insert_with(|| KernelShare {
                kernel: t.into_owned(),
                calls: 0,
                ns: 0.0,
                via,
            });
            share.calls += 1;
            share.ns += ns;
        }
        let mut shares: Vec<KernelShare> = by_type.into_values().collect();
        shares.sort_by(|a, b| b.ns.total_cmp(&a.ns).then(a.kernel.cmp(&b.kernel)));
        let overhead_ns = e.ns_per_executed_op * calls.len() as f64 + e.ns_per_inference;
        KernelPrediction {
            latency_ns: shares.iter().map(|s| s.ns).sum::<f64>() + overhead_ns,
            shares,
            overhead_ns,
            executed_ops: calls.len(),
        }
    }

    /// Whether every coefficient is a finite non-negative number (a hand-edited fit.json may
    /// not be).
    pub fn check(&self) -> Result<(), BadFit> {
        let bad = self
            .kernels
            .iter()
            .chain(&self.categories)
            .find(|(_, c)| !c.is_valid())
            .map(|(k, _)| k.clone())
            .or_else(|| (!self.pooled.is_valid()).then(|| "pooled".to_string()));
        if let Some(k) = bad {
            return Err(BadFit::Coefficients(k));
        }
        if let Some(n) = &self.nearest {
            n.check()?;
        }
        let e = &self.end_to_end;
        if ![e.per_op_scale, e.ns_per_executed_op, e.ns_per_inference]
            .iter()
            .all(|v| v.is_finite() && *v >= 0.0)
        {
            return Err(BadFit::EndToEnd);
        }
        Ok(())
    }
}

#[cfg(test)]
#[path = "kernels_tests.rs"]
mod tests;
