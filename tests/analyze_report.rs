//! End-to-end analysis: synthetic logs (ten models on a "Pi 4" with counters, six on a "laptop"
//! without) and the golden logs of the real bench. Files, shares, SVGs, traces, correlations
//! against an independent computation, the latency model, and terminal snapshots.

mod analyze_common;
use analyze_common as common;
use common::csv_rows;

use hiddencost::analyze::Analysis;
use hiddencost::analyze::load::load_logs;
use hiddencost::analyze::{
    AnalyzeOptions, AnalyzeSummary, analyze, predict, predict_device, read_cost_output,
};
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

fn synth_paths(dir: &Path) -> Vec<PathBuf> {
    let (pi, laptop) = common::synth_logs();
    let (a, b) = (dir.join("pi.jsonl"), dir.join("laptop.jsonl"));
    std::fs::write(&a, pi).unwrap();
    std::fs::write(&b, laptop).unwrap();
    vec![a, b]
}

fn run_on_synth() -> (tempfile::TempDir, AnalyzeSummary) {
    let dir = tempfile::tempdir().unwrap();
    let opts = AnalyzeOptions {
        logs: synth_paths(dir.path()),
        out_dir: dir.path().join("out"),
        accuracy_csv: None,
        memory_available_bytes: None,
    };
    let summary = analyze(&opts).unwrap();
    (dir, summary)
}

fn read(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn writes_every_output_file() {
    let (dir, summary) = run_on_synth();
    let out = dir.path().join("out");
    let mut names: Vec<String> = summary
        .files_written
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    names.sort();
    for expected in [
        "report.md",
        "models.csv",
        "shares.csv",
        "counters.csv",
        "correlations.csv",
        "fit_validation.csv",
        "devices.csv",
        "fit.json",
        "shares_executed.svg",
        "shares_source.svg",
        "fig2_accuracy_vs_size.svg",
        "fig2_size_vs_macs.svg",
        "fig2_accuracy_vs_time.svg",
        "fig2_time_vs_macs.svg",
        "fig2_time_vs_params.svg",
        "roofline_rpi4b.svg",
        "roofline_intel-core-i7-1165g7.svg",
        "devices.svg",
        "trace_net0.json",
        "trace_net9.json",
    ] {
        assert!(
            names.contains(&expected.to_string()),
            "{expected} missing from {names:?}"
        );
        assert!(out.join(expected).is_file());
    }
    let report = read(&out, "report.md");
    for heading in [
        "## 1. Models",
        "## 2. Where the time goes",
        "## 3. Why",
        "## 4. Figure 2",
        "## 5. Latency models against MACs alone",
        "## 6. Design choices at equal MACs (RQ4)",
        "## 7. Traces",
        "## 8. Devices compared",
        "## Skipped",
    ] {
        assert!(report.contains(heading), "{heading}");
    }
    assert!(report.contains("not measured"), "laptop has no counters");
    assert!(summary.skipped.is_empty(), "{:?}", summary.skipped);
}

#[test]
fn shares_sum_to_one_per_model_and_view() {
    let (dir, _) = run_on_synth();
    let rows = csv_rows(&read(&dir.path().join("out"), "shares.csv"));
    let mut sums: BTreeMap<(String, String, String), f64> = BTreeMap::new();
    for r in &rows {
        *sums
            .entry((r["device"].clone(), r["model"].clone(), r["view"].clone()))
            .or_default() += r["share"].parse::<f64>().unwrap();
    }
    assert_eq!(sums.len(), (10 + 6) * 2);
    for (key, total) in sums {
        assert!((total - 1.0).abs() < 1e-9, "{key:?}: {total}");
    }
}

#[test]
fn svgs_are_xml_with_named_series() {
    let (dir, summary) = run_on_synth();
    for path in summary
        .files_written
        .iter()
        .filter(|p| p.extension().is_some_and(|e| e == "svg"))
    {
        let text = std::fs::read_to_string(path).unwrap();
        common::xml::check(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert!(text.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
    }
    let out = dir.path().join("out");
    let has = |file: &str, series: &[&str]| {
        let text = read(&out, file);
        for s in series {
            assert!(
                text.contains(&format!("<g id=\"series-{s}\" class=\"series\">")),
                "{file}: series {s}"
            );
        }
        text
    };
    has(
        "shares_executed.svg",
        &[
            "conv",
            "batchnorm",
            "activation",
            "add",
            "pool",
            "linear",
            "tensor",
        ],
    );
    has("shares_source.svg", &["conv", "unattributed"]);
    let fig = has("fig2_time_vs_macs.svg", &["rpi4b", "intel-core-i7-1165g7"]);
    assert!(fig.contains("rpi4b: r = 0.66, rho = 0.55, n = 10"));
    assert!(
        fig.contains("MACs (millions)") && fig.contains("median latency (ms)"),
        "axis labels with units"
    );
    has("roofline_rpi4b.svg", &["conv", "linear", "roof"]);
    has("devices.svg", &["rpi4b", "intel-core-i7-1165g7"]);
    // Deterministic: a second analysis writes the same bytes.
    let (dir2, _) = run_on_synth();
    assert_eq!(
        read(&out, "fig2_time_vs_macs.svg"),
        read(&dir2.path().join("out"), "fig2_time_vs_macs.svg")
    );
}

#[test]
fn traces_hold_one_inference_per_device() {
    let (dir, _) = run_on_synth();
    let trace: Value =
        serde_json::from_str(&read(&dir.path().join("out"), "trace_net0.json")).unwrap();
    let events = trace["traceEvents"].as_array().unwrap();
    let slices: Vec<&Value> = events.iter().filter(|e| e["ph"] == "X").collect();
    let pids: std::collections::BTreeSet<u64> =
        slices.iter().map(|e| e["pid"].as_u64().unwrap()).collect();
    assert_eq!(pids.len(), 2, "net0 ran on both devices");
    for e in &slices {
        for key in ["name", "cat", "ts", "dur", "pid", "tid", "args"] {
            assert!(!e[key].is_null(), "{key} in {e}");
        }
    }
    let laptop_slice = slices.iter().find(|e| e["pid"] == 2).unwrap();
    assert_eq!(laptop_slice["args"]["cycles"], "not measured");
}

#[test]
fn correlations_match_an_independent_computation() {
    let dir = tempfile::tempdir().unwrap();
    let data = load_logs(&synth_paths(dir.path())).unwrap();
    let a = Analysis::compute(&data);
    let get = |key: &str| {
        let p = hiddencost::analyze::compute::correlate::PAIRS
            .iter()
            .position(|p| p.key == key)
            .unwrap();
        a.correlations
            .iter()
            .find(|c| data.devices[c.device].label == "rpi4b" && c.pair == p)
            .unwrap()
    };
    // python3 -c "import statistics as s
    // t=[8893489,6518294,4265644,20469813,8647337,3859792,6691872,3317443,3287258,11577204]
    // m=[37755136,18877568,18887168,37750336,31855296,15934848,15927648,11802880,9220000,11797280]
    // p=[154468,77540,308324,39076,129892,259108,65284,191460,148900,12740]
    // r=lambda v:[sum(w<a for w in v)+(sum(w==a for w in v)+1)/2 for a in v]
    // print(s.correlation(m,t), s.correlation(r(m),r(t)), s.correlation(p,t), s.correlation(r(p),r(t)))"
    // (t: latency medians ns, m: MACs, p: params of the synthetic Pi log, from models.csv)
    let cases = [
        ("time_vs_macs", 0.6574651402798547, 0.5515151515151515),
        ("time_vs_params", -0.6509404694021762, -0.6727272727272727),
    ];
    for (key, r, rho) in cases {
        let c = get(key);
        assert_eq!(c.points.len(), 10);
        assert!(
            (c.pearson.unwrap() - r).abs() < 1e-9,
            "{key}: {:?}",
            c.pearson
        );
        assert!(
            (c.spearman.unwrap() - rho).abs() < 1e-9,
            "{key}: {:?}",
            c.spearman
        );
    }
    let dominance = get("size_vs_macs").dominated_by.clone().unwrap();
    assert_eq!(dominance.model, "net3");
    assert!((dominance.r_without - 0.06).abs() < 0.005, "{dominance:?}");
}

#[test]
fn node_model_beats_macs_only_and_predicts_from_cost_output() {
    let (dir, _) = run_on_synth();
    let out = dir.path().join("out");
    let fit: Value = serde_json::from_str(&read(&out, "fit.json")).unwrap();
    assert_eq!(fit["format"], "hiddencost-fit");
    assert_eq!(fit["features"].as_array().unwrap().len(), 5);
    let pi = &fit["devices"][0];
    assert_eq!(pi["device"], "rpi4b");
    let v = &pi["validation"];
    assert_eq!(v["models"], 10);
    assert_eq!(
        v["node_model"]["within_10pct"], 10,
        "synthetic times are linear in node costs"
    );
    assert!(v["macs_only"]["within_10pct"].as_u64().unwrap() < 5);
    assert!(
        v["node_model"]["mape_pct"].as_f64().unwrap()
            < v["macs_only"]["mape_pct"].as_f64().unwrap()
    );
    // `hiddencost cost --json`-style input: node records of net3, plus a model_cost line.
    let (pi_log, _) = common::synth_logs();
    let nodes: String = pi_log
        .lines()
        .filter(|l| l.contains("\"type\":\"node\"") && l.contains("\"model\":\"net3\""))
        .map(|l| format!("{l}\n"))
        .collect();
    let cost = dir.path().join("net3.cost.jsonl");
    std::fs::write(
        &cost,
        nodes + r#"{"type":"model_cost","model":"net3"}"# + "\n",
    )
    .unwrap();
    let nodes = read_cost_output(&cost).unwrap();
    let err = predict(&nodes, &out.join("fit.json"))
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("several devices (rpi4b, intel-core-i7-1165g7)"),
        "{err}"
    );
    let p = predict_device(&nodes, &out.join("fit.json"), Some("rpi4b")).unwrap();
    let measured = 20_469_813.0; // net3 median on the synthetic Pi (models.csv)
    assert!(((p.latency_ns - measured) / measured).abs() < 0.01, "{p}");
    let per_cat: f64 = p.per_category.iter().map(|(_, ns)| ns).sum();
    assert!((per_cat - p.latency_ns).abs() < 1e-6 * p.latency_ns);
    let text = p.to_string();
    assert!(
        text.starts_with("Predicted latency on rpi4b (node model): 20.4"),
        "{text}"
    );
    assert!(text.contains("\nMACs only  "), "{text}");
    let unknown = predict_device(&nodes, &out.join("fit.json"), Some("pi5"))
        .unwrap_err()
        .to_string();
    assert!(
        unknown.contains("device `pi5` is not in the fit file"),
        "{unknown}"
    );
}

#[test]
fn accuracy_csv_feeds_figure_two() {
    let dir = tempfile::tempdir().unwrap();
    let csv = dir.path().join("acc.csv");
    std::fs::write(
        &csv,
        "model,top1_error\ntiny_cnn,60\nshuffle,75\ntiny_cnn_dynamic,55\n",
    )
    .unwrap();
    let opts = AnalyzeOptions {
        logs: vec![common::golden("fake.jsonl")],
        out_dir: dir.path().join("out"),
        accuracy_csv: Some(csv),
        memory_available_bytes: None,
    };
    analyze(&opts).unwrap();
    let rows = csv_rows(&read(&dir.path().join("out"), "correlations.csv"));
    let acc = rows
        .iter()
        .find(|r| r["pair"] == "accuracy_vs_time")
        .unwrap();
    assert_eq!(acc["n"], "3");
    let models = csv_rows(&read(&dir.path().join("out"), "models.csv"));
    let shuffle = models.iter().find(|r| r["model"] == "shuffle").unwrap();
    assert_eq!(shuffle["top1_accuracy_pct"], "25");
}

#[test]
fn fake_counters_give_exact_ratios() {
    // Every op of a --fake-counters run reads cycles 1000, instructions 2000, cache-misses 4000
    // and l1d-read-misses 7000 (see src/counters/fake.rs).
    let dir = tempfile::tempdir().unwrap();
    let opts = AnalyzeOptions {
        logs: vec![common::golden("fake.jsonl")],
        out_dir: dir.path().join("out"),
        accuracy_csv: None,
        memory_available_bytes: None,
    };
    analyze(&opts).unwrap();
    let rows = csv_rows(&read(&dir.path().join("out"), "counters.csv"));
    assert!(rows.len() > 10);
    for r in &rows {
        assert_eq!(r["ipc"], "2", "{r:?}");
        assert_eq!(r["cache_misses_per_kinstr"], "2000");
        assert_eq!(r["l1d_read_misses_per_kinstr"], "3500");
        let ops: f64 = r["ops"].parse().unwrap();
        let bytes: f64 = r["bytes_moved"].parse().unwrap();
        let bpc: f64 = r["bytes_per_cycle"].parse().unwrap();
        assert!((bpc - bytes / (1000.0 * ops)).abs() < 1e-9);
    }
}

/// Snapshot of the terminal output (tables and skip notes) on the golden logs. Paths are
/// relative so the snapshot does not depend on where the repository is checked out.
#[test]
fn terminal_tables_snapshot() {
    let dir = tempfile::tempdir().unwrap();
    for (log, snap) in [
        ("fake.jsonl", "analyze_fake.txt"),
        ("real.jsonl", "analyze_real.txt"),
    ] {
        let opts = AnalyzeOptions {
            logs: vec![PathBuf::from("tests/golden").join(log)],
            out_dir: dir.path().join(log),
            accuracy_csv: None,
            memory_available_bytes: None,
        };
        common::assert_snapshot(snap, &analyze(&opts).unwrap().to_string());
    }
    let dir2 = tempfile::tempdir().unwrap();
    let opts = AnalyzeOptions {
        logs: synth_paths(dir2.path()),
        out_dir: dir2.path().join("out"),
        accuracy_csv: None,
        memory_available_bytes: None,
    };
    common::assert_snapshot("analyze_synth.txt", &analyze(&opts).unwrap().terminal);
}

#[test]
fn slices_are_back_to_back_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("log.jsonl");
    let log = common::synth::to_jsonl(&common::synth::synth_log(
        &common::synth::SynthDevice::pi4(),
        &[common::synth::SynthModel::new("m", 2, 8, 4)],
    ));
    std::fs::write(&path, log).unwrap();
    let data = load_logs(&[path]).unwrap();
    let trace = hiddencost::analyze::render::trace::chrome_trace(&data, &[&data.runs[0]]);
    let slices: Vec<&Value> = trace["traceEvents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["ph"] == "X")
        .collect();
    assert_eq!(slices.len(), data.runs[0].ops.len());
    let mut end_us = 0.0;
    for s in &slices {
        assert!((s["ts"].as_f64().unwrap() - end_us).abs() < 1e-6);
        end_us += s["dur"].as_f64().unwrap();
        assert!(s["args"]["cycles"].is_u64());
    }
    let total_us = data.runs[0].model.sum_op_wall_median_ns as f64 / 1000.0;
    assert!((end_us - total_us).abs() < 1e-6);
    assert_eq!(
        hiddencost::analyze::render::trace::file_name("zoo:resnet/50"),
        "trace_zoo_resnet_50.json"
    );
}

/// The streamed trace is the trace value's JSON, byte for byte: on two devices' logs with and
/// without counters (null counters, ops without a source node) and a counter named like a
/// fixed arg, which replaces it as in a map.
#[test]
fn streamed_trace_is_the_value_written_out() {
    use hiddencost::analyze::render::trace::{chrome_trace, write_chrome_trace};
    let dir = tempfile::tempdir().unwrap();
    let mut records = common::synth::synth_log(
        &common::synth::SynthDevice::pi4(),
        &[common::synth::SynthModel::new("m", 2, 8, 4)],
    );
    for r in records.iter_mut() {
        if let hiddencost::record::Record::Op(op) = r {
            op.counters.insert("macs".into(), None);
            op.counters.insert("zz \"quoted\"".into(), None);
            break;
        }
    }
    let path = dir.path().join("log.jsonl");
    std::fs::write(&path, common::synth::to_jsonl(&records)).unwrap();
    let logs = [
        path,
        common::golden("real.jsonl"),
        common::golden("fake.jsonl"),
    ];
    let data = load_logs(&logs).unwrap();
    let runs: Vec<_> = data.runs.iter().collect();
    let mut streamed = Vec::new();
    write_chrome_trace(&data, &runs, &mut streamed).unwrap();
    assert_eq!(
        String::from_utf8(streamed).unwrap(),
        chrome_trace(&data, &runs).to_string()
    );
}

#[test]
fn paired_ratios_reach_the_models_table_and_csv() {
    let (dir, _) = run_on_synth();
    let out = dir.path().join("out");
    let models = csv_rows(&read(&out, "models.csv"));
    assert!(!models.is_empty());
    for r in &models {
        // the synthetic logs' `paired` (tests/analyze_common/synth.rs), full precision
        assert_eq!(r["schedule"], "interleaved", "{r:?}");
        assert_eq!(r["profiled_over_clean_median"], "1.074");
        assert_eq!(r["profiled_over_clean_low"], "1.06");
        assert_eq!(r["profiled_over_clean_high"], "1.09");
        assert_eq!(r["sum_op_over_clean_median"], "1.053");
        assert_eq!(r["paired_confidence"], "0.9375");
    }
    let report = read(&out, "report.md");
    assert!(
        report.contains("| per-op/clean |"),
        "the models table names the column"
    );
    assert!(
        report.contains("| 1.074 [1.060-1.090] |"),
        "each row shows median [low-high]"
    );
}

/// ops.csv as written (row by row) is the ops table's CSV, byte for byte: ops with and without
/// bounds, counters and source nodes.
#[test]
fn streamed_ops_csv_is_the_table() {
    use hiddencost::analyze::render::ops::{Output, table, write_csv};
    let logs = [
        common::golden("real.jsonl"),
        common::golden("fake.jsonl"),
        common::golden("zoo_vm_probe.jsonl"),
    ];
    let data = load_logs(&logs).unwrap();
    let a = Analysis::compute(&data);
    let mut streamed = Vec::new();
    write_csv(&a, &data, &mut streamed).unwrap();
    assert_eq!(
        String::from_utf8(streamed).unwrap(),
        table(&a, &data, Output::Csv).to_csv()
    );
}
