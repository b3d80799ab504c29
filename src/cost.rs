//! Static cost of operators: parameters, MACs, thop-compatible MACs, FLOPs, bytes moved, and the
//! category each op falls in. Computed from the ONNX graph with inferred shapes (source view)
//! and from tract's typed facts (executed view); no run needed.
//!
//! MAC rules (per inference): Conv = output elements x (in channels / groups) x kernel elements;
//! Gemm/MatMul = M x N x K (x batch). thop 0.1.1 rules: conv as above, no bias; BatchNorm =
//! 4 x input elements; Linear (Gemm, or MatMul with a constant weight) = in_features x output
//! elements; AveragePool = output elements; GlobalAveragePool = (input spatial / output spatial
//! + 1) x output elements; everything else 0. The per-op rules are listed in docs/records.md.

use crate::model::ExecNode;
#[cfg(test)]
use crate::record::CATEGORIES;
use crate::record::Cost;
use std::collections::HashMap;
use tract_core::internal::*;
use tract_onnx::pb;

/// What cost needs to know of one tensor.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TensorInfo {
    pub shape: Vec<usize>,
    pub elems: u64,
    pub bytes: u64,
    /// A constant (initializer) rather than an activation.
    pub is_const: bool,
}

impl TensorInfo {
    pub fn new(shape: Vec<usize>, elem_bytes: usize, is_const: bool) -> TensorInfo {
        let elems = shape.iter().map(|&d| d as u64).product::<u64>();
        TensorInfo {
            shape,
            elems,
            bytes: elems * elem_bytes as u64,
            is_const,
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
    pub cost: Cost,
}

/// Category of an ONNX op type.
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
        "Gemm" | "MatMul" => "linear",
        "Reshape" | "Transpose" | "Slice" | "Split" | "Pad" | "Flatten" | "Squeeze"
        | "Unsqueeze" | "Gather" | "Identity" | "Shape" | "Expand" | "Tile" | "Cast"
        | "Constant" | "ConstantOfShape" | "DepthToSpace" | "SpaceToDepth" | "Resize"
        | "Upsample" => "tensor",
        _ => "other",
    }
}

/// Category of an executed tract op: data movement (im2col, packing, reshapes, slices, pads,
/// copies) is `tensor` and Concat is `concat` whatever the source op; compute ops take the
/// category of the source op they came from (an OptMatMul from a Conv is `conv`, an
/// OptBinChain from a BatchNormalization is `batchnorm`).
pub fn exec_category(op: &str, source_category: Option<&'static str>) -> &'static str {
    const TENSOR_OPS: [&str; 26] = [
        "Im2col",
        "LazyIm2col",
        "Pack",
        "OptMatMulPack",
        "MatMatMulPack",
        "DynPackedOpaque",
        "AxisOp",
        "Reshape",
        "IntoShape",
        "AddAxis",
        "RmAxis",
        "MoveAxis",
        "Permute",
        "Slice",
        "StridedSlice",
        "DynSlice",
        "Pad",
        "MultiBroadcastTo",
        "Gather",
        "Cast",
        "Identity",
        "Downsample",
        "Copy",
        "Transpose",
        "Split",
        "Flatten",
    ];
    if TENSOR_OPS.iter().any(|t| op.starts_with(t)) {
        return "tensor";
    }
    if op.contains("Concat") {
        return "concat";
    }
    source_category.unwrap_or("other")
}

fn attr_ints(node: &pb::NodeProto, name: &str) -> Option<Vec<i64>> {
    node.attribute
        .iter()
        .find(|a| a.name == name)
        .map(|a| a.ints.clone())
}

fn attr_int(node: &pb::NodeProto, name: &str) -> Option<i64> {
    node.attribute.iter().find(|a| a.name == name).map(|a| a.i)
}

fn dim(shape: &[usize], ix: usize) -> u64 {
    shape.get(ix).copied().unwrap_or(1) as u64
}

/// The bytes an op moves: every input (constants counted apart too) and every output.
fn moved(inputs: &[TensorInfo], outputs: &[TensorInfo]) -> Cost {
    Cost {
        bytes_read: inputs.iter().map(|t| t.bytes).sum(),
        weight_bytes: inputs.iter().filter(|t| t.is_const).map(|t| t.bytes).sum(),
        bytes_written: outputs.iter().map(|t| t.bytes).sum(),
        ..Cost::default()
    }
}

/// Static cost of one ONNX node given its input and output tensors.
pub fn node_cost(node: &pb::NodeProto, inputs: &[TensorInfo], outputs: &[TensorInfo]) -> Cost {
    let out_elems = outputs.first().map(|t| t.elems).unwrap_or(0);
    let in_elems = inputs.first().map(|t| t.elems).unwrap_or(0);
    let input = |i: usize| inputs.get(i);
    let const_elems = |i: usize| {
        input(i)
            .filter(|t| t.is_const)
            .map(|t| t.elems)
            .unwrap_or(0)
    };
    let mut c = moved(inputs, outputs);
    let has_bias = input(2).is_some();
    match node.op_type.as_str() {
        "Conv" => {
            let w = input(1).map(|t| t.shape.as_slice()).unwrap_or(&[]);
            let kernel: u64 = w.iter().skip(2).map(|&d| d as u64).product();
            c.macs = out_elems * dim(w, 1) * kernel;
            c.thop_macs = c.macs;
            c.params = const_elems(1) + const_elems(2);
            c.flops = 2 * c.macs + if has_bias { out_elems } else { 0 };
        }
        "ConvTranspose" => {
            let w = input(1).map(|t| t.shape.as_slice()).unwrap_or(&[]);
            let group = attr_int(node, "group").unwrap_or(1).max(1) as u64;
            let kernel: u64 = w.iter().skip(2).map(|&d| d as u64).product();
            c.macs = in_elems * dim(w, 1) * kernel;
            let in_channels = input(0).map(|t| dim(&t.shape, 1)).unwrap_or(0);
            c.thop_macs = out_elems * (in_channels / group) * kernel;
            c.params = const_elems(1) + const_elems(2);
            c.flops = 2 * c.macs + if has_bias { out_elems } else { 0 };
        }
        "Gemm" => {
            let a = input(0).map(|t| t.shape.as_slice()).unwrap_or(&[]);
            let trans_a = attr_int(node, "transA").unwrap_or(0) != 0;
            let k = if trans_a { dim(a, 0) } else { dim(a, 1) };
            c.macs = out_elems * k;
            c.thop_macs = c.macs;
            c.params = const_elems(1) + const_elems(2);
            c.flops = 2 * c.macs + if has_bias { out_elems } else { 0 };
        }
        "MatMul" => {
            let a = input(0).map(|t| t.shape.as_slice()).unwrap_or(&[]);
            let k = a.last().copied().unwrap_or(1) as u64;
            c.macs = out_elems * k;
            // thop counts nn.Linear only: a MatMul with a constant weight.
            let linear = input(1).is_some_and(|t| t.is_const);
            c.thop_macs = if linear { c.macs } else { 0 };
            c.params = const_elems(1);
            c.flops = 2 * c.macs;
        }
        "BatchNormalization"
        | "InstanceNormalization"
        | "LayerNormalization"
        | "GroupNormalization" => {
            c.params = const_elems(1) + const_elems(2);
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
            c.params = const_elems(1);
            c.flops = out_elems;
        }
        "Add" | "Sub" | "Mul" | "Div" | "Relu" | "Clip" | "Sigmoid" | "Tanh" | "LeakyRelu"
        | "HardSigmoid" | "HardSwish" | "Elu" | "Selu" | "Max" | "Min" | "Pow" | "Sqrt" | "Exp"
        | "Erf" | "Gelu" => c.flops = out_elems,
        "Sum" => c.flops = out_elems * (inputs.len().saturating_sub(1) as u64),
        "Softmax" | "LogSoftmax" => c.flops = 3 * out_elems,
        _ => {}
    }
    c
}

/// Adds costs up.
pub fn sum<'a>(costs: impl Iterator<Item = &'a Cost>) -> Cost {
    costs.fold(Cost::default(), |a, c| Cost {
        params: a.params + c.params,
        macs: a.macs + c.macs,
        thop_macs: a.thop_macs + c.thop_macs,
        flops: a.flops + c.flops,
        bytes_read: a.bytes_read + c.bytes_read,
        weight_bytes: a.weight_bytes + c.weight_bytes,
        bytes_written: a.bytes_written + c.bytes_written,
    })
}

/// Whether an executed op is a matrix product or convolution kernel (not its packing).
pub fn is_matmul_like(op: &str) -> bool {
    (op.contains("MatMul") && !op.contains("Pack"))
        || op.starts_with("EinSum")
        || op.starts_with("DepthWiseConv")
        || op.starts_with("Conv")
        || op.starts_with("Deconv")
}

/// tract fuses a conv's following BatchNorm and ReLU into the conv's matmul and names the fused
/// node after the last fused op (`.../Relu.low.prefused`). By name it would map to the ReLU; by
/// what it computes it is the conv. Such a matmul is re-mapped to the conv/linear source of the
/// executed node that feeds it (the conv's own packing or reshape); the fused BN and ReLU then
/// have no executed node of their own, like folded nodes.
fn remap_fused_matmuls(model: &TypedModel, out: &mut [ExecNode], sources: &[SourceNode]) {
    let by_id: HashMap<usize, usize> = out
        .iter()
        .enumerate()
        .map(|(i, e)| (e.node_id, i))
        .collect();
    let computes =
        |s: Option<usize>| s.is_some_and(|s| matches!(sources[s].category, "conv" | "linear"));
    for i in 0..out.len() {
        if !is_matmul_like(&out[i].op) || computes(out[i].source) {
            continue;
        }
        let feeding = model.node(out[i].node_id).inputs.iter().find_map(|o| {
            let e = &out[*by_id.get(&o.node)?];
            computes(e.source).then_some(e.source).flatten()
        });
        if let Some(s) = feeding {
            out[i].source = Some(s);
            out[i].category = sources[s].category;
        }
    }
}

fn fact_info(fact: &TypedFact, is_const: bool) -> TensorInfo {
    let shape = fact
        .shape
        .as_concrete()
        .map(|s| s.to_vec())
        .unwrap_or_default();
    if let Some(exotic) = fact.exotic_fact() {
        // Packed operands (im2col output, packed weights): their byte size is what the op moves.
        let bytes = exotic
            .buffer_sizes()
            .iter()
            .filter_map(|d| d.to_i64().ok())
            .sum::<i64>();
        let elems = shape.iter().map(|&d| d as u64).product();
        return TensorInfo {
            shape,
            elems,
            bytes: bytes.max(0) as u64,
            is_const,
        };
    }
    // Non-numeric facts (symbolic dims, blobs) have no meaningful element size here.
    let dt = fact.datum_type;
    let size = if dt.is_number() || dt == DatumType::Bool {
        dt.size_of()
    } else {
        0
    };
    TensorInfo::new(shape, size, is_const)
}

/// Describes the executed nodes of a plan in execution order, mapped to their source nodes.
///
/// Bytes come from each executed node's own tensors. The source node's params, MACs, thop MACs
/// and FLOPs are given to one executed node, its *anchor*: the one bearing the source's exact
/// name, else the last one derived from it. The others carry only their bytes.
pub fn exec_nodes(
    plan: &TypedSimplePlan,
    sources: &[SourceNode],
    by_name: &HashMap<&str, usize>,
) -> TractResult<Vec<ExecNode>> {
    let model = plan.model();
    let mut out: Vec<ExecNode> = Vec::new();
    for &id in plan.order_without_consts() {
        let node = model.node(id);
        if node.op_is::<tract_core::ops::source::TypedSource>() {
            continue; // model inputs are not operators
        }
        let inputs: Vec<TensorInfo> = node
            .inputs
            .iter()
            .map(|o| {
                let is_const = model.node(o.node).op_is::<tract_core::ops::konst::Const>();
                Ok(fact_info(model.outlet_fact(*o)?, is_const))
            })
            .collect::<TractResult<_>>()?;
        let outputs: Vec<TensorInfo> = node
            .outputs
            .iter()
            .map(|o| fact_info(&o.fact, false))
            .collect();
        let source = crate::model::source_for(&node.name, by_name);
        let op = node.op().name().to_string();
        let category = exec_category(&op, source.map(|s| sources[s].category));
        out.push(ExecNode {
            node_id: id,
            name: node.name.clone(),
            op,
            source,
            category,
            input_shapes: inputs.iter().map(|t| t.shape.clone()).collect(),
            output_shapes: outputs.iter().map(|t| t.shape.clone()).collect(),
            cost: moved(&inputs, &outputs),
        });
    }
    remap_fused_matmuls(model, &mut out, sources);
    for (s, src) in sources.iter().enumerate() {
        // Anchor: the derived node that best does the source's work. Preference: a matmul or
        // conv kernel of the source's category (not the reshapes or packing around it), then
        // any node of its category, then the node bearing the source's name, then the last.
        let anchor = out
            .iter()
            .enumerate()
            .filter(|(_, e)| e.source == Some(s))
            .max_by_key(|(i, e)| {
                let same_kind = e.category == src.category;
                (
                    same_kind && is_matmul_like(&e.op),
                    same_kind,
                    e.name == src.name,
                    *i,
                )
            })
            .map(|(i, _)| i);
        if let Some(i) = anchor {
            let c = &mut out[i].cost;
            c.params = src.cost.params;
            c.macs = src.cost.macs;
            c.thop_macs = src.cost.thop_macs;
            c.flops = src.cost.flops;
        }
    }
    Ok(out)
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
        assert_eq!(c.params, 32 * 9);
        assert_eq!(c.flops, 2 * c.macs);
        assert_eq!(c.weight_bytes, 32 * 9 * 4);
        assert_eq!(c.bytes_read, (32 * 16 * 16 + 32 * 9) * 4);
    }

    #[test]
    fn conv_bias_counts_params_and_flops_not_thop() {
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
        assert_eq!(c.params, 8 * 27 + 8);
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
        assert_eq!((bn.params, bn.macs, bn.thop_macs), (16, 0, 4 * 128));
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
        assert_eq!((fc.macs, fc.thop_macs, fc.params), (160, 160, 170));
        let mm = node_cost(
            &node("MatMul", vec![]),
            &[t(&[2, 5, 16], false), t(&[2, 16, 3], false)],
            &[t(&[2, 5, 3], false)],
        );
        assert_eq!((mm.macs, mm.thop_macs, mm.params), (2 * 5 * 3 * 16, 0, 0));
    }

    #[test]
    fn categories() {
        assert_eq!(source_category("Conv"), "conv");
        assert_eq!(source_category("Clip"), "activation");
        assert_eq!(source_category("Split"), "tensor");
        assert_eq!(source_category("Mul"), "other");
        assert_eq!(exec_category("LazyIm2col", Some("conv")), "tensor");
        assert_eq!(exec_category("StridedSlice", Some("other")), "tensor");
        assert_eq!(exec_category("OptMatMul", Some("conv")), "conv");
        assert_eq!(exec_category("OptMatMul", Some("linear")), "linear");
        assert_eq!(exec_category("TypedConcat", None), "concat");
        assert_eq!(exec_category("Mystery", None), "other");
        for c in CATEGORIES {
            assert!(CATEGORIES.iter().filter(|x| **x == c).count() == 1);
        }
    }
}
