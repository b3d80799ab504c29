//! What to change in each model: its rewrites (`Dataset::rewrites`, one design change of the
//! model's own graph each), measured beside the model as it is (`as-is`), ranked by the time
//! each saved on its device. Each change carries its evidence: what the op categories it
//! touches cost before and after, how far the model's ops of the category it targets ran above
//! their bound, the design probe that measured the same choice at equal MACs, and the kernel
//! model's what-if for the changed ops. Values only: the report words them.
//!
//! Reference: the model is measured as it is just before its rewrites and again just after
//! them; each rewrite is compared with the as-is latency interpolated to its place between the
//! two, so that a steady drift of the machine during the group does not count as a saving.
//! Noise: two standard errors of the ratio of the two medians, as for the design probes
//! ([`sweep::relative_se`]), plus the drift between the two as-is runs (relative): a saving
//! within it is no saving.

use super::bounds::{BoundAgg, ModelBounds, NoRoofs};
use super::fit::FitFile;
use super::kernels::KernelCall;
use super::metrics::ModelMetrics;
use super::sweep::{self, SweepAnalysis};
use crate::load::{Dataset, ModelRun};
use std::collections::BTreeSet;

/// The rewrite that names a model measured as it is beside its rewrites.
pub const AS_IS: &str = "as-is";
/// The rewrite that names the same model measured again after its rewrites.
pub const AS_IS_AFTER: &str = "as-is-after";
/// Most op categories a change lists as its evidence (those whose time moved most).
const CATEGORIES_SHOWN: usize = 3;

/// What a change did to the latency, against the noise of the comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Faster,
    Slower,
    /// Within the noise: no saving to claim either way.
    Same,
}

/// One op category's time before and after a change (Σ of the ops' median wall time).
#[derive(Debug, Clone, PartialEq)]
pub struct CategoryMove {
    pub category: String,
    pub as_is_ns: u64,
    pub rewritten_ns: u64,
}

/// A design probe family measuring the same choice at equal MACs on the same device: each
/// variant's latency over the variant that makes the change's choice.
#[derive(Debug, Clone, PartialEq)]
pub struct ProbeEvidence {
    pub family: String,
    /// The variant that makes the change's choice (ReLU, BatchNorm folded, no shuffle).
    pub alternative: String,
    /// The others: (variant, latency over the alternative's, relative noise of that ratio).
    pub others: Vec<(String, f64, Option<f64>)>,
}

/// One measured change of one model.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// Index into `Dataset::rewrites`.
    pub run: usize,
    pub rewrite: String,
    /// Places of the graph the rewrite changed.
    pub places: u64,
    /// The as-is latency at the rewrite's moment: interpolated between the as-is runs before
    /// and after the group by the rewrite's place in it (the run before, without one after).
    pub as_is_ns: u64,
    pub rewritten_ns: u64,
    /// As-is latency minus the rewrite's (positive: the rewrite is faster).
    pub saved_ns: i64,
    /// `saved_ns` over the as-is latency.
    pub saving: f64,
    /// Relative noise of the saving (see the module header), the drift included.
    pub noise: Option<f64>,
    /// How far the as-is runs before and after the group differ, relative to the first.
    pub drift: Option<f64>,
    pub verdict: Verdict,
    /// The categories whose time moved most, largest move first.
    pub categories: Vec<CategoryMove>,
    /// The category the change is about, in the model's own run: its ops against their bound.
    pub target: Option<(String, BoundAgg)>,
    pub probe: Option<ProbeEvidence>,
    /// The kernel model's as-is prediction minus its prediction for the rewritten model's
    /// executed kernels (`None`: no kernel model on the device).
    pub predicted_saved_ns: Option<f64>,
}

/// One model's changes on one device, the largest saving first.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelAdvice {
    pub device: usize,
    pub model: String,
    /// Index into `Dataset::rewrites` of the as-is run, and of the as-is run after the group.
    pub as_is: usize,
    pub as_is_after: Option<usize>,
    pub changes: Vec<Change>,
}

impl ModelAdvice {
    /// The change that saved most beyond the noise.
    pub fn best(&self) -> Option<&Change> {
        self.changes.iter().find(|c| c.verdict == Verdict::Faster)
    }
}

/// The executed op category a rewrite is about, and the design family that measures its
/// choice at equal MACs (with the variant that makes the rewrite's choice).
pub fn target_of(rewrite: &str) -> Option<(&'static str, Option<(&'static str, &'static str)>)> {
    Some(match rewrite {
        "relu" => ("activation", Some(("activation", "relu"))),
        "max-pool" | "global-max-pool" => ("pool", None),
        "fold-bn" => ("batchnorm", Some(("batchnorm", "folded"))),
        "no-shuffle" => ("tensor", Some(("shuffle", "no_shuffle"))),
        // Quantizing is about the convs and matmuls (their weights); no design family yet.
        "int8" => ("conv", None),
        _ => return None,
    })
}

/// One model's rewrites in the log: its as-is run, its changes in log order, the as-is run
/// after them (absent in a log cut short).
struct Group {
    device: usize,
    model: String,
    as_is: usize,
    changes: Vec<usize>,
    after: Option<usize>,
}

/// Every model with rewrites, per device in log order, each change measured and ranked.
pub fn compute(
    data: &Dataset,
    bounds: &[Result<ModelBounds, NoRoofs>],
    sweep: &SweepAnalysis,
    fit: &FitFile,
) -> Vec<ModelAdvice> {
    let mut groups: Vec<Group> = Vec::new();
    for (ix, run) in data.rewrites.iter().enumerate() {
        let Some(rw) = run.model.metadata.rewrite.as_ref() else {
            continue;
        };
        if rw.rewrite == AS_IS {
            groups.push(Group {
                device: run.device,
                model: rw.of.clone(),
                as_is: ix,
                changes: Vec::new(),
                after: None,
            });
            continue;
        }
        let open = groups
            .iter_mut()
            .rev()
            .find(|g| g.device == run.device && g.model == rw.of && g.after.is_none());
        match (open, rw.rewrite.as_str()) {
            (Some(g), AS_IS_AFTER) => g.after = Some(ix),
            (Some(g), _) => g.changes.push(ix),
            (None, _) => {}
        }
    }
    let mut out: Vec<ModelAdvice> = groups
        .into_iter()
        .map(|g| advice(data, bounds, sweep, fit, g))
        .collect();
    out.retain(|a| !a.changes.is_empty());
    out
}

/// One group's changes, each against the as-is latency of its moment: interpolated between the
/// runs before and after the group by its place in it.
fn advice(
    data: &Dataset,
    bounds: &[Result<ModelBounds, NoRoofs>],
    sweep: &SweepAnalysis,
    fit: &FitFile,
    g: Group,
) -> ModelAdvice {
    let as_is = &data.rewrites[g.as_is];
    let before = as_is.model.latency_ns.median as f64;
    let after = g
        .after
        .map(|a| data.rewrites[a].model.latency_ns.median as f64);
    let drift = after.map(|a| {
        if before > 0.0 {
            (a - before).abs() / before
        } else {
            0.0
        }
    });
    let base = data
        .runs
        .iter()
        .position(|r| r.device == g.device && r.model.model == g.model);
    let kernel = fit
        .devices
        .iter()
        .find(|d| d.device == data.devices[g.device].label)
        .and_then(|d| d.kernel_model.as_ref());
    let steps = g.changes.len() as f64 + 1.0;
    let mut changes: Vec<Change> = Vec::new();
    for (i, &ix) in g.changes.iter().enumerate() {
        let run = &data.rewrites[ix];
        let Some(rw) = run.model.metadata.rewrite.as_ref() else {
            continue;
        };
        let reference = match after {
            Some(a) => before + (a - before) * (i as f64 + 1.0) / steps,
            None => before,
        };
        let target = target_of(&rw.rewrite);
        let target_bound = match (base.map(|b| &bounds[b]), target) {
            (Some(Ok(b)), Some((category, _))) => b
                .by_category
                .get(category)
                .map(|agg| (category.to_string(), *agg)),
            _ => None,
        };
        let probe = target
            .and_then(|(_, family)| family)
            .and_then(|(family, alternative)| probe_evidence(sweep, g.device, family, alternative));
        let predicted_saved_ns = kernel.map(|k| {
            let predict = |r: &ModelRun| {
                let calls: Vec<KernelCall> = r.ops.iter().map(KernelCall::of).collect();
                k.predict(&calls).latency_ns
            };
            predict(as_is) - predict(run)
        });
        changes.push(Change {
            run: ix,
            rewrite: rw.rewrite.clone(),
            places: rw.places,
            categories: moves(as_is, run),
            target: target_bound,
            probe,
            predicted_saved_ns,
            ..measured(as_is, run, reference.round() as u64, drift)
        });
    }
    changes.sort_by_key(|c| std::cmp::Reverse(c.saved_ns));
    ModelAdvice {
        device: g.device,
        model: g.model,
        as_is: g.as_is,
        as_is_after: g.after,
        changes,
    }
}

/// A change's latency against `reference_ns` (the as-is latency of its moment), with its noise:
/// the medians' own, plus the `drift` between the as-is runs around it.
fn measured(as_is: &ModelRun, run: &ModelRun, reference_ns: u64, drift: Option<f64>) -> Change {
    let after = run.model.latency_ns.median;
    let saved_ns =
        (reference_ns as i128 - after as i128).clamp(i64::MIN as i128, i64::MAX as i128) as i64;
    let saving = if reference_ns > 0 {
        saved_ns as f64 / reference_ns as f64
    } else {
        0.0
    };
    let noise = sweep::ratio_noise(sweep::relative_se(as_is), sweep::relative_se(run))
        .map(|n| n + drift.unwrap_or(0.0));
    let verdict = match noise {
        Some(n) if saving > n => Verdict::Faster,
        Some(n) if saving < -n => Verdict::Slower,
        _ => Verdict::Same,
    };
    Change {
        run: 0,
        rewrite: String::new(),
        places: 0,
        as_is_ns: reference_ns,
        rewritten_ns: after,
        saved_ns,
        saving,
        noise,
        drift,
        verdict,
        categories: Vec::new(),
        target: None,
        probe: None,
        predicted_saved_ns: None,
    }
}

/// The executed categories whose op time moved most between two runs.
fn moves(a: &ModelRun, b: &ModelRun) -> Vec<CategoryMove> {
    let (ma, mb) = (
        ModelMetrics::compute(&a.nodes, &a.ops),
        ModelMetrics::compute(&b.nodes, &b.ops),
    );
    let names: BTreeSet<&String> = ma.executed.keys().chain(mb.executed.keys()).collect();
    let ns = |m: &ModelMetrics, c: &str| m.executed.get(c).map_or(0, |agg| agg.wall_ns);
    let mut out: Vec<CategoryMove> = names
        .into_iter()
        .map(|c| CategoryMove {
            category: c.clone(),
            as_is_ns: ns(&ma, c),
            rewritten_ns: ns(&mb, c),
        })
        .collect();
    out.sort_by_key(|m| std::cmp::Reverse(m.as_is_ns.abs_diff(m.rewritten_ns)));
    out.truncate(CATEGORIES_SHOWN);
    out
}

/// The design family `family` of device `device`, each variant against `alternative`.
fn probe_evidence(
    sweep: &SweepAnalysis,
    device: usize,
    family: &str,
    alternative: &str,
) -> Option<ProbeEvidence> {
    let f = sweep
        .families
        .iter()
        .find(|f| f.device == device && f.family == family)?;
    let alt = f.variants.iter().find(|v| v.variant == alternative)?;
    if alt.median_ns == 0 {
        return None;
    }
    let others = f
        .variants
        .iter()
        .filter(|v| v.variant != alternative)
        .map(|v| {
            let noise = sweep::ratio_noise(alt.relative_se, v.relative_se);
            (
                v.variant.clone(),
                v.median_ns as f64 / alt.median_ns as f64,
                noise,
            )
        })
        .collect();
    Some(ProbeEvidence {
        family: family.to_string(),
        alternative: alternative.to_string(),
        others,
    })
}
