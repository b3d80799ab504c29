//! Bad input never panics: each case gives a one-line error naming the thing, an error record,
//! the other models still run, and the exit status is non-zero.

mod common;
use common::*;

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
        .timeout(CASE_TIMEOUT)
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
fn a_fifo_is_not_a_model() {
    let dir = tempfile::tempdir().unwrap();
    survives(
        &mkfifo(dir.path()),
        &[],
        &["cannot read", "a FIFO (named pipe), not a regular file"],
    );
}

#[test]
fn a_fifo_is_not_an_output() {
    let dir = tempfile::tempdir().unwrap();
    output_fails(
        &mkfifo(dir.path()),
        &["is a FIFO (named pipe), not a regular file"],
    );
}

#[test]
fn records_are_never_appended_to_another_file() {
    let dir = tempfile::tempdir().unwrap();
    let notes = dir.path().join("notes.txt");
    std::fs::write(&notes, "my notes\n").unwrap();
    output_fails(notes.to_str().unwrap(), &["is not a hiddencost log"]);
    assert_eq!(std::fs::read_to_string(&notes).unwrap(), "my notes\n");
    // A log takes more runs.
    let log = dir.path().join("log.jsonl");
    for _ in 0..2 {
        bench_into(
            &log,
            &[&model("shuffle.onnx"), "--runs", "1", "--probe-budget", "0"],
        );
    }
    let recs = records(&std::fs::read_to_string(&log).unwrap());
    assert_eq!(of_type(&recs, "header").len(), 2);
}

#[test]
fn analyze_reads_a_pipe_without_waiting_and_names_what_it_refuses() {
    let dir = tempfile::tempdir().unwrap();
    // A named pipe no program writes to: read as empty at once, not waited on.
    let out = hiddencost()
        .timeout(CASE_TIMEOUT)
        .args(["analyze", &mkfifo(dir.path()), "--out"])
        .arg(dir.path().join("report"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no usable model measurement"), "{stderr}");
    for (path, says) in [
        (
            dir.path().to_str().unwrap(),
            "a directory, not a regular file or a pipe",
        ),
        ("/dev/null", "a character device"),
    ] {
        let out = hiddencost()
            .args(["analyze", path, "--out"])
            .arg(dir.path().join("report"))
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1));
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(says), "{path}: {stderr}");
    }
}

#[test]
fn a_closed_stdout_ends_quietly() {
    // More records than a pipe holds (64 KiB), so that a write fails however late the reader
    // goes away.
    let models: Vec<String> = (0..100).map(|_| model("tiny_cnn.onnx")).collect();
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("hiddencost"))
        .arg("cost")
        .args(&models)
        .arg("--json")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // The reader goes away before the first record (`| head -0`).
    drop(child.stdout.take());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(141), "{stderr}");
    assert!(stderr.is_empty(), "quiet: {stderr}");
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
        vec!["bench", "x.onnx", "--runs", "9223372036854775807"],
        vec!["bench", "x.onnx", "--warmup", "9223372036854775807"],
        vec!["bench", "x.onnx", "--cpu", "4294967295"],
        vec!["bench", "x.onnx", "--out", "serial:/dev/ttyS0@0"],
        vec!["bench", "x.onnx", "--out", "serial:/dev/ttyS0@1"],
        vec!["bench", "x.onnx", "--out", "serial:/dev/ttyS0@4294967295"],
        vec!["bench", "x.onnx", "--threads", "0"],
        vec!["bench", "x.onnx", "--threads", "two"],
        vec!["bench", "x.onnx", "--threads", "257"],
        vec!["bench", "x.onnx", "--events", "cycels"],
        vec!["bench", "x.onnx", "--out", "serial:/dev/ttyS0@fast"],
        vec!["bench", "x.onnx", "--probe-budget", "-1"],
        vec!["bench", "x.onnx", "--probe-budget", "soon"],
        vec!["bench", "x.onnx", "--probe-budget", "1e9"],
        vec!["probe", "--budget", "0"],
        vec!["probe", "--budget", "NaN"],
        vec!["probe", "--threads", "0"],
        vec!["probe", "--events", "cycels"],
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
fn settings_that_cannot_finish_or_work_are_refused_with_their_limit() {
    for (args, says) in [
        (
            vec!["--warmup", "9223372036854775807"],
            "a number of warm-up runs from 0 to 10000",
        ),
        (
            vec!["--runs", "9223372036854775807"],
            "a number of runs from 1 to 100000",
        ),
        (vec!["--cpu", "4294967295"], "a CPU number from 0 to 1023"),
        (
            vec!["--out", "serial:/dev/ttyS0@0"],
            "baud rate `0` is not from 9600 to 4000000 (0 hangs up the line",
        ),
        (
            vec!["--out", "serial:/dev/ttyS0@1"],
            "baud rate `1` is not from 9600",
        ),
        (
            vec!["--out", "serial:/dev/ttyS0@4294967295"],
            "baud rate `4294967295` is not from 9600 to 4000000",
        ),
    ] {
        let out = hiddencost()
            .args(["bench", "x.onnx"])
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{args:?}: a usage error");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(says), "{args:?}: {stderr}");
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
