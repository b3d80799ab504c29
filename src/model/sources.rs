//! The source view of a model: every ONNX node of the proto with the shapes tract inferred
//! for it and its static cost (the `node` records).

use super::ModelError;
use crate::cost::{self, SourceNode, TensorInfo};
use crate::record::Cost;
use std::collections::HashMap;
use tract_hir::internal::*;
use tract_onnx::pb;
use tract_onnx::prelude::{InferenceFact, InferenceModel};

pub(super) fn shape_of(fact: &InferenceFact) -> Vec<usize> {
    fact.shape
        .as_concrete_finite()
        .ok()
        .flatten()
        .map(|s| s.to_vec())
        .unwrap_or_default()
}

/// The name tract-onnx's parser gives ONNX node `ix`: its name, else its first output, else
/// `index-op`.
pub(super) fn onnx_node_name(ix: usize, pbnode: &pb::NodeProto) -> String {
    if !pbnode.name.is_empty() {
        pbnode.name.clone()
    } else if pbnode.output.first().is_some_and(|o| !o.is_empty()) {
        pbnode.output[0].clone()
    } else {
        format!("{}-{}", ix, pbnode.op_type)
    }
}

/// Static description of every source ONNX node, from the proto and the analysed model.
pub fn source_nodes(
    proto: &pb::ModelProto,
    inf: &InferenceModel,
) -> Result<Vec<SourceNode>, ModelError> {
    let graph = proto
        .graph
        .as_ref()
        .map(|g| g.node.as_slice())
        .unwrap_or_default();
    let params = proto
        .graph
        .as_ref()
        .map(cost::params::per_node)
        .unwrap_or_default();
    let mut out = Vec::with_capacity(graph.len());
    let mut kept: Vec<&pb::NodeProto> = Vec::with_capacity(graph.len());
    // Graph index of each kept node, and the rank of each node's first input.
    let mut kept_ix: Vec<usize> = Vec::with_capacity(graph.len());
    let mut first_input_rank: Vec<Option<usize>> = vec![None; graph.len()];
    for (ix, pbnode) in graph.iter().enumerate() {
        let name = onnx_node_name(ix, pbnode);
        let Some(id) = inf.node_by_name(&name).ok().map(|n| n.id) else {
            continue;
        };
        let node = inf.node(id);
        let mut inputs = Vec::with_capacity(node.inputs.len());
        for outlet in &node.inputs {
            let fact = inf.outlet_fact(*outlet).map_err(|e| ModelError::Tract {
                model: name.clone(),
                what: "reading facts",
                cause: e,
            })?;
            let is_const = inf
                .node(outlet.node)
                .op_is::<tract_hir::ops::konst::Const>();
            inputs.push(TensorInfo::new(
                shape_of(fact),
                fact.datum_type
                    .concretize()
                    .map(|d| d.size_of())
                    .unwrap_or(4),
                is_const,
            ));
        }
        let outputs = node
            .outputs
            .iter()
            .map(|o| {
                let dt = o
                    .fact
                    .datum_type
                    .concretize()
                    .map(|d| d.size_of())
                    .unwrap_or(4);
                TensorInfo::new(shape_of(&o.fact), dt, false)
            })
            .collect::<Vec<_>>();
        let cost = Cost {
            params: params.get(ix).copied().unwrap_or(0),
            ..cost::node_cost(pbnode, &inputs, &outputs)
        };
        kept.push(pbnode);
        kept_ix.push(ix);
        first_input_rank[ix] = inputs.first().map(|t| t.shape.len());
        out.push(SourceNode {
            name,
            op_type: pbnode.op_type.clone(),
            category: cost::source_category(&pbnode.op_type),
            input_shapes: inputs.iter().map(|t| t.shape.clone()).collect(),
            output_shapes: outputs.iter().map(|t| t.shape.clone()).collect(),
            producers: Vec::new(),
            cost,
        });
    }
    let categories = proto
        .graph
        .as_ref()
        .map(|g| cost::category::per_node(g, &first_input_rank))
        .unwrap_or_default();
    for (node, &ix) in out.iter_mut().zip(&kept_ix) {
        if let Some(&c) = categories.get(ix) {
            node.category = c;
        }
    }
    // Edges: which kept node produces each tensor a node reads.
    let mut producer_of: HashMap<&str, usize> = HashMap::new();
    for (ix, pbnode) in kept.iter().enumerate() {
        for o in pbnode.output.iter().filter(|o| !o.is_empty()) {
            producer_of.insert(o.as_str(), ix);
        }
    }
    for (node, pbnode) in out.iter_mut().zip(&kept) {
        node.producers = pbnode
            .input
            .iter()
            .filter_map(|n| producer_of.get(n.as_str()).copied())
            .collect();
        node.producers.sort_unstable();
        node.producers.dedup();
    }
    Ok(out)
}
