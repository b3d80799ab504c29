//! int8 against fp32: each model measured in its int8 form (the `int8` rewrite, onnxruntime's
//! QDQ format) beside its fp32 form, in its rewrite group ([`super::advise`]). Per model: int8
//! latency over fp32 (the fp32 reference interpolated between the as-is runs around the group,
//! with the change's noise, exactly as `advise` measures every change), and where the op time
//! moved between four parts: integer kernels (ops with `int8_macs` > 0), the `quantize`
//! category (Q/DQ and the casts and rescaling around integer ops), the f32 conv and linear
//! kernels (the other `conv` and `linear` ops), and everything else. Per device: the values of
//! the Finding. Values only: the report words them.

use super::advise::{Change, ModelAdvice, Verdict};
use crate::load::Dataset;
use crate::load::op::Op;

/// The rewrite that names a model's int8 form.
pub const INT8: &str = "int8";

/// One run's op time (Σ of the ops' median wall time) in the four parts int8 moves it between.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TimeSplit {
    /// Ops that run integer kernels (`int8_macs` > 0).
    pub integer_ns: u64,
    /// Ops of the `quantize` category.
    pub quantize_ns: u64,
    /// The other `conv` and `linear` ops: f32 kernels.
    pub float_ns: u64,
    /// Everything else.
    pub other_ns: u64,
    /// MACs of the run's ops, and those on 8-bit integers.
    pub macs: u64,
    pub int8_macs: u64,
}

impl TimeSplit {
    pub fn of(ops: &[Op]) -> TimeSplit {
        let mut t = TimeSplit::default();
        for op in ops {
            let ns = op.wall_ns.median;
            let part = if op.cost.int8_macs > 0 {
                &mut t.integer_ns
            } else if op.category.as_str() == "quantize" {
                &mut t.quantize_ns
            } else if matches!(op.category.as_str(), "conv" | "linear") {
                &mut t.float_ns
            } else {
                &mut t.other_ns
            };
            *part = part.saturating_add(ns);
            t.macs = t.macs.saturating_add(op.cost.macs);
            t.int8_macs = t.int8_macs.saturating_add(op.cost.int8_macs);
        }
        t
    }

    /// All op time.
    pub fn total_ns(&self) -> u64 {
        self.integer_ns
            .saturating_add(self.quantize_ns)
            .saturating_add(self.float_ns)
            .saturating_add(self.other_ns)
    }

    /// `part_ns` over all op time (0 without op time).
    pub fn share(&self, part_ns: u64) -> f64 {
        match self.total_ns() {
            0 => 0.0,
            total => part_ns as f64 / total as f64,
        }
    }

    fn merge(&mut self, o: &TimeSplit) {
        self.integer_ns = self.integer_ns.saturating_add(o.integer_ns);
        self.quantize_ns = self.quantize_ns.saturating_add(o.quantize_ns);
        self.float_ns = self.float_ns.saturating_add(o.float_ns);
        self.other_ns = self.other_ns.saturating_add(o.other_ns);
        self.macs = self.macs.saturating_add(o.macs);
        self.int8_macs = self.int8_macs.saturating_add(o.int8_macs);
    }
}

/// One model's int8 form against its fp32 form, on one device.
#[derive(Debug, Clone, PartialEq)]
pub struct Int8Model {
    pub device: usize,
    pub model: String,
    /// The int8 rewrite as `advise` measured it: `as_is_ns` is the fp32 reference,
    /// `rewritten_ns` the int8 latency, with their noise and verdict.
    pub change: Change,
    /// int8 latency over the fp32 reference.
    pub ratio: f64,
    /// The op time of the fp32 run the group starts with, and of the int8 run.
    pub fp32: TimeSplit,
    pub int8: TimeSplit,
}

/// Every model measured in its int8 form, in the order of `advice` (per device, log order).
pub fn compute(data: &Dataset, advice: &[ModelAdvice]) -> Vec<Int8Model> {
    let mut out = Vec::new();
    for a in advice {
        let Some(c) = a.changes.iter().find(|c| c.rewrite == INT8) else {
            continue;
        };
        let ratio = match c.as_is_ns {
            0 => continue,
            fp32 => c.rewritten_ns as f64 / fp32 as f64,
        };
        out.push(Int8Model {
            device: a.device,
            model: a.model.clone(),
            change: c.clone(),
            ratio,
            fp32: TimeSplit::of(&data.rewrites[a.as_is].ops),
            int8: TimeSplit::of(&data.rewrites[c.run].ops),
        });
    }
    out
}

/// What one device's int8 forms say, for the Findings.
#[derive(Debug, Clone, PartialEq)]
pub struct Int8Finding {
    pub models: usize,
    /// Slower and faster than fp32 beyond the noise.
    pub slower: usize,
    pub faster: usize,
    /// The lowest and highest int8 / fp32 latency ratio.
    pub ratio_range: (f64, f64),
    /// The model with the longest fp32 latency: (model, fp32 ns, int8 ns).
    pub largest: (String, u64, u64),
    /// The int8 runs' op time summed over the models: the quantize ops' share of it, and the
    /// integer kernels'.
    pub quantize_share: f64,
    pub integer_share: f64,
    /// The int8 runs' MACs on integers over all their MACs (0: every conv and matmul ran f32).
    pub int8_macs_share: f64,
}

/// The Finding of device `device` (`None`: no int8 form measured there).
pub fn finding(models: &[Int8Model], device: usize) -> Option<Int8Finding> {
    let mine: Vec<&Int8Model> = models.iter().filter(|m| m.device == device).collect();
    let largest = mine.iter().max_by_key(|m| m.change.as_is_ns)?;
    let mut int8 = TimeSplit::default();
    for m in &mine {
        int8.merge(&m.int8);
    }
    let ratios = mine.iter().map(|m| m.ratio);
    let count = |v: Verdict| mine.iter().filter(|m| m.change.verdict == v).count();
    Some(Int8Finding {
        models: mine.len(),
        slower: count(Verdict::Slower),
        faster: count(Verdict::Faster),
        ratio_range: (
            ratios.clone().fold(f64::INFINITY, f64::min),
            ratios.fold(f64::NEG_INFINITY, f64::max),
        ),
        largest: (
            largest.model.clone(),
            largest.change.as_is_ns,
            largest.change.rewritten_ns,
        ),
        quantize_share: int8.share(int8.quantize_ns),
        integer_share: int8.share(int8.integer_ns),
        int8_macs_share: match int8.macs {
            0 => 0.0,
            macs => int8.int8_macs as f64 / macs as f64,
        },
    })
}
