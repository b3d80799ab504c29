//! Eager against optimized: three hand-built models, each measured optimized (BatchNorm
//! folded, the ReLU fused into the conv's matmul, the Reshape removed) and eager (every node
//! its own op), in one log as `study` writes it. The comparison's values are exact, the
//! Finding and the report section are snapshots, the CSVs are written; a log without eager
//! runs gets neither section nor Finding nor CSV.

mod analyze_common;

use analyze_common::assert_snapshot;
use analyze_common::synth::{SynthDevice, SynthModel, synth_log, to_jsonl};
use hiddencost::analyze::Analysis;
use hiddencost::analyze::compute::eager::{BothWays, CategoryPair, SourceFate, Time};
use hiddencost::analyze::render::{eager, markdown, report};
use hiddencost::record::*;

/// (model, k): the model's MACs and op times scale with k.
const MODELS: [(&str, u64); 3] = [("one", 1), ("two", 2), ("four", 4)];
/// Clean latency medians, ms: optimized and eager, per model of [`MODELS`].
const LATENCY_MS: [(f64, f64); 3] = [(2.0, 20.0), (3.5, 30.0), (5.0, 60.0)];

fn node(model: &str, name: &str, op_type: &str, category: &str, macs: u64) -> Record {
    Record::Node(NodeRecord {
        model: model.into(),
        node: name.into(),
        op_type: op_type.into(),
        category: category.into(),
        input_shapes: vec![],
        output_shapes: vec![],
        cost: Cost {
            macs,
            ..Cost::default()
        },
    })
}

/// An op: (executed node, op, category, source node, source op, source category, MACs, ns).
type OpSpec<'a> = (
    &'a str,
    &'a str,
    &'a str,
    &'a str,
    &'a str,
    &'a str,
    u64,
    u64,
);

fn op(model: &str, order: usize, s: OpSpec) -> Record {
    let (node, op, category, src, src_op, src_cat, macs, ns) = s;
    Record::Op(OpRecord {
        model: model.into(),
        node_id: order,
        node: node.into(),
        op: op.into(),
        source_node: Some(src.into()),
        source_op: Some(src_op.into()),
        category: category.into(),
        source_category: Some(src_cat.into()),
        fused_sources: vec![],
        input_shapes: vec![],
        output_shapes: vec![],
        order,
        cost: Cost {
            macs,
            ..Cost::default()
        },
        wall_ns: WallNs {
            median: ns,
            min: ns,
            max: ns,
        },
        counters: Default::default(),
    })
}

/// One model's node, op and model records at `optimize` ("full" or "none").
fn model_records(template: &ModelRecord, ix: usize, optimize: &str) -> Vec<Record> {
    let (name, k) = MODELS[ix];
    let (conv_macs, fc_macs) = (900_000 * k, 100_000 * k);
    let mut out = vec![
        node(name, "conv", "Conv", "conv", conv_macs),
        node(name, "bn", "BatchNormalization", "batchnorm", 0),
        node(name, "relu", "Relu", "activation", 0),
        node(name, "flat", "Reshape", "tensor", 0),
        node(name, "fc", "Gemm", "linear", fc_macs),
    ];
    let ops: Vec<OpSpec> = if optimize == "none" {
        vec![
            (
                "conv",
                "Conv",
                "conv",
                "conv",
                "Conv",
                "conv",
                conv_macs,
                2_000_000 * k,
            ),
            (
                "bn.mul",
                "Mul",
                "batchnorm",
                "bn",
                "BatchNormalization",
                "batchnorm",
                0,
                300_000 * k,
            ),
            (
                "bn",
                "Add",
                "batchnorm",
                "bn",
                "BatchNormalization",
                "batchnorm",
                0,
                200_000 * k,
            ),
            (
                "relu",
                "Max",
                "activation",
                "relu",
                "Relu",
                "activation",
                0,
                250_000 * k,
            ),
            (
                "flat",
                "Reshape",
                "tensor",
                "flat",
                "Reshape",
                "tensor",
                0,
                50_000 * k,
            ),
            (
                "fc",
                "Gemm",
                "linear",
                "fc",
                "Gemm",
                "linear",
                fc_macs,
                150_000 * k,
            ),
        ]
    } else {
        vec![
            (
                "conv.pack",
                "OptMatMulPack",
                "tensor",
                "conv",
                "Conv",
                "conv",
                0,
                50_000 * k,
            ),
            (
                "relu.low.prefused",
                "OptMatMul",
                "conv",
                "conv",
                "Conv",
                "conv",
                conv_macs,
                800_000 * k,
            ),
            (
                "fc",
                "OptMatMul",
                "linear",
                "fc",
                "Gemm",
                "linear",
                fc_macs,
                100_000 * k,
            ),
        ]
    };
    let sum: u64 = ops.iter().map(|o| o.7).sum();
    for (order, o) in ops.into_iter().enumerate() {
        out.push(op(name, order, o));
    }
    let (opt_ms, eager_ms) = LATENCY_MS[ix];
    let median = ((if optimize == "none" { eager_ms } else { opt_ms }) * 1e6) as u64;
    let mut m = template.clone();
    m.model = name.into();
    m.source = format!("synthetic:{name}");
    m.optimize = optimize.into();
    m.cost = Cost {
        macs: conv_macs + fc_macs,
        ..Cost::default()
    };
    m.latency_ns.median = median;
    m.latency_ns.min = median;
    m.latency_ns.p90 = median;
    m.sum_op_wall_median_ns = sum;
    m.source_nodes = 5;
    m.executed_nodes = out.len() - 5;
    m.warnings.clear();
    out.push(Record::Model(m));
    out
}

/// The three models optimized, then eager, in one log (what `study` writes).
fn study_log(with_eager: bool) -> String {
    let synth = synth_log(&SynthDevice::pi4(), &[SynthModel::new("t", 1, 4, 4)]);
    let template = synth
        .iter()
        .find_map(|r| match r {
            Record::Model(m) => Some(m.clone()),
            _ => None,
        })
        .unwrap();
    let mut records = vec![synth[0].clone()];
    let levels: &[&str] = if with_eager {
        &["full", "none"]
    } else {
        &["full"]
    };
    for level in levels {
        for ix in 0..MODELS.len() {
            records.extend(model_records(&template, ix, level));
        }
    }
    records.push(synth.last().unwrap().clone());
    to_jsonl(&records)
}

fn analysis(with_eager: bool) -> (hiddencost::analyze::load::Dataset, Analysis) {
    analyze_common::load_text(&study_log(with_eager))
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() < 1e-6 * b.abs().max(1.0)
}

#[test]
fn comparison_values_are_exact() {
    let (data, a) = analysis(true);
    assert_eq!((data.runs.len(), data.eager.len()), (3, 3));
    assert_eq!(a.eager.len(), 1);
    let d = &a.eager[0];
    assert_eq!(
        (d.tract_version.as_str(), d.optimize.as_str()),
        ("0.23.9", "full")
    );
    let names: Vec<&str> = d.models.iter().map(|m| m.model.as_str()).collect();
    assert_eq!(names, ["one", "two", "four"]);
    // Per model (k = 2): hidden optimized = the pack, eager = BN (two ops), ReLU, Reshape.
    let two = &d.models[1];
    assert_eq!(
        (two.optimized.latency_ns, two.eager.latency_ns),
        (3_500_000, 30_000_000)
    );
    assert_eq!(
        (two.optimized.hidden_ns, two.eager.hidden_ns),
        (100_000, 1_600_000)
    );
    assert_eq!(
        (two.optimized.op_ns, two.eager.op_ns),
        (1_900_000, 5_900_000)
    );
    assert_eq!((two.optimized.ops, two.eager.ops), (3, 6));
    // All models: k sums to 7.
    assert_eq!(
        (d.optimized.hidden_ns, d.eager.hidden_ns),
        (350_000, 5_600_000)
    );
    assert_eq!((d.optimized.op_ns, d.eager.op_ns), (6_650_000, 20_650_000));
    assert_eq!(
        (d.optimized.latency_ns, d.eager.latency_ns),
        (10_500_000, 110_000_000)
    );
    assert_eq!(d.removed_ns(), 5_250_000);
    assert!(close(d.removed_share(), 0.9375));
    let t = |ops, ns| Time { ops, ns };
    let cat = |c: &str, o, e| CategoryPair {
        category: c.into(),
        optimized: o,
        eager: e,
    };
    assert_eq!(
        d.categories,
        [
            cat("conv", t(3, 5_600_000), t(3, 14_000_000)),
            cat("batchnorm", t(0, 0), t(6, 3_500_000)),
            cat("activation", t(0, 0), t(3, 1_750_000)),
            cat("linear", t(3, 700_000), t(3, 1_050_000)),
            cat("tensor", t(3, 350_000), t(3, 350_000)),
        ]
    );
    let fate = |op: &str, c: &str, merged, removed, ns| SourceFate {
        source_op: op.into(),
        category: c.into(),
        nodes: 3,
        merged,
        removed,
        eager_ns: ns,
        eager_hidden_ns: ns,
    };
    assert_eq!(
        d.fates,
        [
            fate("BatchNormalization", "batchnorm", 0, 3, 3_500_000),
            fate("Relu", "activation", 3, 0, 1_750_000),
            fate("Reshape", "tensor", 0, 3, 350_000),
        ],
        "Conv and Gemm keep their ops: not listed"
    );
    // MACs-only, leave-one-model-out on (1, 2, 4) M MACs. Optimized (2, 3.5, 5 ms): the lines
    // through the other two predict 2.75, 3 and 6.5 ms: errors 37.5%, 14.29%, 30%. Eager (20,
    // 30, 60 ms): 15, 33.3 and 50 ms: errors 25%, 11.1%, 16.7%.
    let m = d.macs_only_mape_pct.unwrap();
    assert!(
        close(m.optimized, (37.5 + 50.0 / 3.5 + 30.0) / 3.0),
        "{m:?}"
    );
    assert!(
        close(m.eager, (25.0 + 100.0 / 9.0 + 100.0 / 6.0) / 3.0),
        "{m:?}"
    );
    // GMAC/s: optimized 0.5, 0.571, 0.8; eager 0.05, 0.0667, 0.0667.
    let BothWays { optimized, eager } = d.gmacs_spread.unwrap();
    assert!(
        close(optimized, 1.6) && close(eager, 4.0 / 3.0),
        "{optimized} {eager}"
    );
    let f = a.findings[0].eager.as_ref().expect("a Finding");
    assert_eq!(f.models, 3);
    assert_eq!(
        f.gone,
        [
            ("batchnorm".to_string(), 3, 3_500_000),
            ("activation".to_string(), 3, 1_750_000),
            ("tensor".to_string(), 3, 350_000),
        ]
    );
}

#[test]
fn finding_and_section_read_as_snapshots() {
    let (data, a) = analysis(true);
    let finding = eager::finding(a.findings[0].eager.as_ref().unwrap()).plain();
    let doc = report::report(&a, &data, &[], &[]);
    let md = markdown::render(&doc);
    let start = md
        .find(&format!("## {}", eager::H_EAGER))
        .expect("the section");
    let end = md[start..]
        .find("\n## ")
        .map_or(md.len(), |e| start + e + 1);
    assert_snapshot(
        "analyze_eager.md",
        &format!("Finding:\n{finding}\n\n{}", &md[start..end]),
    );
    // The Finding is in the report's Findings, before the sections.
    let at = md
        .find("the graph optimizations remove 5.250 ms (93.8%) of the 5.600 ms")
        .expect("the Finding in report.md");
    assert!(at < md.find("## Devices").unwrap());
}

#[test]
fn analyze_writes_eager_csv_only_with_eager_runs() {
    for with_eager in [true, false] {
        let (_dir, out, summary) = analyze_common::analyze_text(&study_log(with_eager));
        assert_eq!(
            summary.terminal.contains("Eager against optimized ("),
            with_eager,
            "the terminal's table"
        );
        let md = std::fs::read_to_string(out.join("report.md")).unwrap();
        let html = std::fs::read_to_string(out.join("report.html")).unwrap();
        for csv in ["eager.csv", "eager_categories.csv", "eager_sources.csv"] {
            assert_eq!(out.join(csv).exists(), with_eager, "{csv}");
        }
        assert_eq!(md.contains(eager::H_EAGER), with_eager);
        assert_eq!(html.contains("Eager against optimized"), with_eager);
        assert_eq!(md.contains("Eager against optimized."), with_eager);
        if with_eager {
            let csv = std::fs::read_to_string(out.join("eager.csv")).unwrap();
            let rows = analyze_common::csv_rows(&csv);
            let models: Vec<&str> = rows.iter().map(|r| r["model"].as_str()).collect();
            assert_eq!(models, ["one", "two", "four"], "no total row in the CSV");
            assert_eq!(rows[1]["removed_hidden_ns"], "1500000");
            let csv = std::fs::read_to_string(out.join("eager_sources.csv")).unwrap();
            let rows = analyze_common::csv_rows(&csv);
            assert_eq!(rows[0]["source_op"], "BatchNormalization");
            assert_eq!(rows[0]["eager_ns"], "3500000");
        }
    }
}
