//! `hiddencost sweep` end to end: one small family measured with fake counters into bench's
//! records with `sweep.*` metadata, `--list`, a budget too small for anything, bad selections.

mod common;
use common::*;
use serde_json::Value;

fn sweep(args: &[&str]) -> (std::process::Output, Vec<Value>) {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("sweep.jsonl");
    let out = hiddencost()
        .arg("sweep")
        .args(args)
        .args(["--fake-counters", "--probe-budget", "0", "--out"])
        .arg(&log)
        .output()
        .unwrap();
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    (out, records(&text))
}

#[test]
fn a_family_gives_benchs_records_with_sweep_metadata() {
    let (out, recs) = sweep(&["--families", "merge", "--budget", "60", "--runs", "6"]);
    assert_ok(&out);
    let header = of_type(&recs, "header");
    assert_eq!(header.len(), 1);
    assert_eq!(
        header[0]["options"]["models"],
        serde_json::json!(["sweep:merge.add", "sweep:merge.concat"])
    );
    let models = of_type(&recs, "model");
    assert_eq!(models.len(), 2, "{recs:?}");
    let (add, concat) = (models[0], models[1]);
    assert_eq!(add["model"], "merge.add");
    assert_eq!(add["metadata"]["sweep.family"], "merge");
    assert_eq!(add["metadata"]["sweep.variant"], "add");
    assert_eq!(add["metadata"]["sweep.baseline"], true);
    assert_eq!(concat["metadata"]["sweep.baseline"], false);
    assert_eq!(concat["metadata"]["sweep.kind"], "design");
    assert_eq!(add["metadata"]["sweep.params"], "c=32 h=16 w=16");
    // The records' MACs (cost module) are the target the metadata names.
    for m in [add, concat] {
        assert_eq!(
            m["macs"], m["metadata"]["sweep.macs_target"],
            "cost fields are flattened"
        );
        let runs = m["runs"].as_u64().unwrap();
        assert!((5..=6).contains(&runs), "runs {runs}");
        assert_eq!(m["runs"], add["runs"], "every variant at the same runs");
    }
    assert!(!of_type(&recs, "op").is_empty());
    let nodes = of_type(&recs, "node");
    assert!(
        nodes
            .iter()
            .any(|n| n["model"] == "merge.concat" && n["op_type"] == "Concat")
    );
    assert!(of_type(&recs, "error").is_empty(), "{recs:?}");
    let end = of_type(&recs, "end");
    assert_eq!(end[0]["models_ok"], 2);
}

#[test]
fn a_budget_too_small_measures_nothing_and_names_what_it_left_out() {
    let (out, recs) = sweep(&["--families", "shuffle", "--budget", "0.000001"]);
    assert_ok(&out);
    assert!(of_type(&recs, "model").is_empty());
    let errors = of_type(&recs, "error");
    assert_eq!(errors.len(), 1, "{recs:?}");
    assert_eq!(errors[0]["model"], "run");
    let message = errors[0]["message"].as_str().unwrap();
    assert!(message.contains("sweep:shuffle.no_shuffle"), "{message}");
    assert!(message.contains("sweep:shuffle.shuffle"), "{message}");
    assert!(message.contains("--budget"), "{message}");
    assert_eq!(of_type(&recs, "end")[0]["models_ok"], 0);
}

#[test]
fn list_shows_variants_with_their_macs() {
    let out = hiddencost()
        .args(["sweep", "--list", "--families", "conv_type,shuffle"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("conv_type (design)"), "{text}");
    assert!(text.contains("grouped_g4"), "{text}");
    assert!(text.contains("2359296"), "{text}");
    assert!(
        text.contains("no_shuffle *"),
        "the baseline is marked: {text}"
    );
    assert!(!text.contains("merge"), "{text}");
}

#[test]
fn an_unknown_family_is_refused_with_the_known_ones() {
    let out = hiddencost()
        .args(["sweep", "--families", "merge,nope", "--fake-counters"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("unknown sweep family `nope`"), "{err}");
    assert!(err.contains("conv_type"), "{err}");
    let out = hiddencost()
        .args(["sweep", "--budget", "0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "a usage error");
}
