//! Prediction from `fit.json`: a new model's latency from its static cost alone: from its
//! executed kernels (tract's plan) through the kernel model when the fit has one and the
//! caller has the plan, and from its node records (`hiddencost cost MODEL --json`) through the
//! node model, with the per-kernel or per-category contributions and what the MACs-only
//! baseline would say. [`validate`] scores a fit's predictors on logged models
//! (`hiddencost validate`).

use crate::compute::Analysis;
use crate::compute::fit::{
    DeviceFit, FIT_FORMAT, FIT_VERSION, FIT_VERSIONS_READ, FitFile, NodeModel, Predictor, Score,
};
use crate::compute::holdout::{self, Holdout};
use crate::compute::kernels::{KernelCall, KernelPrediction};
use crate::error::{AnalyzeError, FitGap};
use crate::load::{self, Dataset, SkipNote, read_file};
use crate::record::{NodeRecord, Record};
use crate::render::{markdown, validation};
use std::path::{Path, PathBuf};

#[path = "predict_text.rs"]
mod text;

/// A predicted latency for one model on one device.
#[derive(Debug, Clone, PartialEq)]
pub struct Prediction {
    pub device: String,
    pub latency_ns: f64,
    /// Scaled per-category contributions (they sum to `latency_ns`), in display order.
    pub per_category: Vec<(String, f64)>,
    /// What the MACs-only baseline predicts.
    pub macs_only_latency_ns: f64,
    pub nodes: usize,
    pub macs: u64,
    /// Categories the device fit has no coefficients for (the pooled default was used).
    pub defaulted_categories: Vec<String>,
    /// Each predictor's leave-one-model-out score over the device's fitted models, best (lowest
    /// MAPE) first, MACs only first among equals: device-wide figures, not this model's error.
    /// Empty when the fit is not validated (fewer than 3 models).
    pub validation: Vec<(Predictor, Score)>,
    /// How many models those scores are over.
    pub validation_models: usize,
    /// This model's own held-out error per predictor in percent ((predicted - measured) /
    /// measured), in `validation`'s order, when it is one of the fitted models.
    pub held_out_error_pct: Vec<(Predictor, f64)>,
    /// The kernel model's prediction, when the fit has a kernel model and the executed kernels
    /// were given (`latency_ns` stays the node model's; [`Prediction::headline`] says which
    /// one leads).
    pub kernel: Option<KernelPrediction>,
    /// Why there is no kernel prediction.
    pub kernel_missing: Option<String>,
}

/// Predicts from `fit_json`, which must hold exactly one device.
pub fn predict(nodes: &[NodeRecord], fit_json: &Path) -> Result<Prediction, AnalyzeError> {
    predict_device(nodes, fit_json, None)
}

/// Predicts from `fit_json` on `device` (a label from fit.json; optional when it has one),
/// through the node model only.
pub fn predict_device(
    nodes: &[NodeRecord],
    fit_json: &Path,
    device: Option<&str>,
) -> Result<Prediction, AnalyzeError> {
    predict_kernels(nodes, None, fit_json, device)
}

/// Predicts from `fit_json` on `device`: through the kernel model from `kernels` (the
/// executed kernels of tract's plan with their static cost) when both are there, and through
/// the node model from `nodes`.
pub fn predict_kernels(
    nodes: &[NodeRecord],
    kernels: Option<&[KernelCall]>,
    fit_json: &Path,
    device: Option<&str>,
) -> Result<Prediction, AnalyzeError> {
    let fit = read_fit(fit_json)?;
    let chosen = choose_device(&fit, fit_json, device)?;
    let mut p = predict_with(nodes, chosen)?;
    match (&chosen.kernel_model, kernels) {
        (Some(model), Some(calls)) if !calls.is_empty() => {
            let k = model.predict(calls);
            if is_latency(k.latency_ns) {
                p.kernel = Some(k);
            } else {
                p.kernel_missing = Some(format!(
                    "the kernel model predicts {} ns, which no latency can be",
                    k.latency_ns
                ));
            }
        }
        (Some(_), _) => p.kernel_missing = Some("no executed kernels given".into()),
        (None, _) => {
            p.kernel_missing = Some(
                "the fit has no kernel model (refit with `hiddencost analyze SWEEP_LOG --out \
                 DIR` from logs with op records)"
                    .into(),
            )
        }
    }
    Ok(p)
}

fn choose_device<'a>(
    fit: &'a FitFile,
    fit_json: &Path,
    device: Option<&str>,
) -> Result<&'a DeviceFit, AnalyzeError> {
    let available = || {
        fit.devices
            .iter()
            .map(|d| d.device.as_str())
            .collect::<Vec<_>>()
            .join(", ")
    };
    if fit.devices.is_empty() {
        return Err(AnalyzeError::EmptyFit {
            path: fit_json.into(),
        });
    }
    let chosen = match device {
        Some(label) => fit
            .devices
            .iter()
            .find(|d| d.device == label)
            .ok_or_else(|| AnalyzeError::UnknownDevice {
                device: label.into(),
                available: available(),
            })?,
        None if fit.devices.len() == 1 => &fit.devices[0],
        None => {
            return Err(AnalyzeError::AmbiguousDevice {
                available: available(),
            });
        }
    };
    Ok(chosen)
}

/// Whether `ns` can be a latency: finite and positive.
fn is_latency(ns: f64) -> bool {
    ns.is_finite() && ns > 0.0
}

/// Predicts with one device's fit; a node-model or MACs-only prediction that is no latency
/// (not finite, or not positive) is an error.
pub fn predict_with(nodes: &[NodeRecord], fit: &DeviceFit) -> Result<Prediction, AnalyzeError> {
    if nodes.is_empty() {
        return Err(AnalyzeError::NoNodes);
    }
    fit.check().map_err(|e| AnalyzeError::NotFitted {
        device: fit.device.clone(),
        reason: e.to_string(),
    })?;
    let model = NodeModel {
        categories: fit.categories.clone(),
        default: fit.default,
        scale: fit.scale,
    };
    let per_category = model.per_category_ns(nodes);
    let ordered = crate::compute::metrics::ordered_keys(per_category.keys());
    let macs: u64 = nodes.iter().map(|n| n.cost.macs).sum();
    for (predictor, ns) in [
        ("node model", model.latency_ns(nodes)),
        ("MACs-only baseline", fit.macs_only.latency_ns(macs)),
    ] {
        if !is_latency(ns) {
            return Err(AnalyzeError::BadPrediction {
                device: fit.device.clone(),
                predictor,
                latency_ns: ns,
            });
        }
    }
    Ok(Prediction {
        device: fit.device.clone(),
        latency_ns: model.latency_ns(nodes),
        per_category: ordered
            .iter()
            .map(|c| (c.clone(), fit.scale * per_category[c]))
            .collect(),
        macs_only_latency_ns: fit.macs_only.latency_ns(macs),
        nodes: nodes.len(),
        macs,
        defaulted_categories: ordered
            .into_iter()
            .filter(|c| !fit.categories.contains_key(c))
            .collect(),
        validation: fit.validation.as_ref().map_or(Vec::new(), |v| v.ranked()),
        validation_models: fit.validation.as_ref().map_or(0, |v| v.models),
        held_out_error_pct: held_out_errors(fit, &nodes[0].model),
        kernel: None,
        kernel_missing: None,
    })
}

/// `model`'s own held-out error per predictor (percent, in the validation's ranked order),
/// when it is one of the fit's validated models.
fn held_out_errors(fit: &DeviceFit, model: &str) -> Vec<(Predictor, f64)> {
    let Some(v) = fit.validation.as_ref() else {
        return Vec::new();
    };
    let Some(h) = v.per_model.iter().find(|h| h.model == model) else {
        return Vec::new();
    };
    if h.measured_ns <= 0.0 {
        return Vec::new();
    }
    v.ranked()
        .into_iter()
        .filter_map(|(p, _)| {
            let ns = match p {
                Predictor::Kernel => h.kernel_model_ns?,
                Predictor::Node => h.node_model_ns,
                Predictor::MacsOnly => h.macs_only_ns,
            };
            Some((p, 100.0 * (ns - h.measured_ns) / h.measured_ns))
        })
        .collect()
}

impl Prediction {
    /// What `p` predicts for this model (`None`: the kernel model without its kernels).
    pub fn latency_ns_of(&self, p: Predictor) -> Option<f64> {
        match p {
            Predictor::Kernel => self.kernel.as_ref().map(|k| k.latency_ns),
            Predictor::Node => Some(self.latency_ns),
            Predictor::MacsOnly => Some(self.macs_only_latency_ns),
        }
    }

    /// The predictor that leads: the best-validated one that can predict this model (the
    /// kernel model needs its executed kernels), so never one that loses to MACs only; with
    /// no validation, the kernel model when it predicts, else the node model.
    pub fn headline(&self) -> Predictor {
        let available = |p: &Predictor| self.latency_ns_of(*p).is_some();
        match self.validation.iter().map(|(p, _)| *p).find(available) {
            Some(p) => p,
            None if self.kernel.is_some() => Predictor::Kernel,
            None => Predictor::Node,
        }
    }

    /// The headline predictor's latency.
    pub fn headline_latency_ns(&self) -> f64 {
        self.latency_ns_of(self.headline())
            .unwrap_or(self.latency_ns)
    }
}

/// What `hiddencost validate` produces.
#[derive(Debug, Clone)]
pub struct ValidationOutput {
    pub holdout: Holdout,
    /// The section as markdown.
    pub markdown: String,
    /// The per-model table as CSV.
    pub csv: String,
    /// Lines and models of the logs that were skipped.
    pub notes: Vec<SkipNote>,
}

/// Scores the predictors of `fit_json` (on `device`) on every model of `logs` with op and node
/// records: the kernel model, the node model and MACs only, against each model's measured
/// clean latency; models that were in the fit's training data are listed but not scored.
/// `memory_available_bytes` bounds loading as in [`crate::AnalyzeOptions`].
pub fn validate(
    fit_json: &Path,
    logs: &[PathBuf],
    device: Option<&str>,
    memory_available_bytes: Option<u64>,
) -> Result<ValidationOutput, AnalyzeError> {
    if logs.is_empty() {
        return Err(AnalyzeError::NoLogs);
    }
    let fit = read_fit(fit_json)?;
    let chosen = choose_device(&fit, fit_json, device)?;
    chosen.check().map_err(|e| AnalyzeError::NotFitted {
        device: chosen.device.clone(),
        reason: e.to_string(),
    })?;
    let data = load::load_dataset(logs, None, memory_available_bytes)?;
    if data.is_empty() {
        return Err(load::no_models(logs.len(), &data.notes));
    }
    let h = holdout::holdout(chosen, &data);
    Ok(ValidationOutput {
        markdown: markdown::render(&validation::doc(&h)),
        csv: validation::models_table(&h).to_csv(),
        holdout: h,
        notes: data.notes.clone(),
    })
}

/// Writes `out` as `validation.md` and `validation.csv` into `dir` (created if missing), as
/// `analyze` writes its files ([`crate::render::outdir`]): never over one of `inputs` (the logs
/// and the fit file) nor over a file that no earlier `analyze` or `validate` wrote. Checks both
/// names before writing either; returns their paths.
pub fn write_validation(
    out: &ValidationOutput,
    dir: &Path,
    inputs: &[&Path],
) -> Result<Vec<PathBuf>, AnalyzeError> {
    let files = [
        ("validation.md", &out.markdown),
        ("validation.csv", &out.csv),
    ];
    let mut outdir = crate::render::outdir::OutDir::open(dir, inputs)?;
    outdir.claim(files.iter().map(|(name, _)| *name))?;
    files
        .iter()
        .map(|(name, text)| outdir.write(name, text.as_bytes()))
        .collect()
}

/// The largest fit.json read: a fit of 1,000 boards' ten models each is about 1 GB.
const MAX_FIT_FILE_BYTES: u64 = 16 << 30;

/// Reads and checks a fit.json.
pub fn read_fit(path: &Path) -> Result<FitFile, AnalyzeError> {
    let bad = |reason: String| AnalyzeError::FitFormat {
        path: path.into(),
        reason,
    };
    // Parsed as it is read: a fleet's fit.json is as large as its logs' records.
    let stream = std::io::Read::take(load::file::open(path)?, MAX_FIT_FILE_BYTES);
    let fit: FitFile = serde_json::from_reader(stream).map_err(|e| {
        bad(if e.is_eof() {
            format!(
                "{e}: cut short, or larger than {} GiB",
                MAX_FIT_FILE_BYTES >> 30
            )
        } else {
            e.to_string()
        })
    })?;
    if fit.format != FIT_FORMAT {
        return Err(bad(format!(
            "format is `{}`, expected `{FIT_FORMAT}`",
            fit.format
        )));
    }
    if !FIT_VERSIONS_READ.contains(&fit.version) {
        return Err(bad(format!(
            "version {} (this hiddencost reads versions {FIT_VERSIONS_READ:?} and writes \
             {FIT_VERSION})",
            fit.version
        )));
    }
    for d in &fit.devices {
        if let Some(k) = &d.kernel_model {
            k.check()
                .map_err(|e| bad(format!("device `{}`: {e}", d.device)))?;
        }
    }
    Ok(fit)
}

/// Why the fit `analyze` wrote (`fit_json`) cannot predict, if it cannot: no device, a device
/// whose figures are unusable or that predicts no latency for one of its own models, or a
/// file that does not read back as `predict` reads it.
pub fn fit_gaps(a: &Analysis, data: &Dataset, fit_json: &Path) -> Vec<FitGap> {
    if a.fit.devices.is_empty() {
        let left_out: Vec<String> = a
            .fit_left_out
            .iter()
            .take(3)
            .map(|l| format!("`{}`: {}", l.model, l.why))
            .collect();
        let more = a.fit_left_out.len().saturating_sub(left_out.len());
        let mut left_out = left_out.join("; ");
        if more > 0 {
            left_out += &format!("; {more} more");
        }
        if left_out.is_empty() {
            left_out = "no model in the logs".into();
        }
        return vec![FitGap::NoDevice { left_out }];
    }
    let mut gaps = Vec::new();
    if let Err(e) = read_fit(fit_json) {
        gaps.push(FitGap::Unreadable {
            reason: e.to_string(),
        });
    }
    for d in &a.fit.devices {
        if let Err(cause) = d.check() {
            gaps.push(FitGap::Unusable {
                device: d.device.clone(),
                cause,
            });
            continue;
        }
        let fitted: std::collections::HashSet<&str> = d.models.iter().map(String::as_str).collect();
        let own = data
            .runs
            .iter()
            .filter(|r| fitted.contains(r.model.model.as_str()));
        for run in own.filter(|r| !r.nodes.is_empty()) {
            if let Err(AnalyzeError::BadPrediction {
                predictor,
                latency_ns,
                ..
            }) = predict_with(&run.nodes, d)
            {
                gaps.push(FitGap::NoLatency {
                    device: d.device.clone(),
                    predictor,
                    model: run.model.model.clone(),
                    latency_ns,
                });
                break;
            }
        }
    }
    gaps
}

/// Node records from `hiddencost cost MODEL --json` output (or a bench log of one model);
/// `model_cost` and other records are ignored. Nodes of several models are refused.
pub fn read_cost_output(path: &Path) -> Result<Vec<NodeRecord>, AnalyzeError> {
    let bytes = read_file(path)?;
    parse_cost_output(path, &String::from_utf8_lossy(&bytes))
}

pub fn parse_cost_output(path: &Path, text: &str) -> Result<Vec<NodeRecord>, AnalyzeError> {
    let mut nodes: Vec<NodeRecord> = Vec::new();
    for (ix, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            continue;
        }
        let err = |reason: String| AnalyzeError::CostFormat {
            path: path.into(),
            line: ix + 1,
            reason,
        };
        let value: serde_json::Value =
            serde_json::from_str(line).map_err(|e| err(format!("not JSON: {e}")))?;
        if value.get("type").and_then(|t| t.as_str()) != Some("node") {
            continue;
        }
        match serde_json::from_value::<Record>(value) {
            Ok(Record::Node(n)) => {
                if let Some(first) = nodes.first().filter(|f| f.model != n.model) {
                    return Err(err(format!(
                        "nodes of several models (`{}`, `{}`): predict one model at a time",
                        first.model, n.model
                    )));
                }
                nodes.push(n);
            }
            Ok(_) => {}
            Err(e) => return Err(err(format!("invalid node record: {e}"))),
        }
    }
    if nodes.is_empty() {
        return Err(AnalyzeError::NoNodes);
    }
    Ok(nodes)
}
