//! Nearest probes: the time of a kernel call from the training calls of the same kernel type
//! that are nearest to it in size, the part of the kernel model ([`super::kernels`]) that
//! predicts every kernel type with enough training calls.
//!
//! One linear law per kernel type cannot follow a kernel's efficiency across its shapes: the
//! ns per MAC of tract's `OptMatMul` falls from about 0.09 at 2^14 MACs to 0.03 at 2^22 on the
//! development VM, and a least-squares fit over every size is right for the large calls and
//! wrong for the small ones (the four small networks' kernel sums came out 16-55% high on a
//! quiet zoo log). Here a call's **rate** (ns per MAC for a kernel with MACs, else ns per
//! byte read and written) is the distance-weighted geometric mean of the rates of its `k`
//! nearest training calls of the same type (else of its category), in the space of (log2
//! MACs, log2 bytes moved, log2 weight bytes); its time is that rate times its own MACs (or
//! bytes). Calls with MACs are compared only with calls with MACs. `k` is chosen per device by leaving each training model out in
//! turn and predicting its calls from the others' ([`CANDIDATE_K`], the least time-weighted
//! error wins), so it is not tuned on the models that are validated.
//!
//! Bounded: at most [`MAX_CALLS_PER_KERNEL`] calls are kept per kernel type and per category
//! (an even subsample in training order beyond that), so a prediction costs at most that many distances per call
//! and the choice of `k` at most that many squared per type.

use super::kernels::{KernelCall, kernel_type};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The neighbour counts the leave-one-model-out choice tries.
pub const CANDIDATE_K: [usize; 8] = [1, 2, 3, 4, 6, 8, 12, 16];
/// Training calls kept per kernel type.
pub const MAX_CALLS_PER_KERNEL: usize = 2_000;

/// One training call: its size and its measured median time.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct NearCall {
    pub macs: u64,
    /// Bytes read plus bytes written.
    pub bytes_moved: u64,
    pub weight_bytes: u64,
    pub wall_ns: f64,
}

impl NearCall {
    pub fn of(call: &KernelCall, wall_ns: f64) -> Self {
        NearCall {
            macs: call.cost.macs,
            bytes_moved: call.cost.bytes_read.saturating_add(call.cost.bytes_written),
            weight_bytes: call.cost.weight_bytes,
            wall_ns,
        }
    }

    fn position(&self) -> [f64; 3] {
        let l = |v: u64| (v as f64 + 1.0).log2();
        [l(self.macs), l(self.bytes_moved), l(self.weight_bytes)]
    }

    /// What the rate is per: MACs, else bytes moved (at least 1).
    fn work(&self) -> f64 {
        if self.macs > 0 {
            self.macs as f64
        } else {
            self.bytes_moved.max(1) as f64
        }
    }
}

/// The nearest-probes part of one device's kernel model (stored in fit.json).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Nearest {
    /// Neighbours per prediction.
    pub k: usize,
    /// With this `k`, Σ |predicted - measured| / Σ measured over the training calls, each
    /// predicted with its own model left out, percent.
    pub leave_one_model_out_error_pct: f64,
    /// By kernel type ([`kernel_type`]): the training calls, for types with at least
    /// [`super::kernels::MIN_SAMPLES`] of them.
    pub kernels: BTreeMap<String, Vec<NearCall>>,
    /// By executed-op category: every training call of it, for kernel types with too few
    /// calls of their own (for categories with at least as many calls).
    #[serde(default)]
    pub categories: BTreeMap<String, Vec<NearCall>>,
}

/// The `k` training calls of `pool` nearest to `at` among those of its kind (with or without
/// MACs) that `skip` keeps, nearest first, as (squared distance, ln rate).
fn nearest(
    pool: &[NearCall],
    at: &NearCall,
    k: usize,
    skip: impl Fn(usize) -> bool,
) -> Vec<(f64, f64)> {
    let p = at.position();
    let mut near: Vec<(f64, f64)> = pool
        .iter()
        .enumerate()
        .filter(|(i, c)| !skip(*i) && (c.macs > 0) == (at.macs > 0) && c.wall_ns > 0.0)
        .map(|(_, c)| {
            let q = c.position();
            let d2 = (0..3).map(|j| (p[j] - q[j]).powi(2)).sum::<f64>();
            (d2, (c.wall_ns / c.work()).ln())
        })
        .collect();
    let k = k.max(1);
    if near.len() > k {
        near.select_nth_unstable_by(k - 1, |a, b| a.0.total_cmp(&b.0));
        near.truncate(k);
    }
    near.sort_by(|a, b| a.0.total_cmp(&b.0));
    near
}

/// The time of `at` from its nearest calls' rates: their geometric mean weighted by
/// 1 / (1 + squared distance), times its own work. `None` without neighbours.
fn combine(near: &[(f64, f64)], at: &NearCall) -> Option<f64> {
    let (mut sum_w, mut sum_wr) = (0.0, 0.0);
    for (d2, log_rate) in near {
        let w = 1.0 / (1.0 + d2);
        sum_w += w;
        sum_wr += w * log_rate;
    }
    let ns = (sum_wr / sum_w).exp() * at.work();
    (sum_w > 0.0 && ns.is_finite()).then_some(ns)
}

/// Every `n / max`-th element, so that at most `max` are kept, in order.
fn thin<T: Copy>(v: &[T], max: usize) -> Vec<T> {
    if v.len() <= max {
        return v.to_vec();
    }
    (0..max).map(|i| v[i * v.len() / max]).collect()
}

impl Nearest {
    /// Fits on training calls `(model index, call, median wall ns)`; keeps the types with at
    /// least `min_samples` calls. `None` when no type has that many.
    pub fn fit(calls: &[(usize, &KernelCall, f64)], min_samples: usize) -> Option<Nearest> {
        let mut by_kernel: BTreeMap<&str, Vec<(usize, NearCall)>> = BTreeMap::new();
        let mut by_category: BTreeMap<&str, Vec<NearCall>> = BTreeMap::new();
        for &(model, call, ns) in calls {
            if ns.is_finite() && ns > 0.0 {
                let c = NearCall::of(call, ns);
                by_kernel
                    .entry(kernel_type(&call.op))
                    .or_default()
                    .push((model, c));
                by_category.entry(&call.category).or_default().push(c);
            }
        }
        let kept: BTreeMap<&str, Vec<(usize, NearCall)>> = by_kernel
            .into_iter()
            .filter(|(_, v)| v.len() >= min_samples)
            .map(|(t, v)| (t, thin(&v, MAX_CALLS_PER_KERNEL)))
            .collect();
        if kept.is_empty() {
            return None;
        }
        let categories = by_category
            .into_iter()
            .filter(|(_, v)| v.len() >= min_samples)
            .map(|(c, v)| (c.to_string(), thin(&v, MAX_CALLS_PER_KERNEL)))
            .collect();
        // Leave one model out: each call predicted from the other models' calls of its type,
        // its neighbours found once for the largest k.
        let k_max = CANDIDATE_K[CANDIDATE_K.len() - 1];
        let (mut err, mut total) = ([0.0; CANDIDATE_K.len()], [0.0; CANDIDATE_K.len()]);
        for v in kept.values() {
            let pool: Vec<NearCall> = v.iter().map(|(_, c)| *c).collect();
            for (model, c) in v {
                let near = nearest(&pool, c, k_max, |i| v[i].0 == *model);
                for (j, k) in CANDIDATE_K.iter().enumerate() {
                    if let Some(ns) = combine(&near[..near.len().min(*k)], c) {
                        err[j] += (ns - c.wall_ns).abs();
                        total[j] += c.wall_ns;
                    }
                }
            }
        }
        let mut best: Option<(usize, f64)> = None;
        for (j, k) in CANDIDATE_K.iter().enumerate() {
            if total[j] > 0.0 {
                let pct = err[j] / total[j] * 100.0;
                if best.is_none_or(|(_, b)| pct < b) {
                    best = Some((*k, pct));
                }
            }
        }
        // With one model per type (nothing to leave out) no `k` could be scored: the median.
        let (k, pct) = best.unwrap_or((CANDIDATE_K[CANDIDATE_K.len() / 2], f64::NAN));
        Some(Nearest {
            k,
            leave_one_model_out_error_pct: pct,
            kernels: kept
                .into_iter()
                .map(|(t, v)| (t.to_string(), v.into_iter().map(|(_, c)| c).collect()))
                .collect(),
            categories,
        })
    }

    /// The predicted time of one call from the nearest calls of its kernel type, else of its
    /// category (then named), when this model holds either.
    pub fn call_ns(&self, call: &KernelCall) -> Option<(f64, Option<&str>)> {
        let at = NearCall::of(call, 0.0);
        let from = |pool: &[NearCall]| combine(&nearest(pool, &at, self.k, |_| false), &at);
        if let Some(ns) = self
            .kernels
            .get(kernel_type(&call.op))
            .and_then(|p| from(p))
        {
            return Some((ns, None));
        }
        let (category, pool) = self.categories.get_key_value(&call.category)?;
        from(pool).map(|ns| (ns, Some(category.as_str())))
    }

    /// Whether `k` and every stored call are usable (a hand-edited fit.json may not be).
    pub fn check(&self) -> Result<(), String> {
        if self.k == 0 {
            return Err("nearest.k is 0".into());
        }
        if let Some((t, _)) = self.kernels.iter().find(|(_, v)| {
            v.len() > MAX_CALLS_PER_KERNEL
                || v.iter().any(|c| !c.wall_ns.is_finite() || c.wall_ns < 0.0)
        }) {
            return Err(format!(
                "nearest calls of `{t}`: more than {MAX_CALLS_PER_KERNEL}, or a time that is not a finite non-negative number"
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Cost;

    fn call(op: &str, macs: u64, bytes: u64) -> KernelCall {
        KernelCall {
            op: op.into(),
            category: "conv".into(),
            cost: Cost {
                macs,
                bytes_read: bytes,
                ..Cost::default()
            },
            output_rows: 1,
        }
    }

    /// A kernel whose ns per MAC falls with size (0.1 at 2^12 MACs to 0.03 beyond 2^20), as
    /// tract's matmul does, which no single linear law follows: the estimate between two
    /// training sizes lies between their rates, and an exact training size gives its time.
    #[test]
    fn follows_a_rate_that_changes_with_size() {
        let rate = |macs: u64| {
            let l = (macs as f64).log2();
            0.1 - 0.07 * ((l - 12.0) / 8.0).clamp(0.0, 1.0)
        };
        let calls: Vec<KernelCall> = (12..=22)
            .map(|e| call("OptMatMul", 1 << e, 1 << (e - 4)))
            .collect();
        let training: Vec<(usize, &KernelCall, f64)> = calls
            .iter()
            .enumerate()
            .map(|(i, c)| (i, c, rate(c.cost.macs) * c.cost.macs as f64))
            .collect();
        let n = Nearest::fit(&training, 10).expect("eleven calls of one type");
        assert_eq!(n.kernels["OptMatMul"].len(), 11);
        assert!(CANDIDATE_K.contains(&n.k));
        assert!(n.leave_one_model_out_error_pct.is_finite());
        // At a training size with k = 1 the estimate is that call's time.
        let one = Nearest { k: 1, ..n.clone() };
        let c = call("OptMatMul", 1 << 16, 1 << 12);
        let (ns, via) = one.call_ns(&c).unwrap();
        assert_eq!(via, None);
        assert!((ns / (rate(1 << 16) * 65536.0) - 1.0).abs() < 1e-9, "{ns}");
        // Between 2^16 and 2^17 MACs: a rate between theirs, far from a linear law's.
        let mid = call("OptMatMul", 3 << 15, 3 << 11);
        let r = n.call_ns(&mid).unwrap().0 / mid.cost.macs as f64;
        assert!(r < rate(1 << 15) && r > rate(1 << 18), "{r}");
        // A type it holds too few calls of is predicted from its category's calls, and one
        // of another category not at all.
        let other = call("DepthWiseConv", 1 << 16, 1 << 12);
        assert_eq!(n.call_ns(&other).unwrap().1, Some("conv"));
        let pool = KernelCall {
            category: "pool".into(),
            ..other
        };
        assert_eq!(n.call_ns(&pool), None);
    }

    /// Calls with MACs are never estimated from calls without, and leave-one-model-out
    /// prefers the k that predicts held-out models best.
    #[test]
    fn keeps_kinds_apart_and_chooses_k() {
        let mut calls = Vec::new();
        for e in 10..30u64 {
            calls.push(call("Pad", 0, 1 << (e / 2 + 4)));
        }
        for e in 10..30u64 {
            calls.push(call("Pad", 1 << e, 1 << 8));
        }
        // Without MACs 1 ns per byte; with MACs 0.5 ns per MAC.
        let training: Vec<(usize, &KernelCall, f64)> = calls
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let ns = if c.cost.macs > 0 {
                    0.5 * c.cost.macs as f64
                } else {
                    c.cost.bytes_read as f64
                };
                (i, c, ns)
            })
            .collect();
        let n = Nearest::fit(&training, 10).unwrap();
        // Exact rates everywhere: every k predicts held-out calls exactly, so the first wins.
        assert_eq!(n.k, CANDIDATE_K[0]);
        assert!(n.leave_one_model_out_error_pct < 1e-9);
        let bytes_only = call("Pad", 0, 5000);
        assert!((n.call_ns(&bytes_only).unwrap().0 - 5000.0).abs() < 1e-6);
        let with_macs = call("Pad", 5000, 5000);
        assert!((n.call_ns(&with_macs).unwrap().0 - 2500.0).abs() < 1e-6);
    }

    #[test]
    fn too_few_calls_and_bounds() {
        let c = call("Concat", 0, 100);
        let few: Vec<(usize, &KernelCall, f64)> = (0..9).map(|i| (i, &c, 10.0)).collect();
        assert_eq!(Nearest::fit(&few, 10), None);
        let many: Vec<(usize, &KernelCall, f64)> = (0..MAX_CALLS_PER_KERNEL * 3)
            .map(|i| (i, &c, 10.0))
            .collect();
        let n = Nearest::fit(&many, 10).unwrap();
        assert_eq!(n.kernels["Concat"].len(), MAX_CALLS_PER_KERNEL);
        assert!(n.check().is_ok());
        let bad = Nearest { k: 0, ..n };
        assert!(bad.check().is_err());
    }
}
