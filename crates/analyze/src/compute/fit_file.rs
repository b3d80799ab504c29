//! The content of fit.json: per device, the node model, MACs only, their validation and the
//! kernel model (docs/analysis.md, "fit.json").

use super::{Coefficients, MacsOnly};
use crate::compute::kernels::KernelModel;
use crate::compute::stats::f64_or_null;
use crate::error::BadFit;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Error summary of one latency model over the held-out models.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Score {
    #[serde(deserialize_with = "f64_or_null")]
    pub mape_pct: f64,
    pub within_10pct: usize,
}

/// One held-out model: measured and predicted clean latency (median).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeldOut {
    pub model: String,
    pub measured_ns: f64,
    #[serde(deserialize_with = "f64_or_null")]
    pub node_model_ns: f64,
    #[serde(deserialize_with = "f64_or_null")]
    pub macs_only_ns: f64,
    /// The kernel model fitted without this model (the device's design probes and its other
    /// models), when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kernel_model_ns: Option<f64>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Validation {
    pub method: String,
    pub models: usize,
    pub node_model: Score,
    pub macs_only: Score,
    /// `None` when no fold had a kernel model (no op records).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kernel_model: Option<Score>,
    pub per_model: Vec<HeldOut>,
}

/// The latency predictors a validation scores.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Predictor {
    Kernel,
    Node,
    MacsOnly,
}

impl Validation {
    /// The predictors scored, best (lowest MAPE) first; MACs only wins ties, being the
    /// simplest.
    pub fn ranked(&self) -> Vec<(Predictor, Score)> {
        let mut all = vec![
            (Predictor::MacsOnly, self.macs_only),
            (Predictor::Node, self.node_model),
        ];
        if let Some(k) = self.kernel_model {
            all.push((Predictor::Kernel, k));
        }
        all.sort_by(|a, b| a.1.mape_pct.total_cmp(&b.1.mape_pct));
        all
    }
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
    /// Per executed kernel type, from the op records (absent in version 1 files, and when the
    /// logs have no op records).
    #[serde(default)]
    pub kernel_model: Option<KernelModel>,
}

impl DeviceFit {
    /// Whether every figure the node model and MACs only predict with is a finite
    /// non-negative number (the scale positive), and the kernel model's too.
    pub fn check(&self) -> Result<(), BadFit> {
        if !(self.scale.is_finite() && self.scale > 0.0) {
            return Err(BadFit::Scale(self.scale));
        }
        let usable = |c: &Coefficients| c.as_array().iter().all(|v| v.is_finite() && *v >= 0.0);
        if let Some((name, _)) = self.categories.iter().find(|(_, c)| !usable(c)) {
            return Err(BadFit::NodeCoefficients(name.clone()));
        }
        if !usable(&self.default) {
            return Err(BadFit::NodeCoefficients("default".into()));
        }
        let m = &self.macs_only;
        if ![m.ns_per_mac, m.intercept_ns]
            .iter()
            .all(|v| v.is_finite() && *v >= 0.0)
        {
            return Err(BadFit::MacsOnly);
        }
        match &self.kernel_model {
            Some(k) => k.check(),
            None => Ok(()),
        }
    }
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
    /// How the kernel model predicts (version 2).
    #[serde(default)]
    pub kernel_model: String,
    /// The kernel model's features, in coefficient order (version 2).
    #[serde(default)]
    pub kernel_features: Vec<FeatureDef>,
    pub devices: Vec<DeviceFit>,
}
