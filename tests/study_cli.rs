//! `analyze`, `predict` and `study` through the binary: the commands the README gives.

mod common;
use common::*;

#[test]
fn analyze_a_golden_log_writes_the_report_and_prints_the_tables() {
    let dir = tempfile::tempdir().unwrap();
    let log = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/golden/fake.jsonl");
    let out = hiddencost()
        .args(["analyze", log, "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_ok(&out);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("report.md"), "{stdout}");
    for f in ["report.md", "fit.json", "shares.csv", "shares_executed.svg"] {
        assert!(dir.path().join(f).exists(), "{f}");
    }
}

#[test]
fn analyze_needs_a_log_and_says_so() {
    let out = hiddencost()
        .args(["analyze", "--out", "/tmp/x"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let dir = tempfile::tempdir().unwrap();
    let out = hiddencost()
        .args(["analyze", &model("garbage.onnx"), "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("garbage.onnx:1") && stderr.contains("no usable model"),
        "{stderr}"
    );
}

/// The main job end to end on small models: the probe, the models, their rewrites, the models
/// eager, all in
/// DIR/bench.jsonl (no design probes: `--sweep-budget 0`; src/study.rs tests them in the same
/// session); analyze into DIR/report, then predict a third model from the fit alone.
#[test]
fn study_then_predict() {
    let dir = tempfile::tempdir().unwrap();
    let out = hiddencost()
        .args([
            "study",
            "zoo:mobilenet",
            "zoo:shufflenetv2",
            "zoo:mobilenetv2",
            &model("tiny_cnn.onnx"),
        ])
        .args([
            "--runs",
            "2",
            "--warmup",
            "1",
            "--sweep-budget",
            "0",
            "--out",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_ok(&out);
    // Before anything runs, it says what it is about to do.
    let stderr = String::from_utf8_lossy(&out.stderr);
    let plan = format!(
        "study: probe this machine (up to 3 s), then benchmark 4 model(s) (1 warm-up and 2 \
         timed runs, clean and per-op, interleaved), then benchmark each model's rewrites, \
         each beside the model as it is, then benchmark them again eager (--optimize none), \
         then write the report to {}",
        dir.path().join("report").display()
    );
    assert_eq!(stderr.lines().next(), Some(plan.as_str()), "{stderr}");
    let log = std::fs::read_to_string(dir.path().join("bench.jsonl")).unwrap();
    let recs = records(&log);
    assert_eq!(of_type(&recs, "header").len(), 1, "one session, one header");
    assert_eq!(of_type(&recs, "end").len(), 1);
    let models = of_type(&recs, "model");
    assert!(
        models
            .iter()
            .all(|m| m["metadata"].get("sweep.kind").is_none()),
        "a sweep budget of 0 runs no design probe"
    );
    let (rewrites, networks): (Vec<&serde_json::Value>, Vec<&serde_json::Value>) = models
        .iter()
        .partition(|m| m["metadata"].get("rewrite").is_some());
    // Each model has a place to change: an as-is run and its rewrites, between the models and
    // the models eager.
    let as_is: Vec<&str> = rewrites
        .iter()
        .filter(|m| m["metadata"]["rewrite"] == "as-is")
        .map(|m| m["metadata"]["rewrite.of"].as_str().unwrap())
        .collect();
    assert_eq!(
        as_is,
        ["mobilenet", "shufflenetv2", "mobilenetv2", "tiny_cnn"]
    );
    // The models, then the same four eager, in that order.
    let levels: Vec<&str> = networks
        .iter()
        .map(|m| m["optimize"].as_str().unwrap())
        .collect();
    assert_eq!(
        levels,
        ["full"; 4]
            .iter()
            .chain(&["none"; 4])
            .copied()
            .collect::<Vec<_>>()
    );
    let names = |ms: &[&serde_json::Value]| -> Vec<String> {
        ms.iter()
            .map(|m| m["model"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(names(&networks[..4]), names(&networks[4..]));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("eager (--optimize none): 4 model(s) measured, 0 failed"),
        "{stdout}"
    );
    assert!(!stdout.contains("design probes: "), "{stdout}");
    let report = std::fs::read_to_string(dir.path().join("report/report.md")).unwrap();
    assert!(report.contains("mobilenet") && report.contains("shufflenetv2"));
    // The eager twins: their section, and every model in eager.csv; tract folds or fuses
    // BatchNormalizations that eager runs as ops of their own, which cost time there.
    assert!(
        report.contains("## 10. Eager against optimized"),
        "{report}"
    );
    let eager = std::fs::read_to_string(dir.path().join("report/eager.csv")).unwrap();
    assert_eq!(eager.lines().count(), 5, "a header and 4 models: {eager}");
    let sources = std::fs::read_to_string(dir.path().join("report/eager_sources.csv")).unwrap();
    let bn = sources
        .lines()
        .find(|l| l.contains(",BatchNormalization,"))
        .unwrap_or_else(|| panic!("{sources}"));
    let cells: Vec<&str> = bn.split(',').collect();
    let count = |i: usize| cells[i].parse::<u64>().unwrap();
    assert!(
        count(4) + count(5) > 0 && count(6) > 0,
        "merged, no op, eager ns: {bn}"
    );
    let fit = dir.path().join("report/fit.json");
    let out = hiddencost()
        .args(["predict", "zoo:shufflenet", "--fit"])
        .arg(&fit)
        .output()
        .unwrap();
    assert_ok(&out);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.starts_with("shufflenet: Predicted latency"),
        "{stdout}"
    );
    let out = hiddencost()
        .args(["predict", "zoo:shufflenet", "zoo:vgg16", "--fit"])
        .arg(&fit)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}

/// `advise`: the study on the user's models, then what to change in each, ranked, on stdout;
/// the same list in the report's section and advise.csv.
#[test]
fn advise_ranks_each_models_measured_changes() {
    let dir = tempfile::tempdir().unwrap();
    let out = hiddencost()
        .args(["advise", "zoo:shufflenetv2", &model("tiny_cnn.onnx")])
        .args([
            "--runs",
            "3",
            "--warmup",
            "1",
            "--sweep-budget",
            "0",
            "--no-eager",
        ])
        .arg("--out")
        .arg(dir.path())
        .output()
        .unwrap();
    assert_ok(&out);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let lines: Vec<&str> = stdout.lines().collect();
    let at = |prefix: &str| {
        lines
            .iter()
            .position(|l| l.starts_with(prefix))
            .unwrap_or_else(|| panic!("{prefix}: {stdout}"))
    };
    // Each model, then its changes ranked 1, 2, ...: ShuffleNetV2 has three, tiny_cnn three.
    let (shufflenet, tiny) = (at("shufflenetv2 on "), at("tiny_cnn on "));
    for (start, n) in [(shufflenet, 3), (tiny, 3)] {
        for rank in 1..=n {
            let line = lines[start + 1 + 2 * (rank - 1)];
            assert!(line.starts_with(&format!("  {rank}. ")), "{line}: {stdout}");
        }
    }
    assert!(
        stdout.contains("channel shuffle removed (16 places)"),
        "{stdout}"
    );
    assert!(stdout.contains("Accuracy is not measured"), "{stdout}");
    assert!(
        !stdout.contains("Where the time goes"),
        "the advice, not the summary: {stdout}"
    );
    let csv = std::fs::read_to_string(dir.path().join("report/advise.csv")).unwrap();
    assert_eq!(csv.lines().count(), 7, "a header and 6 changes: {csv}");
    let report = std::fs::read_to_string(dir.path().join("report/report.md")).unwrap();
    assert!(report.contains("## 11. What to change"), "{report}");
    let findings = report
        .split("\n## ")
        .find(|s| s.starts_with("Findings"))
        .unwrap();
    let first = findings.lines().find(|l| l.starts_with("- ")).unwrap();
    assert!(
        first.starts_with("- **What to change.** 6 rewrite(s) of 2 model(s)"),
        "{first}"
    );
    // Run again into the same directory, it refuses rather than mix two studies in one log.
    let again = hiddencost()
        .args(["advise", &model("tiny_cnn.onnx"), "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&again.stderr);
    assert!(stderr.contains("already holds a study's log"), "{stderr}");
}

/// `study --int8 --no-rewrites`: the plan says what int8 adds, the model's int8 form is
/// measured alone between two as-is runs, and the report, int8.csv and the terminal compare it
/// with fp32.
#[test]
fn study_int8_measures_each_models_int8_form_beside_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = hiddencost()
        .args(["study", &model("tiny_cnn.onnx"), "--int8", "--no-rewrites"])
        .args(["--runs", "3", "--warmup", "1", "--sweep-budget", "0"])
        .args(["--no-eager", "--probe-budget", "0", "--out"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_ok(&out);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(
            "benchmark each model's int8 form (QDQ) beside it: 3 more model measurement(s)"
        ),
        "{stderr}"
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("rewrites: 3 measured (each model's as-is run included), 0 failed"),
        "{stdout}"
    );
    assert!(stdout.contains("int8 against fp32 (each model's int8 form, measured)\ntiny_cnn on "));
    assert!(stdout.contains("- int8 against fp32. On this device and runtime int8 is "));
    let log = std::fs::read_to_string(dir.path().join("bench.jsonl")).unwrap();
    let rewrites: Vec<(String, u64)> = log
        .lines()
        .filter_map(|l| match serde_json::from_str(l).unwrap() {
            hiddencost::record::Record::Model(m) => m
                .metadata
                .rewrite
                .map(|r| (format!("{}+{}", r.of, r.rewrite), r.places)),
            _ => None,
        })
        .collect();
    let expected =
        [("as-is", 0), ("int8", 4), ("as-is-after", 0)].map(|(r, n)| (format!("tiny_cnn+{r}"), n));
    assert_eq!(rewrites, expected);
    let csv = std::fs::read_to_string(dir.path().join("report/int8.csv")).unwrap();
    assert_eq!(csv.lines().count(), 2, "{csv}");
    assert!(csv.lines().nth(1).unwrap().contains(",tiny_cnn,"), "{csv}");
    let report = std::fs::read_to_string(dir.path().join("report/report.md")).unwrap();
    assert!(report.contains("## 12. int8 against fp32"), "{report}");
}
