//! Bad input never panics: each case gives a one-line error naming the thing, an error record,
//! the other models still run, and the exit status is non-zero.

mod common;
use common::*;

/// Runs `bad` between two good models and checks the error record and the survivors.
fn survives(bad: &str, extra: &[&str], expect: &[&str]) {
    let good = model("shuffle.onnx");
    let out = hiddencost()
        .args([
            "bench",
            &good,
            bad,
            &good,
            "--runs",
            "1",
            "--fake-counters",
            "--out",
            "-",
        ])
        .args(extra)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "non-zero exit for {bad}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    let recs = records(&String::from_utf8_lossy(&out.stdout));
    let errors = of_type(&recs, "error");
    assert_eq!(errors.len(), 1, "{recs:?}");
    let message = errors[0]["message"].as_str().unwrap();
    assert!(!message.contains('\n'), "one line: {message}");
    for needle in expect {
        assert!(message.contains(needle), "`{needle}` not in: {message}");
    }
    assert!(
        stderr.contains(message),
        "the error is also on stderr: {stderr}"
    );
    assert_eq!(of_type(&recs, "model").len(), 2, "both good models ran");
    let end = recs.last().unwrap();
    assert_eq!(end["models_failed"], 1);
}

#[test]
fn missing_file() {
    survives(
        "models/does-not-exist.onnx",
        &[],
        &["does-not-exist.onnx", "cannot read"],
    );
}

#[test]
fn truncated_onnx() {
    survives(
        &model("truncated.onnx"),
        &[],
        &["truncated.onnx", "not a valid ONNX file"],
    );
}

#[test]
fn garbage_onnx() {
    survives(
        &model("garbage.onnx"),
        &[],
        &["garbage.onnx", "not a valid ONNX file"],
    );
}

#[test]
fn unsupported_operator() {
    survives(
        &model("unsupported_op.onnx"),
        &[],
        &["unsupported ONNX operator", "HiddenCostNoSuchOp", "mystery"],
    );
}

#[test]
fn dynamic_shape_without_input_shape() {
    survives(
        &model("tiny_cnn_dynamic.onnx"),
        &[],
        &["dynamic shape", "--input-shape"],
    );
}

#[test]
fn a_directory_is_not_a_model() {
    survives(env!("CARGO_MANIFEST_DIR"), &[], &["cannot read"]);
}

/// Benchmarks a good model into `target`, which cannot take it: exit status 1, no panic, and
/// a message on stderr containing every needle.
fn output_fails(target: &str, expect: &[&str]) {
    let out = hiddencost()
        .args([
            "bench",
            &model("shuffle.onnx"),
            "--runs",
            "1",
            "--out",
            target,
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{target}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    for needle in expect {
        assert!(stderr.contains(needle), "`{needle}` not in: {stderr}");
    }
}

#[test]
fn unwritable_output_is_a_clear_error() {
    output_fails(
        "/proc/hiddencost/x.jsonl",
        &["cannot open output /proc/hiddencost/x.jsonl"],
    );
}

#[test]
fn full_disk_is_a_clear_error() {
    output_fails("/dev/full", &["writing to /dev/full failed", "disk full"]);
}

#[test]
fn absent_serial_device_is_a_clear_error() {
    output_fails(
        "serial:/dev/ttyHIDDENCOST9",
        &["serial port /dev/ttyHIDDENCOST9: open", "plugged in"],
    );
}

#[test]
fn bad_arguments_are_usage_errors() {
    for args in [
        vec!["bench", "x.onnx", "--input-shape", "1,a,3"],
        vec!["bench", "x.onnx", "--runs", "0"],
        vec!["bench", "x.onnx", "--threads", "0"],
        vec!["bench", "x.onnx", "--threads", "two"],
        vec!["bench", "x.onnx", "--threads", "257"],
        vec!["bench", "x.onnx", "--events", "cycels"],
        vec!["bench", "x.onnx", "--out", "serial:/dev/ttyS0@fast"],
        vec!["analyze"],
        vec!["predict", "zoo:vgg16"],
    ] {
        let out = hiddencost().args(&args).output().unwrap();
        assert!(!out.status.success(), "{args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!stderr.contains("panicked"), "{stderr}");
        assert!(!stderr.trim().is_empty(), "{args:?} says why");
    }
}

#[test]
fn cost_of_a_bad_model_fails_cleanly() {
    let out = hiddencost()
        .args([
            "cost",
            &model("garbage.onnx"),
            &model("tiny_cnn.onnx"),
            "--json",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let recs = records(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(
        of_type(&recs, "model_cost").len(),
        1,
        "the good model is still costed"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("garbage.onnx"));
}
