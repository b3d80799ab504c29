//! What to change in each model: its rewrites (`Dataset::rewrites`, one design change of the
//! model's own graph each), measured beside the model as it is (`as-is`), ranked by the time
//! each saved on its device. Each change carries its evidence: what the op categories it
//! touches cost before and after, how far the model's ops of the category it targets ran above
//! their bound, the design probe that measured the same choice at equal MACs, and the kernel
//! model's what-if for the changed ops. Values only: the report words them.
//!
//! Noise: the as-is run and the rewrite's run are two medians; their ratio's noise is taken as
//! for the design probes ([`sweep::relative_se`]): two standard errors of the ratio. A saving
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
    pub as_is_ns: u64,
    pub rewritten_ns: u64,
    /// As-is latency minus the rewrite's (positive: the rewrite is faster).
    pub saved_ns: i64,
    /// `saved_ns` over the as-is latency.
    pub saving: f64,
    /// Relative noise of the latency ratio (see the module header).
    pub noise: Option<f64>,
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
    /// Index into `Dataset::rewrites` of the as-is run.
    pub as_is: usize,
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
        _ => return None,
    })
}

/// Every model with rewrites, per device in log order, each change measured and ranked.
pub fn compute(
    data: &Dataset,
    bounds: &[Result<ModelBounds, NoRoofs>],
    sweep: &SweepAnalysis,
    fit: &FitFile,
) -> Vec<ModelAdvice> {
    let mut out: Vec<ModelAdvice> = Vec::new();
    for (ix, run) in data.rewrites.iter().enumerate() {
        let Some(rw) = run.model.metadata.rewrite.as_ref() else {
            continue;
        };
        if rw.rewrite == AS_IS {
            out.push(ModelAdvice {
                device: run.device,
                model: rw.of.clone(),
                as_is: ix,
                changes: Vec::new(),
            });
            continue;
        }
        // The as-is run of this group: the last one before it, of the same model and device.
        let Some(advice) = out
            .iter_mut()
            .rev()
            .find(|a| a.device == run.device && a.model == rw.of)
        else {
            continue;
        };
        let as_is = &data.rewrites[advice.as_is];
        let base = data
            .runs
            .iter()
            .position(|r| r.device == run.device && r.model.model == rw.of);
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
            .and_then(|(family, alternative)| {
                probe_evidence(sweep, run.device, family, alternative)
            });
        let kernel = fit
            .devices
            .iter()
            .find(|d| d.device == data.devices[run.device].label)
            .and_then(|d| d.kernel_model.as_ref());
        let predicted_saved_ns = kernel.map(|k| {
            let predict = |r: &ModelRun| {
                let calls: Vec<KernelCall> = r.ops.iter().map(KernelCall::of).collect();
                k.predict(&calls).latency_ns
            };
            predict(as_is) - predict(run)
        });
        advice.changes.push(change(
            ix,
            run,
            as_is,
            rw.rewrite.clone(),
            rw.places,
            target_bound,
            probe,
            predicted_saved_ns,
        ));
    }
    for a in &mut out {
        a.changes.sort_by_key(|c| std::cmp::Reverse(c.saved_ns));
    }
    out.retain(|a| !a.changes.is_empty());
    out
}

#[allow(clippy::too_many_arguments)]
fn change(
    ix: usize,
    run: &ModelRun,
    as_is: &ModelRun,
    rewrite: String,
    places: u64,
    target: Option<(String, BoundAgg)>,
    probe: Option<ProbeEvidence>,
    predicted_saved_ns: Option<f64>,
) -> Change {
    let (before, after) = (as_is.model.latency_ns.median, run.model.latency_ns.median);
    let saved_ns =
        (before as i128 - after as i128).clamp(i64::MIN as i128, i64::MAX as i128) as i64;
    let saving = if before > 0 {
        saved_ns as f64 / before as f64
    } else {
        0.0
    };
    let noise = match (sweep::relative_se(as_is), sweep::relative_se(run)) {
        (Some(a), Some(b)) => Some(sweep::NOISE_SIGMAS * (a * a + b * b).sqrt()),
        _ => None,
    };
    let verdict = match noise {
        Some(n) if saving > n => Verdict::Faster,
        Some(n) if saving < -n => Verdict::Slower,
        _ => Verdict::Same,
    };
    Change {
        run: ix,
        rewrite,
        places,
        as_is_ns: before,
        rewritten_ns: after,
        saved_ns,
        saving,
        noise,
        verdict,
        categories: moves(as_is, run),
        target,
        probe,
        predicted_saved_ns,
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
    let alt_se = alt.relative_se;
    let others = f
        .variants
        .iter()
        .filter(|v| v.variant != alternative)
        .map(|v| {
            let noise = match (alt_se, v.relative_se) {
                (Some(a), Some(b)) => Some(sweep::NOISE_SIGMAS * (a * a + b * b).sqrt()),
                _ => None,
            };
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
