//! Categories of the layers exporters write out of plain ops (`activations.onnx`): a spatial
//! ReduceMean is `pool`, SiLU, HardSwish and a hard sigmoid written out are `activation`, an SE
//! block's scaling Mul stays `other` (src/cost/category.rs); executed ops follow their source.

mod common;
use common::*;

#[test]
fn exported_activation_and_pool_patterns_get_their_category() {
    let recs = cost_json("activations.onnx");
    let got: Vec<(&str, &str)> = of_type(&recs, "node")
        .iter()
        .map(|n| (n["node"].as_str().unwrap(), n["category"].as_str().unwrap()))
        .collect();
    let act = "activation";
    let expected = [
        ("/conv/Conv", "conv"),
        ("/act/Sigmoid", act),
        ("/act/Mul", act),
        ("/se/ReduceMean", "pool"),
        ("/se/conv_reduce/Conv", "conv"),
        ("/se/Relu", act),
        ("/se/conv_expand/Conv", "conv"),
        ("/se/gate/Add", act),
        ("/se/gate/Clip", act),
        ("/se/gate/Div", act),
        ("/se/Mul", "other"),
        ("/hswish/Add", act),
        ("/hswish/Clip", act),
        ("/hswish/Mul", act),
        ("/hswish/Div", act),
        ("/hswish2/HardSigmoid", act),
        ("/hswish2/Mul", act),
    ];
    assert_eq!(got, expected);
}

#[test]
fn executed_ops_take_the_category_of_their_pattern() {
    for level in ["full", "declutter", "none"] {
        let recs = bench_once(&[&model("activations.onnx"), "--optimize", level]);
        let ops = of_type(&recs, "op");
        let of = |op: &str| -> Vec<&str> {
            ops.iter()
                .filter(|o| o["op"].as_str().unwrap().starts_with(op))
                .map(|o| o["category"].as_str().unwrap())
                .collect()
        };
        // The spatial mean: a sum and its scaling, at every level.
        assert_eq!(of("Reduce<Sum>"), ["pool"], "{level}");
        let names: Vec<(&str, &str)> = ops
            .iter()
            .map(|o| (o["node"].as_str().unwrap(), o["category"].as_str().unwrap()))
            .collect();
        assert!(
            names.contains(&("/se/ReduceMean.norm", "pool")),
            "{level}: {names:?}"
        );
        assert!(names.contains(&("/se/Mul", "other")), "{level}: {names:?}");
        assert!(
            names.contains(&("/hswish2/Mul", "activation")),
            "{level}: {names:?}"
        );
        let other = names.iter().filter(|(_, c)| *c == "other").count();
        assert_eq!(
            other, 1,
            "{level}: only the SE scaling is `other`: {names:?}"
        );
    }
}
