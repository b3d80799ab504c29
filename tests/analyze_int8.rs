//! int8 against fp32: a made-up model measured as it is, in its int8 form, and as it is again,
//! in one log as `study --int8` writes it. The ratio, its noise and verdict, where the op time
//! moved, the Finding's words, the section, int8.csv and the terminal's line are exact; a log
//! without an int8 form gets none of them.

mod analyze_common;

use analyze_common::synth::{SynthDevice, SynthModel, rewrite_model, synth_log, to_jsonl};
use hiddencost::analyze::Analysis;
use hiddencost::analyze::compute::advise::Verdict;
use hiddencost::analyze::compute::int8::TimeSplit;
use hiddencost::analyze::render::{int8, markdown, report};
use hiddencost::record::*;

const MODEL: &str = "net";

/// (executed op, category, median ns, MACs, int8 MACs).
type OpRow = (&'static str, &'static str, u64, u64, u64);

/// The fp32 run: 7 ms of f32 conv and
/// linear kernels, 3 ms of everything else.
const FP32: [OpRow; 4] = [
    ("OptMatMul", "conv", 6_000_000, 1_000, 0),
    ("OptMatMul", "linear", 1_000_000, 100, 0),
    ("OptBinChain", "activation", 2_000_000, 0, 0),
    ("OptSumPool", "pool", 1_000_000, 0, 0),
];

/// The int8 run: the conv still in f32, 3 ms of quantize ops (24% of its 12.5 ms), and (with
/// `integer`) the linear layer on an integer kernel.
fn int8_ops(integer: bool) -> Vec<OpRow> {
    vec![
        ("OptMatMul", "conv", 6_000_000, 1_000, 0),
        ("QuantizeLinearI8", "quantize", 2_400_000, 0, 0),
        ("DequantizeLinearF32", "quantize", 600_000, 0, 0),
        (
            "OptMatMul",
            "linear",
            500_000,
            100,
            if integer { 100 } else { 0 },
        ),
        ("OptBinChain", "activation", 2_000_000, 0, 0),
        ("OptSumPool", "pool", 1_000_000, 0, 0),
    ]
}

/// (rewrite, clean median ns, ops) in log order: the as-is runs 10 and 10.2 ms, so the int8
/// run's fp32 reference is 10.1 ms, and its 15.15 ms are 1.5 times that.
fn group(integer: bool) -> Vec<(&'static str, u64, Vec<OpRow>)> {
    vec![
        ("as-is", 10_000_000, FP32.to_vec()),
        ("int8", 15_150_000, int8_ops(integer)),
        ("as-is-after", 10_200_000, FP32.to_vec()),
    ]
}

/// The model's records again as rewrite `rewrite`: renamed, with the rewrite's metadata, its
/// median (a p90 1.2816% above it: a relative sigma of 1%) and `ops` instead of its own.
fn rewrite_of(records: &[Record], rewrite: &str, median: u64, ops: &[OpRow]) -> Vec<Record> {
    let name = format!("{MODEL}+{rewrite}");
    let template = records
        .iter()
        .find_map(|r| match r {
            Record::Op(o) => Some(o.clone()),
            _ => None,
        })
        .unwrap();
    let mut out = Vec::new();
    for r in records {
        match r {
            Record::Node(n) => out.push(Record::Node(NodeRecord {
                model: name.clone(),
                ..n.clone()
            })),
            Record::Model(m) => {
                for (order, (op, category, ns, macs, int8_macs)) in ops.iter().enumerate() {
                    let mut o = template.clone();
                    o.model = name.clone();
                    (o.node_id, o.order) = (order, order);
                    o.node = format!("{op}.{order}");
                    o.op = op.to_string();
                    o.category = category.to_string();
                    (o.source_node, o.source_op, o.source_category) = (None, None, None);
                    o.cost = Cost {
                        macs: *macs,
                        int8_macs: *int8_macs,
                        ..Cost::default()
                    };
                    o.wall_ns = WallNs {
                        median: *ns,
                        min: *ns,
                        max: *ns,
                    };
                    out.push(Record::Op(o));
                }
                let places = if rewrite == "int8" { 5 } else { 0 };
                out.push(Record::Model(rewrite_model(
                    m, MODEL, rewrite, median, places,
                )));
            }
            _ => {}
        }
    }
    out
}

/// The model, then (with `int8`) its group.
fn study_log(int8: bool, integer: bool) -> String {
    let synth = synth_log(&SynthDevice::pi4(), &[SynthModel::new(MODEL, 3, 16, 8)]);
    let (end, body) = synth.split_last().unwrap();
    let mut records = body.to_vec();
    if int8 {
        for (rewrite, median, ops) in group(integer) {
            records.extend(rewrite_of(&body[1..], rewrite, median, &ops));
        }
    }
    records.push(end.clone());
    to_jsonl(&records)
}

fn analysis(int8: bool, integer: bool) -> (hiddencost::analyze::load::Dataset, Analysis) {
    analyze_common::load_text(&study_log(int8, integer))
}

#[test]
fn the_ratio_its_noise_and_where_the_time_moved_are_exact() {
    let (_, a) = analysis(true, true);
    assert_eq!(a.int8.len(), 1);
    let m = &a.int8[0];
    assert_eq!(m.model, MODEL);
    assert_eq!(
        (m.change.as_is_ns, m.change.rewritten_ns),
        (10_100_000, 15_150_000)
    );
    assert!((m.ratio - 1.5).abs() < 1e-12, "{}", m.ratio);
    // As advise: two standard errors of the ratio of two medians (each 1.2533 * 1% / sqrt(20))
    // plus the 2% drift between the as-is runs.
    let noise = 2.0 * 2f64.sqrt() * 1.2533 * 0.01 / 20f64.sqrt() + 0.02;
    assert!((m.change.noise.unwrap() - noise).abs() < 1e-6);
    assert_eq!(m.change.verdict, Verdict::Slower);
    assert_eq!(
        m.fp32,
        TimeSplit {
            integer_ns: 0,
            quantize_ns: 0,
            float_ns: 7_000_000,
            other_ns: 3_000_000,
            macs: 1_100,
            int8_macs: 0,
        }
    );
    assert_eq!(
        m.int8,
        TimeSplit {
            integer_ns: 500_000,
            quantize_ns: 3_000_000,
            float_ns: 6_000_000,
            other_ns: 3_000_000,
            macs: 1_100,
            int8_macs: 100,
        }
    );
    assert_eq!(m.int8.total_ns(), 12_500_000);
    assert_eq!(m.int8.share(m.int8.quantize_ns), 0.24);
    let f = a.findings[0].int8.as_ref().unwrap();
    assert_eq!((f.models, f.slower, f.faster), (1, 1, 0));
    assert_eq!(f.largest, (MODEL.to_string(), 10_100_000, 15_150_000));
    assert_eq!((f.quantize_share, f.integer_share), (0.24, 0.04));
    assert!((f.int8_macs_share - 100.0 / 1100.0).abs() < 1e-12);
    // advise ranks it like any change: the slowest last.
    let advice = &a.advice[0];
    assert_eq!(advice.changes.len(), 1);
    assert_eq!(advice.changes[0].saved_ns, -5_050_000);
}

#[test]
fn the_finding_the_section_int8_csv_and_the_terminal_say_it() {
    let (data, a) = analysis(true, false);
    let md = markdown::render(&report::report(&a, &data, &[], &[]));
    let findings = md.split("## ").find(|s| s.starts_with("Findings")).unwrap();
    let items: Vec<&str> = findings.lines().filter(|l| l.starts_with("- ")).collect();
    // After the measured changes (the int8 form is one of them), before RQ1.
    assert!(
        items[0].starts_with("- **What to change.**"),
        "{}",
        items[0]
    );
    assert_eq!(
        items[1],
        "- **int8 against fp32.** On this device and runtime int8 is 1.50 times fp32 (net \
         15.150 ms against 10.100): slower beyond the noise on 1 of 1 model(s), faster on 0. \
         Quantize/dequantize ops take 24.0% of the int8 models' op time, and the runtime ran \
         their convs and matmuls in f32 (none of their MACs on integers): the int8 weights are \
         dequantized once, and each quantized op's input is quantized and dequantized again at \
         every inference ([int8 against fp32](#12-int8-against-fp32-what-quantizing-costs-on-this-runtime))."
    );
    assert!(items[2].starts_with("- **RQ1."), "{}", items[2]);
    assert!(md.contains(&format!("## {}", int8::H_INT8)));
    assert!(md.contains("### Where the time moved"));

    let (_dir, out, summary) = analyze_common::analyze_text(&study_log(true, false));
    let csv = std::fs::read_to_string(out.join("int8.csv")).unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines.len(), 2, "{csv}");
    assert!(lines[0].starts_with(
        "device,model,fp32_ns,int8_ns,ratio,noise,verdict,int8_quantize_share,int8_macs_share,\
         fp32_integer_ns,fp32_quantize_ns,fp32_float_ns,fp32_other_ns,fp32_macs,fp32_int8_macs,\
         int8_integer_ns,"
    ));
    assert!(
        lines[1].contains(",net,10100000,15150000,1.5,"),
        "{}",
        lines[1]
    );
    assert!(
        lines[1].ends_with(
            ",int8 slower,0.24,0,0,0,7000000,3000000,1100,0,0,3000000,6500000,3000000,1100,0"
        ),
        "{}",
        lines[1]
    );
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains(int8::H_INT8));
    // advise prints the ranked changes, then int8 against fp32.
    let (changes, int8_lines) = summary.advice.split_once("\nint8 against fp32\n").unwrap();
    assert!(changes.starts_with("net on rpi4b (10.000 ms as it is):\n  1. quantized to int8 in QDQ format (5 places): -5.050 ms saved"), "{changes}");
    assert!(
        int8_lines.starts_with("net on rpi4b: int8 15.150 ms against fp32 10.100 ms"),
        "{int8_lines}"
    );
    let text = summary.to_string();
    assert!(
        text.contains("net on rpi4b: int8 15.150 ms against fp32 10.100 ms (1.50x, noise ±"),
        "{text}"
    );
    assert!(text.contains("int8 op time: integer kernels 0.0%, quantize ops 24.0%, f32 conv and linear 52.0%, everything else 24.0%"), "{text}");
}

#[test]
fn a_log_without_an_int8_form_has_no_int8_part() {
    let (data, a) = analysis(false, false);
    assert!(a.int8.is_empty());
    assert!(a.findings[0].int8.is_none());
    let md = markdown::render(&report::report(&a, &data, &[], &[]));
    assert!(!md.contains(int8::H_INT8));
    assert!(int8::csv_files(&a, &data).is_empty());
}
