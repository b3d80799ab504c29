//! The validation section (`hiddencost validate`): the fitted latency predictors on models they
//! never saw, as a [`Doc`] (markdown on the terminal and in validation.md) and CSV. The title
//! states the counts the tables show, nothing more.

use super::doc::{Doc, Text};
use super::table::{self as tables, Table};
use crate::compute::holdout::{Holdout, PredictorScore};

/// The section title: how many unseen models each predictor put within ±10%.
pub fn title(h: &Holdout) -> String {
    let n = h.node.models;
    if n == 0 {
        return "Latency predictors: no unseen model to validate on".into();
    }
    let part = |name: &str, s: &PredictorScore| format!("{name} {}/{n}", s.within_10pct);
    let mut parts = Vec::new();
    if let Some(k) = &h.kernel {
        parts.push(part("kernel model", k));
    }
    parts.push(part("node model", &h.node));
    parts.push(part("MACs only", &h.macs_only));
    format!(
        "Unseen models within ±10% of their measured latency: {}",
        parts.join(", ")
    )
}

fn signed_pct(p: f64, m: f64) -> String {
    if m > 0.0 && p.is_finite() {
        format!("{:+.1}%", 100.0 * (p - m) / m)
    } else {
        "n/a".into()
    }
}

/// Predictor | models | within ±5% | within ±10% | MAPE | Spearman ρ.
pub fn summary_table(h: &Holdout) -> Table {
    let mut t = Table::new(&[
        "predictor",
        "models",
        "within ±5%",
        "within ±10%",
        "MAPE",
        "Spearman ρ",
    ]);
    let mut row = |name: &str, s: &PredictorScore| {
        t.row(vec![
            name.to_string(),
            s.models.to_string(),
            format!("{}/{}", s.within_5pct, s.models),
            format!("{}/{}", s.within_10pct, s.models),
            if s.mape_pct.is_finite() {
                format!("{:.1}%", s.mape_pct)
            } else {
                "n/a".into()
            },
            tables::or_na(s.spearman_rho, 3),
        ])
    };
    if let Some(k) = &h.kernel {
        row("kernel model", k);
    }
    row("node model", &h.node);
    row("MACs only", &h.macs_only);
    t
}

/// Per model: measured, each prediction and its error, the kernels' own sum against the
/// measured op sum, fallbacks, whether it was in training.
pub fn models_table(h: &Holdout) -> Table {
    let mut t = Table::new(&[
        "model",
        "measured ms",
        "kernel model ms",
        "kernel error",
        "node model ms",
        "node error",
        "MACs-only ms",
        "MACs-only error",
        "Σ ops measured ms",
        "Σ kernels predicted ms",
        "fallbacks",
        "in training",
    ]);
    for m in &h.per_model {
        let opt_ms = |v: Option<f64>| v.map_or_else(|| "n/a".to_string(), tables::ms);
        t.row(vec![
            m.model.clone(),
            tables::ms(m.measured_ns),
            opt_ms(m.kernel_ns),
            m.kernel_ns
                .map_or_else(|| "n/a".into(), |k| signed_pct(k, m.measured_ns)),
            tables::ms(m.node_ns),
            signed_pct(m.node_ns, m.measured_ns),
            tables::ms(m.macs_only_ns),
            signed_pct(m.macs_only_ns, m.measured_ns),
            tables::ms(m.measured_sum_op_ns),
            opt_ms(m.kernel_sum_ns),
            if m.fallbacks.is_empty() {
                "-".into()
            } else {
                m.fallbacks.join(" ")
            },
            if m.seen_in_training {
                "yes (not scored)".into()
            } else {
                "no".into()
            },
        ]);
    }
    t
}

/// The whole section.
pub fn section(doc: &mut Doc, h: &Holdout) {
    doc.heading(2, title(h));
    let unseen = h.node.models;
    let seen = h.per_model.len() - unseen;
    doc.para(format!(
        "Each model's median clean latency predicted from its static cost alone by the \
         predictors fitted on device `{}` ({} training models{}), none of which saw these \
         models{}. The kernel model predicts from the model's executed kernels (tract's plan \
         after fusion) and their static cost; the node model from its ONNX nodes; MACs only \
         from its total MACs. Scores are over the {unseen} unseen models.",
        h.fit_device,
        h.trained_models,
        if h.trained_calls > 0 {
            format!(", {} kernel calls", h.trained_calls)
        } else {
            String::new()
        },
        if seen > 0 {
            format!(
                " ({seen} more model(s) share a name with a training model: listed, not scored)"
            )
        } else {
            String::new()
        },
    ));
    if h.kernel.is_none() {
        doc.para(
            "The fit has no kernel model (a version 1 fit.json, or logs without op records): \
             refit with `hiddencost analyze SWEEP_LOG --out DIR`.",
        );
    }
    doc.table(summary_table(h));
    doc.para(
        "`Σ ops measured` is the sum of the ops' median wall times in the per-op runs; `Σ \
         kernels predicted` the kernel model's sum over the same calls before it is mapped onto \
         clean latency: their difference is the kernels' own error, the rest the map's. \
         `fallbacks`: kernel types with too few training calls of their own, predicted from \
         their category's calls or fit, or the pooled fit.",
    );
    doc.table(models_table(h));
    if !h.left_out.is_empty() {
        doc.list(
            h.left_out
                .iter()
                .map(|(m, why)| Text::new().t(format!("not validated: {m}: {why}")))
                .collect(),
        );
    }
}

/// The section as a one-section [`Doc`].
pub fn doc(h: &Holdout) -> Doc {
    let mut d = Doc::default();
    section(&mut d, h);
    d
}
