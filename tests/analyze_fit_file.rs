//! Every fit.json `analyze` writes is one `predict` and `validate` read; a fit that cannot
//! predict says why when it is written, and a prediction that is no latency is an error.

mod analyze_common;
use analyze_common::golden;

use hiddencost::analyze::compute::fit::FitFile;
use hiddencost::analyze::compute::kernels::KernelCall;
use hiddencost::analyze::load::load_dataset;
use hiddencost::analyze::predict::{predict_kernels, read_fit, validate};
use hiddencost::analyze::{AnalyzeError, AnalyzeOptions, FitGap, analyze};
use std::path::{Path, PathBuf};

/// The lines of golden `name` that `keep` keeps, as a log in `dir`.
fn filtered(dir: &Path, name: &str, keep: impl Fn(&serde_json::Value) -> bool) -> PathBuf {
    let text = std::fs::read_to_string(golden(name)).unwrap();
    let kept: String = text
        .lines()
        .filter(|l| keep(&serde_json::from_str(l).unwrap()))
        .map(|l| format!("{l}\n"))
        .collect();
    let path = dir.join(format!("filtered_{name}"));
    std::fs::write(&path, kept).unwrap();
    path
}

fn analyze_into(log: &Path, dir: &Path) -> hiddencost::analyze::AnalyzeSummary {
    analyze(&AnalyzeOptions {
        logs: vec![log.to_path_buf()],
        out_dir: dir.join("out"),
        accuracy_csv: None,
        memory_available_bytes: None,
    })
    .unwrap()
}

#[test]
fn a_fit_of_one_model_is_read_and_predicts() {
    let dir = tempfile::tempdir().unwrap();
    // One model with op records: its kernel model has nothing to leave out (error null).
    let log = filtered(dir.path(), "zoo_vm.jsonl", |r| {
        r.get("model").is_none_or(|m| m == "vgg16")
    });
    let summary = analyze_into(&log, dir.path());
    assert!(summary.fit_gaps.is_empty(), "{:?}", summary.fit_gaps);
    let fit_json = dir.path().join("out/fit.json");
    let text = std::fs::read_to_string(&fit_json).unwrap();
    assert!(
        text.contains("\"leave_one_model_out_error_pct\": null"),
        "the case is covered"
    );
    read_fit(&fit_json).unwrap();
    let data = load_dataset(std::slice::from_ref(&log), None, None).unwrap();
    let run = &data.runs[0];
    let calls: Vec<KernelCall> = run.ops.iter().map(KernelCall::of).collect();
    let p = predict_kernels(&run.nodes, Some(&calls), &fit_json, None).unwrap();
    assert!(p.latency_ns > 0.0 && p.kernel.is_some(), "{p:?}");
    let v = validate(&fit_json, &[log], None, None).unwrap();
    assert!(!v.markdown.is_empty());
}

#[test]
fn a_fit_with_no_device_says_so_when_written_and_when_read() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(golden("fake.jsonl")).unwrap();
    let zeroed: String = text
        .lines()
        .map(|l| {
            let mut r: serde_json::Value = serde_json::from_str(l).unwrap();
            if r["type"] == "model" {
                r["latency_ns"]["median"] = 0.into();
            }
            format!("{r}\n")
        })
        .collect();
    let log = dir.path().join("zero.jsonl");
    std::fs::write(&log, zeroed).unwrap();
    let summary = analyze_into(&log, dir.path());
    assert!(
        matches!(&summary.fit_gaps[..], [FitGap::NoDevice { left_out }] if left_out.contains("latency median is 0")),
        "{:?}",
        summary.fit_gaps
    );
    assert!(summary.to_string().contains("fit.json holds no device"));
    let fit_json = dir.path().join("out/fit.json");
    let data = load_dataset(std::slice::from_ref(&log), None, None).unwrap();
    for e in [
        predict_kernels(&data.runs[0].nodes, None, &fit_json, None).unwrap_err(),
        validate(&fit_json, &[log], None, None).unwrap_err(),
    ] {
        assert!(matches!(e, AnalyzeError::EmptyFit { .. }), "{e}");
        assert!(!e.to_string().contains("not a hiddencost fit file"), "{e}");
    }
}

#[test]
fn a_prediction_that_is_no_latency_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let log = golden("fake.jsonl");
    analyze_into(&log, dir.path());
    let fit_json = dir.path().join("out/fit.json");
    let fit: FitFile = serde_json::from_str(&std::fs::read_to_string(&fit_json).unwrap()).unwrap();
    let nodes = load_dataset(&[log], None, None).unwrap().runs[0]
        .nodes
        .clone();
    let edited = dir.path().join("edited.json");
    let predict_with = |edit: &dyn Fn(&mut FitFile)| {
        let mut f = fit.clone();
        edit(&mut f);
        std::fs::write(&edited, serde_json::to_string(&f).unwrap()).unwrap();
        predict_kernels(&nodes, None, &edited, None)
    };
    // Every coefficient zero: 0 ns.
    let zero = predict_with(&|f| {
        let d = &mut f.devices[0];
        for c in d.categories.values_mut().chain([&mut d.default]) {
            *c = Default::default();
        }
    })
    .unwrap_err();
    assert!(
        matches!(zero, AnalyzeError::BadPrediction { latency_ns, .. } if latency_ns == 0.0),
        "{zero}"
    );
    assert!(
        zero.to_string().contains("which no latency can be"),
        "{zero}"
    );
    // Coefficients so large the sum overflows.
    let huge = predict_with(&|f| {
        f.devices[0].macs_only.intercept_ns = 1e308;
        f.devices[0].macs_only.ns_per_mac = 1e308;
    })
    .unwrap_err();
    assert!(matches!(huge, AnalyzeError::BadPrediction { .. }), "{huge}");
    // A negative scale is refused by name, by predict and validate alike.
    let negative = predict_with(&|f| f.devices[0].scale = -1.0).unwrap_err();
    assert!(negative.to_string().contains("scale -1"), "{negative}");
    let e = validate(&edited, &[golden("fake.jsonl")], None, None).unwrap_err();
    assert!(matches!(e, AnalyzeError::NotFitted { .. }), "{e}");
    assert!(e.to_string().contains("scale -1"), "{e}");
}
