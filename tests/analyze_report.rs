//! End-to-end analysis of synthetic logs (ten models on a "Pi 4" with counters, six on a
//! "laptop" without): files, shares, SVGs, traces, the latency model and the terminal tables.

mod analyze_common;
use analyze_common as common;

use hiddencost::analyze::{AnalyzeOptions, analyze};
use std::path::PathBuf;

fn run_on_synth() -> (tempfile::TempDir, hiddencost::analyze::AnalyzeSummary) {
    let dir = tempfile::tempdir().unwrap();
    let (pi, laptop) = common::synth_logs();
    let (a, b) = (dir.path().join("pi.jsonl"), dir.path().join("laptop.jsonl"));
    std::fs::write(&a, pi).unwrap();
    std::fs::write(&b, laptop).unwrap();
    let opts = AnalyzeOptions { logs: vec![a, b], out_dir: dir.path().join("out"), accuracy_csv: None };
    let summary = analyze(&opts).unwrap();
    (dir, summary)
}

#[test]
fn prints_report() {
    let (dir, summary) = run_on_synth();
    println!("{summary}");
    let _ = PathBuf::from(dir.path());
}
