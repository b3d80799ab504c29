//! The latency models' tables (section 5, the terminal summary, fit_validation.csv): each
//! predictor's leave-one-model-out score, the best first, per held-out model, and the node
//! model's coefficients.

use super::table::{Table, ms};
use crate::compute::Analysis;
use crate::compute::fit::{Predictor, Score};

/// The words of a latency predictor.
pub fn predictor_name(p: Predictor) -> &'static str {
    match p {
        Predictor::Kernel => "kernel model",
        Predictor::Node => "node model",
        Predictor::MacsOnly => "MACs only",
    }
}

/// Whether any device's validation scored the kernel model.
fn has_kernel_validation(a: &Analysis) -> bool {
    a.fit.devices.iter().any(|d| {
        d.validation
            .as_ref()
            .is_some_and(|v| v.kernel_model.is_some())
    })
}

/// Per device: models, the predictor that validates best, and (MAPE, within ±10%) of the
/// kernel model (when scored), the node model and the MACs-only model.
pub fn fit_summary_table(a: &Analysis) -> Table {
    let kernel = has_kernel_validation(a);
    let mut headers = vec!["device", "models"];
    if kernel {
        headers.extend(["best", "kernel model MAPE", "kernel within ±10%"]);
    }
    headers.extend([
        "node model MAPE",
        "node within ±10%",
        "MACs-only MAPE",
        "MACs-only within ±10%",
    ]);
    let mut t = Table::new(&headers);
    for d in &a.fit.devices {
        match &d.validation {
            Some(v) => {
                let score = |s: Option<Score>| match s {
                    Some(s) => [
                        format!("{:.1}%", s.mape_pct),
                        format!("{}/{}", s.within_10pct, v.models),
                    ],
                    None => ["n/a".to_string(), "n/a".to_string()],
                };
                let mut row = vec![d.device.clone(), v.models.to_string()];
                if kernel {
                    row.push(predictor_name(v.ranked()[0].0).to_string());
                    row.extend(score(v.kernel_model));
                }
                row.extend(score(Some(v.node_model)));
                row.extend(score(Some(v.macs_only)));
                t.row(row);
            }
            None => t.row(vec![
                d.device.clone(),
                d.models.len().to_string(),
                "needs >= 3 models".into(),
            ]),
        }
    }
    t
}

/// Per held-out model: measured against each prediction.
pub fn fit_models_table(a: &Analysis) -> Table {
    let kernel = has_kernel_validation(a);
    let mut headers = vec!["device", "model", "measured ms"];
    if kernel {
        headers.extend(["kernel model ms", "kernel error"]);
    }
    headers.extend([
        "node model ms",
        "node error",
        "MACs-only ms",
        "MACs-only error",
    ]);
    let mut t = Table::new(&headers);
    let err = |p: f64, m: f64| {
        if m > 0.0 {
            format!("{:+.1}%", (p - m) / m * 100.0)
        } else {
            "n/a".into()
        }
    };
    for d in &a.fit.devices {
        for h in d.validation.iter().flat_map(|v| &v.per_model) {
            let mut row = vec![d.device.clone(), h.model.clone(), ms(h.measured_ns)];
            if kernel {
                match h.kernel_model_ns {
                    Some(k) => row.extend([ms(k), err(k, h.measured_ns)]),
                    None => row.extend(["n/a".to_string(), "n/a".to_string()]),
                }
            }
            row.extend([
                ms(h.node_model_ns),
                err(h.node_model_ns, h.measured_ns),
                ms(h.macs_only_ns),
                err(h.macs_only_ns, h.measured_ns),
            ]);
            t.row(row);
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
