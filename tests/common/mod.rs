//! Helpers shared by the integration tests: run the binary, parse its JSON lines.

#![allow(dead_code)]

use assert_cmd::Command;
use serde_json::Value;
use std::path::PathBuf;

pub fn model(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("models")
        .join(name)
        .display()
        .to_string()
}

pub fn hiddencost() -> Command {
    let mut cmd = Command::cargo_bin("hiddencost").unwrap();
    cmd.env_remove("HIDDENCOST_LOG");
    cmd
}

/// Long enough for any bad-input case; a case that blocks (a FIFO read) fails instead of hanging.
pub const CASE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(120);

/// Runs `bad` between two good models (no machine probe) and checks the error record and the
/// survivors.
pub fn survives(bad: &str, extra: &[&str], expect: &[&str]) {
    let good = model("shuffle.onnx");
    let out = hiddencost()
        .timeout(CASE_TIMEOUT)
        .args([
            "bench",
            &good,
            bad,
            &good,
            "--runs",
            "1",
            "--fake-counters",
            "--probe-budget",
            "0",
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

/// A FIFO named `fifo` in `dir` (made with mkfifo(1)), as a path.
pub fn mkfifo(dir: &std::path::Path) -> String {
    let fifo = dir.join("fifo");
    let made = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(made.success());
    fifo.to_str().unwrap().to_string()
}

/// A failed run fails the test with its stderr.
pub fn assert_ok(out: &std::process::Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The records a successful run printed on stdout; a failed run fails the test with its stderr.
pub fn succeeded(out: &std::process::Output) -> Vec<Value> {
    assert_ok(out);
    records(&String::from_utf8_lossy(&out.stdout))
}

/// `hiddencost bench ARGS` with one timed run, no warm-up, fake counters and no machine probe
/// (unless ARGS give `--probe-budget`), records on stdout: the records of a run that must
/// succeed.
pub fn bench_once(args: &[&str]) -> Vec<Value> {
    succeeded(&bench_once_output(args))
}

/// What [`bench_once`] runs, its output as it is (the run's bytes on stdout).
pub fn bench_once_output(args: &[&str]) -> std::process::Output {
    let probe = match args.contains(&"--probe-budget") {
        true => &[][..],
        false => &["--probe-budget", "0"][..],
    };
    hiddencost()
        .arg("bench")
        .args(args)
        .args(probe)
        .args([
            "--runs",
            "1",
            "--warmup",
            "0",
            "--fake-counters",
            "--out",
            "-",
        ])
        .output()
        .unwrap()
}

/// `hiddencost bench ARGS --out LOG`, which must succeed within [`CASE_TIMEOUT`].
pub fn bench_into(log: &std::path::Path, args: &[&str]) {
    let out = hiddencost()
        .timeout(CASE_TIMEOUT)
        .arg("bench")
        .args(args)
        .arg("--out")
        .arg(log)
        .output()
        .unwrap();
    assert_ok(&out);
}

/// Runs `cmd` within [`CASE_TIMEOUT`]: its exit code, stdout and stderr.
pub fn outcome(cmd: &mut Command) -> (Option<i32>, String, String) {
    let out = cmd.timeout(CASE_TIMEOUT).output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `hiddencost analyze LOGS --out DIR`, which must succeed: what it printed on stdout.
pub fn analyze_into(logs: &[&std::path::Path], dir: &std::path::Path) -> String {
    let out = hiddencost()
        .arg("analyze")
        .args(logs)
        .arg("--out")
        .arg(dir)
        .output()
        .unwrap();
    assert_ok(&out);
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `hiddencost cost MODEL --json` of a fixture: its records (the run must succeed).
pub fn cost_json(fixture: &str) -> Vec<Value> {
    let out = hiddencost()
        .args(["cost", &model(fixture), "--json"])
        .output()
        .unwrap();
    succeeded(&out)
}

/// The fixtures of `models/` that every op-to-source mapping check covers.
pub const MAPPED_FIXTURES: [&str; 6] = [
    "tiny_cnn.onnx",
    "shuffle.onnx",
    "siblings.onnx",
    "fire.onnx",
    "exported.onnx",
    "normalize.onnx",
];

/// Parses every line of `text` as JSON; panics (test failure) on a bad line.
pub fn records(text: &str) -> Vec<Value> {
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line {l:?}: {e}")))
        .collect()
}

/// The names of a header's events, in its order.
pub fn event_names(header: &Value) -> Vec<&str> {
    header["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect()
}

pub fn of_type<'a>(recs: &'a [Value], t: &str) -> Vec<&'a Value> {
    recs.iter().filter(|r| r["type"] == t).collect()
}

/// Issue #11's invariant on a bench log: its header carries the machine roofs, every op of
/// every model gets a bound, no op outside the kernels has a MAC rate above the probe's peak
/// beyond its spread (a reshape carrying a merged conv's MACs did, at about 590x), and no
/// kernel is beyond what its model's roof may be raised to (`PEAK_RAISE_LIMIT` x the
/// probe's peak: a kernel merely faster than the probe, as on a busy VM, raises the roof).
pub fn assert_bounds_hold(log_text: &[u8]) {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("bench.jsonl");
    std::fs::write(&log, log_text).unwrap();
    let data = hiddencost::analyze::load::load_logs(&[log]).unwrap();
    assert!(!data.runs.is_empty(), "no model in the log");
    let a = hiddencost::analyze::Analysis::compute(&data);
    for (run, b) in data.runs.iter().zip(&a.bounds) {
        let name = &run.model.model;
        let b = b
            .as_ref()
            .unwrap_or_else(|why| panic!("{name}: no bounds: {why:?}"));
        assert_eq!(b.ops.len(), run.ops.len(), "{name}");
        let over: Vec<String> = b
            .over_peak
            .iter()
            .chain(&b.above_raised_peak())
            .map(|&i| {
                let op = &run.ops[i];
                format!("{} ({}): {:.1} GMAC/s", op.node, op.op, b.rates[i] / 1e9)
            })
            .collect();
        assert!(
            over.is_empty(),
            "{name}: ops above the probe's peak of {:.1} GMAC/s (spread {:.1}%; roof used \
             {:.1}): {over:?}",
            b.probe_peak_macs_per_s / 1e9,
            b.roofs.peak_spread * 100.0,
            b.roofs.peak_macs_per_s / 1e9
        );
    }
}
