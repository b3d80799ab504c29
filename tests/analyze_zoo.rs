//! The full report on real logs of the ten zoo networks, made by `hiddencost bench` on the
//! development VM (see tests/golden/make_golden.sh): zoo_vm.jsonl before the machine probe,
//! zoo_vm_probe.jsonl with it. Accuracy comes from the records' zoo metadata, or from
//! tests/golden/zoo_accuracy.csv.

mod analyze_common;
use analyze_common as common;

use hiddencost::analyze::{AnalyzeOptions, analyze, predict};
use serde_json::Value;
use std::path::PathBuf;

fn run_with(
    accuracy_csv: Option<PathBuf>,
) -> (tempfile::TempDir, hiddencost::analyze::AnalyzeSummary) {
    let dir = tempfile::tempdir().unwrap();
    let opts = AnalyzeOptions {
        logs: vec![PathBuf::from("tests/golden/zoo_vm.jsonl")],
        out_dir: dir.path().join("out"),
        accuracy_csv,
        memory_available_bytes: None,
    };
    let summary = analyze(&opts).unwrap();
    (dir, summary)
}

fn run() -> (tempfile::TempDir, hiddencost::analyze::AnalyzeSummary) {
    run_with(None)
}

#[test]
fn accuracy_from_metadata_equals_accuracy_from_csv() {
    let (a, _) = run();
    let (b, _) = run_with(Some(PathBuf::from("tests/golden/zoo_accuracy.csv")));
    let read = |d: &tempfile::TempDir| {
        std::fs::read_to_string(d.path().join("out/correlations.csv")).unwrap()
    };
    assert_eq!(read(&a), read(&b));
}

#[test]
fn ten_zoo_models_give_the_full_report() {
    let (dir, summary) = run();
    assert!(summary.skipped.is_empty(), "{:?}", summary.skipped);
    let out = dir.path().join("out");
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    for m in [
        "vgg16",
        "inceptionv4",
        "seresnet50",
        "xception",
        "shufflenetv2",
    ] {
        assert!(report.contains(&format!("| {m} |")), "{m}");
        assert!(out.join(format!("trace_{m}.json")).is_file());
    }
    let fit: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("fit.json")).unwrap()).unwrap();
    let v = &fit["devices"][0]["validation"];
    assert_eq!(v["models"], 10);
    assert_eq!(v["per_model"].as_array().unwrap().len(), 10);
    // On this log the node-level model beats MACs-only (see docs/analysis.md for the figures).
    let node = v["node_model"]["mape_pct"].as_f64().unwrap();
    let macs = v["macs_only"]["mape_pct"].as_f64().unwrap();
    assert!(node < macs, "{node} vs {macs}");
    let corr = std::fs::read_to_string(out.join("correlations.csv")).unwrap();
    assert!(
        corr.lines().filter(|l| l.contains(",10,")).count() == 5,
        "n = 10 for all pairs"
    );
    for svg in [
        "fig2_accuracy_vs_time.svg",
        "roofline_intel-xeon-processor.svg",
    ] {
        let text = std::fs::read_to_string(out.join(svg)).unwrap();
        common::xml::check(&text).unwrap_or_else(|e| panic!("{svg}: {e}"));
    }
    // Predict resnet50 from its node records alone (as `hiddencost cost --json` prints them).
    let log = std::fs::read_to_string("tests/golden/zoo_vm.jsonl").unwrap();
    let nodes: Vec<_> = log
        .lines()
        .filter(|l| l.starts_with(r#"{"type":"node","model":"resnet50","#))
        .map(|l| match serde_json::from_str(l).unwrap() {
            hiddencost::record::Record::Node(n) => n,
            other => panic!("{other:?}"),
        })
        .collect();
    let p = predict(&nodes, &out.join("fit.json")).unwrap();
    assert!(p.latency_ns > 30e6 && p.latency_ns < 120e6, "{p}");
}

#[test]
fn zoo_terminal_snapshot() {
    let (_, summary) = run();
    common::assert_snapshot("analyze_zoo.txt", &summary.to_string());
}

/// The zoo with this VM's own roofs in its header: every op explained, none above the peak or
/// below its bound, Findings that answer RQ1-RQ3 with numbers, the measured roofline.
#[test]
fn zoo_with_machine_roofs_is_explained_op_by_op() {
    use hiddencost::analyze::compute::findings::Answer;
    let log = common::golden("zoo_vm_probe.jsonl");
    let data = hiddencost::analyze::load::load_logs(std::slice::from_ref(&log)).unwrap();
    assert_eq!(data.runs.len(), 10);
    let a = hiddencost::analyze::Analysis::compute(&data);
    for (run, b) in data.runs.iter().zip(&a.bounds) {
        let b = b.as_ref().unwrap();
        assert_eq!(b.ops.len(), run.ops.len());
        assert!(
            b.over_peak.is_empty() && b.peak_beaten.is_empty(),
            "{}: {:?} {:?}",
            run.model.model,
            b.over_peak,
            b.peak_beaten
        );
        assert!(
            b.below_bound.is_empty(),
            "{}: {:?}",
            run.model.model,
            b.below_bound
        );
        let macs: u64 = run.ops.iter().map(|o| o.cost.macs).sum();
        assert_eq!(
            macs, run.model.cost.macs,
            "{}: every MAC on an op",
            run.model.model
        );
    }
    let f = &a.findings[0];
    let rq1 = f.rq1.as_ref().unwrap();
    assert_eq!(rq1.models, 10);
    assert!(rq1.light.as_ref().is_some());
    let rq2 = f.rq2.as_ref().unwrap();
    assert!(matches!(rq2.above, Answer::Is(_)));
    assert_eq!(f.rq3.as_ref().unwrap().models.len(), 10);
    let dir = tempfile::tempdir().unwrap();
    analyze(&AnalyzeOptions {
        logs: vec![log],
        out_dir: dir.path().join("out"),
        accuracy_csv: None,
        memory_available_bytes: None,
    })
    .unwrap();
    let md = std::fs::read_to_string(dir.path().join("out/report.md")).unwrap();
    assert!(md.contains("of op time is above what the ops' MACs and bytes need"));
    assert!(!md.contains("Bounds that do not hold"));
    let roofline = std::fs::read_to_string(dir.path().join("out/roofline_amd-epyc.svg")).unwrap();
    assert!(roofline.contains("fma_mmm_f32_16x6") && roofline.contains("DRAM read"));
}
