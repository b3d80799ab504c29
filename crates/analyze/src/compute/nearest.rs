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

use crate::error::BadFit;
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
    fn position(&self) -> [f64; 3] {
        let l = |v: u64| (v as f64 + 1.0).log2();
        [l(self.macs), l(self.bytes_moved), l(self.weight_bytes)]
    }

    /// The call as [`nearest`] compares it: its logarithms taken once, not once per pair.
    fn point(&self) -> Point {
        Point {
            position: self.position(),
            ln_rate: (self.wall_ns / self.work()).ln(),
            with_macs: self.macs > 0,
            timed: self.wall_ns > 0.0,
        }
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
    /// predicted with its own model left out, percent; `None` (null) when no call could be
    /// (one model per kernel type: nothing to leave out).
    #[serde(default)]
    pub leave_one_model_out_error_pct: Option<f64>,
    /// By kernel type ([`super::kernels::kernel_type`]): the training calls, for types with at least
    /// [`super::kernels::MIN_SAMPLES`] of them.
    pub kernels: BTreeMap<String, Vec<NearCall>>,
    /// By executed-op category: every training call of it, for kernel types with too few
    /// calls of their own (for categories with at least as many calls).
    #[serde(default)]
    pub categories: BTreeMap<String, Vec<NearCall>>,
    #[serde(skip)]
    points: Points,
}

/// A training call where [`nearest`] measures distances: (log2 MACs, log2 bytes moved, log2
/// weight bytes), and the log of its rate.
#[derive(Debug, Clone, Copy)]
struct Point {
    position: [f64; 3],
    ln_rate: f64,
    with_macs: bool,
    timed: bool,
}

fn points(pool: &[NearCall]) -> Vec<Point> {
    pool.iter().map(NearCall::point).collect()
}

/// The stored calls as [`Point`]s, made on the first prediction: a fit predicts every call
/// of every model from the same pools.
#[derive(Debug, Clone, Default)]
struct Points(std::sync::OnceLock<PointPools>);

type PointPools = (BTreeMap<String, Vec<Point>>, BTreeMap<String, Vec<Point>>);

/// A cache, not part of what a fit is.
impl PartialEq for Points {
    fn eq(&self, _: &Points) -> bool {
        true
    }
}

/// The `k` training calls of `pool` nearest to `at` among those of its kind (with or without
/// MACs) that `skip` keeps, nearest first, as (squared distance, ln rate).
fn nearest(
    pool: &[Point],
    at: &NearCall,
    k: usize,
    skip: impl Fn(usize) -> bool,
) -> Vec<(f64, f64)> {
    let p = at.position();
    let with_macs = at.macs > 0;
    let mut near: Vec<(f64, f64)> = pool
        .iter()
        .enumerate()
        .filter(|(i, c)| !skip(*i) && c.with_macs == with_macs && c.timed)
        .map(|(_, c)| {
            let q = c.position;
            let d2 = (0..3).map(|j| (p[j] - q[j]).powi(2)).sum::<f64>();
            (d2, c.ln_rate)
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
    /// Fits on training calls `(model index, kernel type, category, call)`; keeps the types
    /// (and categories) with at least `min_samples` calls. `None` when no type has that many.
    pub fn fit(calls: &[(usize, &str, &str, NearCall)], min_samples: usize) -> Option<Nearest> {
        let mut by_kernel: BTreeMap<&str, Vec<(usize, NearCall)>> = BTreeMap::new();
        let mut by_category: BTreeMap<&str, Vec<NearCall>> = BTreeMap::new();
        for &(model, kernel, category, c) in calls {
            if c.wall_ns.is_finite() && c.wall_ns > 0.0 {
                by_kernel.entry(kernel).or_default().push((model, c));
                by_category.entry(category).or_default().push(c);
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
            let pool: Vec<Point> = v.iter().map(|(_, c)| c.point()).collect();
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
        let (k, pct) = match best {
            Some((k, pct)) => (k, Some(pct)),
            None => (CANDIDATE_K[CANDIDATE_K.len() / 2], None),
        };
        Some(Nearest {
            k,
            leave_one_model_out_error_pct: pct,
            kernels: kept
                .into_iter()
                .map(|(t, v)| (t.to_string(), v.into_iter().map(|(_, c)| c).collect()))
                .collect(),
            categories,
            points: Points::default(),
        })
    }

    /// The predicted time of a call of this kernel type and category (its `wall_ns` unused)
    /// from the nearest calls of its type, else of its category (then named), when this model
    /// holds either.
    pub fn call_ns(
        &self,
        kernel: &str,
        category: &str,
        at: &NearCall,
    ) -> Option<(f64, Option<&str>)> {
        let (kernels, categories) = self.points.0.get_or_init(|| {
            let all = |m: &BTreeMap<String, Vec<NearCall>>| {
                m.iter().map(|(t, v)| (t.clone(), points(v))).collect()
            };
            (all(&self.kernels), all(&self.categories))
        });
        let from = |pool: &[Point]| combine(&nearest(pool, at, self.k, |_| false), at);
        if let Some(ns) = kernels.get(kernel).and_then(|p| from(p)) {
            return Some((ns, None));
        }
        let (category, pool) = categories.get_key_value(category)?;
        from(pool).map(|ns| (ns, Some(category.as_str())))
    }

    /// Whether `k` and every stored call are usable (a hand-edited fit.json may not be).
    pub fn check(&self) -> Result<(), BadFit> {
        if self.k == 0 {
            return Err(BadFit::NearestK);
        }
        if let Some((t, _)) = self.kernels.iter().find(|(_, v)| {
            v.len() > MAX_CALLS_PER_KERNEL
                || v.iter().any(|c| !c.wall_ns.is_finite() || c.wall_ns < 0.0)
        }) {
            return Err(BadFit::NearestCalls {
                kernel: t.clone(),
                max: MAX_CALLS_PER_KERNEL,
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(macs: u64, bytes: u64, wall_ns: f64) -> NearCall {
        NearCall {
            macs,
            bytes_moved: bytes,
            weight_bytes: 0,
            wall_ns,
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
        let training: Vec<(usize, &str, &str, NearCall)> = (12..=22u64)
            .enumerate()
            .map(|(i, e)| {
                let macs = 1u64 << e;
                (
                    i,
                    "OptMatMul",
                    "conv",
                    call(macs, 1 << (e - 4), rate(macs) * macs as f64),
                )
            })
            .collect();
        let n = Nearest::fit(&training, 10).expect("eleven calls of one type");
        assert_eq!(n.kernels["OptMatMul"].len(), 11);
        assert!(CANDIDATE_K.contains(&n.k));
        assert!(n.leave_one_model_out_error_pct.unwrap().is_finite());
        // At a training size with k = 1 the estimate is that call's time.
        let one = Nearest { k: 1, ..n.clone() };
        let (ns, via) = one
            .call_ns("OptMatMul", "conv", &call(1 << 16, 1 << 12, 0.0))
            .unwrap();
        assert_eq!(via, None);
        assert!((ns / (rate(1 << 16) * 65536.0) - 1.0).abs() < 1e-9, "{ns}");
        // Between 2^16 and 2^17 MACs: a rate between theirs, far from a linear law's.
        let mid = call(3 << 15, 3 << 11, 0.0);
        let r = n.call_ns("OptMatMul", "conv", &mid).unwrap().0 / mid.macs as f64;
        assert!(r < rate(1 << 15) && r > rate(1 << 18), "{r}");
        // A type it holds too few calls of is predicted from its category's calls, and one
        // of another category not at all.
        let other = call(1 << 16, 1 << 12, 0.0);
        assert_eq!(
            n.call_ns("DepthWiseConv", "conv", &other).unwrap().1,
            Some("conv")
        );
        assert_eq!(n.call_ns("DepthWiseConv", "pool", &other), None);
    }

    /// Calls with MACs are never estimated from calls without, and leave-one-model-out
    /// prefers the k that predicts held-out models best.
    #[test]
    fn keeps_kinds_apart_and_chooses_k() {
        // Without MACs 1 ns per byte; with MACs 0.5 ns per MAC.
        let mut training: Vec<(usize, &str, &str, NearCall)> = Vec::new();
        for e in 10..30u64 {
            let bytes = 1u64 << (e / 2 + 4);
            training.push((
                training.len(),
                "Pad",
                "tensor",
                call(0, bytes, bytes as f64),
            ));
        }
        for e in 10..30u64 {
            let macs = 1u64 << e;
            training.push((
                training.len(),
                "Pad",
                "tensor",
                call(macs, 256, 0.5 * macs as f64),
            ));
        }
        let n = Nearest::fit(&training, 10).unwrap();
        // Exact rates everywhere: every k predicts held-out calls exactly, so the first wins.
        assert_eq!(n.k, CANDIDATE_K[0]);
        assert!(n.leave_one_model_out_error_pct.unwrap() < 1e-9);
        let bytes_only = n.call_ns("Pad", "tensor", &call(0, 5000, 0.0)).unwrap().0;
        assert!((bytes_only - 5000.0).abs() < 1e-6, "{bytes_only}");
        let with_macs = n
            .call_ns("Pad", "tensor", &call(5000, 5000, 0.0))
            .unwrap()
            .0;
        assert!((with_macs - 2500.0).abs() < 1e-6, "{with_macs}");
    }

    #[test]
    fn too_few_calls_and_bounds() {
        let c = call(0, 100, 10.0);
        let few: Vec<(usize, &str, &str, NearCall)> =
            (0..9).map(|i| (i, "Concat", "concat", c)).collect();
        assert_eq!(Nearest::fit(&few, 10), None);
        let many: Vec<(usize, &str, &str, NearCall)> = (0..MAX_CALLS_PER_KERNEL * 3)
            .map(|i| (i, "Concat", "concat", c))
            .collect();
        let n = Nearest::fit(&many, 10).unwrap();
        assert_eq!(n.kernels["Concat"].len(), MAX_CALLS_PER_KERNEL);
        assert_eq!(n.categories["concat"].len(), MAX_CALLS_PER_KERNEL);
        assert!(n.check().is_ok());
        let bad = Nearest { k: 0, ..n };
        assert!(bad.check().is_err());
    }
}
