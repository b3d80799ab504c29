//! Checks of the graph's wiring that tract reports in its own words ("Loop detected", "Wrong
//! number of outputs"): a node without outputs, a cycle, a declared input rank that
//! `--input-shape` contradicts.

use super::Refusal;
use crate::model::sources::onnx_node_name;
use std::collections::HashMap;
use tract_onnx::pb;

fn label(ix: usize, n: &pb::NodeProto) -> String {
    format!("node `{}` ({})", onnx_node_name(ix, n), n.op_type)
}

/// A node that names no output tensor.
pub fn outputs(g: &pb::GraphProto) -> Result<(), Refusal> {
    match g
        .node
        .iter()
        .enumerate()
        .find(|(_, n)| n.output.iter().all(|o| o.is_empty()))
    {
        Some((ix, n)) => Err(Refusal::NoOutputNames { at: label(ix, n) }),
        None => Ok(()),
    }
}

/// A cycle among the nodes (Kahn's algorithm): names one node on it and the tensor through
/// which it reads its own result.
pub fn acyclic(g: &pb::GraphProto) -> Result<(), Refusal> {
    let mut producer: HashMap<&str, usize> = HashMap::new();
    for (ix, n) in g.node.iter().enumerate() {
        for o in n.output.iter().filter(|o| !o.is_empty()) {
            producer.insert(o.as_str(), ix);
        }
    }
    // The producers each node reads, and how many of them are not yet ordered.
    let reads: Vec<Vec<(usize, &str)>> = g
        .node
        .iter()
        .map(|n| {
            n.input
                .iter()
                .filter_map(|i| producer.get(i.as_str()).map(|&p| (p, i.as_str())))
                .collect()
        })
        .collect();
    let mut readers: Vec<Vec<usize>> = vec![Vec::new(); g.node.len()];
    for (n, rs) in reads.iter().enumerate() {
        for &(p, _) in rs {
            readers[p].push(n);
        }
    }
    let mut waiting: Vec<usize> = reads.iter().map(Vec::len).collect();
    let mut ready: Vec<usize> = (0..g.node.len()).filter(|&n| waiting[n] == 0).collect();
    while let Some(n) = ready.pop() {
        for &r in &readers[n] {
            waiting[r] -= 1;
            if waiting[r] == 0 {
                ready.push(r);
            }
        }
    }
    let Some(start) = (0..g.node.len()).find(|&n| waiting[n] > 0) else {
        return Ok(());
    };
    // Walk back through unordered producers until a node repeats: that node is on a cycle.
    let mut seen = vec![false; g.node.len()];
    let (mut at, mut through) = (start, "");
    while !seen[at] {
        seen[at] = true;
        let Some(&(p, t)) = reads[at].iter().find(|(p, _)| waiting[*p] > 0) else {
            break;
        };
        (at, through) = (p, t);
    }
    let on_cycle = reads[at]
        .iter()
        .find(|(p, _)| waiting[*p] > 0)
        .map_or(through, |&(_, t)| t);
    Err(Refusal::Cycle {
        at: label(at, &g.node[at]),
        through: on_cycle.to_string(),
    })
}

/// `--input-shape` of a rank other than the one the model declares for its first input.
pub fn input_rank(proto: &pb::ModelProto, input: &str, given: &[usize]) -> Result<(), Refusal> {
    let Some(declared) = proto
        .graph
        .as_ref()
        .and_then(|g| g.input.iter().find(|i| i.name == input))
        .and_then(|i| i.r#type.as_ref())
        .and_then(|t| match &t.value {
            Some(pb::type_proto::Value::TensorType(t)) => t.shape.as_ref(),
            _ => None,
        })
        .map(|s| s.dim.len())
    else {
        return Ok(());
    };
    if declared == given.len() {
        return Ok(());
    }
    Err(Refusal::InputRank {
        input: input.to_string(),
        declared,
        given: given.to_vec(),
    })
}
