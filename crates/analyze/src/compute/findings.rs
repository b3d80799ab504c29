//! The study's questions answered per device, as values the report turns into sentences:
//! RQ1 (do MACs and params predict time), RQ2 (which components beyond MACs cost the most),
//! RQ3 (which architectures carry the most non-MAC overhead) and RQ4 (which design choices
//! help). Where the data cannot answer (too few models, noise that could flip the answer, no
//! machine roofs, no design probes), the answer is [`Answer::CannotSay`] with the reason,
//! never a number.

use super::advise::{Change, ModelAdvice, Verdict as ChangeVerdict};
pub use super::answer::{Answer, Why};
use super::bounds::{LimiterName, ModelBounds, NoRoofs};
use super::correlate::{Correlation, Dominance, PAIRS, Point};
use super::eager::{EagerDevice, EagerFinding};
use super::facts::{self, RunResults, gmacs};
use super::int8::{Int8Finding, Int8Model};
use super::metrics::ModelMetrics;
use super::stats::{pearson, spearman};
use super::sweep::{Advice, SweepAnalysis};
use crate::load::{Dataset, ModelRun};
use std::collections::{BTreeMap, HashMap};

#[path = "findings_rq1.rs"]
mod rq1_parts;
use rq1_parts::{light_models, noise_range};

/// Pearson r at or above this (and Spearman rho too): latency follows the feature.
pub const FOLLOWS_R: f64 = 0.9;
/// Pearson r or Spearman rho at or above this: it follows roughly.
pub const ROUGHLY_R: f64 = 0.7;
/// Consecutive models (sorted by MACs) this many times apart split light from heavy models.
pub const LIGHT_GAP: f64 = 2.0;
/// How many categories and ops each answer names.
pub const TOP: usize = 3;

/// Everything the Findings section says about one device.
#[derive(Debug, Clone, PartialEq)]
pub struct DeviceFindings {
    /// Index into `Dataset::devices`.
    pub device: usize,
    pub models: usize,
    /// Models whose record carries noise warnings (clean-pass CV, governor, temperature).
    pub warned_models: Vec<String>,
    pub rq1: Answer<Rq1>,
    pub rq2: Answer<Rq2>,
    pub rq3: Answer<Rq3>,
    pub rq4: Answer<Rq4>,
    /// The models measured eager too (`None`: no eager twin on this device; not a question of
    /// the study, so no "cannot say").
    pub eager: Option<EagerFinding>,
    /// The models' rewrites measured on this device (`None`: none were).
    pub changes: Option<ChangesFinding>,
    /// The models' int8 forms against fp32 (`None`: none was measured on this device).
    pub int8: Option<Int8Finding>,
}

/// What the measured rewrites of one device's models say, the largest saving first.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangesFinding {
    /// Models with rewrites measured, and the rewrites measured.
    pub models: usize,
    pub changes: usize,
    pub faster: usize,
    pub slower: usize,
    /// The largest savings beyond their noise, at most [`TOP`], largest first: (model, change).
    pub largest: Vec<(String, Change)>,
    /// Rewrites measured on some model and faster beyond the noise on none.
    pub never_faster: Vec<String>,
}

/// RQ4 on one device, from its design probes (`hiddencost sweep`): the design choices that
/// save or cost the most time at equal MACs, beyond the noise of the measurement.
#[derive(Debug, Clone, PartialEq)]
pub struct Rq4 {
    /// Design families measured with their baseline, and their variants (baselines included).
    pub families: usize,
    pub variants: usize,
    /// The largest savings beyond their noise, at most [`TOP`], largest first.
    pub advice: Vec<Advice>,
    /// Savings beyond noise in all (the advice above is the first of them).
    pub advice_total: usize,
    /// The choices that cost the most beyond their noise, at most [`TOP`], largest first.
    pub costs: Vec<Advice>,
    pub costs_total: usize,
    /// Families where no variant differs from the baseline beyond the noise.
    pub flat: Vec<String>,
}

/// A correlation of latency with one static feature.
#[derive(Debug, Clone, PartialEq)]
pub struct Corr {
    pub r: f64,
    pub rho: f64,
    pub dominated_by: Option<Dominance>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// r and rho both at or above [`FOLLOWS_R`].
    Follows,
    /// r or rho at or above [`ROUGHLY_R`].
    Roughly,
    DoesNotFollow,
}

impl Verdict {
    pub fn of(r: f64, rho: f64) -> Verdict {
        if r >= FOLLOWS_R && rho >= FOLLOWS_R {
            Verdict::Follows
        } else if r >= ROUGHLY_R || rho >= ROUGHLY_R {
            Verdict::Roughly
        } else {
            Verdict::DoesNotFollow
        }
    }
}

/// RQ1: do MACs and params predict latency on this device?
#[derive(Debug, Clone, PartialEq)]
pub struct Rq1 {
    pub models: usize,
    pub macs: Corr,
    /// `None` with fewer than 3 models with params, or constant params.
    pub params: Option<Corr>,
    /// For time vs MACs; a [`Answer::CannotSay`] when noise could change it.
    pub verdict: Answer<Verdict>,
    /// Range of r (time vs MACs) when each warned model's latency moves within its own
    /// measured min..p90 (one at a time and all together); `None` when no model is warned.
    pub r_under_noise: Option<(f64, f64)>,
    pub light: Answer<LightModels>,
    /// The lowest and highest achieved GMAC/s (MACs / latency) of the device's models.
    pub gmacs_lowest: (String, f64),
    pub gmacs_highest: (String, f64),
}

/// The models below the largest gap in MACs, on their own.
#[derive(Debug, Clone, PartialEq)]
pub struct LightModels {
    pub models: Vec<String>,
    /// MACs of the heaviest light model and of the lightest heavy one.
    pub max_macs: u64,
    pub next_macs: u64,
    pub r: Option<f64>,
    pub rho: Option<f64>,
    /// Latency of the slowest light model over that of the fastest.
    pub latency_ratio: f64,
    /// MACs of the heaviest light model over those of the lightest.
    pub macs_ratio: f64,
}

/// RQ2: which components beyond MACs cost the most?
#[derive(Debug, Clone, PartialEq)]
pub struct Rq2 {
    /// Σ op time (median per op) over the device's models, ns.
    pub op_ns: u64,
    /// Share of op time in ops with no MACs.
    pub hidden_share: f64,
    /// Zero-MAC time by executed category, as shares of all op time, largest first.
    pub hidden_categories: Vec<(String, f64)>,
    /// Zero-MAC time by executed op type, as shares of all op time, largest first.
    pub hidden_ops: Vec<(String, f64)>,
    pub above: Answer<Above>,
}

/// Time above the machine's roofs, for the models whose run has roofs.
#[derive(Debug, Clone, PartialEq)]
pub struct Above {
    pub models: usize,
    /// Σ above-bound time / Σ op time of those models.
    pub share: f64,
    /// By executed category and by op type: shares of the above-bound time, largest first.
    pub by_category: Vec<(String, f64)>,
    pub by_op: Vec<(String, f64)>,
    /// Share of op time per limiter, largest first.
    pub limiters: Vec<(LimiterName, f64)>,
}

/// RQ3: which architectures carry the most non-MAC overhead, and from which ops?
#[derive(Debug, Clone, PartialEq)]
pub struct Rq3 {
    /// Every model, largest hidden share first.
    pub models: Vec<ModelOverhead>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct ModelOverhead {
    pub model: String,
    /// Share of the model's op time in zero-MAC ops.
    pub hidden_share: f64,
    /// Share of the model's op time above its bounds, when its run has roofs.
    pub above_share: Option<f64>,
    /// Its zero-MAC op types with their shares of the model's op time, largest first.
    pub top_hidden_ops: Vec<(String, f64)>,
}

/// What the findings are computed from: the dataset and the per-run results of the other
/// compute modules (parallel to `Dataset::runs`).
pub struct Parts<'a> {
    pub data: &'a Dataset,
    pub metrics: &'a [ModelMetrics],
    pub bounds: &'a [Result<ModelBounds, NoRoofs>],
    pub correlations: &'a [Correlation],
    pub sweep: &'a SweepAnalysis,
    pub eager: &'a [EagerDevice],
    pub advice: &'a [ModelAdvice],
    pub int8: &'a [Int8Model],
}

impl<'a> Parts<'a> {
    /// The runs of device `d` with their metrics and bounds.
    fn of_device(&self, d: usize) -> impl Iterator<Item = RunResults<'a>> {
        facts::of_device(self.data, self.metrics, self.bounds, d)
    }
}

/// Index of a pair in [`PAIRS`] by key.
fn pair(key: &str) -> usize {
    PAIRS.iter().position(|p| p.key == key).unwrap_or(0)
}

fn correlation<'a>(p: &Parts<'a>, device: usize, key: &str) -> Option<&'a Correlation> {
    let pair = pair(key);
    p.correlations
        .iter()
        .find(|c| c.device == device && c.pair == pair)
}

fn corr(c: &Correlation) -> Option<Corr> {
    Some(Corr {
        r: c.pearson?,
        rho: c.spearman?,
        dominated_by: c.dominated_by.clone(),
    })
}

/// Shares of `parts` in `whole`, largest first (ties by name), the first `n`.
fn top_shares<K: Ord>(parts: BTreeMap<K, f64>, whole: f64, n: usize) -> Vec<(K, f64)> {
    let mut v: Vec<(K, f64)> = parts
        .into_iter()
        .filter(|(_, x)| *x > 0.0)
        .map(|(k, x)| (k, if whole > 0.0 { x / whole } else { 0.0 }))
        .collect();
    v.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    v.truncate(n);
    v
}

pub fn device_findings(p: &Parts, device: usize) -> DeviceFindings {
    let runs: Vec<&ModelRun> = p.data.runs.iter().filter(|r| r.device == device).collect();
    let warned_models = runs
        .iter()
        .filter(|r| !r.model.warnings.is_empty())
        .map(|r| r.model.model.clone())
        .collect();
    DeviceFindings {
        device,
        models: runs.len(),
        warned_models,
        rq1: rq1(p, &runs, device),
        rq2: rq2(p, device),
        rq3: rq3(p, device),
        rq4: rq4(p.sweep, device),
        eager: p
            .eager
            .iter()
            .find(|e| e.device == device)
            .map(|e| e.finding(TOP)),
        changes: changes(p.advice, device),
        int8: super::int8::finding(p.int8, device),
    }
}

fn changes(advice: &[ModelAdvice], device: usize) -> Option<ChangesFinding> {
    let mine: Vec<&ModelAdvice> = advice.iter().filter(|a| a.device == device).collect();
    if mine.is_empty() {
        return None;
    }
    let all = || {
        mine.iter()
            .flat_map(|a| a.changes.iter().map(|c| (&a.model, c)))
    };
    let mut faster: Vec<(String, Change)> = all()
        .filter(|(_, c)| c.verdict == ChangeVerdict::Faster)
        .map(|(m, c)| (m.clone(), c.clone()))
        .collect();
    faster.sort_by_key(|(_, c)| std::cmp::Reverse(c.saved_ns));
    let count = |v: ChangeVerdict| all().filter(|(_, c)| c.verdict == v).count();
    let mut never_faster: Vec<String> = Vec::new();
    for (_, c) in all() {
        if !never_faster.contains(&c.rewrite) && !faster.iter().any(|(_, f)| f.rewrite == c.rewrite)
        {
            never_faster.push(c.rewrite.clone());
        }
    }
    Some(ChangesFinding {
        models: mine.len(),
        changes: all().count(),
        faster: faster.len(),
        slower: count(ChangeVerdict::Slower),
        largest: faster.into_iter().take(TOP).collect(),
        never_faster,
    })
}

fn rq4(sweep: &SweepAnalysis, device: usize) -> Answer<Rq4> {
    let mine: Vec<_> = sweep
        .families
        .iter()
        .filter(|f| f.device == device)
        .collect();
    if mine.is_empty() {
        return Answer::CannotSay(Why::NoDesignProbes);
    }
    let measured: Vec<_> = mine.iter().filter(|f| f.has_baseline).collect();
    if measured.is_empty() {
        return Answer::CannotSay(Why::NoBaseline {
            families: mine.len(),
        });
    }
    let advice: Vec<Advice> = sweep
        .advice
        .iter()
        .filter(|a| a.device == device)
        .cloned()
        .collect();
    let costs: Vec<Advice> = sweep
        .costs
        .iter()
        .filter(|a| a.device == device)
        .cloned()
        .collect();
    let differs = |family: &str| advice.iter().chain(&costs).any(|a| a.family == family);
    let flat = measured
        .iter()
        .filter(|f| !differs(&f.family))
        .map(|f| f.family.clone())
        .collect();
    Answer::Is(Rq4 {
        families: measured.len(),
        variants: measured.iter().map(|f| f.variants.len()).sum(),
        advice_total: advice.len(),
        costs_total: costs.len(),
        advice: advice.into_iter().take(TOP).collect(),
        costs: costs.into_iter().take(TOP).collect(),
        flat,
    })
}

fn rq1(p: &Parts, runs: &[&ModelRun], device: usize) -> Answer<Rq1> {
    let Some(c) = correlation(p, device, "time_vs_macs") else {
        return Answer::CannotSay(Why::NoModel);
    };
    let n = c.points.len();
    let Some(macs) = corr(c) else {
        return Answer::CannotSay(if n < 3 {
            Why::TooFewModels { models: n }
        } else {
            Why::Constant
        });
    };
    let params = correlation(p, device, "time_vs_params").and_then(corr);
    let r_under_noise = noise_range(runs, &c.points);
    let verdict = match r_under_noise {
        Some((lo, hi)) if Verdict::of(lo, macs.rho) != Verdict::of(hi, macs.rho) => {
            Answer::CannotSay(Why::NoiseFlips {
                r_low: lo,
                r_high: hi,
            })
        }
        _ => Answer::Is(Verdict::of(macs.r, macs.rho)),
    };
    let mut rates: Vec<(String, f64)> = runs
        .iter()
        .filter_map(|r| Some((r.model.model.clone(), gmacs(r)?)))
        .collect();
    rates.sort_by(|x, y| x.1.total_cmp(&y.1).then(x.0.cmp(&y.0)));
    let (Some(lowest), Some(highest)) = (rates.first().cloned(), rates.last().cloned()) else {
        return Answer::CannotSay(Why::NoLatency);
    };
    Answer::Is(Rq1 {
        models: n,
        macs,
        params,
        verdict,
        r_under_noise,
        light: light_models(runs),
        gmacs_lowest: lowest,
        gmacs_highest: highest,
    })
}

fn rq2(p: &Parts, device: usize) -> Answer<Rq2> {
    let mut op_ns = 0u64;
    let mut hidden_by_cat: BTreeMap<String, f64> = BTreeMap::new();
    let mut hidden_by_op: BTreeMap<String, f64> = BTreeMap::new();
    let mut hidden_ns = 0.0;
    let (mut above_ns, mut bounded_ns, mut bounded_models) = (0.0, 0.0, 0);
    let mut above_by_cat: BTreeMap<String, f64> = BTreeMap::new();
    let mut above_by_op: BTreeMap<String, f64> = BTreeMap::new();
    let mut limiters: BTreeMap<LimiterName, f64> = BTreeMap::new();
    let mut no_roofs = None;
    for (run, _, bounds) in p.of_device(device) {
        for op in &run.ops {
            op_ns = op_ns.saturating_add(op.wall_ns.median);
            if op.cost.macs == 0 {
                let ns = op.wall_ns.median as f64;
                hidden_ns += ns;
                *hidden_by_cat.entry(op.category.to_string()).or_default() += ns;
                *hidden_by_op.entry(op.op.to_string()).or_default() += ns;
            }
        }
        match bounds {
            Ok(b) => {
                bounded_models += 1;
                bounded_ns += b.total.measured_ns;
                above_ns += b.total.above_ns;
                for (op, ob) in run.ops.iter().zip(&b.ops) {
                    *above_by_cat.entry(op.category.to_string()).or_default() += ob.above_ns();
                    *above_by_op.entry(op.op.to_string()).or_default() += ob.above_ns();
                }
                for (l, agg) in &b.by_limiter {
                    *limiters.entry(l.clone()).or_default() += agg.measured_ns;
                }
            }
            Err(why) => no_roofs = Some(*why),
        }
    }
    if op_ns == 0 {
        return Answer::CannotSay(Why::NoOpTime);
    }
    let above = if bounded_models == 0 {
        Answer::CannotSay(Why::NoRoofs(no_roofs))
    } else {
        Answer::Is(Above {
            models: bounded_models,
            share: if bounded_ns > 0.0 {
                above_ns / bounded_ns
            } else {
                0.0
            },
            by_category: top_shares(above_by_cat, above_ns, TOP),
            by_op: top_shares(above_by_op, above_ns, TOP),
            limiters: top_shares(limiters, bounded_ns, usize::MAX),
        })
    };
    let total = op_ns as f64;
    Answer::Is(Rq2 {
        op_ns,
        hidden_share: hidden_ns / total,
        hidden_categories: top_shares(hidden_by_cat, total, TOP),
        hidden_ops: top_shares(hidden_by_op, total, TOP),
        above,
    })
}

fn rq3(p: &Parts, device: usize) -> Answer<Rq3> {
    let mut models: Vec<ModelOverhead> = p
        .of_device(device)
        .filter(|(_, m, _)| m.total.wall_ns > 0)
        .map(|(run, m, b)| {
            let mut by_op: BTreeMap<String, f64> = BTreeMap::new();
            for op in run.ops.iter().filter(|o| o.cost.macs == 0) {
                *by_op.entry(op.op.to_string()).or_default() += op.wall_ns.median as f64;
            }
            ModelOverhead {
                model: run.model.model.clone(),
                hidden_share: m.hidden_executed_share(),
                above_share: b.as_ref().ok().map(|b| b.total.above_share()),
                top_hidden_ops: top_shares(by_op, m.total.wall_ns as f64, TOP),
            }
        })
        .collect();
    if models.len() < 2 {
        return Answer::CannotSay(Why::TooFewArchitectures {
            models: models.len(),
        });
    }
    models.sort_by(|x, y| {
        y.hidden_share
            .total_cmp(&x.hidden_share)
            .then(x.model.cmp(&y.model))
    });
    Answer::Is(Rq3 { models })
}

#[cfg(test)]
#[path = "findings_tests.rs"]
mod tests;
