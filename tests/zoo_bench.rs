//! `bench` of all ten zoo networks with no model argument: a complete log whose ops all stay
//! below the probe's peak. Alone in its test binary: the probe measures the machine's peak, and
//! a sibling test using the CPU meanwhile lowered it below what the ops then reached.

mod common;
use common::*;
use hiddencost::zoo;

#[test]
#[ignore = "heavy tier: bash tests/run.sh heavy"]
fn bench_with_no_model_runs_the_whole_zoo_into_a_complete_log() {
    let out = bench_once_output(&["--probe-budget", "3"]);
    let recs = succeeded(&out);
    let models = of_type(&recs, "model");
    let names: Vec<&str> = models
        .iter()
        .map(|m| m["model"].as_str().unwrap())
        .collect();
    assert_eq!(names, zoo::NAMES);
    for m in &models {
        let name = m["model"].as_str().unwrap();
        let info = zoo::info(name).unwrap();
        assert_eq!(m["source"], format!("zoo:{name}"));
        assert_eq!(m["metadata"]["top1_error"], info.top1_error);
        assert_eq!(m["metadata"]["zoo"], name);
        assert_eq!(m["output_shapes"], serde_json::json!([[1, 100]]));
        assert!(m["latency_ns"]["median"].as_u64().unwrap() > 0);
        let ops = recs
            .iter()
            .filter(|r| r["type"] == "op" && r["model"] == name)
            .count();
        assert_eq!(ops as u64, m["executed_nodes"].as_u64().unwrap(), "{name}");
    }
    assert!(of_type(&recs, "error").is_empty());
    assert_eq!(recs.last().unwrap()["models_ok"], 10);
    assert_bounds_hold(&out.stdout);
}
