//! RQ4 from a real sweep log: `hiddencost sweep` on two families, analyzed alone and together
//! with a models' log. The report's RQ4 section, sweep.csv and the Findings come from the
//! probes' records, and the probes stay out of the models' tables, correlations and fits.

mod analyze_common;
mod common;
use common::*;
use serde_json::Value;
use std::collections::BTreeMap;
use std::path::Path;

fn sweep_log(dir: &Path) -> std::path::PathBuf {
    let log = dir.join("sweep.jsonl");
    let out = hiddencost()
        .args([
            "sweep",
            "--families",
            "merge,kernel_size",
            "--budget",
            "60",
            "--runs",
            "8",
            "--fake-counters",
            "--probe-budget",
            "0",
            "--out",
        ])
        .arg(&log)
        .output()
        .unwrap();
    assert_ok(&out);
    log
}

fn analyze(logs: &[&Path], out: &Path) -> String {
    analyze_into(logs, out)
}

fn csv(path: &Path) -> Vec<BTreeMap<String, String>> {
    analyze_common::csv_rows(&std::fs::read_to_string(path).unwrap())
}

#[test]
fn a_sweep_log_answers_rq4_with_ratios_from_its_records() {
    let dir = tempfile::tempdir().unwrap();
    let log = sweep_log(dir.path());
    let recs = records(&std::fs::read_to_string(&log).unwrap());
    let models = of_type(&recs, "model");
    // family -> (variant -> median, baseline variant)
    let mut medians: BTreeMap<(String, String), u64> = BTreeMap::new();
    let mut baseline: BTreeMap<String, String> = BTreeMap::new();
    for m in &models {
        let meta = &m["metadata"];
        let family = meta["sweep.family"].as_str().unwrap().to_string();
        let variant = meta["sweep.variant"].as_str().unwrap().to_string();
        if meta["sweep.baseline"] == Value::Bool(true) {
            baseline.insert(family.clone(), variant.clone());
        }
        medians.insert(
            (family, variant),
            m["latency_ns"]["median"].as_u64().unwrap(),
        );
    }
    assert_eq!(baseline.len(), 2, "both families measured their baseline");

    let out = dir.path().join("report");
    let terminal = analyze(&[&log], &out);
    let rows = csv(&out.join("sweep.csv"));
    assert_eq!(rows.len(), models.len(), "one row per variant");
    for r in &rows {
        let family = &r["family"];
        let base = medians[&(family.clone(), baseline[family].clone())] as f64;
        let mine = medians[&(family.clone(), r["variant"].clone())] as f64;
        let ratio: f64 = r["ratio_to_baseline"].parse().unwrap();
        assert!(
            (ratio - mine / base).abs() < 1e-9,
            "{family}/{}: {ratio} against {}",
            r["variant"],
            mine / base
        );
        assert!(r["ratio_noise"].parse::<f64>().unwrap() > 0.0);
    }
    let report = std::fs::read_to_string(out.join("report.md")).unwrap();
    let section = report
        .split("## 6. Design choices at equal MACs (RQ4)")
        .nth(1)
        .expect("the RQ4 section")
        .split("\n## ")
        .next()
        .unwrap();
    for family in ["merge", "kernel_size"] {
        assert!(
            section.contains(&format!("#### Family {family}")),
            "{family}"
        );
    }
    assert!(section.contains("What saves time at equal MACs"));
    assert!(section.contains("rq4_"), "the chart");
    assert!(
        terminal.contains("RQ4. Which design choices beyond MAC reduction make a model faster? Measured on this device with 2 design families"),
        "{terminal}"
    );
    let svg = std::fs::read_dir(&out)
        .unwrap()
        .filter_map(Result::ok)
        .find(|e| e.file_name().to_string_lossy().starts_with("rq4_"))
        .expect("an rq4 chart");
    let svg = std::fs::read_to_string(svg.path()).unwrap();
    assert_eq!(
        svg.matches("<rect").count() - 4,
        rows.len(),
        "one bar per variant (beside the background and three legend swatches)"
    );
    // The probes are no models: RQ1 has none to correlate, the models table no rows.
    assert!(terminal.contains("RQ1. Do MACs and params predict latency? Cannot say"));
    let models_csv = csv(&out.join("models.csv"));
    assert!(models_csv.is_empty(), "{models_csv:?}");
}

#[test]
fn probes_beside_models_leave_the_models_tables_alone() {
    let dir = tempfile::tempdir().unwrap();
    let log = sweep_log(dir.path());
    let models_log = dir.path().join("models.jsonl");
    let out = hiddencost()
        .args(["bench", "--runs", "2", "--warmup", "0", "--fake-counters"])
        .args(["--probe-budget", "0", "--out"])
        .arg(&models_log)
        .arg(model("tiny_cnn.onnx"))
        .arg(model("shuffle.onnx"))
        .output()
        .unwrap();
    assert_ok(&out);
    let report = dir.path().join("report");
    analyze(&[&models_log, &log], &report);
    let rows = csv(&report.join("models.csv"));
    let names: Vec<&str> = rows.iter().map(|r| r["model"].as_str()).collect();
    assert_eq!(names, ["tiny_cnn", "shuffle"], "only the models");
    assert_eq!(csv(&report.join("sweep.csv")).len(), {
        let text = std::fs::read_to_string(&log).unwrap();
        of_type(&records(&text), "model").len()
    });
    let shares = csv(&report.join("shares.csv"));
    assert!(shares.iter().all(|r| r["model"] != "merge.add"));
}
