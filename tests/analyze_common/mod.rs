//! Shared helpers for the analyze integration tests: synthetic and golden logs, a tiny XML
//! well-formedness checker, snapshot comparison.
#![allow(dead_code)]

pub mod synth;
pub mod xml;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use synth::{SynthDevice, SynthModel, synth_log, ten_models, to_jsonl};

pub fn golden(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name)
}

/// The synthetic two-device logs (ten models on a "Pi 4" with counters, a "laptop" without).
pub fn synth_logs() -> (String, String) {
    let pi = to_jsonl(&synth_log(&SynthDevice::pi4(), &ten_models()));
    let laptop = to_jsonl(&synth_log(&SynthDevice::laptop(), &ten_models()[..6]));
    (pi, laptop)
}

/// One small model, for tests that damage a log.
pub fn small_log() -> String {
    to_jsonl(&synth_log(
        &SynthDevice::pi4(),
        &[SynthModel::new("a", 2, 8, 4), SynthModel::new("b", 3, 8, 4)],
    ))
}

/// `text` as a log file loaded and analysed (the computed layer only).
pub fn load_text(
    text: &str,
) -> (
    hiddencost::analyze::load::Dataset,
    hiddencost::analyze::Analysis,
) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("study.jsonl");
    std::fs::write(&path, text).unwrap();
    let data = hiddencost::analyze::load::load_logs(&[path]).unwrap();
    let a = hiddencost::analyze::Analysis::compute(&data);
    (data, a)
}

/// `text` as a log file through the whole `analyze`, into `DIR/out`: the folder (kept while
/// the caller holds it), the output folder and the summary.
pub fn analyze_text(
    text: &str,
) -> (
    tempfile::TempDir,
    PathBuf,
    hiddencost::analyze::AnalyzeSummary,
) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("study.jsonl");
    std::fs::write(&path, text).unwrap();
    let out = dir.path().join("out");
    let summary = hiddencost::analyze::analyze(&hiddencost::analyze::AnalyzeOptions {
        logs: vec![path],
        out_dir: out.clone(),
        accuracy_csv: None,
        memory_available_bytes: None,
    })
    .unwrap();
    (dir, out, summary)
}

/// Compares `actual` with tests/snapshots/NAME; `UPDATE_SNAPSHOTS=1` rewrites the file.
pub fn assert_snapshot(name: &str, actual: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/snapshots")
        .join(name);
    if std::env::var_os("UPDATE_SNAPSHOTS").is_some() {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "{}: {e}; run with UPDATE_SNAPSHOTS=1 to create it",
            path.display()
        )
    });
    if expected != actual {
        let diff_line = expected
            .lines()
            .zip(actual.lines())
            .position(|(a, b)| a != b);
        panic!(
            "snapshot {} differs (first differing line: {diff_line:?}); run with UPDATE_SNAPSHOTS=1 \
             to accept.\n--- actual ---\n{actual}",
            path.display()
        );
    }
}

/// CSV rows as header -> value maps (the analysis CSVs never quote these columns).
pub fn csv_rows(text: &str) -> Vec<BTreeMap<String, String>> {
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    lines
        .map(|l| {
            header
                .iter()
                .map(|h| h.to_string())
                .zip(l.split(',').map(String::from))
                .collect()
        })
        .collect()
}
