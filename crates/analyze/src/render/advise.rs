//! What to change in each model: its measured rewrites ranked by the time saved, with their
//! evidence (the section, its Finding, advise.csv and the terminal's list).

use super::doc::{Doc, Text, to};
use super::table::{Table, ms, pct};
use crate::compute::Analysis;
use crate::compute::advise::{Change, ModelAdvice, ProbeEvidence, Verdict};
use crate::compute::findings::ChangesFinding;
use crate::load::Dataset;
use crate::table::{
    Cell, Column,
    Kind::{Float, Int, Text as TextKind},
    Read, Unit,
};

pub const H_ADVICE: &str = "11. What to change: each model's rewrites, measured";

const TEXT: &str = "Each model with a place to change was rewritten, one change at a \
time, in its own ONNX graph (every tensor keeps its shape), and each rewrite benchmarked like \
the model, between two more runs of the model as it is (\"as-is\", before and after the \
group): \"saved\" is the as-is latency at the rewrite's place in the group (interpolated \
between the two as-is runs) minus the rewrite's (clean end-to-end medians), and \"noise\" two \
standard errors of their ratio (as for the design probes) plus the drift between the two \
as-is runs; a saving within it is no saving. Accuracy is not \
measured: every rewrite but fold-bn changes what the network computes, so a saving here is \
worth a retraining or a fine-tuning to find out what it costs in accuracy. The evidence: the \
op categories whose time moved most (as-is -> rewritten), the ops of the category the change \
is about in the model's own run against their bound, the design probe that measured the same \
choice at equal MACs on this device, and what the kernel latency model predicts the change \
saves.";

/// A rewrite in words.
pub fn rewrite_words(rewrite: &str) -> &str {
    match rewrite {
        "relu" => "every other activation to ReLU",
        "max-pool" => "windowed average pooling to max pooling",
        "global-max-pool" => "global average pooling to global max pooling",
        "fold-bn" => "BatchNorm folded into the conv before it",
        "no-shuffle" => "channel shuffle removed",
        "int8" => "quantized to int8 in QDQ format",
        other => other,
    }
}

fn verdict(v: Verdict) -> &'static str {
    match v {
        Verdict::Faster => "faster",
        Verdict::Slower => "slower",
        Verdict::Same => "within noise",
    }
}

fn probe_text(p: &ProbeEvidence) -> String {
    let others: Vec<String> = p
        .others
        .iter()
        .map(|(v, ratio, noise)| {
            let noise = noise.map_or(String::new(), |n| format!(" ±{}", pct(n)));
            format!("{v} {ratio:.2}x{noise}")
        })
        .collect();
    format!(
        "probe {}: {} of {}",
        p.family,
        others.join(", "),
        p.alternative
    )
}

/// The evidence of a change, in one line.
pub fn evidence(c: &Change) -> String {
    let mut parts: Vec<String> = c
        .categories
        .iter()
        .filter(|m| m.as_is_ns != m.rewritten_ns)
        .map(|m| {
            format!(
                "{} {} -> {} ms",
                m.category,
                ms(m.as_is_ns as f64),
                ms(m.rewritten_ns as f64)
            )
        })
        .collect();
    if let Some((category, agg)) = &c.target {
        let times = if agg.bound_ns > 0.0 {
            format!(", {:.1}x their bound", agg.measured_ns / agg.bound_ns)
        } else {
            String::new()
        };
        parts.push(format!(
            "{category} ops in the model: {} ms{times}",
            ms(agg.measured_ns)
        ));
    }
    if let Some(p) = &c.probe {
        parts.push(probe_text(p));
    }
    if let Some(k) = c.predicted_saved_ns {
        parts.push(format!("kernel model: {} ms", ms(k)));
    }
    parts.join("; ")
}

/// One row per change, each model's largest saving first; with `evidence` a column of it in
/// words (the report's table), else raw columns (advise.csv).
pub fn changes_table(a: &Analysis, data: &Dataset, words: bool) -> Table {
    let raw = |c: Column| if words { c.raw_only() } else { c };
    let mut columns = vec![
        Column::text("device"),
        Column::text("model"),
        Column::new("rewrite", "change", TextKind, Unit::None, Read::Plain),
        Column::new("places", "places", Int, Unit::Count, Read::Plain),
        Column::ns("as_is_ns", "as-is ms"),
        Column::ns("rewritten_ns", "rewritten ms"),
        Column::new("saved_ns", "saved ms", Float, Unit::Ns, Read::MsOfNs),
        Column::new("saving", "saved", Float, Unit::Fraction, Read::Pct),
        Column::new("noise", "noise ±", Float, Unit::Fraction, Read::Pct),
        raw(Column::new("drift", "", Float, Unit::Fraction, Read::Pct)),
        Column::new("verdict", "verdict", TextKind, Unit::None, Read::Plain),
        raw(Column::new(
            "predicted_saved_ns",
            "kernel model ms",
            Float,
            Unit::Ns,
            Read::MsOfNs,
        )),
        raw(Column::text("target_category")),
        raw(Column::ns("target_ns", "")),
        raw(Column::new(
            "target_bound_ns",
            "",
            Float,
            Unit::Ns,
            Read::MsOfNs,
        )),
    ];
    if words {
        columns.push(Column::text("evidence"));
    }
    let mut t = Table::typed(columns);
    for ModelAdvice {
        device,
        model,
        changes,
        ..
    } in &a.advice
    {
        for c in changes {
            let (category, target_ns, bound_ns) = match &c.target {
                Some((category, agg)) => (
                    Cell::text(category.clone()),
                    Cell::Int(Some(agg.measured_ns.round() as u64)),
                    Cell::Float(Some(agg.bound_ns)),
                ),
                None => (Cell::Text(None), Cell::Int(None), Cell::Float(None)),
            };
            let mut row = vec![
                Cell::text(data.devices[*device].label.clone()),
                Cell::text(model.clone()),
                Cell::text(c.rewrite.clone()),
                Cell::Int(Some(c.places)),
                Cell::Int(Some(c.as_is_ns)),
                Cell::Int(Some(c.rewritten_ns)),
                Cell::Float(Some(c.saved_ns as f64)),
                Cell::Float(Some(c.saving)),
                Cell::Float(c.noise),
                Cell::Float(c.drift),
                Cell::text(verdict(c.verdict)),
                Cell::Float(c.predicted_saved_ns),
                category,
                target_ns,
                bound_ns,
            ];
            if words {
                row.push(Cell::text(evidence(c)));
            }
            t.push(row);
        }
    }
    t
}

/// advise.csv (nothing without rewrites).
pub fn csv_files(a: &Analysis, data: &Dataset) -> Vec<(&'static str, Table)> {
    if a.advice.is_empty() {
        return Vec::new();
    }
    vec![("advise.csv", changes_table(a, data, false))]
}

/// The section (nothing without rewrites).
pub fn section(doc: &mut Doc, a: &Analysis, data: &Dataset) {
    if a.advice.is_empty() {
        return;
    }
    doc.heading(2, H_ADVICE);
    doc.para(TEXT);
    doc.list(
        [
            "relu",
            "max-pool",
            "global-max-pool",
            "fold-bn",
            "no-shuffle",
            "int8",
        ]
        .into_iter()
        .map(|r| Text::new().code(r).t(format!(": {}", rewrite_words(r))))
        .collect(),
    );
    doc.table(changes_table(a, data, true));
}

/// The Finding of one device, when its models' rewrites were measured: the largest measured
/// saving leads.
pub fn finding(f: &ChangesFinding) -> Text {
    let mut t = Text::new().strong("What to change.").t(format!(
        " {} rewrite(s) of {} model(s) measured on this device, each against the model as it is: ",
        f.changes, f.models
    ));
    if f.largest.is_empty() {
        t = t.t("none saved time beyond the noise.".to_string());
    } else {
        let items: Vec<String> = f
            .largest
            .iter()
            .map(|(model, c)| {
                format!(
                    "{model} with {} saves {} ms ({}, noise ±{})",
                    rewrite_words(&c.rewrite),
                    ms(c.saved_ns as f64),
                    pct(c.saving),
                    c.noise.map_or("n/a".into(), pct)
                )
            })
            .collect();
        t = t.t(format!(
            "{} saved time beyond the noise; the largest: {}.",
            f.faster,
            items.join("; ")
        ));
    }
    if f.slower > 0 {
        t = t.t(format!(" {} made the model slower.", f.slower));
    }
    if !f.never_faster.is_empty() {
        let never: Vec<String> = f
            .never_faster
            .iter()
            .map(|r| rewrite_words(r).to_string())
            .collect();
        t = t.t(format!(
            " No saving on any model from: {}.",
            never.join(", ")
        ));
    }
    t.t(" Accuracy is not measured (")
        .link("what to change", to(H_ADVICE))
        .t(").")
}

/// The terminal's list: per model, its changes ranked, with their evidence.
pub fn terminal(a: &Analysis, data: &Dataset) -> String {
    let mut s = String::new();
    for m in &a.advice {
        let as_is = data.rewrites[m.as_is].model.latency_ns.median;
        s.push_str(&format!(
            "{} on {} ({} ms as it is):\n",
            m.model,
            data.devices[m.device].label,
            ms(as_is as f64)
        ));
        for (rank, c) in m.changes.iter().enumerate() {
            s.push_str(&format!(
                "  {}. {} ({} place{}): {} ms saved ({}, noise ±{}): {}\n     {}\n",
                rank + 1,
                rewrite_words(&c.rewrite),
                c.places,
                if c.places == 1 { "" } else { "s" },
                ms(c.saved_ns as f64),
                pct(c.saving),
                c.noise.map_or("n/a".into(), pct),
                verdict(c.verdict),
                evidence(c)
            ));
        }
    }
    if !s.is_empty() {
        s.push_str("Accuracy is not measured: every change but fold-bn changes what the network computes.\n");
    }
    s
}
