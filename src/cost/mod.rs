//! Static cost of operators: parameters, MACs, thop-compatible MACs, FLOPs, bytes moved, and the
//! category each op falls in. Computed from the ONNX graph with inferred shapes (source view)
//! and from tract's typed facts (executed view); no run needed.
//!
//! MAC rules (per inference): Conv (and QLinearConv, ConvInteger) = output elements x (in
//! channels / groups) x kernel elements; Gemm/MatMul (and QLinearMatMul, MatMulInteger) =
//! M x N x K (x batch); the quantized ops' MACs are also `int8_macs` when their input is 8-bit. thop 0.1.1 rules: conv as above, no bias; BatchNorm =
//! 4 x input elements; Linear (Gemm, or MatMul with a constant weight) = in_features x output
//! elements; AveragePool = output elements; GlobalAveragePool = (input spatial / output spatial
//! + 1) x output elements; everything else 0. The per-op rules are listed in docs/records.md.

mod attrib;
pub mod category;
mod exec;
pub mod params;

pub use category::{is_integer_op, source_category};

pub use attrib::is_matmul_like;
pub use exec::{exec_category, exec_nodes, source_for};

/// One node of the executed (typed, optimized) model, with its static description.
#[derive(Debug, Clone)]
pub struct ExecNode {
    pub node_id: usize,
    pub name: String,
    pub op: String,
    pub source: Option<usize>,
    pub category: &'static str,
    /// Source nodes with no executed node of their own whose work this node does (a
    /// BatchNorm after a Concat, fused into its ReLU's `OptBinChain(Mul+Add+Max)`).
    pub fused: Vec<usize>,
    pub input_shapes: Vec<Vec<usize>>,
    pub output_shapes: Vec<Vec<usize>>,
    pub cost: Cost,
}

#[cfg(test)]
use crate::record::CATEGORIES;
use crate::record::Cost;
use tract_onnx::pb;

/// What cost needs to know of one tensor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorInfo {
    pub shape: Vec<usize>,
    pub elems: u64,
    pub bytes: u64,
    /// A constant (initializer) rather than an activation.
    pub is_const: bool,
    /// A packed operand of a matmul kernel (tract's exotic facts: packed weights, im2col and
    /// packing output) rather than a plain tensor; `bytes` is its packed buffer size.
    pub is_packed: bool,
}

impl TensorInfo {
    pub fn new(shape: Vec<usize>, elem_bytes: usize, is_const: bool) -> TensorInfo {
        let elems = shape.iter().map(|&d| d as u64).product::<u64>();
        TensorInfo {
            shape,
            elems,
            bytes: elems * elem_bytes as u64,
            is_const,
            is_packed: false,
        }
    }
}

/// One node of the source ONNX graph with its static cost.
#[derive(Debug, Clone, PartialEq)]
pub struct SourceNode {
    pub name: String,
    pub op_type: String,
    pub category: &'static str,
    pub input_shapes: Vec<Vec<usize>>,
    pub output_shapes: Vec<Vec<usize>>,
    /// The source nodes whose outputs this node reads (indices into the same list, graph inputs
    /// and initializers left out): the source graph's edges.
    pub producers: Vec<usize>,
    pub cost: Cost,
}

pub(crate) fn attr_ints(node: &pb::NodeProto, name: &str) -> Option<Vec<i64>> {
    node.attribute
        .iter()
        .find(|a| a.name == name)
        .map(|a| a.ints.clone())
}

pub(crate) fn attr_int(node: &pb::NodeProto, name: &str) -> Option<i64> {
    node.attribute.iter().find(|a| a.name == name).map(|a| a.i)
}

fn dim(shape: &[usize], ix: usize) -> u64 {
    shape.get(ix).copied().unwrap_or(1) as u64
}

/// The bytes an op moves through its tensors: plain inputs (constants counted apart too) and
/// outputs; packed constant inputs as `packed_const_bytes`, other packed inputs and outputs
/// (im2col and packing buffers) as scratch.
fn moved(inputs: &[TensorInfo], outputs: &[TensorInfo]) -> Cost {
    let bytes = |ts: &[TensorInfo], keep: fn(&TensorInfo) -> bool| -> u64 {
        ts.iter().filter(|t| keep(t)).map(|t| t.bytes).sum()
    };
    Cost {
        bytes_read: bytes(inputs, |t| !t.is_packed),
        weight_bytes: bytes(inputs, |t| !t.is_packed && t.is_const),
        bytes_written: bytes(outputs, |t| !t.is_packed),
        packed_const_bytes: bytes(inputs, |t| t.is_packed && t.is_const),
        scratch_bytes_read: bytes(inputs, |t| t.is_packed && !t.is_const),
        scratch_bytes_written: bytes(outputs, |t| t.is_packed),
        ..Cost::default()
    }
}

/// Static cost of one ONNX node given its input and output tensors, all but `params`: those
/// depend on the whole graph (which initializer is consumed where first), see [`params`].
pub fn node_cost(node: &pb::NodeProto, inputs: &[TensorInfo], outputs: &[TensorInfo]) -> Cost {
    let out_elems = outputs.first().map(|t| t.elems).unwrap_or(0);
    let in_elems = inputs.first().map(|t| t.elems).unwrap_or(0);
    let input = |i: usize| inputs.get(i);
    let mut c = moved(inputs, outputs);
    let has_bias = input(2).is_some();
    match node.op_type.as_str() {
        "Conv" | "QLinearConv" | "ConvInteger" => {
            let (w, has_bias) = match node.op_type.as_str() {
                "QLinearConv" => (input(3), input(8).is_some()),
                "ConvInteger" => (input(1), false),
                _ => (input(1), has_bias),
            };
            let w = w.map(|t| t.shape.as_slice()).unwrap_or(&[]);
            let kernel: u64 = w.iter().skip(2).map(|&d| d as u64).product();
            c.macs = out_elems * dim(w, 1) * kernel;
            c.thop_macs = c.macs;
            c.flops = 2 * c.macs + if has_bias { out_elems } else { 0 };
        }
        "ConvTranspose" => {
            let w = input(1).map(|t| t.shape.as_slice()).unwrap_or(&[]);
            let group = attr_int(node, "group").unwrap_or(1).max(1) as u64;
            let kernel: u64 = w.iter().skip(2).map(|&d| d as u64).product();
            c.macs = in_elems * dim(w, 1) * kernel;
            let in_channels = input(0).map(|t| dim(&t.shape, 1)).unwrap_or(0);
            c.thop_macs = out_elems * (in_channels / group) * kernel;
            c.flops = 2 * c.macs + if has_bias { out_elems } else { 0 };
        }
        "Gemm" => {
            let a = input(0).map(|t| t.shape.as_slice()).unwrap_or(&[]);
            let trans_a = attr_int(node, "transA").unwrap_or(0) != 0;
            let k = if trans_a { dim(a, 0) } else { dim(a, 1) };
            c.macs = out_elems * k;
            c.thop_macs = c.macs;
            c.flops = 2 * c.macs + if has_bias { out_elems } else { 0 };
        }
        "MatMul" | "QLinearMatMul" | "MatMulInteger" => {
            let a = input(0).map(|t| t.shape.as_slice()).unwrap_or(&[]);
            let k = a.last().copied().unwrap_or(1) as u64;
            c.macs = out_elems * k;
            // thop counts nn.Linear only: a MatMul with a constant weight.
            let b = if node.op_type == "QLinearMatMul" {
                3
            } else {
                1
            };
            let linear = input(b).is_some_and(|t| t.is_const);
            c.thop_macs = if linear { c.macs } else { 0 };
            c.flops = 2 * c.macs;
        }
        "BatchNormalization"
        | "InstanceNormalization"
        | "LayerNormalization"
        | "GroupNormalization" => {
            c.thop_macs = 4 * in_elems;
            c.flops = 2 * in_elems;
        }
        "AveragePool" => {
            let kernel: u64 = attr_ints(node, "kernel_shape")
                .unwrap_or_default()
                .iter()
                .map(|&k| k as u64)
                .product();
            c.thop_macs = out_elems;
            c.flops = out_elems * kernel;
        }
        "GlobalAveragePool" => {
            let spatial_in: u64 = input(0)
                .map(|t| t.shape.iter().skip(2).map(|&d| d as u64).product())
                .unwrap_or(1);
            let spatial_out: u64 = outputs
                .first()
                .map(|t| t.shape.iter().skip(2).map(|&d| d as u64).product())
                .unwrap_or(1);
            c.thop_macs = (spatial_in / spatial_out.max(1) + 1) * out_elems;
            c.flops = in_elems;
        }
        "MaxPool" => {
            let kernel: u64 = attr_ints(node, "kernel_shape")
                .unwrap_or_default()
                .iter()
                .map(|&k| k as u64)
                .product();
            c.flops = out_elems * kernel;
        }
        "GlobalMaxPool" => c.flops = in_elems,
        "PRelu" => {
            c.flops = out_elems;
        }
        "Add" | "Sub" | "Mul" | "Div" | "Relu" | "Clip" | "Sigmoid" | "Tanh" | "LeakyRelu"
        | "HardSigmoid" | "HardSwish" | "Elu" | "Selu" | "Max" | "Min" | "Pow" | "Sqrt" | "Exp"
        | "Erf" | "Gelu" => c.flops = out_elems,
        "Sum" => c.flops = out_elems * (inputs.len().saturating_sub(1) as u64),
        // Scale (and shift) each element; the dynamic form first finds the range (min, max).
        "QuantizeLinear" | "DequantizeLinear" => c.flops = out_elems,
        "DynamicQuantizeLinear" => c.flops = 2 * in_elems,
        "Softmax" | "LogSoftmax" => c.flops = 3 * out_elems,
        _ => {}
    }
    let eight_bit = input(0).is_some_and(|t| t.elems > 0 && t.bytes == t.elems);
    if is_integer_op(&node.op_type) && eight_bit {
        c.int8_macs = c.macs;
    }
    c
}

/// Adds costs up.
pub fn sum<'a>(costs: impl Iterator<Item = &'a Cost>) -> Cost {
    costs.fold(Cost::default(), |a, c| Cost {
        params: a.params + c.params,
        macs: a.macs + c.macs,
        int8_macs: a.int8_macs + c.int8_macs,
        thop_macs: a.thop_macs + c.thop_macs,
        flops: a.flops + c.flops,
        bytes_read: a.bytes_read + c.bytes_read,
        weight_bytes: a.weight_bytes + c.weight_bytes,
        bytes_written: a.bytes_written + c.bytes_written,
        packed_const_bytes: a.packed_const_bytes + c.packed_const_bytes,
        scratch_bytes_read: a.scratch_bytes_read + c.scratch_bytes_read,
        scratch_bytes_written: a.scratch_bytes_written + c.scratch_bytes_written,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(op: &str, attrs: Vec<pb::AttributeProto>) -> pb::NodeProto {
        pb::NodeProto {
            op_type: op.into(),
            attribute: attrs,
            ..Default::default()
        }
    }

    fn t(shape: &[usize], is_const: bool) -> TensorInfo {
        TensorInfo::new(shape.to_vec(), 4, is_const)
    }

    #[test]
    fn grouped_conv_counts_in_over_groups() {
        // depthwise 3x3 over 32 channels, 16x16 output: 32*16*16 * (1) * 9
        let c = node_cost(
            &node("Conv", vec![]),
            &[t(&[1, 32, 16, 16], false), t(&[32, 1, 3, 3], true)],
            &[t(&[1, 32, 16, 16], false)],
        );
        assert_eq!(c.macs, 32 * 16 * 16 * 9);
        assert_eq!(c.thop_macs, c.macs);
        assert_eq!(c.flops, 2 * c.macs);
        assert_eq!(c.weight_bytes, 32 * 9 * 4);
        assert_eq!(c.bytes_read, (32 * 16 * 16 + 32 * 9) * 4);
    }

    #[test]
    fn conv_bias_counts_flops_not_thop() {
        let c = node_cost(
            &node("Conv", vec![]),
            &[
                t(&[1, 3, 8, 8], false),
                t(&[8, 3, 3, 3], true),
                t(&[8], true),
            ],
            &[t(&[1, 8, 8, 8], false)],
        );
        assert_eq!(c.macs, 8 * 8 * 8 * 27);
        assert_eq!(c.thop_macs, c.macs);
        assert_eq!(c.flops, 2 * c.macs + 8 * 8 * 8);
    }

    #[test]
    fn thop_rules_for_bn_pools_and_linear() {
        let bn = node_cost(
            &node("BatchNormalization", vec![]),
            &[
                t(&[1, 8, 4, 4], false),
                t(&[8], true),
                t(&[8], true),
                t(&[8], true),
                t(&[8], true),
            ],
            &[t(&[1, 8, 4, 4], false)],
        );
        assert_eq!((bn.macs, bn.thop_macs), (0, 4 * 128));
        let gap = node_cost(
            &node("GlobalAveragePool", vec![]),
            &[t(&[1, 16, 4, 4], false)],
            &[t(&[1, 16, 1, 1], false)],
        );
        assert_eq!(gap.thop_macs, (16 + 1) * 16);
        let k = pb::AttributeProto {
            name: "kernel_shape".into(),
            ints: vec![2, 2],
            ..Default::default()
        };
        let avg = node_cost(
            &node("AveragePool", vec![k.clone()]),
            &[t(&[1, 4, 4, 4], false)],
            &[t(&[1, 4, 2, 2], false)],
        );
        assert_eq!((avg.thop_macs, avg.flops), (16, 64));
        let max = node_cost(
            &node("MaxPool", vec![k]),
            &[t(&[1, 4, 4, 4], false)],
            &[t(&[1, 4, 2, 2], false)],
        );
        assert_eq!((max.thop_macs, max.macs), (0, 0));
        let fc = node_cost(
            &node("Gemm", vec![]),
            &[t(&[1, 16], false), t(&[10, 16], true), t(&[10], true)],
            &[t(&[1, 10], false)],
        );
        assert_eq!((fc.macs, fc.thop_macs), (160, 160));
        let mm = node_cost(
            &node("MatMul", vec![]),
            &[t(&[2, 5, 16], false), t(&[2, 16, 3], false)],
            &[t(&[2, 5, 3], false)],
        );
        assert_eq!((mm.macs, mm.thop_macs), (2 * 5 * 3 * 16, 0));
    }

    #[test]
    fn categories() {
        assert_eq!(source_category("Conv"), "conv");
        assert_eq!(source_category("Clip"), "activation");
        assert_eq!(source_category("Split"), "tensor");
        assert_eq!(source_category("Mul"), "other");
        assert_eq!(exec_category("LazyIm2col", Some("conv"), false), "tensor");
        assert_eq!(
            exec_category("StridedSlice", Some("other"), false),
            "tensor"
        );
        assert_eq!(exec_category("OptMatMul", Some("conv"), false), "conv");
        assert_eq!(exec_category("OptMatMul", Some("linear"), false), "linear");
        assert_eq!(exec_category("TypedConcat", None, false), "concat");
        assert_eq!(exec_category("Mystery", None, false), "other");
        for c in CATEGORIES {
            assert!(CATEGORIES.iter().filter(|x| **x == c).count() == 1);
        }
    }
}
