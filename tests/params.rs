//! Parameters are counted as torch's `sum(p.numel())` would on the exported module, wherever
//! the exporter put them (`exported.onnx`: a 3-D Linear's bias Add, cls_token through Expand,
//! pos_embed Add, layer-scale Mul, a BatchNorm whose tensors are Identity nodes of another's),
//! with BN running statistics and literal scalars left out (src/cost/params.rs).

mod common;
use common::*;
use std::collections::BTreeMap;

#[test]
fn exported_parameters_count_wherever_they_are_consumed() {
    let recs = cost_json("exported.onnx");
    let params: BTreeMap<&str, u64> = of_type(&recs, "node")
        .iter()
        .map(|n| (n["node"].as_str().unwrap(), n["params"].as_u64().unwrap()))
        .filter(|&(_, p)| p > 0)
        .collect();
    let expected = BTreeMap::from([
        ("/patch/Conv", 8 * 2),
        ("/bn1/BatchNormalization", 8 + 8),
        ("/bn2/BatchNormalization", 8 + 8),
        ("/proj/MatMul", 8 * 8),
        ("/proj/Add", 8),
        ("/Expand", 8),
        ("/Add", 17 * 8),
        ("/ls/Mul", 8),
    ]);
    assert_eq!(params, expected);
    assert_eq!(of_type(&recs, "model_cost")[0]["params"], 272);
}

#[test]
fn the_model_record_counts_them_at_every_optimize_level() {
    for level in ["full", "declutter", "none"] {
        let recs = bench_once(&[&model("exported.onnx"), "--optimize", level]);
        assert_eq!(of_type(&recs, "model")[0]["params"], 272, "{level}");
    }
}
