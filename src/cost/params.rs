//! Learnable parameters, counted as PyTorch's `sum(p.numel() for p in m.parameters())` would
//! count them on the module an ONNX file was exported from, from the graph alone.
//!
//! torch.onnx.export writes every parameter as an initializer, wherever the module uses it: a
//! conv's weight, but also an `nn.Linear` on 3-D tensors' bias (a MatMul + Add), `pos_embed`
//! and `cls_token` (Add, Concat, Expand), a layer scale (Mul). It also deduplicates identical
//! tensors: a second parameter equal to a first one (two default-initialised BatchNorms) becomes
//! an `Identity` of the first one's initializer. So the rule is:
//!
//! - a *parameter tensor* is a floating-point initializer of rank 1 or more, or the output of an
//!   `Identity` chain starting at one (each such output stands for a parameter of its own);
//! - each parameter tensor consumed by a node (not an `Identity`) in a slot that holds weights
//!   is counted once, on the first node in graph order that consumes it (a tensor two nodes share,
//!   a tied weight, is one parameter, as in torch);
//! - slots that hold buffers or settings are not: BatchNormalization's running mean and variance
//!   (inputs 3 and 4: `register_buffer`, not parameters), Resize's and Upsample's roi and scales,
//!   Pad's and Clip's constants;
//! - scalars (rank 0) are literals of the model's code (Clip's bounds, HardSwish's 3 and 6, an
//!   attention scale), integer tensors are shapes, indices and axes: neither is counted;
//! - a `Constant` node's tensor counts only in the weight slot of a conv, Gemm, MatMul, a
//!   normalization or PRelu (some exporters put weights there); elsewhere it is a literal.
//!
//! Quantized graphs count the quantized weights as the float ones they stand for:
//!
//! - an integer initializer of rank 1 or more in a quantized op's weight or bias slot
//!   (QLinearConv's w and B, ConvInteger's w, QLinearMatMul's and MatMulInteger's b) is a
//!   parameter tensor;
//! - so is the output of a `DequantizeLinear` of one (QDQ: int8 weights, int32 biases): it is
//!   counted on the op that consumes it, as an `Identity`'s output is, not on the DequantizeLinear;
//! - scales and zero points are quantization settings, never counted (a per-channel conv has one
//!   of each per output channel).
//!
//! Limits: a float buffer consumed elsewhere than BN's running stats (an attention mask, a
//! fixed positional table registered with `register_buffer`) is counted; a learnable scalar
//! (`nn.Parameter(torch.tensor(1.0))`) is not, nor an integer tensor outside the slots above; a parameter
//! no node consumes (an unused head) is not.

use std::collections::{HashMap, HashSet};
use tract_onnx::pb;
use tract_onnx::pb::tensor_proto::DataType;

fn is_float(t: &pb::TensorProto) -> bool {
    [
        DataType::Float,
        DataType::Float16,
        DataType::Double,
        DataType::Bfloat16,
    ]
    .iter()
    .any(|d| *d as i32 == t.data_type)
}

/// Elements of a tensor that counts as a parameter: float, rank 1 or more.
fn param_elems(t: &pb::TensorProto) -> Option<u64> {
    if !is_float(t) || t.dims.is_empty() {
        return None;
    }
    Some(t.dims.iter().map(|&d| d.max(0) as u64).product())
}

/// Elements of an integer tensor of rank 1 or more (a quantized weight or bias).
fn integer_elems(t: &pb::TensorProto) -> Option<u64> {
    if is_float(t) || t.dims.is_empty() {
        return None;
    }
    Some(t.dims.iter().map(|&d| d.max(0) as u64).product())
}

/// Whether input `slot` of a quantized `op_type` node holds quantized weights or biases.
fn quantized_weight_slot(op_type: &str, slot: usize) -> bool {
    match op_type {
        "QLinearConv" => slot == 3 || slot == 8,
        "QLinearMatMul" => slot == 0 || slot == 3,
        "ConvInteger" | "MatMulInteger" => slot <= 1,
        _ => false,
    }
}

/// Whether input `slot` of an `op_type` node holds a buffer or a setting, never a parameter.
fn buffer_slot(op_type: &str, slot: usize) -> bool {
    match op_type {
        "BatchNormalization" => slot >= 3,
        "Resize" | "Upsample" | "Pad" | "Clip" => slot >= 1,
        "QuantizeLinear" | "DequantizeLinear" | "DynamicQuantizeLinear" => slot >= 1,
        "QLinearConv" | "QLinearMatMul" | "ConvInteger" | "MatMulInteger" => {
            !quantized_weight_slot(op_type, slot)
        }
        _ => false,
    }
}

/// Whether input `slot` of an `op_type` node holds a weight even when a `Constant` node gives it.
fn weight_slot(op_type: &str, slot: usize) -> bool {
    match op_type {
        "Conv"
        | "ConvTranspose"
        | "Gemm"
        | "BatchNormalization"
        | "InstanceNormalization"
        | "LayerNormalization"
        | "GroupNormalization" => slot == 1 || slot == 2,
        "MatMul" | "PRelu" => slot == 1,
        _ => false,
    }
}

/// Parameters counted on each node of `graph`, parallel to `graph.node`.
pub fn per_node(graph: &pb::GraphProto) -> Vec<u64> {
    // Parameter tensors by name: elements, and whether a Constant node gave them.
    let mut tensors: HashMap<&str, (u64, bool)> = graph
        .initializer
        .iter()
        .filter_map(|t| param_elems(t).map(|n| (t.name.as_str(), (n, false))))
        .collect();
    // Integer initializers: parameters only in a quantized weight slot or dequantized.
    let integers: HashMap<&str, u64> = graph
        .initializer
        .iter()
        .filter_map(|t| integer_elems(t).map(|n| (t.name.as_str(), n)))
        .collect();
    // DequantizeLinear nodes whose output stands for the parameter they dequantize.
    let mut dequantized: HashSet<usize> = HashSet::new();
    for (ix, node) in graph.node.iter().enumerate() {
        match node.op_type.as_str() {
            "DequantizeLinear" => {
                if let (Some(i), Some(o)) = (node.input.first(), node.output.first())
                    && let Some(&n) = integers.get(i.as_str())
                {
                    tensors.insert(o.as_str(), (n, false));
                    dequantized.insert(ix);
                }
            }
            "Constant" => {
                let value = node.attribute.iter().find(|a| a.name == "value");
                if let (Some(t), Some(out)) =
                    (value.and_then(|a| a.t.as_ref()), node.output.first())
                    && let Some(n) = param_elems(t)
                {
                    tensors.insert(out.as_str(), (n, true));
                }
            }
            // Nodes are in topological order, so an Identity's input is known before it.
            "Identity" => {
                if let (Some(i), Some(o)) = (node.input.first(), node.output.first())
                    && let Some(&t) = tensors.get(i.as_str())
                {
                    tensors.insert(o.as_str(), t);
                }
            }
            _ => {}
        }
    }
    let mut counted: HashSet<&str> = HashSet::new();
    graph
        .node
        .iter()
        .enumerate()
        .map(|(ix, node)| {
            if node.op_type == "Identity" || dequantized.contains(&ix) {
                return 0;
            }
            let mut params = 0;
            for (slot, name) in node.input.iter().enumerate() {
                let quantized = quantized_weight_slot(&node.op_type, slot)
                    .then(|| integers.get(name.as_str()).map(|&n| (n, false)))
                    .flatten();
                let Some((elems, from_constant)) =
                    quantized.or_else(|| tensors.get(name.as_str()).copied())
                else {
                    continue;
                };
                if buffer_slot(&node.op_type, slot)
                    || (from_constant && !weight_slot(&node.op_type, slot))
                {
                    continue;
                }
                if counted.insert(name.as_str()) {
                    params += elems;
                }
            }
            params
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tract_onnx::pb::{GraphProto, NodeProto, TensorProto};

    fn float(name: &str, dims: &[i64]) -> TensorProto {
        TensorProto {
            name: name.into(),
            dims: dims.to_vec(),
            data_type: DataType::Float as i32,
            ..Default::default()
        }
    }

    fn node(op: &str, inputs: &[&str], output: &str) -> NodeProto {
        NodeProto {
            op_type: op.into(),
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: vec![output.into()],
            ..Default::default()
        }
    }

    #[test]
    fn linear_bias_pos_embed_layer_scale_and_tied_weights_count_once() {
        let graph = GraphProto {
            node: vec![
                node("MatMul", &["x", "w"], "mm"),
                node("Add", &["mm", "b"], "lin"),
                node("Concat", &["cls", "lin"], "cat"),
                node("Add", &["cat", "pos"], "emb"),
                node("Mul", &["emb", "gamma"], "ls"),
                node("MatMul", &["ls", "w"], "tied"),
                node("Mul", &["tied", "half"], "out"),
            ],
            initializer: vec![
                float("w", &[4, 4]),
                float("b", &[4]),
                float("cls", &[1, 1, 4]),
                float("pos", &[1, 3, 4]),
                float("gamma", &[4]),
                float("half", &[]),
            ],
            ..Default::default()
        };
        assert_eq!(per_node(&graph), [16, 4, 4, 12, 4, 0, 0]);
    }

    #[test]
    fn identity_outputs_are_parameters_of_their_own_and_bn_stats_are_buffers() {
        let bn = |x: &str, s: &str, b: &str, out: &str| {
            node("BatchNormalization", &[x, s, b, "m", "v"], out)
        };
        let graph = GraphProto {
            node: vec![
                node("Identity", &["ones"], "bn2.weight"),
                node("Identity", &["bn2.weight"], "bn3.weight"),
                bn("x", "ones", "zeros", "y1"),
                bn("y1", "bn2.weight", "zeros", "y2"),
                bn("y2", "bn3.weight", "zeros", "y3"),
            ],
            initializer: vec![
                float("ones", &[8]),
                float("zeros", &[8]),
                float("m", &[8]),
                float("v", &[8]),
            ],
            ..Default::default()
        };
        // bn1: its scale and the shared shift; bn2, bn3: their Identity-named scales only.
        assert_eq!(per_node(&graph), [0, 0, 16, 8, 8]);
    }

    #[test]
    fn constants_count_only_in_weight_slots_and_integers_never() {
        let constant = |out: &str, t: TensorProto| NodeProto {
            op_type: "Constant".into(),
            output: vec![out.into()],
            attribute: vec![pb::AttributeProto {
                name: "value".into(),
                t: Some(t),
                ..Default::default()
            }],
            ..Default::default()
        };
        let mut shape = float("", &[2]);
        shape.data_type = DataType::Int64 as i32;
        let graph = GraphProto {
            node: vec![
                constant("w", float("", &[3, 2, 1, 1])),
                constant("lit", float("", &[3])),
                constant("shape", shape),
                node("Conv", &["x", "w"], "c"),
                node("Add", &["c", "lit"], "a"),
                node("Reshape", &["a", "shape"], "r"),
                node("Resize", &["r", "", "scales"], "up"),
            ],
            initializer: vec![float("scales", &[4])],
            ..Default::default()
        };
        assert_eq!(per_node(&graph), [0, 0, 0, 6, 0, 0, 0]);
    }
}
