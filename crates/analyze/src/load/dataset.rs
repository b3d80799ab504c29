//! What loading makes of the logs: the [`Dataset`] of measured models, design probes, failed
//! models, skip notes and devices.

use super::accuracy::AccuracyEntry;
use super::device::Device;
use super::note::SkipNote;
use super::op::Op;
use crate::record::{Header, ModelRecord, NodeRecord};
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::rc::Rc;

/// The `optimize` of a model record measured eager: each ONNX node on its own.
pub const EAGER: &str = "none";

/// One model measured once on one device: its node, op and model records.
#[derive(Debug, Clone)]
pub struct ModelRun {
    /// Index into [`Dataset::devices`].
    pub device: usize,
    pub log: PathBuf,
    /// Line of the model record.
    pub line: usize,
    pub header: Rc<Header>,
    /// The node records (static costs): one list shared by the runs whose lists are equal (the
    /// same model on many boards).
    pub nodes: Rc<[NodeRecord]>,
    /// The op records, in log order, in their compact form ([`super::op`]).
    pub ops: Vec<Op>,
    pub model: ModelRecord,
}

impl ModelRun {
    /// Whether this is a design probe of `hiddencost sweep` rather than a model.
    pub fn is_probe(&self) -> bool {
        self.model.metadata.sweep.is_some()
    }
}

/// A model the bench could not measure (an `error` record).
#[derive(Debug, Clone)]
pub struct FailedModel {
    pub device: usize,
    pub model: String,
    pub message: String,
    pub log: PathBuf,
    pub line: usize,
}

/// Everything usable from the logs.
#[derive(Debug, Clone, Default)]
pub struct Dataset {
    pub devices: Vec<Device>,
    /// The models measured (networks, the user's or the zoo's), in log order.
    pub runs: Vec<ModelRun>,
    /// The design probes of `hiddencost sweep` (runs whose model record carries
    /// `sweep.kind`), in log order: micro-models, kept apart so that they answer RQ4 and train
    /// the kernel-level predictor without entering the models' shares, correlations and fits.
    pub probes: Vec<ModelRun>,
    /// The models measured a second time eager (`--optimize none`, each ONNX node on its own)
    /// beside their run at another level (`study` does both), in log order: kept apart so that
    /// they show what the runtime's graph optimizations removed without entering the models'
    /// shares, correlations and fits.
    pub eager: Vec<ModelRun>,
    /// The models' rewrites (`rewrite`: one design change of a model's graph), each group with
    /// its model measured again as it is (`as-is`), in log order: kept apart so that they say
    /// what each change saves without entering the models' shares, correlations and fits.
    pub rewrites: Vec<ModelRun>,
    pub failed: Vec<FailedModel>,
    pub notes: Vec<SkipNote>,
    /// From `--accuracy`, by model name (overrides the records' metadata).
    pub accuracy_csv: BTreeMap<String, AccuracyEntry>,
}

impl Dataset {
    /// Whether the dataset holds nothing measured: no model and no probe.
    pub fn is_empty(&self) -> bool {
        self.runs.is_empty() && self.probes.is_empty()
    }

    pub fn device_label(&self, run: &ModelRun) -> &str {
        &self.devices[run.device].label
    }

    /// Top-1 accuracy in percent: `--accuracy` CSV first, then the record's `top1_error`.
    pub fn accuracy_pct(&self, run: &ModelRun) -> Option<f64> {
        let name = &run.model.model;
        let zoo = run.model.metadata.zoo.as_ref().map(|z| z.zoo.as_str());
        let from_csv = self
            .accuracy_csv
            .get(name)
            .or_else(|| zoo.and_then(|z| self.accuracy_csv.get(z)));
        if let Some(entry) = from_csv {
            return Some(100.0 - entry.top1_error_pct);
        }
        let top1 = run.model.metadata.top1_error?;
        top1.is_finite().then_some(100.0 - top1)
    }
}
