//! int8 against fp32 in words: the section, its Finding, int8.csv and the terminal's lines
//! (values from [`crate::compute::int8`]).

use super::doc::{Doc, Text, to};
use super::table::{Table, ms, pct};
use crate::compute::Analysis;
use crate::compute::advise::Verdict;
use crate::compute::int8::{Int8Finding, TimeSplit};
use crate::load::Dataset;
use crate::table::{
    Cell, Column,
    Kind::{Float, Int, Text as TextKind},
    Read, Unit,
};

pub const H_INT8: &str = "12. int8 against fp32: what quantizing costs on this runtime";

const TEXT: &str = "Each model was also measured in its int8 form (`study --int8`): its \
graph in onnxruntime's QDQ format, made by the `int8` rewrite with fixed rules (int8 weights \
per output channel and int32 biases behind DequantizeLinear, a QuantizeLinear/DequantizeLinear \
pair on each quantized conv's and matmul's activation input; accuracy is not the point), in \
the model's rewrite group: \"int8 / fp32\" is the int8 latency over the fp32 latency \
interpolated between the as-is runs around the group, with the noise and verdict of section \
\"11\". Where the op time went, in each run (Σ of the ops' median wall time): integer kernels \
(ops with MACs on 8-bit integers), quantize ops (the `quantize` category: quantize, dequantize, \
the casts and rescaling around integer ops), f32 conv and linear kernels, and everything else. \
A runtime that dequantizes the weights once and runs the convs in f32 keeps the fp32 work and \
adds the activations' quantize/dequantize traffic: int8 is then slower, not faster.";

/// The four parts of a [`TimeSplit`], in order: (name, ns).
fn parts(t: &TimeSplit) -> [(&'static str, u64); 4] {
    [
        ("integer kernels", t.integer_ns),
        ("quantize ops", t.quantize_ns),
        ("f32 conv and linear", t.float_ns),
        ("everything else", t.other_ns),
    ]
}

fn verdict(v: Verdict) -> &'static str {
    // The change's verdict is about the time saved: int8 "faster" saved time.
    match v {
        Verdict::Faster => "int8 faster",
        Verdict::Slower => "int8 slower",
        Verdict::Same => "within noise",
    }
}

/// One row per model: the latencies, their ratio and its noise, and (raw columns, int8.csv)
/// the op time of both runs in the four parts, with their MACs.
pub fn models_table(a: &Analysis, data: &Dataset, words: bool) -> Table {
    let raw = |c: Column| if words { c.raw_only() } else { c };
    let mut columns = vec![
        Column::text("device"),
        Column::text("model"),
        Column::ns("fp32_ns", "fp32 ms"),
        Column::ns("int8_ns", "int8 ms"),
        Column::new("ratio", "int8 / fp32", Float, Unit::Ratio, Read::Times),
        Column::new("noise", "noise ±", Float, Unit::Fraction, Read::Pct),
        Column::new("verdict", "verdict", TextKind, Unit::None, Read::Plain),
        Column::new(
            "int8_quantize_share",
            "int8: quantize ops",
            Float,
            Unit::Fraction,
            Read::Pct,
        ),
        Column::new(
            "int8_macs_share",
            "int8: MACs on integers",
            Float,
            Unit::Fraction,
            Read::Pct,
        ),
    ];
    for run in ["fp32", "int8"] {
        for part in ["integer", "quantize", "float", "other"] {
            columns.push(raw(Column::ns(&format!("{run}_{part}_ns"), "")));
        }
        columns.push(raw(Column::new(
            &format!("{run}_macs"),
            "",
            Int,
            Unit::Count,
            Read::Plain,
        )));
        columns.push(raw(Column::new(
            &format!("{run}_int8_macs"),
            "",
            Int,
            Unit::Count,
            Read::Plain,
        )));
    }
    let mut t = Table::typed(columns);
    for m in &a.int8 {
        let mut row = vec![
            Cell::text(data.devices[m.device].label.clone()),
            Cell::text(m.model.clone()),
            Cell::Int(Some(m.change.as_is_ns)),
            Cell::Int(Some(m.change.rewritten_ns)),
            Cell::Float(Some(m.ratio)),
            Cell::Float(m.change.noise),
            Cell::text(verdict(m.change.verdict)),
            Cell::Float(Some(m.int8.share(m.int8.quantize_ns))),
            Cell::Float(Some(share(m.int8.int8_macs, m.int8.macs))),
        ];
        for s in [&m.fp32, &m.int8] {
            row.extend(parts(s).map(|(_, ns)| Cell::Int(Some(ns))));
            row.push(Cell::Int(Some(s.macs)));
            row.push(Cell::Int(Some(s.int8_macs)));
        }
        t.push(row);
    }
    t
}

fn share(part: u64, whole: u64) -> f64 {
    match whole {
        0 => 0.0,
        w => part as f64 / w as f64,
    }
}

/// Where the time moved: per model and part, its op time and share in both runs.
fn moves_table(a: &Analysis, data: &Dataset) -> Table {
    let mut t = Table::typed(vec![
        Column::text("device"),
        Column::text("model"),
        Column::text("part"),
        Column::ns("fp32_ns", "fp32 ms"),
        Column::new("fp32_share", "fp32 %", Float, Unit::Fraction, Read::Pct),
        Column::ns("int8_ns", "int8 ms"),
        Column::new("int8_share", "int8 %", Float, Unit::Fraction, Read::Pct),
    ]);
    for m in &a.int8 {
        for ((part, fp32), (_, int8)) in parts(&m.fp32).into_iter().zip(parts(&m.int8)) {
            t.push(vec![
                Cell::text(data.devices[m.device].label.clone()),
                Cell::text(m.model.clone()),
                Cell::text(part),
                Cell::Int(Some(fp32)),
                Cell::Float(Some(m.fp32.share(fp32))),
                Cell::Int(Some(int8)),
                Cell::Float(Some(m.int8.share(int8))),
            ]);
        }
    }
    t
}

/// int8.csv (nothing without int8 forms).
pub fn csv_files(a: &Analysis, data: &Dataset) -> Vec<(&'static str, Table)> {
    if a.int8.is_empty() {
        return Vec::new();
    }
    vec![("int8.csv", models_table(a, data, false))]
}

/// The section (nothing without int8 forms).
pub fn section(doc: &mut Doc, a: &Analysis, data: &Dataset) {
    if a.int8.is_empty() {
        return;
    }
    doc.heading(2, H_INT8);
    doc.para(TEXT);
    doc.table(models_table(a, data, true));
    doc.heading(3, "Where the time moved");
    doc.table(moves_table(a, data));
}

/// "1.50" for a ratio.
fn times(r: f64) -> String {
    format!("{r:.2}")
}

/// The Finding of one device whose models were measured in their int8 form.
pub fn finding(f: &Int8Finding) -> Text {
    let (model, fp32, int8) = &f.largest;
    let ratio = if *fp32 > 0 {
        *int8 as f64 / *fp32 as f64
    } else {
        0.0
    };
    let mut t = Text::new().strong("int8 against fp32.").t(format!(
        " On this device and runtime int8 is {} times fp32 ({model} {} ms against {}",
        times(ratio),
        ms(*int8 as f64),
        ms(*fp32 as f64)
    ));
    if f.models > 1 {
        t = t.t(format!(
            "; {} to {} times over {} models",
            times(f.ratio_range.0),
            times(f.ratio_range.1),
            f.models
        ));
    }
    t = t.t(format!(
        "): slower beyond the noise on {} of {} model(s), faster on {}. Quantize/dequantize \
         ops take {} of the int8 models' op time",
        f.slower,
        f.models,
        f.faster,
        pct(f.quantize_share)
    ));
    t = if f.int8_macs_share == 0.0 {
        t.t(
            ", and the runtime ran their convs and matmuls in f32 (none of their MACs on \
             integers): the int8 weights are dequantized once, and each quantized op's input \
             is quantized and dequantized again at every inference",
        )
    } else {
        t.t(format!(
            "; {} of their MACs ran on integer kernels, which take {} of it",
            pct(f.int8_macs_share),
            pct(f.integer_share)
        ))
    };
    t.t(" (").link("int8 against fp32", to(H_INT8)).t(").")
}

/// The terminal's lines: per model, int8 against fp32 and where the int8 run's op time went.
pub fn terminal(a: &Analysis, data: &Dataset) -> String {
    let mut s = String::new();
    for m in &a.int8 {
        let split: Vec<String> = parts(&m.int8)
            .iter()
            .map(|(part, ns)| format!("{part} {}", pct(m.int8.share(*ns))))
            .collect();
        s.push_str(&format!(
            "{} on {}: int8 {} ms against fp32 {} ms ({}x, noise ±{}: {}); int8 op time: {}\n",
            m.model,
            data.devices[m.device].label,
            ms(m.change.rewritten_ns as f64),
            ms(m.change.as_is_ns as f64),
            times(m.ratio),
            m.change.noise.map_or("n/a".into(), pct),
            verdict(m.change.verdict),
            split.join(", ")
        ));
    }
    s
}
