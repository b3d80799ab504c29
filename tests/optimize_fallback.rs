//! A model tract cannot optimize (`subsample.onnx`: LeViT's strided subsample, whose
//! declutter fails with "Invalid axis") runs at the next level that works, with a warning
//! that names the levels, the model's nodes (not tract's) and the flag, and the level used in
//! its model record; a run where every model failed prints no empty models table.

mod common;
use common::*;
use hiddencost::model::{ModelSource, Optimize, load};
use std::path::PathBuf;

#[test]
fn load_falls_back_to_the_next_level_that_works() {
    let src = ModelSource::Path(PathBuf::from(model("subsample.onnx")));
    for asked in [Optimize::Full, Optimize::Declutter] {
        let m = load(&src, None, asked).unwrap();
        assert_eq!(m.optimize, Optimize::None, "{asked:?}");
        let why = m.fallback.unwrap();
        assert!(why.contains("Invalid axis"), "{why}");
        // The nodes are the model's, not the ones tract derived from them.
        assert!(why.contains("node `/Slice` (Slice)"), "{why}");
        assert!(!why.contains("stride-axis") && !why.contains('#'), "{why}");
        assert!(
            why.ends_with(
                "ran it at --optimize none instead (pass --optimize none to skip the retries)"
            ),
            "{why}"
        );
    }
    let m = load(&src, None, Optimize::Full).unwrap();
    let why = m.fallback.unwrap();
    assert!(
        why.starts_with("tract failed to optimize it at --optimize full ("),
        "{why}"
    );
    assert!(
        why.contains("), then at --optimize declutter (the same error); "),
        "{why}"
    );
    let plain = load(&src, None, Optimize::None).unwrap();
    assert_eq!((plain.optimize, plain.fallback), (Optimize::None, None));
    // A model that optimizes keeps its level.
    let tiny = ModelSource::Path(PathBuf::from(model("tiny_cnn.onnx")));
    let m = load(&tiny, None, Optimize::Full).unwrap();
    assert_eq!((m.optimize, m.fallback), (Optimize::Full, None));
}

#[test]
fn the_model_record_says_the_level_used_and_warns() {
    let recs = bench_once(&[&model("subsample.onnx"), &model("tiny_cnn.onnx")]);
    let models = of_type(&recs, "model");
    assert_eq!(models[0]["model"], "subsample");
    assert_eq!(models[0]["optimize"], "none");
    let w = &models[0]["warnings"][0];
    assert_eq!(w["kind"], "optimize");
    assert!(
        w["message"].as_str().unwrap().contains("Invalid axis"),
        "{w}"
    );
    assert_eq!(models[1]["optimize"], "full");
    assert!(
        models[1]["warnings"]
            .as_array()
            .unwrap()
            .iter()
            .all(|w| w["kind"] != "optimize")
    );
    // The executed ops are the unoptimized graph's: the MatMul runs as an EinSum.
    let ops: Vec<_> = of_type(&recs, "op")
        .into_iter()
        .filter(|o| o["model"] == "subsample")
        .map(|o| o["op"].as_str().unwrap())
        .collect();
    assert_eq!(ops, ["EinSum", "Reshape", "StridedSlice", "Reshape"]);
}

#[test]
fn a_run_where_every_model_failed_prints_no_models_table() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("bench.jsonl");
    let out = hiddencost()
        .args([
            "bench",
            &model("garbage.onnx"),
            "--runs",
            "1",
            "--fake-counters",
            "--out",
        ])
        .arg(&log)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!stdout.contains("params"), "{stdout}");
    assert_eq!(stdout.trim(), format!("records: {}", log.display()));
}
