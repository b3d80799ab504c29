//! The executed view: tract's optimized nodes in execution order, each mapped to the source
//! ONNX node it came from (by name, and for fused matmuls by data flow), with its category, its
//! own bytes moved, and the source's MACs on exactly one of them.

use super::{SourceNode, TensorInfo, moved};
use crate::model::ExecNode;
use std::collections::HashMap;
use tract_core::internal::*;

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
/// and FLOPs are given to one executed node, its *anchor* (rule below and in docs/records.md);
/// the others carry only their bytes.
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
