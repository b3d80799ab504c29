//! The kernel model end to end: a tiny sweep (two design families, fake counters), `analyze`
//! fitting it into fit.json, `validate` on the committed zoo log (models the sweep never saw)
//! and on the sweep itself (seen: listed, not scored), `predict` on a fixture through the
//! kernel model, and version 2 and 1 fit.json files still read.

mod common;
use common::*;
use serde_json::Value;
use std::path::{Path, PathBuf};

fn run_ok(args: &[&str], paths: &[&Path]) -> String {
    let mut cmd = hiddencost();
    cmd.args(args);
    for p in paths {
        cmd.arg(p);
    }
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn sweep_fit_validate_and_predict_through_the_kernel_model() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("sweep.jsonl");
    run_ok(
        &[
            "sweep",
            "--families",
            "conv_type,spatial,kernel_size",
            "--budget",
            "60",
            "--runs",
            "5",
            "--fake-counters",
            "--probe-budget",
            "0",
            "--out",
        ],
        &[&log],
    );
    let fit_dir = dir.path().join("fit");
    run_ok(&["analyze", "--out"], &[&fit_dir, &log]);
    let fit_path = fit_dir.join("fit.json");
    let fit: Value = serde_json::from_str(&std::fs::read_to_string(&fit_path).unwrap()).unwrap();
    assert_eq!(fit["version"], 3);
    assert_eq!(fit["kernel_features"].as_array().unwrap().len(), 10);
    let km = &fit["devices"][0]["kernel_model"];
    let matmul = &km["kernels"]["OptMatMul"];
    assert!(
        matmul["samples"].as_u64().unwrap() >= 10,
        "the sweep's convs run as OptMatMul: {km}"
    );
    for (k, v) in matmul.as_object().unwrap() {
        if k.starts_with("ns_per") {
            let x = v.as_f64().unwrap();
            assert!(x.is_finite() && x >= 0.0, "{k} = {x}");
        }
    }
    assert!(km["end_to_end"]["per_op_scale"].as_f64().unwrap() > 0.0);
    // The nearest-probes part: OptMatMul's training calls, and a k chosen from the candidates.
    let near = &km["nearest"];
    let k = near["k"].as_u64().unwrap();
    assert!([1, 2, 3, 4, 6, 8, 12, 16].contains(&k), "k = {k}");
    assert_eq!(
        near["kernels"]["OptMatMul"].as_array().unwrap().len() as u64,
        matmul["samples"].as_u64().unwrap(),
        "every OptMatMul call is kept: {near}"
    );

    // The committed zoo log: ten models the sweep never saw.
    let zoo = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/zoo_vm_probe.jsonl");
    let out_dir = dir.path().join("validation");
    let text = run_ok(
        &["validate", "--fit"],
        &[&fit_path, Path::new("--out"), &out_dir, &zoo],
    );
    assert!(
        text.starts_with("## Unseen models within ±10% of their measured latency: kernel model "),
        "{text}"
    );
    for name in ["vgg16", "resnet50", "mobilenetv2", "shufflenetv2"] {
        assert!(text.contains(&format!("| {name} |")), "{name}: {text}");
    }
    assert!(text.contains("| kernel model | 10 |"), "{text}");
    let csv = std::fs::read_to_string(out_dir.join("validation.csv")).unwrap();
    assert_eq!(csv.lines().count(), 11, "{csv}");
    assert!(csv.lines().skip(1).all(|l| l.ends_with(",no")), "{csv}");
    assert!(out_dir.join("validation.md").exists());

    // The training log itself: every model seen, none scored.
    let seen = run_ok(&["validate", "--fit"], &[&fit_path, &log]);
    assert!(
        seen.starts_with("## Latency predictors: no unseen model"),
        "{seen}"
    );
    assert!(seen.contains("yes (not scored)"), "{seen}");

    // predict: the fixture's executed kernels through the kernel model.
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/tiny_cnn.onnx");
    let p = run_ok(&["predict", "--fit"], &[&fit_path, &fixture]);
    // It leads with the predictor whose leave-one-model-out MAPE (over the sweep's models) is
    // lowest, and scores all three.
    let v = &fit["devices"][0]["validation"];
    let mape = |key: &str| v[key]["mape_pct"].as_f64().unwrap();
    let mut ranked = [
        ("MACs only", mape("macs_only")),
        ("node model", mape("node_model")),
        ("kernel model", mape("kernel_model")),
    ];
    ranked.sort_by(|a, b| a.1.total_cmp(&b.1));
    assert!(
        p.starts_with(&format!(
            "tiny_cnn: Predicted latency on {} ({}): ",
            fit["devices"][0]["device"].as_str().unwrap(),
            ranked[0].0
        )),
        "{ranked:?}: {p}"
    );
    for (name, m) in ranked {
        assert!(p.contains(&format!("{m:.1}%")), "{name}: {p}");
    }
    assert!(p.contains("Kernel model by kernel type:"), "{p}");
    assert!(p.contains("OptMatMul"), "{p}");
    assert!(p.contains("Node model by category:"), "{p}");

    // A version 2 fit (linear kernel fits, no nearest calls) is still read, and predicts
    // from its coefficients.
    let v2_path = older_fit(&fit, 2, "/devices/0/kernel_model", "nearest", dir.path());
    let p2 = run_ok(&["predict", "--fit"], &[&v2_path, &fixture]);
    assert!(p2.contains("Kernel model by kernel type:"), "{p2}");
    assert_ne!(
        p2, p,
        "without the nearest calls the prediction is the linear fits'"
    );

    // A version 1 fit (no kernel model) is still read: node model only, and it says why.
    // Version 1 files had no kernel model, nor its score in the validation.
    let mut v1 = fit.clone();
    v1["devices"][0]["validation"]
        .as_object_mut()
        .unwrap()
        .remove("kernel_model");
    for m in v1["devices"][0]["validation"]["per_model"]
        .as_array_mut()
        .unwrap()
    {
        m.as_object_mut().unwrap().remove("kernel_model_ns");
    }
    let v1_path = older_fit(&v1, 1, "/devices/0", "kernel_model", dir.path());
    let p = run_ok(&["predict", "--fit"], &[&v1_path, &fixture]);
    assert!(
        p.contains("No kernel-model prediction: the fit has no kernel model"),
        "{p}"
    );
    assert!(
        !p.contains("kernel model  "),
        "no kernel row without its score: {p}"
    );
    assert!(
        p.contains("node model  ") && p.contains("MACs only  "),
        "{p}"
    );

    // A kernel coefficient that is not a number is refused with the file named.
    let mut bad = fit.clone();
    bad["devices"][0]["kernel_model"]["kernels"]["OptMatMul"]["ns_per_mac"] = (-1.0).into();
    let bad_path = dir.path().join("fit_bad.json");
    std::fs::write(&bad_path, bad.to_string()).unwrap();
    let out = hiddencost()
        .args(["predict", "--fit"])
        .arg(&bad_path)
        .arg(&fixture)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("fit_bad.json") && err.contains("OptMatMul"),
        "{err}"
    );
}

/// `fit` as an older version writes it: `version` set and `key` removed from the object at
/// `pointer` (a JSON pointer), written to DIR/fit_vN.json.
fn older_fit(fit: &Value, version: u32, pointer: &str, key: &str, dir: &Path) -> PathBuf {
    let mut old = fit.clone();
    old["version"] = version.into();
    old.pointer_mut(pointer)
        .and_then(Value::as_object_mut)
        .unwrap_or_else(|| panic!("{pointer} is an object"))
        .remove(key)
        .unwrap_or_else(|| panic!("{pointer} has `{key}`"));
    let path = dir.join(format!("fit_v{version}.json"));
    std::fs::write(&path, old.to_string()).unwrap();
    path
}

/// `validate LOG... --fit FIT --out DIR`: exit code, stdout and stderr.
fn validate_into(logs: &[&Path], fit: &Path, dir: &Path) -> (Option<i32>, String, String) {
    outcome(
        hiddencost()
            .arg("validate")
            .args(logs)
            .arg("--fit")
            .arg(fit)
            .arg("--out")
            .arg(dir),
    )
}

#[test]
fn validate_never_writes_over_its_inputs_nor_a_file_it_did_not_write() {
    let dir = tempfile::tempdir().unwrap();
    let golden = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/fake.jsonl");
    let fit_dir = dir.path().join("fit");
    run_ok(&["analyze", "--out"], &[&fit_dir, &golden]);
    let fit = fit_dir.join("fit.json");
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let log_text = std::fs::read(&golden).unwrap();
    let fit_text = std::fs::read(&fit).unwrap();
    // Refused before anything is written or printed; `what` is left as it was.
    let refused = |logs: &[&Path], fit: &Path, said: &str, what: &Path, was: &[u8]| {
        let (code, stdout, stderr) = validate_into(logs, fit, &out);
        assert_eq!(code, Some(1), "{stderr}");
        assert!(stderr.contains(said), "`{said}` not in {stderr}");
        assert!(stdout.is_empty(), "{stdout}");
        assert_eq!(
            std::fs::read(what).unwrap(),
            was,
            "{} intact",
            what.display()
        );
    };
    let inputs = "is one of the inputs";

    // A log named like an output, in the folder.
    let log = out.join("validation.md");
    std::fs::write(&log, &log_text).unwrap();
    refused(
        &[&log],
        &fit,
        &format!("validation.md {inputs}"),
        &log,
        &log_text,
    );
    assert!(!out.join("validation.csv").exists(), "neither is written");
    std::fs::remove_file(&log).unwrap();

    // The fit file named like the other output.
    let fit_in = out.join("validation.csv");
    std::fs::write(&fit_in, &fit_text).unwrap();
    refused(
        &[&golden],
        &fit_in,
        &format!("validation.csv {inputs}"),
        &fit_in,
        &fit_text,
    );
    assert!(!out.join("validation.md").exists(), "neither is written");
    std::fs::remove_file(&fit_in).unwrap();

    // A link to the log under an output's name: the same file, whatever its name.
    let elsewhere = dir.path().join("log.jsonl");
    std::fs::write(&elsewhere, &log_text).unwrap();
    std::fs::hard_link(&elsewhere, out.join("validation.md")).unwrap();
    refused(&[&elsewhere], &fit, inputs, &elsewhere, &log_text);
    std::fs::remove_file(out.join("validation.md")).unwrap();

    // A file of the user's is kept and named.
    let notes = out.join("validation.md");
    std::fs::write(&notes, "my notes\n").unwrap();
    refused(
        &[&golden],
        &fit,
        "validation.md exists and no earlier `analyze` or `validate` wrote it",
        &notes,
        b"my notes\n",
    );
    std::fs::remove_file(&notes).unwrap();

    // Its own earlier outputs are written over, and so into analyze's folder, beside fit.json.
    for folder in [&out, &out, &fit_dir] {
        let (code, stdout, stderr) = validate_into(&[&golden], &fit, folder);
        assert_eq!(code, Some(0), "{stderr}");
        let md = std::fs::read_to_string(folder.join("validation.md")).unwrap();
        assert!(stdout.starts_with(&md), "the printed section is the file's");
        assert!(folder.join("validation.csv").exists());
    }
    assert_eq!(std::fs::read(&fit).unwrap(), fit_text, "fit.json intact");
}
