//! What the rewrites read of an ONNX graph: who consumes a value, constant tensors (initializers
//! and `Constant` nodes) as floats, and the pruning of what no node uses any more.

use std::collections::{HashMap, HashSet};
use tract_onnx::pb::tensor_proto::{DataLocation, DataType};
use tract_onnx::pb::{GraphProto, NodeProto, TensorProto};

/// How many node inputs (and graph outputs) read each value.
pub(super) fn uses(g: &GraphProto) -> HashMap<&str, usize> {
    let mut uses: HashMap<&str, usize> = HashMap::new();
    let inputs = g.node.iter().flat_map(|n| n.input.iter());
    for name in inputs.chain(g.output.iter().map(|o| &o.name)) {
        *uses.entry(name.as_str()).or_default() += 1;
    }
    uses
}

/// Index of the node producing each value.
pub(super) fn producers(g: &GraphProto) -> HashMap<&str, usize> {
    let mut out = HashMap::new();
    for (ix, n) in g.node.iter().enumerate() {
        for o in &n.output {
            out.insert(o.as_str(), ix);
        }
    }
    out
}

pub(super) fn is_graph_output(g: &GraphProto, name: &str) -> bool {
    g.output.iter().any(|o| o.name == name)
}

/// The tensor a constant value holds: an initializer, or a `Constant` node's `value`.
pub(super) fn constant<'a>(g: &'a GraphProto, name: &str) -> Option<&'a TensorProto> {
    if name.is_empty() {
        return None;
    }
    if let Some(t) = g.initializer.iter().find(|t| t.name == name) {
        return Some(t);
    }
    let node = g
        .node
        .iter()
        .find(|n| n.op_type == "Constant" && n.output.first().is_some_and(|o| o == name))?;
    node.attribute
        .iter()
        .find(|a| a.name == "value")
        .and_then(|a| a.t.as_ref())
}

/// A float32 tensor's values, when stored in the file (raw little-endian bytes or
/// `float_data`); `None` for other types and external data.
pub(super) fn floats(t: &TensorProto) -> Option<Vec<f32>> {
    if t.data_type != DataType::Float as i32
        || t.data_location == Some(DataLocation::External as i32)
    {
        return None;
    }
    let count: i64 = t.dims.iter().try_fold(1i64, |n, &d| n.checked_mul(d))?;
    let values: Vec<f32> = if !t.raw_data.is_empty() {
        t.raw_data
            .chunks_exact(4)
            .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            .collect()
    } else {
        t.float_data.clone()
    };
    (values.len() as i64 == count).then_some(values)
}

/// One float scalar of a constant (a scalar or a one-element tensor).
pub(super) fn scalar(g: &GraphProto, name: &str) -> Option<f32> {
    match floats(constant(g, name)?)?.as_slice() {
        [v] => Some(*v),
        _ => None,
    }
}

/// The int64 values of a constant (axes, shapes, permutations).
pub(super) fn ints(t: &TensorProto) -> Option<Vec<i64>> {
    if t.data_type != DataType::Int64 as i32 {
        return None;
    }
    if !t.raw_data.is_empty() {
        let chunks = t.raw_data.chunks_exact(8);
        return chunks.remainder().is_empty().then(|| {
            chunks
                .map(|b| i64::from_le_bytes(b.try_into().unwrap_or([0; 8])))
                .collect()
        });
    }
    Some(t.int64_data.clone())
}

/// A float32 tensor named `name` with `dims`, stored as raw little-endian bytes.
pub(super) fn tensor(name: String, dims: Vec<i64>, values: &[f32]) -> TensorProto {
    TensorProto {
        name,
        dims,
        data_type: DataType::Float as i32,
        raw_data: values.iter().flat_map(|v| v.to_le_bytes()).collect(),
        ..Default::default()
    }
}

pub(super) fn attr_ints<'a>(n: &'a NodeProto, name: &str) -> Option<&'a [i64]> {
    n.attribute
        .iter()
        .find(|a| a.name == name)
        .map(|a| a.ints.as_slice())
}

pub(super) fn attr_int(n: &NodeProto, name: &str) -> Option<i64> {
    n.attribute.iter().find(|a| a.name == name).map(|a| a.i)
}

pub(super) fn attr_float(n: &NodeProto, name: &str) -> Option<f32> {
    n.attribute.iter().find(|a| a.name == name).map(|a| a.f)
}

/// Drops the nodes at `removed`, points every input that read a value in `renamed` at its
/// replacement, then drops the initializers and `Constant` nodes that nothing reads any more
/// (and the graph inputs that named them, as old exports list initializers as inputs).
pub(super) fn remove_and_rename(
    g: &mut GraphProto,
    removed: &HashSet<usize>,
    renamed: &HashMap<String, String>,
) {
    let mut ix = 0;
    g.node.retain(|_| {
        ix += 1;
        !removed.contains(&(ix - 1))
    });
    for n in &mut g.node {
        for input in &mut n.input {
            // A rename may lead to a value renamed in turn (two shuffles in a row).
            for _ in 0..=renamed.len() {
                match renamed.get(input.as_str()) {
                    Some(to) => *input = to.clone(),
                    None => break,
                }
            }
        }
    }
    prune(g);
}

/// Drops constants no node or graph output reads, and the graph inputs that named a dropped
/// initializer.
fn prune(g: &mut GraphProto) {
    loop {
        let used: HashSet<String> = uses(g).keys().map(|k| k.to_string()).collect();
        let before = g.node.len() + g.initializer.len();
        let dropped: HashSet<String> = g
            .initializer
            .iter()
            .filter(|t| !used.contains(&t.name))
            .map(|t| t.name.clone())
            .collect();
        g.initializer.retain(|t| !dropped.contains(&t.name));
        g.input.retain(|i| !dropped.contains(&i.name));
        g.node.retain(|n| {
            n.op_type != "Constant" || n.output.iter().any(|o| used.contains(o.as_str()))
        });
        if g.node.len() + g.initializer.len() == before {
            break;
        }
    }
}
