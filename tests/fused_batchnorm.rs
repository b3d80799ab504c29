//! A BatchNorm tract cannot fold into a conv (after a Concat, `preact.onnx`) is fused into the
//! ReLU's `OptBinChain(Mul+Add+Max)`: the op record names it in `fused_sources` and carries its
//! static cost, and the report says how much time such ops hold.

mod common;
use common::*;

fn bench(level: &str, out: &std::path::Path) -> Vec<serde_json::Value> {
    let run = hiddencost()
        .args(["bench", &model("preact.onnx"), "--optimize", level])
        .args(["--runs", "1", "--warmup", "0", "--fake-counters", "--out"])
        .arg(out)
        .output()
        .unwrap();
    assert_ok(&run);
    records(&std::fs::read_to_string(out).unwrap())
}

#[test]
fn the_relu_chain_carries_the_batchnorm_it_does() {
    let dir = tempfile::tempdir().unwrap();
    let log = dir.path().join("bench.jsonl");
    let recs = bench("full", &log);
    let ops = of_type(&recs, "op");
    let hosts: Vec<_> = ops
        .iter()
        .filter(|o| o.get("fused_sources").is_some())
        .collect();
    assert_eq!(hosts.len(), 1, "{ops:?}");
    let h = hosts[0];
    assert_eq!(h["node"], "/relu1/Relu.low");
    assert_eq!(h["op"], "OptBinChain(Mul+Add+Max)");
    assert_eq!(h["category"], "activation");
    assert_eq!(
        h["fused_sources"],
        serde_json::json!(["/norm1/BatchNormalization"])
    );
    // BN over 8x16x16: 2 FLOPs and 4 thop MACs per element, 16 params; the ReLU's 1 FLOP.
    let elems = 8 * 16 * 16;
    assert_eq!(h["flops"], 2 * elems + elems);
    assert_eq!(h["thop_macs"], 4 * elems);
    assert_eq!(h["params"], 16);
    assert!(
        !ops.iter()
            .any(|o| o["source_node"] == "/norm1/BatchNormalization")
    );

    analyze_into(&[&log], &dir.path().join("report"));
    let md = std::fs::read_to_string(dir.path().join("report/report.md")).unwrap();
    let share = {
        let total: u64 = ops
            .iter()
            .map(|o| o["wall_ns"]["median"].as_u64().unwrap())
            .sum();
        let ns = h["wall_ns"]["median"].as_u64().unwrap();
        format!("{:.1}%", 100.0 * ns as f64 / total as f64)
    };
    let row = md
        .lines()
        .find(|l| l.contains("| preact | 1 | 1 |"))
        .unwrap_or_else(|| panic!("no fused-BN row in:\n{md}"));
    assert!(row.ends_with(&format!("| {share} |")), "{row} vs {share}");
}

#[test]
fn unfused_levels_keep_the_batchnorm_on_its_own_ops() {
    let dir = tempfile::tempdir().unwrap();
    let recs = bench("none", &dir.path().join("bench.jsonl"));
    let ops = of_type(&recs, "op");
    assert!(ops.iter().all(|o| o.get("fused_sources").is_none()));
    let bn: Vec<_> = ops
        .iter()
        .filter(|o| o["source_node"] == "/norm1/BatchNormalization")
        .map(|o| o["category"].as_str().unwrap())
        .collect();
    assert_eq!(bn, ["batchnorm", "batchnorm"]);
}
