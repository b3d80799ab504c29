use super::*;
use crate::rewrite::tests::{count, node, zoo_model};
use crate::rewrite::{Rewrite, apply, graph, sites};
use crate::zoo::proto::{attr_ints, model, tensor_f32, value_info_f32};

/// The int8 values and scales of a DequantizeLinear's input, by the DQ's output name.
fn dequantized(g: &GraphProto, out: &str) -> Vec<f64> {
    let dq = g.node.iter().find(|n| n.output[0] == out).unwrap();
    assert_eq!(dq.op_type, "DequantizeLinear");
    let q = graph::constant(g, &dq.input[0]).unwrap();
    let scales = floats(graph::constant(g, &dq.input[1]).unwrap()).unwrap();
    let values: Vec<f64> = if q.data_type == DataType::Int8 as i32 {
        q.raw_data.iter().map(|&b| f64::from(b as i8)).collect()
    } else {
        let chunks = q.raw_data.chunks_exact(4);
        chunks
            .map(|b| f64::from(i32::from_le_bytes(b.try_into().unwrap())))
            .collect()
    };
    let axis = dq
        .attribute
        .iter()
        .find(|a| a.name == "axis")
        .map_or(1, |a| a.i) as usize;
    let inner: i64 = q.dims.iter().skip(axis + 1).product();
    let channels = scales.len();
    values
        .iter()
        .enumerate()
        .map(|(i, v)| v * f64::from(scales[(i / inner as usize) % channels]))
        .collect()
}

/// Every quantized op of MobileNetV2 reads int8 weights that give back its float weights
/// within half a quantization step of their channel (and its bias within half a bias step),
/// and the activation it read, through one Q/DQ pair per tensor.
#[test]
fn int8_weights_reproduce_the_float_weights_within_one_step() {
    let base = zoo_model("mobilenetv2", false);
    let mut p = base.clone();
    let convs = count(&base, "Conv") + count(&base, "Gemm") + count(&base, "MatMul");
    assert_eq!(apply(&mut p, Rewrite::Int8), convs);
    let (g0, g) = (base.graph.as_ref().unwrap(), p.graph.as_ref().unwrap());
    let originals: Vec<&NodeProto> = g0
        .node
        .iter()
        .filter(|n| QUANTIZED_OPS.contains(&n.op_type.as_str()))
        .collect();
    let rewritten: Vec<&NodeProto> = g
        .node
        .iter()
        .filter(|n| QUANTIZED_OPS.contains(&n.op_type.as_str()))
        .collect();
    assert_eq!(originals.len(), rewritten.len());
    let mut checked = 0;
    for (o, r) in originals.iter().zip(&rewritten) {
        let w = floats(graph::constant(g0, &o.input[1]).unwrap()).unwrap();
        let back = dequantized(g, &r.input[1]);
        let dq = g.node.iter().find(|n| n.output[0] == r.input[1]).unwrap();
        let scales = floats(graph::constant(g, &dq.input[1]).unwrap()).unwrap();
        let max_scale = scales.iter().fold(0f32, |m, s| m.max(*s));
        assert_eq!(back.len(), w.len());
        for (a, b) in w.iter().zip(&back) {
            assert!(
                (f64::from(*a) - b).abs() <= 0.5 * f64::from(max_scale) * 1.0001,
                "{}: {a} against {b}",
                o.name
            );
        }
        // The largest weight of each channel is exactly ±127 steps.
        let q = graph::constant(g, &dq.input[0]).unwrap();
        assert!(q.raw_data.iter().any(|&b| (b as i8).unsigned_abs() == 127));
        if let Some(b) = o.input.get(2).filter(|b| !b.is_empty()) {
            let bias = floats(graph::constant(g0, b).unwrap()).unwrap();
            let back = dequantized(g, &r.input[2]);
            for ((a, b), s) in bias.iter().zip(&back).zip(&scales) {
                let step = f64::from(*s) * f64::from(ACTIVATION_SCALE);
                assert!(
                    (f64::from(*a) - b).abs() <= 0.5 * step * 1.0001,
                    "{a} against {b}"
                );
            }
        }
        // The activation goes through QuantizeLinear then DequantizeLinear, from the same tensor.
        let dq_x = g.node.iter().find(|n| n.output[0] == r.input[0]).unwrap();
        let q_x = g
            .node
            .iter()
            .find(|n| n.output[0] == dq_x.input[0])
            .unwrap();
        assert_eq!(
            (dq_x.op_type.as_str(), q_x.op_type.as_str()),
            ("DequantizeLinear", "QuantizeLinear")
        );
        assert_eq!(q_x.input[0], o.input[0]);
        checked += 1;
    }
    assert_eq!(checked, 54);
    // One pair per activation tensor read by a quantized op, one DequantizeLinear per weight
    // and per bias.
    let distinct: std::collections::HashSet<&String> =
        originals.iter().map(|n| &n.input[0]).collect();
    assert_eq!(count(&p, "QuantizeLinear"), distinct.len());
    assert_eq!(
        count(&p, "DequantizeLinear"),
        distinct.len() + 54 + originals.iter().filter(|n| n.input.len() > 2).count()
    );
    // No float weight of a quantized op is left.
    assert_eq!(
        g.initializer
            .iter()
            .filter(|t| t.data_type == DataType::Float as i32 && t.dims.len() == 4)
            .count(),
        0
    );
    // Quantized once: the rewritten graph has nothing left to quantize.
    assert_eq!(sites(&p).iter().find(|(r, _)| *r == Rewrite::Int8), None);
}

/// A Gemm without `transB` and a MatMul: their weights are quantized per column (axis 1);
/// the Gemm's bias with `beta` 1 is int32 with scale x_scale * w_scale, by hand; both read one
/// activation tensor through one shared pair.
#[test]
fn linear_weights_are_quantized_per_output_column() {
    let w = tensor_f32("w", &[2, 2], &[1.0, -0.5, 0.25, 2.0]);
    let b = tensor_f32("b", &[2], &[0.5, -1.0]);
    let m = tensor_f32("m", &[2, 2], &[0.0, 3.0, 0.0, -1.5]);
    let nodes = vec![
        node("Gemm", &["x", "w", "b"], "y"),
        node("MatMul", &["x", "m"], "z"),
    ];
    let graph = GraphProto {
        node: nodes,
        initializer: vec![w, b, m],
        input: vec![value_info_f32("x", &[1, 2])],
        output: vec![value_info_f32("y", &[1, 2]), value_info_f32("z", &[1, 2])],
        ..Default::default()
    };
    let mut p = model(graph, "test");
    assert_eq!(apply(&mut p, Rewrite::Int8), 2);
    let g = p.graph.as_ref().unwrap();
    let scales = |name: &str| floats(graph::constant(g, name).unwrap()).unwrap();
    // Columns of w: max |w| 1 and 2; of m: a column of zeros (scale 1) and 3.
    assert_eq!(scales("w_scale"), [1.0 / 127.0, 2.0 / 127.0]);
    assert_eq!(scales("m_scale"), [1.0, 3.0 / 127.0]);
    let q = |name: &str| -> Vec<i8> {
        graph::constant(g, name)
            .unwrap()
            .raw_data
            .iter()
            .map(|&b| b as i8)
            .collect()
    };
    assert_eq!(q("w_quantized"), [127, -32, 32, 127]);
    assert_eq!(q("m_quantized"), [0, 127, 0, -64]);
    // Bias steps: 1/127/16 and 2/127/16; 0.5 / (1/2032) = 1016, -1 / (2/2032) = -1016.
    let bias = graph::constant(g, "b_quantized0").unwrap();
    let ints: Vec<i32> = bias
        .raw_data
        .chunks_exact(4)
        .map(|c| i32::from_le_bytes(c.try_into().unwrap()))
        .collect();
    assert_eq!(ints, [1016, -1016]);
    assert_eq!(count(&p, "QuantizeLinear"), 1);
    let order: Vec<&str> = g.node.iter().map(|n| n.op_type.as_str()).collect();
    assert_eq!(
        order,
        [
            "QuantizeLinear",
            "DequantizeLinear",
            "DequantizeLinear",
            "DequantizeLinear",
            "Gemm",
            "DequantizeLinear",
            "MatMul"
        ]
    );
    let axes: Vec<i64> = g
        .node
        .iter()
        .filter(|n| n.op_type == "DequantizeLinear")
        .map(|n| n.attribute.first().map_or(-9, |a| a.i))
        .collect();
    // The activation's DQ has no axis (per tensor); the weights' axis 1, the bias's 0.
    assert_eq!(axes, [-9, 1, 0, 1]);
}

/// What it leaves: an already quantized graph (the QDQ fixture: its weights come from
/// DequantizeLinear), a graph below opset 13, a conv whose weight is an activation.
#[test]
fn quantized_old_and_weightless_graphs_are_left_as_they_are() {
    let bytes = std::fs::read(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/models/quant_qdq.onnx"
    ))
    .unwrap();
    let mut qdq = <ModelProto as prost::Message>::decode(bytes.as_slice()).unwrap();
    assert_eq!(apply(&mut qdq, Rewrite::Int8), 0);

    let mut old = zoo_model("mobilenet", false);
    assert!(sites(&old).iter().any(|(r, _)| *r == Rewrite::Int8));
    old.opset_import[0].version = 12;
    assert_eq!(sites(&old).iter().find(|(r, _)| *r == Rewrite::Int8), None);
    assert_eq!(apply(&mut old, Rewrite::Int8), 0);

    let mut conv = node("Conv", &["x", "x"], "y");
    conv.attribute.push(attr_ints("kernel_shape", &[1, 1]));
    let graph = GraphProto {
        node: vec![conv],
        input: vec![value_info_f32("x", &[1, 1, 1, 1])],
        output: vec![value_info_f32("y", &[1, 1, 1, 1])],
        ..Default::default()
    };
    assert_eq!(apply(&mut model(graph, "test"), Rewrite::Int8), 0);
}
