//! The executed view: tract's optimized nodes in execution order, each mapped to the source
//! ONNX node it came from (by name; kernels of fused, deduplicated or split convs by the rules of
//! `attrib`), with its category, its own bytes moved, and the static cost of the sources it
//! computes.

use super::attrib::{self, Flow};
use super::{ExecNode, SourceNode, TensorInfo, moved};
use std::collections::HashMap;
use tract_core::internal::*;
use tract_core::ops::matmul::optimized::{MatMulOperand, OptMatMul, ProtoFusedSpec};
use tract_linalg::mmm::MMMInputValue;

/// Category of an executed tract op: tract's quantization ops, and the casts of quantized
/// sources, are `quantize`; data movement (im2col, packing, reshapes, slices, pads, copies) is
/// `tensor` and Concat is `concat` whatever the source op; compute ops take the category of the
/// source op they came from (an OptMatMul from a Conv is `conv`, an OptBinChain from a
/// BatchNormalization is `batchnorm`), except that an integer conv's or matmul's compute other
/// than its kernel (zero-point sums and corrections, requantizing scale, rounding and
/// clamping) is `quantize`. `from_integer_op`: the source is one of [`super::is_integer_op`].
pub fn exec_category(
    op: &str,
    source_category: Option<&'static str>,
    from_integer_op: bool,
) -> &'static str {
    const QUANTIZE_OPS: [&str; 6] = [
        "QuantizeLinear",
        "DequantizeLinear",
        "DynamicQuantizeLinear",
        "OffsetU8asI8",
        "OffsetI8asU8",
        "QSum",
    ];
    if QUANTIZE_OPS.iter().any(|q| op.starts_with(q))
        || (op.starts_with("Cast") && (from_integer_op || source_category == Some("quantize")))
    {
        return "quantize";
    }
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
    if from_integer_op && !attrib::is_matmul_like(op) {
        return "quantize";
    }
    source_category.unwrap_or("other")
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
            is_packed: true,
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

/// Bytes of one packed value as tract lays it out (panels padded to the kernel's tile).
fn packed_bytes(value: &dyn MMMInputValue) -> u64 {
    value
        .exotic_fact()
        .buffer_sizes()
        .iter()
        .filter_map(|d| d.to_i64().ok())
        .map(|b| b.max(0) as u64)
        .sum()
}

/// Bytes of the constant operands a kernel holds inside itself rather than as inputs: tract
/// bakes a matmul's constant, non-batched packed operand (a linear or conv layer's weights)
/// into `OptMatMul`, so no input fact shows it. The kernel reads all of it every call.
fn baked_const_bytes(node: &TypedNode) -> u64 {
    let Some(mm) = node.op_as::<OptMatMul>() else {
        return 0;
    };
    let operand = |o: &MatMulOperand| match o {
        MatMulOperand::Const(v) => packed_bytes(&**v),
        MatMulOperand::Input(_) => 0,
    };
    mm.micro_ops
        .iter()
        .map(|u| match u {
            ProtoFusedSpec::AddMatMul { a, b, .. } => operand(a) + operand(b),
            _ => 0,
        })
        .sum()
}

/// A lazy im2col builds only offset tables: the kernel it feeds gathers each panel of the
/// virtual im2col matrix from the input itself, into a panel buffer it then reads. So the
/// `LazyIm2col` op moves no bytes, and the kernel reads the input tensor and fills and reads
/// the whole matrix (its packed size) as scratch.
fn move_lazy_im2col(model: &TypedModel, out: &mut [ExecNode], by_id: &HashMap<usize, usize>) {
    for k in 0..out.len() {
        let node = model.node(out[k].node_id);
        for o in &node.inputs {
            let Some(&lazy) = by_id.get(&o.node) else {
                continue;
            };
            if out[lazy].op != "LazyIm2col" {
                continue;
            }
            let Ok(fact) = model.outlet_fact(*o) else {
                continue;
            };
            let gathered = fact_info(fact, false).bytes;
            let source_bytes = out[lazy].cost.bytes_read;
            let c = &mut out[k].cost;
            c.bytes_read += source_bytes;
            c.scratch_bytes_written += gathered;
        }
    }
    for e in out.iter_mut().filter(|e| e.op == "LazyIm2col") {
        e.cost.bytes_read = 0;
        e.cost.scratch_bytes_written = 0;
    }
}

/// tract's multiply-accumulate count of one op from its input facts (`TypedOp::cost`, the FMA
/// entries), when it gives one with concrete dimensions.
fn fma_count(model: &TypedModel, node: &TypedNode) -> Option<u64> {
    let facts: TVec<&TypedFact> = node
        .inputs
        .iter()
        .map(|o| model.outlet_fact(*o))
        .collect::<TractResult<_>>()
        .ok()?;
    let costs = node.op.cost(&facts).ok()?;
    let mut fma = None;
    for (kind, count) in &costs {
        if matches!(kind, tract_core::ops::Cost::FMA(_)) {
            let n = u64::try_from(count.to_i64().ok()?).ok()?;
            fma = Some(fma.unwrap_or(0) + n);
        }
    }
    fma
}

/// Describes the executed nodes of a plan in execution order, mapped to their source nodes.
///
/// Bytes come from each executed node's own tensors. The source nodes' params, MACs, thop MACs
/// and FLOPs go to the kernels that compute them, shared by the kernels' own work, else to one
/// derived node, the anchor (`attrib`, and docs/records.md); the others carry only their bytes.
pub fn exec_nodes(
    plan: &TypedSimplePlan,
    sources: &[SourceNode],
    by_name: &HashMap<&str, usize>,
) -> TractResult<Vec<ExecNode>> {
    let model = plan.model();
    let mut out: Vec<ExecNode> = Vec::new();
    let mut fma = Vec::new();
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
        let source = source_for(&node.name, by_name);
        let op = node.op().name().to_string();
        let mut cost = moved(&inputs, &outputs);
        cost.packed_const_bytes += baked_const_bytes(node);
        let category = exec_category(
            &op,
            source.map(|s| sources[s].category),
            source.is_some_and(|s| super::is_integer_op(&sources[s].op_type)),
        );
        fma.push(if attrib::is_matmul_like(&op) {
            fma_count(model, node)
        } else {
            None
        });
        out.push(ExecNode {
            node_id: id,
            name: node.name.clone(),
            op,
            source,
            category,
            fused: Vec::new(),
            input_shapes: inputs.iter().map(|t| t.shape.clone()).collect(),
            output_shapes: outputs.iter().map(|t| t.shape.clone()).collect(),
            cost,
        });
    }
    let by_id: HashMap<usize, usize> = out
        .iter()
        .enumerate()
        .map(|(i, e)| (e.node_id, i))
        .collect();
    let edges = out
        .iter()
        .map(|e| {
            model
                .node(e.node_id)
                .inputs
                .iter()
                .filter_map(|o| by_id.get(&o.node).copied())
                .collect()
        })
        .collect();
    move_lazy_im2col(model, &mut out, &by_id);
    let flow = Flow::new(edges, fma);
    attrib::resolve_kernels(&mut out, &flow, sources);
    attrib::find_fused_batchnorms(&mut out, sources);
    attrib::assign_costs(&mut out, &flow, sources);
    Ok(out)
}

/// Maps an executed node name to its source node: the longest source name that equals it or
/// is followed in it by a `.` or a `-` (tract names most nodes it derives `SOURCE.suffix`, and
/// a few `SOURCE-suffix`: the reciprocal of a Div by a computed tensor, `/Div-recip`; a
/// reduction's `-dispose-dims-AXIS`; GatherND's `-slice-axis-AXIS`, `-add_axis`).
pub fn source_for(exec_name: &str, by_name: &HashMap<&str, usize>) -> Option<usize> {
    if let Some(&ix) = by_name.get(exec_name) {
        return Some(ix);
    }
    exec_name
        .rmatch_indices(['.', '-'])
        .find_map(|(at, _)| by_name.get(&exec_name[..at]).copied())
}
