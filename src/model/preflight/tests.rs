//! Tests of `preflight`.

use super::*;

/// A graph of `nodes` on a 1x4x8x8 input, producing `y`.
fn graph_of(nodes: Vec<pb::NodeProto>, initializers: Vec<pb::TensorProto>) -> pb::ModelProto {
    pb::ModelProto {
        graph: Some(pb::GraphProto {
            node: nodes,
            initializer: initializers,
            input: vec![crate::zoo::proto::value_info_f32("input", &[1, 4, 8, 8])],
            output: vec![pb::ValueInfoProto {
                name: "y".into(),
                ..Default::default()
            }],
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn node(op: &str, inputs: &[&str]) -> pb::NodeProto {
    pb::NodeProto {
        op_type: op.into(),
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: vec!["y".into()],
        ..Default::default()
    }
}

#[test]
fn a_constant_shape_is_checked_against_the_memory_given() {
    let mut shape = crate::zoo::proto::tensor_i64(&[2], &[1000, 1000]);
    shape.name = "shape".into();
    let p = graph_of(vec![node("ConstantOfShape", &["shape"])], vec![shape]);
    // 10^6 float32 (the default value's type): 3.8 MiB
    assert_eq!(
        graph(&p, Some(4_000_000)).map_err(|e| e.to_string()),
        Ok(())
    );
    assert_eq!(
        graph(&p, None).map_err(|e| e.to_string()),
        Ok(()),
        "unknown memory: not refused"
    );
    let refused = graph(&p, Some(3_999_999)).unwrap_err().to_string();
    assert!(refused.contains("1000x1000 (3.8 MiB)"), "{refused}");
    assert!(refused.contains("3.8 MiB of memory available"), "{refused}");
}

#[test]
fn window_attributes_are_checked() {
    let mut w = crate::zoo::proto::tensor_f32("w", &[4, 2, 3, 3], &[0.0; 72]);
    w.name = "w".into();
    let conv = |attrs: Vec<pb::AttributeProto>| {
        let mut n = node("Conv", &["input", "w"]);
        n.attribute = attrs;
        graph(&graph_of(vec![n], vec![w.clone()]), None)
    };
    use crate::zoo::proto::{attr_int, attr_ints};
    assert_eq!(
        conv(vec![attr_ints("strides", &[1, 1]), attr_int("group", 2)]).map_err(|e| e.to_string()),
        Ok(())
    );
    for (attrs, needle) in [
        (vec![attr_ints("strides", &[1, 0])], "strides [1, 0]"),
        (
            vec![attr_ints("pads", &[0, -1, 0, 0])],
            "pads [0, -1, 0, 0]",
        ),
        (
            vec![attr_ints("kernel_shape", &[0, 3])],
            "kernel_shape [0, 3]",
        ),
        (vec![attr_int("group", 0)], "group 0"),
        (
            vec![attr_int("group", 3)],
            "does not divide the weight's 4 output channels",
        ),
        (
            vec![attr_ints("dilations", &[1 << 62, 1])],
            "spans more than 2^63",
        ),
    ] {
        let why = conv(attrs).unwrap_err().to_string();
        assert!(why.contains(needle), "`{needle}` not in {why}");
    }
}

#[test]
fn too_few_dimensions_are_named_where_the_graph_makes_them_plain() {
    let mut shape = crate::zoo::proto::tensor_i64(&[1], &[-1]);
    shape.name = "shape".into();
    let mut reshape = node("Reshape", &["input", "shape"]);
    reshape.output = vec!["flat".into()];
    let mut relu = node("Relu", &["flat"]);
    relu.output = vec!["r".into()];
    let bn = node("BatchNormalization", &["r", "s", "b", "m", "v"]);
    let stats = ["s", "b", "m", "v"].map(|n| crate::zoo::proto::tensor_f32(n, &[4], &[1.0; 4]));
    let mut inits = vec![shape];
    inits.extend(stats);
    let why = graph(&graph_of(vec![reshape, relu, bn], inits.clone()), None)
        .unwrap_err()
        .to_string();
    assert!(
        why.contains("(BatchNormalization): its input has 1 dimension(s), it needs at least 2"),
        "{why}"
    );
    // on the 4-D input itself it is fine
    let bn = node("BatchNormalization", &["input", "s", "b", "m", "v"]);
    assert_eq!(
        graph(&graph_of(vec![bn], inits[1..].to_vec()), None).map_err(|e| e.to_string()),
        Ok(())
    );
}

#[test]
fn inputs_and_outputs_nothing_produces_are_named() {
    let p = graph_of(vec![node("Relu", &["nothing"])], vec![]);
    let why = graph(&p, None).unwrap_err().to_string();
    assert!(why.contains("reads `nothing`"), "{why}");
    let mut p = graph_of(vec![node("Relu", &["input"])], vec![]);
    p.graph.as_mut().unwrap().output[0].name = "z".into();
    let why = graph(&p, None).unwrap_err().to_string();
    assert!(why.contains("graph output `z`"), "{why}");
}

#[test]
fn element_counts_that_overflow_are_none() {
    assert_eq!(elements([2, 3, 4]), Some(24));
    assert_eq!(elements([]), Some(1));
    assert_eq!(elements([1 << 32, 1 << 32]), None);
}
