//! The eager section (the models measured eager too, against their optimized runs) and its
//! Finding: per model latency and hidden time both ways and what the optimizations removed,
//! per executed category time and ops both ways, the source op types left without an op of
//! their own with their eager cost, and the MACs-only error and GMAC/s spread under each;
//! eager.csv, eager_categories.csv and eager_sources.csv are those tables raw.

use super::doc::{Doc, Text, to};
use super::table::{Table, ms, pct};
use crate::compute::Analysis;
use crate::compute::eager::{
    BothWays, EagerDevice, EagerFinding, MIN_MODELS_FOR_FIT, ModelPair, Side, removed_ns,
    removed_share,
};
use crate::load::Dataset;
use crate::table::{
    Cell, Column,
    Kind::{Float, Int, Text as TextKind},
    Read, Unit,
};

pub const H_EAGER: &str = "10. Eager against optimized: the time the graph optimizations remove";

const TEXT: &str = "Each model measured twice on the same device: as the runtime runs it \
(its graph optimizations: BatchNorm folded into conv weights, activations fused into the \
kernel before them, shape ops removed) and eager (`--optimize none`: every ONNX node its own \
op, as the study's PyTorch ran them). \"hidden\" is the time in executed ops with zero MACs; \
\"removed\" is eager hidden time minus optimized hidden time (negative: the optimized run has \
more), and its share of the eager hidden time. Latency is the clean end-to-end median; op \
times are the per-op passes' medians. The numbers hold for this device and this runtime: \
another runtime fuses other ops.";

const FATES: &str = "Source nodes that have an op of their own eager and none optimized, by \
ONNX op type, with what they cost eager. \"merged\": an optimized op names them (tract names a \
fused kernel after the last node it absorbed, e.g. `…/Relu.low.prefused` computing a Conv, or \
lists a BatchNorm in its fused sources): their work now runs inside another node's kernel, \
whose time is in that node's row. \"no op\": no optimized op names them: folded into the \
weights at load time (a BatchNorm after a conv), removed (a shape op), or fused into a kernel \
that does not carry their name. Their eager time is what the eager run paid for them; how much \
of it the fused kernel still pays is not measured.";

fn mape_text(b: &Option<BothWays>) -> String {
    b.map_or_else(
        || format!("n/a (needs {MIN_MODELS_FOR_FIT} models)"),
        |b| format!("{:.1}% eager, {:.1}% optimized", b.eager, b.optimized),
    )
}

fn spread_text(b: &Option<BothWays>) -> String {
    b.map_or_else(
        || "n/a (needs 2 models with MACs)".into(),
        |b| format!("{:.1}x eager, {:.1}x optimized", b.eager, b.optimized),
    )
}

fn share_col(name: &str, label: &str) -> Column {
    Column::new(name, label, Float, Unit::Fraction, Read::Pct)
}

/// Per model (and, with `totals`, all models of a device): latency, op time and hidden time
/// both ways, what was removed. For reading the labelled columns; eager.csv every named column,
/// raw, without the totals.
pub fn models_table(a: &Analysis, data: &Dataset, totals: bool) -> Table {
    let raw = |c: Column| c.raw_only();
    let mut t = Table::typed(vec![
        Column::text("device"),
        Column::text("model"),
        Column::ns("latency_optimized_ns", "latency opt ms"),
        Column::ns("latency_eager_ns", "latency eager ms"),
        Column::new(
            "eager_over_optimized",
            "eager/opt",
            Float,
            Unit::Ratio,
            Read::Times,
        ),
        raw(Column::ns("op_optimized_ns", "")),
        raw(Column::ns("op_eager_ns", "")),
        Column::new("ops_optimized", "ops opt", Int, Unit::Count, Read::Plain),
        Column::new("ops_eager", "ops eager", Int, Unit::Count, Read::Plain),
        Column::ns("hidden_optimized_ns", "hidden opt ms"),
        share_col("hidden_share_optimized", "hidden opt"),
        Column::ns("hidden_eager_ns", "hidden eager ms"),
        share_col("hidden_share_eager", "hidden eager"),
        Column::new(
            "removed_hidden_ns",
            "removed ms",
            Float,
            Unit::Ns,
            Read::MsOfNs,
        ),
        share_col("removed_share_of_eager_hidden", "removed"),
    ]);
    let row = |t: &mut Table, device: &str, model: &str, o: &Side, e: &Side| {
        let int = |v: u64| Cell::Int(Some(v));
        t.push(vec![
            Cell::text(device),
            Cell::text(model),
            int(o.latency_ns),
            int(e.latency_ns),
            Cell::Float((o.latency_ns > 0).then(|| e.latency_ns as f64 / o.latency_ns as f64)),
            int(o.op_ns),
            int(e.op_ns),
            int(o.ops as u64),
            int(e.ops as u64),
            int(o.hidden_ns),
            Cell::Float(Some(o.hidden_share())),
            int(e.hidden_ns),
            Cell::Float(Some(e.hidden_share())),
            Cell::Float(Some(removed_ns(o, e) as f64)),
            Cell::Float(Some(removed_share(o, e))),
        ]);
    };
    for dev in &a.eager {
        let label = &data.devices[dev.device].label;
        for ModelPair {
            model,
            optimized,
            eager,
            ..
        } in &dev.models
        {
            row(&mut t, label, model, optimized, eager);
        }
        if totals && dev.models.len() > 1 {
            row(&mut t, label, "all models", &dev.optimized, &dev.eager);
        }
    }
    t
}

/// Per executed category: ops and time both ways, summed over the device's models.
pub fn categories_table(a: &Analysis, data: &Dataset) -> Table {
    let mut t = Table::typed(vec![
        Column::text("device"),
        Column::text("category"),
        Column::new("ops_optimized", "ops opt", Int, Unit::Count, Read::Plain),
        Column::new("ops_eager", "ops eager", Int, Unit::Count, Read::Plain),
        Column::ns("time_optimized_ns", "opt ms"),
        Column::ns("time_eager_ns", "eager ms"),
        share_col("share_optimized", "share opt"),
        share_col("share_eager", "share eager"),
    ]);
    for dev in &a.eager {
        let label = &data.devices[dev.device].label;
        for c in &dev.categories {
            let share = |ns: u64, whole: u64| {
                Cell::Float(Some(crate::compute::metrics::fraction(ns, whole)))
            };
            t.push(vec![
                Cell::text(label.clone()),
                Cell::text(c.category.clone()),
                Cell::Int(Some(c.optimized.ops as u64)),
                Cell::Int(Some(c.eager.ops as u64)),
                Cell::Int(Some(c.optimized.ns)),
                Cell::Int(Some(c.eager.ns)),
                share(c.optimized.ns, dev.optimized.op_ns),
                share(c.eager.ns, dev.eager.op_ns),
            ]);
        }
    }
    t
}

/// Per source op type: nodes, merged, without an op, eager cost.
pub fn fates_table(a: &Analysis, data: &Dataset) -> Table {
    let mut t = Table::typed(vec![
        Column::text("device"),
        Column::new("source_op", "source op", TextKind, Unit::None, Read::Plain),
        Column::new("category", "category", TextKind, Unit::None, Read::Plain),
        Column::new("nodes", "nodes eager", Int, Unit::Count, Read::Plain),
        Column::new("merged", "merged", Int, Unit::Count, Read::Plain),
        Column::new("removed", "no op", Int, Unit::Count, Read::Plain),
        Column::ns("eager_ns", "eager ms"),
        Column::ns("eager_hidden_ns", "of it zero-MAC ms"),
    ]);
    for dev in &a.eager {
        let label = &data.devices[dev.device].label;
        for f in &dev.fates {
            t.push(vec![
                Cell::text(label.clone()),
                Cell::text(f.source_op.clone()),
                Cell::text(f.category.clone()),
                Cell::Int(Some(f.nodes as u64)),
                Cell::Int(Some(f.merged as u64)),
                Cell::Int(Some(f.removed as u64)),
                Cell::Int(Some(f.eager_ns)),
                Cell::Int(Some(f.eager_hidden_ns)),
            ]);
        }
    }
    t
}

/// eager.csv, eager_categories.csv and eager_sources.csv (nothing without eager runs).
pub fn csv_files(a: &Analysis, data: &Dataset) -> Vec<(&'static str, Table)> {
    if a.eager.is_empty() {
        return Vec::new();
    }
    vec![
        ("eager.csv", models_table(a, data, false)),
        ("eager_categories.csv", categories_table(a, data)),
        ("eager_sources.csv", fates_table(a, data)),
    ]
}

fn device_summary(dev: &EagerDevice, data: &Dataset) -> Text {
    let multi = data.devices.len() > 1;
    let on = if multi {
        format!("{}: ", data.devices[dev.device].label)
    } else {
        String::new()
    };
    Text::new().t(format!(
        "{on}{} models, tract {} at --optimize {} against eager. MACs-only model \
         (leave-one-model-out error): {}. Achieved GMAC/s, fastest over slowest model: {}.",
        dev.models.len(),
        dev.tract_version,
        dev.optimize,
        mape_text(&dev.macs_only_mape_pct),
        spread_text(&dev.gmacs_spread)
    ))
}

/// The section (nothing without eager runs).
pub fn section(doc: &mut Doc, a: &Analysis, data: &Dataset) {
    if a.eager.is_empty() {
        return;
    }
    doc.heading(2, H_EAGER);
    doc.para(TEXT);
    doc.list(a.eager.iter().map(|d| device_summary(d, data)).collect());
    doc.heading(3, "Per model");
    doc.table(models_table(a, data, true));
    doc.heading(3, "Per category (executed ops, all models)");
    doc.table(categories_table(a, data));
    doc.heading(3, "Source ops without an op of their own when optimized");
    doc.para(FATES);
    doc.table(fates_table(a, data));
}

/// The Finding of one device, when it has models measured both ways.
pub fn finding(f: &EagerFinding) -> Text {
    let (o, e) = (&f.optimized, &f.eager);
    let removed = removed_ns(o, e);
    let mut t = Text::new().strong("Eager against optimized.").t(format!(
        " On this device, with tract {} at --optimize {} against eager (each ONNX node its own \
         op) over {} models: ",
        f.tract_version, f.optimize, f.models
    ));
    t = if removed >= 0 {
        t.t(format!(
            "the graph optimizations remove {} ms ({}) of the {} ms eager spends in ops with \
             zero MACs, leaving {} ms ({} of op time).",
            ms(removed as f64),
            pct(removed_share(o, e)),
            ms(e.hidden_ns as f64),
            ms(o.hidden_ns as f64),
            pct(o.hidden_share())
        ))
    } else {
        t.t(format!(
            "the optimized runs spend {} ms more in ops with zero MACs than eager ({} ms against \
             {} ms).",
            ms(-removed as f64),
            ms(o.hidden_ns as f64),
            ms(e.hidden_ns as f64)
        ))
    };
    if !f.gone.is_empty() {
        let gone: Vec<String> = f
            .gone
            .iter()
            .map(|(c, n, ns)| format!("{c} {} ms ({n} nodes)", ms(*ns as f64)))
            .collect();
        t = t.t(format!(
            " Source nodes left without an op of their own (folded or fused) cost eager: {}.",
            gone.join(", ")
        ));
    }
    if o.latency_ns > 0 {
        t = t.t(format!(
            " Latency summed over the models: {} ms eager, {} ms optimized ({:.1}x).",
            ms(e.latency_ns as f64),
            ms(o.latency_ns as f64),
            e.latency_ns as f64 / o.latency_ns as f64
        ));
    }
    if let Some(m) = &f.macs_only_mape_pct {
        t = t.t(format!(
            " MACs-only latency error (leave-one-model-out): {:.1}% eager, {:.1}% \
             optimized.",
            m.eager, m.optimized
        ));
    }
    if let Some(s) = &f.gmacs_spread {
        t = t.t(format!(
            " Achieved GMAC/s spread: {:.1}x eager, {:.1}x optimized.",
            s.eager, s.optimized
        ));
    }
    t.t(" ").link("eager against optimized", to(H_EAGER)).t(".")
}
