//! The compute layer: everything the report says, as one [`Analysis`] value computed from a
//! loaded [`Dataset`]. Nothing here formats text for a reader: the render layer does.
//!
//! Code map: [`metrics`] turns op records into shares and counter ratios; [`bounds`] gives
//! every op a lower bound from its run's machine roofs; [`correlate`] is the study's Figure 2;
//! [`fit`] the latency models ([`kernels`] the kernel-level one, [`holdout`] their validation
//! on models they never saw); [`sweep`] the design probes' ratios and advice (RQ4); [`eager`]
//! the models measured eager against optimized; [`advise`] each model's measured rewrites
//! ([`int8`] its int8 form against fp32);
//! [`fleet`] summarises many boards per model and
//! finds the outliers; [`findings`] answers the study's questions from all of these; [`stats`]
//! holds the numerics.

pub mod advise;
pub mod answer;
pub mod bounds;
pub mod correlate;
pub mod eager;
pub mod facts;
pub mod findings;
pub mod fit;
pub mod fleet;
pub mod holdout;
pub mod int8;
pub mod kernels;
pub mod metrics;
pub mod nearest;
pub mod stats;
pub mod sweep;

use self::bounds::{BoundAgg, ModelBounds, NoRoofs, Roofs};
use self::correlate::Correlation;
pub use self::facts::{RunResults, gmacs, governor, latency_by_device, ratio_of, thermal_drift_c};
use self::findings::DeviceFindings;
use self::fit::{FitFile, LeftOut};
use self::metrics::{Agg, ModelMetrics, ordered_keys};
use self::sweep::SweepAnalysis;
use crate::load::Dataset;
use std::collections::BTreeMap;

/// Everything computed from a dataset.
#[derive(Debug, Clone)]
pub struct Analysis {
    /// Parallel to `Dataset::runs`.
    pub metrics: Vec<ModelMetrics>,
    /// Parallel to `Dataset::runs`: the ops against their run's roofs, or why there are none.
    pub bounds: Vec<Result<ModelBounds, NoRoofs>>,
    pub correlations: Vec<Correlation>,
    pub fit: FitFile,
    pub fit_left_out: Vec<LeftOut>,
    /// The design probes of `Dataset::probes`: per family, each variant against its baseline,
    /// and the advice (RQ4).
    pub sweep: SweepAnalysis,
    /// One per device, in `Dataset::devices` order.
    pub findings: Vec<DeviceFindings>,
    /// Per device with models measured eager too (`Dataset::eager`): eager against optimized
    /// (empty without eager runs).
    pub eager: Vec<eager::EagerDevice>,
    /// Per model with rewrites (`Dataset::rewrites`): its changes, measured and ranked.
    pub advice: Vec<advise::ModelAdvice>,
    /// Per model measured in its int8 form too (`study --int8`): int8 against fp32.
    pub int8: Vec<int8::Int8Model>,
    /// The same models over many boards (`None` unless a board class has two or more).
    pub fleet: Option<fleet::Fleet>,
}

impl Analysis {
    pub fn compute(data: &Dataset) -> Self {
        let metrics: Vec<ModelMetrics> = data
            .runs
            .iter()
            .map(|r| ModelMetrics::compute(&r.nodes, &r.ops))
            .collect();
        let bounds: Vec<Result<ModelBounds, NoRoofs>> = data
            .runs
            .iter()
            .map(|r| Roofs::of(&r.header).map(|roofs| bounds::model_bounds(&roofs, &r.ops)))
            .collect();
        let (fit, fit_left_out) = fit::fit_all(data);
        let correlations = correlate::correlations(data);
        let sweep = sweep::compute(data);
        let eager = eager::compare(data, &metrics);
        let advice = advise::compute(data, &bounds, &sweep, &fit);
        let int8 = int8::compute(data, &advice);
        let parts = findings::Parts {
            data,
            metrics: &metrics,
            bounds: &bounds,
            correlations: &correlations,
            sweep: &sweep,
            eager: &eager,
            advice: &advice,
            int8: &int8,
        };
        let findings = (0..data.devices.len())
            .map(|d| findings::device_findings(&parts, d))
            .collect();
        Analysis {
            metrics,
            bounds,
            correlations,
            fit,
            fit_left_out,
            sweep,
            eager,
            advice,
            int8,
            findings,
            fleet: fleet::fleet(data),
        }
    }

    /// The runs of device `d` with their metrics and bounds.
    pub fn of_device<'a>(
        &'a self,
        data: &'a Dataset,
        d: usize,
    ) -> impl Iterator<Item = RunResults<'a>> {
        facts::of_device(data, &self.metrics, &self.bounds, d)
    }

    /// Categories present in a view over all models, in display order.
    pub fn view_categories(&self, view: View) -> Vec<String> {
        ordered_keys(self.metrics.iter().flat_map(|m| view.of(m).keys()))
    }

    /// Per device, the executed-view categories summed over all its models.
    pub fn device_categories(&self, data: &Dataset) -> Vec<DeviceTotals> {
        (0..data.devices.len())
            .map(|d| {
                let mut t = DeviceTotals::default();
                for (_, m, b) in self.of_device(data, d) {
                    t.total.merge(&m.total);
                    for (c, agg) in &m.executed {
                        t.categories.entry(c.clone()).or_default().merge(agg);
                    }
                    for (op, agg) in &m.by_op {
                        t.ops.entry(op.clone()).or_default().merge(agg);
                    }
                    if let Ok(b) = b {
                        t.bounded_models += 1;
                        t.bounds.merge(&b.total);
                        for (c, agg) in &b.by_category {
                            t.category_bounds.entry(c.clone()).or_default().merge(agg);
                        }
                    }
                    t.models += 1;
                }
                t
            })
            .collect()
    }
}

/// One device's op records summed over all its models.
#[derive(Debug, Clone, Default)]
pub struct DeviceTotals {
    pub models: usize,
    pub total: Agg,
    /// By executed category.
    pub categories: BTreeMap<String, Agg>,
    /// By executed op type.
    pub ops: BTreeMap<String, Agg>,
    /// Models whose run had machine roofs, and their bounds summed.
    pub bounded_models: usize,
    pub bounds: BoundAgg,
    pub category_bounds: BTreeMap<String, BoundAgg>,
}

/// Which view of [`ModelMetrics`] a table shows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum View {
    Executed,
    Source,
}

impl View {
    pub fn name(self) -> &'static str {
        match self {
            View::Executed => "executed",
            View::Source => "source",
        }
    }

    pub fn of(self, m: &ModelMetrics) -> &BTreeMap<String, Agg> {
        match self {
            View::Executed => &m.executed,
            View::Source => &m.source,
        }
    }
}
