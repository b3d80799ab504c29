//! Assembles the analysis ([`Analysis::compute`]) and writes it out: report.md, CSV tables,
//! SVG charts, fit.json and traces ([`write_all`]), plus the key tables for the terminal
//! ([`terminal`]). All output is deterministic for a given input.

use super::figures::{self, Correlation};
use super::fit::{self, FitFile};
use super::load::Dataset;
use super::metrics::ModelMetrics;
use super::sections::{self, View};
use super::tables::{Table, ms, or_na};
use super::{AnalyzeError, trace, write_file};
use std::fmt::Write;
use std::path::{Path, PathBuf};

/// Op types listed in the "top ops" table, per device.
pub const TOP_OPS: usize = 10;

/// Everything computed from a dataset.
#[derive(Debug, Clone)]
pub struct Analysis {
    /// Parallel to `Dataset::runs`.
    pub metrics: Vec<ModelMetrics>,
    pub correlations: Vec<Correlation>,
    pub fit: FitFile,
    /// (device, model, why) of models the latency model could not use.
    pub fit_left_out: Vec<(String, String, String)>,
}

impl Analysis {
    pub fn compute(data: &Dataset) -> Self {
        let metrics = data
            .runs
            .iter()
            .map(|r| ModelMetrics::compute(&r.nodes, &r.ops))
            .collect();
        let (fit, fit_left_out) = fit::fit_all(data);
        Analysis {
            metrics,
            correlations: figures::correlations(data),
            fit,
            fit_left_out,
        }
    }
}

/// Per device: models, and (MAPE, within ±10%) of the node model and the MACs-only model.
pub fn fit_summary_table(a: &Analysis) -> Table {
    let mut t = Table::new(&[
        "device",
        "models",
        "node model MAPE",
        "node within ±10%",
        "MACs-only MAPE",
        "MACs-only within ±10%",
    ]);
    for d in &a.fit.devices {
        match &d.validation {
            Some(v) => t.row(vec![
                d.device.clone(),
                v.models.to_string(),
                format!("{:.1}%", v.node_model.mape_pct),
                format!("{}/{}", v.node_model.within_10pct, v.models),
                format!("{:.1}%", v.macs_only.mape_pct),
                format!("{}/{}", v.macs_only.within_10pct, v.models),
            ]),
            None => t.row(vec![
                d.device.clone(),
                d.models.len().to_string(),
                "needs >= 3 models".into(),
            ]),
        }
    }
    t
}

/// Per held-out model: measured vs both predictions.
pub fn fit_models_table(a: &Analysis) -> Table {
    let mut t = Table::new(&[
        "device",
        "model",
        "measured ms",
        "node model ms",
        "node error",
        "MACs-only ms",
        "MACs-only error",
    ]);
    let err = |p: f64, m: f64| {
        if m > 0.0 {
            format!("{:+.1}%", (p - m) / m * 100.0)
        } else {
            "n/a".into()
        }
    };
    for d in &a.fit.devices {
        for h in d.validation.iter().flat_map(|v| &v.per_model) {
            t.row(vec![
                d.device.clone(),
                h.model.clone(),
                ms(h.measured_ns),
                ms(h.node_model_ns),
                err(h.node_model_ns, h.measured_ns),
                ms(h.macs_only_ns),
                err(h.macs_only_ns, h.measured_ns),
            ]);
        }
    }
    t
}

/// The fitted coefficients (all models of each device), in explainable units.
pub fn coefficients_table(a: &Analysis) -> Table {
    let mut t = Table::new(&[
        "device",
        "category",
        "nodes",
        "ns/MAC",
        "ns/byte read",
        "ns/byte written",
        "ns/weight byte",
        "ns/node",
    ]);
    for d in &a.fit.devices {
        let rows = d
            .categories
            .iter()
            .map(|(c, k)| (c.clone(), k))
            .chain(std::iter::once(("(default)".to_string(), &d.default)));
        for (c, k) in rows {
            t.row(vec![
                d.device.clone(),
                c,
                k.samples.to_string(),
                format!("{:.4}", k.ns_per_mac),
                format!("{:.4}", k.ns_per_byte_read),
                format!("{:.4}", k.ns_per_byte_written),
                format!("{:.4}", k.ns_per_weight_byte),
                format!("{:.1}", k.ns_per_node),
            ]);
        }
        t.row(vec![
            d.device.clone(),
            "(scale)".into(),
            String::new(),
            format!("x {:.4}", d.scale),
        ]);
        t.row(vec![
            d.device.clone(),
            "(MACs-only)".into(),
            String::new(),
            format!("{:.4}", d.macs_only.ns_per_mac),
            format!("+ {:.0} ns", d.macs_only.intercept_ns),
        ]);
    }
    t
}

/// The key tables, as printed on the terminal.
pub fn terminal(a: &Analysis, data: &Dataset) -> String {
    let mut s = String::new();
    let mut section = |title: &str, t: Table| {
        let _ = write!(s, "{title}\n{}\n", t.to_text());
    };
    section(
        "Models (latency = clean end-to-end median; hidden = share of op time in zero-MAC ops)",
        sections::models_table(a, data),
    );
    section(
        "Where the time goes (executed view: tract ops)",
        sections::shares_table(a, data, View::Executed),
    );
    section(
        "Where the time goes (source view: ONNX ops)",
        sections::shares_table(a, data, View::Source),
    );
    section(
        "Why: per category, all models of a device",
        sections::why_table(a, data),
    );
    section(
        "Figure 2: correlations across models",
        figures::correlation_table(a),
    );
    section(
        "Latency model vs MACs-only, leave-one-model-out",
        fit_summary_table(a),
    );
    if data.devices.len() > 1 {
        section(
            "Devices compared (median latency)",
            sections::devices_table(data),
        );
    }
    s
}

/// Writes every output file into `dir`; returns their paths in writing order.
pub fn write_all(a: &Analysis, data: &Dataset, dir: &Path) -> Result<Vec<PathBuf>, AnalyzeError> {
    let mut written = Vec::new();
    let csvs = [
        ("models.csv", sections::models_csv(a, data)),
        ("shares.csv", sections::shares_csv(a, data)),
        ("counters.csv", sections::why_csv(a, data)),
        ("correlations.csv", correlations_csv(a)),
        ("fit_validation.csv", fit_models_table(a)),
        ("devices.csv", sections::devices_table(data)),
    ];
    for (name, table) in csvs {
        written.push(write_file(dir, name, table.to_csv().as_bytes())?);
    }
    let svgs = figures::svg_files(a, data);
    for (name, body) in &svgs {
        written.push(write_file(dir, name, body.as_bytes())?);
    }
    let fit_json =
        serde_json::to_string_pretty(&a.fit).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    written.push(write_file(dir, "fit.json", fit_json.as_bytes())?);
    let mut trace_names = Vec::new();
    for model in sections::latency_by_device(data)
        .into_iter()
        .map(|(m, _)| m)
    {
        let runs: Vec<_> = data
            .runs
            .iter()
            .filter(|r| r.model.model == model)
            .collect();
        let name = trace::file_name(&model);
        let body = trace::chrome_trace(data, &runs).to_string();
        written.push(write_file(dir, &name, body.as_bytes())?);
        trace_names.push(name);
    }
    let svg_names: Vec<String> = svgs.into_iter().map(|(n, _)| n).collect();
    let md = super::markdown::report_md(a, data, &svg_names, &trace_names);
    written.push(write_file(dir, "report.md", md.as_bytes())?);
    Ok(written)
}

fn correlations_csv(a: &Analysis) -> Table {
    let mut t = Table::new(&[
        "device",
        "pair",
        "x",
        "y",
        "n",
        "pearson_r",
        "spearman_rho",
        "note",
    ]);
    for c in &a.correlations {
        let p = &figures::PAIRS[c.pair];
        t.row(vec![
            c.device.clone(),
            p.key.into(),
            p.x_label.into(),
            p.y_label.into(),
            c.points.len().to_string(),
            or_na(c.pearson, 6),
            or_na(c.spearman, 6),
            c.note.clone().unwrap_or_default(),
        ]);
    }
    t
}
