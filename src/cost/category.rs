//! The category of each source ONNX node: from its op type, then refined by the patterns
//! exporters write for layers that have no ONNX op of their own.
//!
//! - `ReduceMean` (or `ReduceMax`) over every spatial axis of an NCHW (or NCDHW) tensor is a
//!   global pool (`x.mean((2, 3))` in SE blocks): `pool`. Over other axes (a LayerNorm's mean
//!   over channels) it stays `other`; rank-3 tensors are left alone, since `[N, C, L]` and
//!   `[N, tokens, C]` cannot be told apart.
//! - SiLU/Swish, `x * sigmoid(x)`: the Mul whose other input is the Sigmoid's own input is
//!   `activation`; the same for HardSwish written `x * hardsigmoid(x)`.
//! - A hard sigmoid written out, `clip(x + 3, 0, 6) / 6` (timm's `hard_sigmoid`, also as
//!   `* (1/6)`): the Add and the Div (or Mul) are `activation`, as the Clip already is.
//! - HardSwish written out, `x * clip(x + 3, 0, 6) / 6`: the Add, the Mul by x and the final Div
//!   (or Mul) by a constant are `activation`.
//!
//! - Dynamic quantization's dequantizing tail, `cast(ConvInteger(..)) * (x_scale * w_scale)`:
//!   a Cast next to a quantized op (reading its output or feeding it), and a Mul reading such a
//!   Cast or a DynamicQuantizeLinear's scale, are `quantize`.
//!
//! Constants are recognised as scalars (one element) without reading their values: the shapes
//! of these chains are specific enough. A Mul gating x by a sigmoid of something else (an SE
//! block's channel scaling) is not an activation and stays `other`.

use std::collections::HashMap;
use tract_onnx::pb;

/// Whether an ONNX op computes on 8-bit integer operands (its MACs are integer MACs).
pub fn is_integer_op(op_type: &str) -> bool {
    matches!(
        op_type,
        "QLinearConv" | "ConvInteger" | "QLinearMatMul" | "MatMulInteger"
    )
}

/// Ops whose neighbouring Casts convert to or from their quantized values.
fn is_quantized_io(op_type: &str) -> bool {
    is_integer_op(op_type) || source_category(op_type) == "quantize"
}

/// Category of an ONNX op type alone.
pub fn source_category(op_type: &str) -> &'static str {
    match op_type {
        "Conv" | "ConvTranspose" | "ConvInteger" | "QLinearConv" => "conv",
        "BatchNormalization"
        | "InstanceNormalization"
        | "LayerNormalization"
        | "GroupNormalization" => "batchnorm",
        "Relu" | "Clip" | "Sigmoid" | "Tanh" | "LeakyRelu" | "PRelu" | "Elu" | "Selu"
        | "HardSigmoid" | "HardSwish" | "Softplus" | "Softsign" | "Gelu" | "Mish" | "Softmax"
        | "LogSoftmax" | "Erf" => "activation",
        "Concat" => "concat",
        "Add" | "Sum" => "add",
        "MaxPool" | "AveragePool" | "GlobalAveragePool" | "GlobalMaxPool" | "LpPool" => "pool",
        "Gemm" | "MatMul" | "QLinearMatMul" | "MatMulInteger" => "linear",
        "QuantizeLinear" | "DequantizeLinear" | "DynamicQuantizeLinear" => "quantize",
        "Reshape" | "Transpose" | "Slice" | "Split" | "Pad" | "Flatten" | "Squeeze"
        | "Unsqueeze" | "Gather" | "Identity" | "Shape" | "Expand" | "Tile" | "Cast"
        | "Constant" | "ConstantOfShape" | "DepthToSpace" | "SpaceToDepth" | "Resize"
        | "Upsample" => "tensor",
        _ => "other",
    }
}

fn int64_values(t: &pb::TensorProto) -> Vec<i64> {
    if !t.int64_data.is_empty() {
        return t.int64_data.clone();
    }
    t.raw_data
        .chunks_exact(8)
        .map(|c| i64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
        .collect()
}

struct Graph<'a> {
    nodes: &'a [pb::NodeProto],
    /// Initializers and Constant nodes' outputs.
    constants: HashMap<&'a str, &'a pb::TensorProto>,
    producer: HashMap<&'a str, usize>,
    consumers: HashMap<&'a str, Vec<usize>>,
}

impl<'a> Graph<'a> {
    fn new(graph: &'a pb::GraphProto) -> Graph<'a> {
        let mut constants: HashMap<&str, &pb::TensorProto> = graph
            .initializer
            .iter()
            .map(|t| (t.name.as_str(), t))
            .collect();
        let mut producer = HashMap::new();
        let mut consumers: HashMap<&str, Vec<usize>> = HashMap::new();
        for (ix, n) in graph.node.iter().enumerate() {
            for o in n.output.iter().filter(|o| !o.is_empty()) {
                producer.insert(o.as_str(), ix);
            }
            for i in n.input.iter().filter(|i| !i.is_empty()) {
                consumers.entry(i.as_str()).or_default().push(ix);
            }
            if n.op_type == "Constant"
                && let (Some(out), Some(t)) = (
                    n.output.first(),
                    n.attribute
                        .iter()
                        .find(|a| a.name == "value")
                        .and_then(|a| a.t.as_ref()),
                )
            {
                constants.insert(out.as_str(), t);
            }
        }
        Graph {
            nodes: &graph.node,
            constants,
            producer,
            consumers,
        }
    }

    fn is_scalar(&self, name: &str) -> bool {
        self.constants
            .get(name)
            .is_some_and(|t| t.dims.iter().product::<i64>() == 1)
    }

    /// The node producing `tensor`, if it is of one of `ops`.
    fn made_by(&self, tensor: &str, ops: &[&str]) -> Option<usize> {
        self.producer
            .get(tensor)
            .copied()
            .filter(|&p| ops.contains(&self.nodes[p].op_type.as_str()))
    }

    /// For a binary node with one scalar-constant operand (the divisor, for a Div), the other.
    fn with_scalar(&self, ix: usize) -> Option<&'a str> {
        let n = &self.nodes[ix];
        let [a, b] = n.input.as_slice() else {
            return None;
        };
        if self.is_scalar(b) && !self.is_scalar(a) {
            Some(a.as_str())
        } else if n.op_type != "Div"
            && n.op_type != "Sub"
            && self.is_scalar(a)
            && !self.is_scalar(b)
        {
            Some(b.as_str())
        } else {
            None
        }
    }

    /// `clip(x + c, ...)` producing `tensor`: x and the Add.
    fn clip_of_plus_const(&self, tensor: &str) -> Option<(&'a str, usize)> {
        let clip = self.made_by(tensor, &["Clip"])?;
        let add = self.made_by(self.nodes[clip].input.first()?, &["Add"])?;
        Some((self.with_scalar(add)?, add))
    }

    /// A hard sigmoid written out, `clip(x + c, ...) / c'` producing `tensor`: x, the Add and
    /// the Div (or Mul).
    fn hard_sigmoid_chain(&self, tensor: &str) -> Option<(&'a str, [usize; 2])> {
        let scale = self.made_by(tensor, &["Div", "Mul"])?;
        let (x, add) = self.clip_of_plus_const(self.with_scalar(scale)?)?;
        Some((x, [add, scale]))
    }
}

/// Category of each node of `graph` (parallel to `graph.node`); `first_input_rank[ix]` is the
/// rank of node ix's first input, where known.
pub fn per_node(graph: &pb::GraphProto, first_input_rank: &[Option<usize>]) -> Vec<&'static str> {
    let g = Graph::new(graph);
    let mut cat: Vec<&'static str> = g
        .nodes
        .iter()
        .map(|n| source_category(&n.op_type))
        .collect();
    for (ix, n) in g.nodes.iter().enumerate() {
        match n.op_type.as_str() {
            "Cast" => {
                let reads_quantized = n.input.first().is_some_and(|i| {
                    g.producer
                        .get(i.as_str())
                        .is_some_and(|&p| is_quantized_io(&g.nodes[p].op_type))
                });
                let feeds_quantized = n.output.iter().any(|o| {
                    g.consumers
                        .get(o.as_str())
                        .is_some_and(|cs| cs.iter().any(|&c| is_quantized_io(&g.nodes[c].op_type)))
                });
                if reads_quantized || feeds_quantized {
                    cat[ix] = "quantize";
                }
            }
            "Mul" => {
                // Nodes come in topological order: a Cast read here is already categorised.
                let rescales = n.input.iter().any(|i| {
                    g.producer.get(i.as_str()).is_some_and(|&p| {
                        let op = g.nodes[p].op_type.as_str();
                        (op == "Cast" && cat[p] == "quantize")
                            || (op == "DynamicQuantizeLinear"
                                && g.nodes[p].output.get(1).is_some_and(|s| s == i))
                    })
                });
                if rescales {
                    cat[ix] = "quantize";
                    continue;
                }
                activation_patterns(&g, ix, &mut cat);
            }
            "Div" => activation_patterns(&g, ix, &mut cat),
            "ReduceMean" | "ReduceMax" => {
                let rank = first_input_rank.get(ix).copied().flatten().unwrap_or(0);
                let axes = match n.attribute.iter().find(|a| a.name == "axes") {
                    Some(a) => a.ints.clone(),
                    None => n
                        .input
                        .get(1)
                        .and_then(|i| g.constants.get(i.as_str()))
                        .map(|t| int64_values(t))
                        .unwrap_or_default(),
                };
                let mut axes: Vec<i64> = axes
                    .iter()
                    .map(|&a| if a < 0 { a + rank as i64 } else { a })
                    .collect();
                axes.sort_unstable();
                axes.dedup();
                let spatial: Vec<i64> = (2..rank as i64).collect();
                if rank >= 4 && axes == spatial {
                    cat[ix] = "pool";
                }
            }
            _ => {}
        }
    }
    cat
}

/// The written-out activations a Div or Mul node `ix` ends or belongs to (see the module docs).
fn activation_patterns(g: &Graph, ix: usize, cat: &mut [&'static str]) {
    let n = &g.nodes[ix];
    let Some(out) = n.output.first().map(String::as_str) else {
        return;
    };
    if let Some((_, chain)) = g.hard_sigmoid_chain(out) {
        for c in chain {
            cat[c] = "activation";
        }
    }
    let [a, b] = n.input.as_slice() else {
        return;
    };
    if n.op_type != "Mul" {
        return;
    }
    for (x, gate) in [(a, b), (b, a)] {
        let same = |t: &str| t == x.as_str();
        // x * sigmoid(x), x * hardsigmoid(x)
        if let Some(s) = g.made_by(gate, &["Sigmoid", "HardSigmoid"])
            && g.nodes[s].input.first().is_some_and(|i| same(i))
        {
            cat[ix] = "activation";
        }
        // x * (clip(x + 3, 0, 6) / 6)
        if let Some((root, chain)) = g.hard_sigmoid_chain(gate)
            && same(root)
        {
            cat[ix] = "activation";
            for c in chain {
                cat[c] = "activation";
            }
        }
        // x * clip(x + 3, 0, 6) / 6
        if let Some((root, add)) = g.clip_of_plus_const(gate)
            && same(root)
        {
            cat[ix] = "activation";
            cat[add] = "activation";
            if let Some([next]) = g.consumers.get(out).map(|c| c.as_slice())
                && matches!(g.nodes[*next].op_type.as_str(), "Div" | "Mul")
                && g.with_scalar(*next) == Some(out)
            {
                cat[*next] = "activation";
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pb::tensor_proto::DataType;

    fn node(op: &str, inputs: &[&str], output: &str) -> pb::NodeProto {
        pb::NodeProto {
            op_type: op.into(),
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: vec![output.into()],
            ..Default::default()
        }
    }

    fn scalar(name: &str) -> pb::TensorProto {
        pb::TensorProto {
            name: name.into(),
            data_type: DataType::Float as i32,
            float_data: vec![3.0],
            ..Default::default()
        }
    }

    fn reduce(axes: &[i64], input: &str, out: &str) -> pb::NodeProto {
        let mut n = node("ReduceMean", &[input], out);
        n.attribute.push(pb::AttributeProto {
            name: "axes".into(),
            ints: axes.to_vec(),
            ..Default::default()
        });
        n
    }

    #[test]
    fn spatial_means_of_images_are_pools_other_means_are_not() {
        let axes18 = pb::TensorProto {
            name: "hw".into(),
            dims: vec![2],
            data_type: DataType::Int64 as i32,
            int64_data: vec![-1, -2],
            ..Default::default()
        };
        let graph = pb::GraphProto {
            node: vec![
                reduce(&[2, 3], "x", "a"),
                reduce(&[-2, -1], "x", "b"),
                reduce(&[1], "x", "c"),
                reduce(&[2], "x", "d"),
                reduce(&[-1], "t", "e"),
                node("ReduceMean", &["x", "hw"], "f"),
            ],
            initializer: vec![axes18],
            ..Default::default()
        };
        let ranks = [Some(4), Some(4), Some(4), Some(4), Some(3), Some(4)];
        assert_eq!(
            per_node(&graph, &ranks),
            ["pool", "pool", "other", "other", "other", "pool"]
        );
    }

    #[test]
    fn silu_hardswish_and_hard_sigmoid_patterns_are_activations() {
        let graph = pb::GraphProto {
            node: vec![
                // 0-1 SiLU
                node("Sigmoid", &["x"], "s"),
                node("Mul", &["x", "s"], "silu"),
                // 2-3 HardSwish over HardSigmoid, operands swapped
                node("HardSigmoid", &["silu"], "hs"),
                node("Mul", &["hs", "silu"], "hswish"),
                // 4-7 x * clip(x + 3, 0, 6) / 6
                node("Add", &["hswish", "three"], "p3"),
                node("Clip", &["p3", "zero", "six"], "r6"),
                node("Mul", &["hswish", "r6"], "xr6"),
                node("Div", &["xr6", "six"], "hswish2"),
                // 8-10 a hard-sigmoid SE gate: clip(y + 3, 0, 6) / 6, then a scaling Mul
                node("Add", &["y", "three"], "q3"),
                node("Clip", &["q3", "zero", "six"], "q6"),
                node("Div", &["q6", "six"], "gate"),
                node("Mul", &["hswish2", "gate"], "se"),
                // 12-13 an SE scaling by a sigmoid of something else, and a plain Add
                node("Sigmoid", &["y"], "sy"),
                node("Mul", &["se", "sy"], "scaled"),
                node("Add", &["scaled", "x"], "out"),
            ],
            initializer: vec![scalar("three"), scalar("zero"), scalar("six")],
            ..Default::default()
        };
        let act = "activation";
        assert_eq!(
            per_node(&graph, &[None; 15]),
            [
                act, act, act, act, act, act, act, act, act, act, act, "other", act, "other", "add"
            ]
        );
    }

    #[test]
    fn nodes_without_outputs_or_inputs_keep_their_op_category() {
        let bare = |op: &str| pb::NodeProto {
            op_type: op.into(),
            ..Default::default()
        };
        let graph = pb::GraphProto {
            node: vec![bare("Mul"), bare("Div"), bare("ReduceMean"), bare("Relu")],
            ..Default::default()
        };
        assert_eq!(
            per_node(&graph, &[]),
            ["other", "other", "other", "activation"]
        );
        assert_eq!(crate::cost::params::per_node(&graph), [0, 0, 0, 0]);
    }
}
