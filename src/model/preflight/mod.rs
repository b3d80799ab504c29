//! Checks of a model that tract would otherwise answer with a panic, an allocation failure (an
//! abort, which `catch_unwind` cannot catch: as PID 1, a kernel panic) or a meaningless run.
//!
//! - [`graph`]: on the protobuf, before tract sees it: window attributes (strides, dilations,
//!   kernel sizes at least 1, pads not negative, a group that divides the weight), negative
//!   repeats of `Tile` and shapes of `Expand` and `ConstantOfShape`, graph outputs
//!   and node inputs that nothing produces, element counts that overflow 64 bits, and the
//!   size of what `Expand` and `ConstantOfShape` make from constant shapes (tract folds those
//!   while loading).
//! - [`shapes`]: on the analysed model, before anything is planned or allocated: every tensor's
//!   size, what each node needs at once (its inputs and outputs) against the memory available,
//!   and window spans (a dilated kernel wider than its padded input).
//! - [`types`]: on the analysed model, inputs of a type their op does not take (a bool into
//!   arithmetic, an integer into a Conv or a GRU), which tract fails on when it runs or panics on.
//! - [`diagnose`]: when tract's shape inference fails or panics, what the facts it reached say
//!   is wrong (an input's type, a group whose channels do not match the input's), instead of
//!   tract's rule text.
//!
//! - [`tensor_data`]: tensors whose bytes do not match their dims, and external data: only
//!   regular files inside the model's own folder, of the size the dims need, fitting in memory
//!   (tract reads them; it also refuses locations that leave the folder).
//!
//! Each returns the reason as a [`Refusal`] (one sentence); the caller names the model.
//! [`graph`] is here, [`tensor_data`] in `data`, [`shapes`], [`types`] and [`diagnose`] in
//! `analysed`.

mod analysed;
mod data;
mod order;
mod refusal;

use super::sources::onnx_node_name;
use crate::cost::{attr_int as int, attr_ints as ints};
pub use analysed::{diagnose, shapes, types};
pub use data::tensor_data;
pub use order::input_rank;
pub use refusal::{ExternalData, Refusal, Takes, WindowAttribute};
use std::collections::{HashMap, HashSet};
use tract_hir::internal::*;
use tract_onnx::pb;
use tract_onnx::pb::tensor_proto::DataType;
use tract_onnx::prelude::InferenceModel;

/// ONNX ops with a sliding window (strides, dilations, pads, kernel_shape).
const WINDOWED: [&str; 7] = [
    "Conv",
    "ConvTranspose",
    "ConvInteger",
    "QLinearConv",
    "MaxPool",
    "AveragePool",
    "LpPool",
];

/// Ops with a `group` attribute and a weight of shape [M, C/group, k...] at input 1 (3 for
/// QLinearConv).
fn weight_input(op: &str) -> Option<usize> {
    match op {
        "Conv" | "ConvInteger" => Some(1),
        "QLinearConv" => Some(3),
        _ => None,
    }
}

/// An input with a dimension of 0 holds nothing to measure, and tract then evaluates every op
/// on it while loading, iterating over its other dimensions however large.
pub fn empty_input(name: &str, dims: &[i64]) -> Refusal {
    Refusal::EmptyInput {
        name: name.to_string(),
        dims: dims_text(dims),
    }
}

/// Fewest dimensions the data input (input 0) of an op must have (tract indexes the channel
/// or spatial axes of it unchecked).
fn least_rank(op: &str) -> Option<usize> {
    match op {
        "BatchNormalization" => Some(2),
        "InstanceNormalization" | "LRN" | "GlobalAveragePool" | "GlobalMaxPool" => Some(3),
        w if WINDOWED.contains(&w) => Some(3),
        _ => None,
    }
}

/// Ops whose output has the rank of their first input.
const SAME_RANK: [&str; 14] = [
    "Relu",
    "LeakyRelu",
    "Sigmoid",
    "Tanh",
    "Clip",
    "Identity",
    "Dropout",
    "BatchNormalization",
    "Softmax",
    "Neg",
    "Abs",
    "Exp",
    "HardSigmoid",
    "HardSwish",
];

/// Ops whose output has the largest rank of their inputs (broadcasting).
const BROADCAST_RANK: [&str; 5] = ["Add", "Sub", "Mul", "Div", "Max"];

/// The number of dimensions of the tensors it is plain from the protobuf: graph inputs,
/// initializers, and what the common ops make of them (same rank, broadcasting, a constant
/// target shape, Flatten and Gemm, Unsqueeze and Squeeze by their constant axes, Gather);
/// unknown elsewhere, where the check is left to tract.
fn ranks(g: &pb::GraphProto) -> HashMap<&str, usize> {
    let initializers: HashMap<&str, &pb::TensorProto> =
        g.initializer.iter().map(|t| (t.name.as_str(), t)).collect();
    let mut r: HashMap<&str, usize> = HashMap::new();
    for i in &g.input {
        if has_shape(i) {
            r.insert(i.name.as_str(), static_dims(i).len());
        }
    }
    for t in &g.initializer {
        r.insert(t.name.as_str(), t.dims.len());
    }
    for n in &g.node {
        let known: Option<Vec<usize>> = n
            .input
            .iter()
            .filter(|i| !i.is_empty())
            .map(|i| r.get(i.as_str()).copied())
            .collect();
        let first = n.input.first().and_then(|i| r.get(i.as_str()).copied());
        let constant_len = |ix: usize| {
            n.input
                .get(ix)
                .and_then(|i| initializers.get(i.as_str()))
                .and_then(|t| t.dims.first())
                .map(|&d| d.max(0) as usize)
        };
        let rank = match (n.op_type.as_str(), known) {
            (op, Some(k)) if SAME_RANK.contains(&op) => k.first().copied(),
            (op, Some(k)) if BROADCAST_RANK.contains(&op) => k.iter().max().copied(),
            ("Reshape", _) => constant_len(1),
            ("Expand", _) => constant_len(1).zip(first).map(|(a, b)| a.max(b)),
            ("ConstantOfShape", _) => constant_len(0),
            ("Flatten" | "Gemm", _) => Some(2),
            ("Unsqueeze", _) => first.zip(constant_len(1)).map(|(a, b)| a + b),
            ("Squeeze", _) => first.zip(constant_len(1)).map(|(a, b)| a.saturating_sub(b)),
            ("Gather", Some(k)) if k.len() == 2 => Some((k[0] + k[1]).saturating_sub(1)),
            ("MatMul", Some(k)) => k.iter().max().copied(),
            ("Transpose" | "Slice" | "Pad" | "Tile" | "Resize" | "Concat" | "Split", _) => first,
            _ => None,
        };
        if let (Some(rank), Some(out)) = (rank, n.output.first()) {
            r.insert(out.as_str(), rank);
        }
    }
    r
}

fn has_shape(v: &pb::ValueInfoProto) -> bool {
    use pb::type_proto::Value as TypeValue;
    matches!(
        v.r#type.as_ref().and_then(|t| t.value.as_ref()),
        Some(TypeValue::TensorType(t)) if t.shape.is_some()
    )
}

/// The constant int64 input of an op that must hold no negative value, and what it is
/// (tract takes a negative repeat count as 2^64 - n: a Tile of it loops for ever).
fn non_negative_input(op: &str) -> Option<(usize, &'static str)> {
    match op {
        "Tile" => Some((1, "repeats")),
        "Expand" => Some((1, "shape")),
        "ConstantOfShape" => Some((0, "shape")),
        _ => None,
    }
}

/// Largest count of values read from a constant shape tensor (real ones have a few).
const MAX_SHAPE_VALUES: usize = 64;

fn attr<'a>(node: &'a pb::NodeProto, name: &str) -> Option<&'a pb::AttributeProto> {
    node.attribute.iter().find(|a| a.name == name)
}

/// `1x3x8x8`.
fn dims_text<T: std::fmt::Display>(dims: &[T]) -> String {
    let text: Vec<String> = dims.iter().map(|d| d.to_string()).collect();
    if text.is_empty() {
        "a scalar".into()
    } else {
        text.join("x")
    }
}

/// Bytes with a binary unit, as everywhere: [`crate::units::bytes`].
pub use crate::units::bytes as bytes_text;

/// Size in bytes of one element of an ONNX data type (1 for unknown or sub-byte types: a
/// lower bound).
fn elem_bytes(data_type: i32) -> u64 {
    match DataType::try_from(data_type) {
        Ok(DataType::Double | DataType::Int64 | DataType::Uint64 | DataType::Complex64) => 8,
        Ok(DataType::Complex128) => 16,
        Ok(DataType::Float | DataType::Int32 | DataType::Uint32) => 4,
        Ok(DataType::Float16 | DataType::Bfloat16 | DataType::Int16 | DataType::Uint16) => 2,
        _ => 1,
    }
}

/// Element count of `dims`, `None` when the product overflows 64 bits.
fn elements(dims: impl IntoIterator<Item = u64>) -> Option<u64> {
    dims.into_iter().try_fold(1u64, |acc, d| acc.checked_mul(d))
}

/// The values of a small constant int64 tensor.
fn int64_values(t: &pb::TensorProto) -> Option<Vec<i64>> {
    if t.data_type != DataType::Int64 as i32 {
        return None;
    }
    if !t.int64_data.is_empty() {
        return (t.int64_data.len() <= MAX_SHAPE_VALUES).then(|| t.int64_data.clone());
    }
    if !t.raw_data.len().is_multiple_of(8) || t.raw_data.len() / 8 > MAX_SHAPE_VALUES {
        return None;
    }
    Some(
        t.raw_data
            .chunks_exact(8)
            .map(|c| i64::from_le_bytes(c.try_into().unwrap_or([0; 8])))
            .collect(),
    )
}

fn overflow(what: String, dims: &[i64]) -> Refusal {
    Refusal::Overflow {
        what,
        dims: dims_text(dims),
    }
}

/// Checks on the protobuf alone. `memory_bytes` is what the machine has available (`None`:
/// unknown, no size is refused).
pub fn graph(proto: &pb::ModelProto, memory_bytes: Option<u64>) -> Result<(), Refusal> {
    let Some(g) = proto.graph.as_ref() else {
        return Ok(());
    };
    let initializers: HashMap<&str, &pb::TensorProto> =
        g.initializer.iter().map(|t| (t.name.as_str(), t)).collect();
    for t in &g.initializer {
        if t.dims.iter().any(|&d| d < 0) {
            return Err(Refusal::NegativeDimension {
                name: t.name.clone(),
                dims: dims_text(&t.dims),
            });
        }
        elements(t.dims.iter().map(|&d| d as u64))
            .and_then(|n| n.checked_mul(elem_bytes(t.data_type)))
            .ok_or_else(|| overflow(format!("initializer `{}`", t.name), &t.dims))?;
    }
    for input in g
        .input
        .iter()
        .filter(|i| !initializers.contains_key(i.name.as_str()))
    {
        let dims = static_dims(input);
        if elements(dims.iter().map(|&d| d.max(0) as u64)).is_none() {
            return Err(overflow(format!("input `{}`", input.name), &dims));
        }
    }
    let ranks = ranks(g);
    // Constants the ops below read their shapes from: initializers and Constant nodes.
    let mut constants: HashMap<&str, &pb::TensorProto> = initializers.clone();
    for n in g.node.iter().filter(|n| n.op_type == "Constant") {
        if let (Some(out), Some(t)) = (
            n.output.first(),
            attr(n, "value").and_then(|a| a.t.as_ref()),
        ) {
            constants.insert(out.as_str(), t);
        }
    }
    let mut defined: HashSet<&str> = g.input.iter().map(|i| i.name.as_str()).collect();
    defined.extend(initializers.keys());
    for n in &g.node {
        defined.extend(n.output.iter().map(|o| o.as_str()));
    }
    for o in &g.output {
        if !defined.contains(o.name.as_str()) {
            return Err(Refusal::DanglingOutput(o.name.clone()));
        }
    }
    order::outputs(g)?;
    for (ix, n) in g.node.iter().enumerate() {
        let name = onnx_node_name(ix, n);
        let at = || format!("node `{name}` ({})", n.op_type);
        if let Some(missing) = n
            .input
            .iter()
            .find(|i| !i.is_empty() && !defined.contains(i.as_str()))
        {
            return Err(Refusal::DanglingInput {
                at: at(),
                missing: missing.clone(),
            });
        }
        if WINDOWED.contains(&n.op_type.as_str()) {
            window_attributes(n, &initializers).map_err(|why| Refusal::Window { at: at(), why })?;
        }
        if let Some(least) = least_rank(&n.op_type)
            && let Some(&rank) = n.input.first().and_then(|i| ranks.get(i.as_str()))
            && rank < least
        {
            return Err(Refusal::Rank {
                at: at(),
                rank,
                least,
            });
        }
        if n.op_type == "Transpose"
            && let Some(perm) = ints(n, "perm")
        {
            let mut sorted = perm.clone();
            sorted.sort_unstable();
            if !sorted.iter().copied().eq(0..perm.len() as i64) {
                return Err(Refusal::Permutation { at: at(), perm });
            }
        }
        if let Some((input, what)) = non_negative_input(&n.op_type)
            && let Some(values) = n
                .input
                .get(input)
                .and_then(|i| constants.get(i.as_str()))
                .and_then(|t| int64_values(t))
                .filter(|v| v.iter().any(|&x| x < 0))
        {
            return Err(Refusal::NegativeValues {
                at: at(),
                what,
                values,
            });
        }
        if let Some(bytes) = constant_shaped_output(n, &constants) {
            let bytes = bytes.map_err(|dims| overflow(at(), &dims))?;
            if let Some(avail) = memory_bytes.filter(|&a| bytes.0 > a) {
                return Err(Refusal::ConstantTooLarge {
                    at: at(),
                    dims: dims_text(&bytes.1),
                    bytes: bytes.0,
                    available: avail,
                });
            }
        }
    }
    order::acyclic(g)
}

/// The static dims of a graph input's type (a symbolic or missing dim counts as 0: an element
/// count, not a shape to check for emptiness).
fn static_dims(v: &pb::ValueInfoProto) -> Vec<i64> {
    use pb::tensor_shape_proto::dimension::Value;
    use pb::type_proto::Value as TypeValue;
    let Some(TypeValue::TensorType(t)) = v.r#type.as_ref().and_then(|t| t.value.as_ref()) else {
        return Vec::new();
    };
    t.shape
        .as_ref()
        .map(|s| {
            s.dim
                .iter()
                .map(|d| match d.value {
                    Some(Value::DimValue(v)) => v,
                    _ => 0,
                })
                .collect()
        })
        .unwrap_or_default()
}

/// Strides, dilations and kernel sizes at least 1, pads not negative, the group at least 1 and
/// dividing the weight's output channels, and a dilated kernel whose span fits 64 bits.
fn window_attributes(
    n: &pb::NodeProto,
    initializers: &HashMap<&str, &pb::TensorProto>,
) -> Result<(), WindowAttribute> {
    for (name, least) in [
        ("strides", 1),
        ("dilations", 1),
        ("kernel_shape", 1),
        ("pads", 0),
    ] {
        if let Some(values) = ints(n, name).filter(|v| v.iter().any(|&x| x < least)) {
            return Err(WindowAttribute::TooSmall {
                name,
                values,
                least,
            });
        }
    }
    let group = int(n, "group").unwrap_or(1);
    if group < 1 {
        return Err(WindowAttribute::GroupBelowOne(group));
    }
    let weight = weight_input(&n.op_type)
        .and_then(|i| n.input.get(i))
        .and_then(|w| initializers.get(w.as_str()));
    if let Some(&out_channels) = weight.and_then(|w| w.dims.first())
        && out_channels % group != 0
    {
        return Err(WindowAttribute::GroupDivides {
            group,
            out_channels,
        });
    }
    let kernel = ints(n, "kernel_shape")
        .or_else(|| weight.map(|w| w.dims.iter().skip(2).copied().collect()))
        .unwrap_or_default();
    let dilations = ints(n, "dilations").unwrap_or_default();
    for (k, d) in kernel
        .iter()
        .zip(dilations.iter().chain(std::iter::repeat(&1)))
    {
        if (k - 1)
            .checked_mul(*d)
            .and_then(|s| s.checked_add(1))
            .is_none()
        {
            return Err(WindowAttribute::Span {
                dilations,
                kernel: *k,
            });
        }
    }
    Ok(())
}

/// A tensor's size: bytes and dims.
type TensorSize = (u64, Vec<i64>);

/// The size of what an `Expand` or `ConstantOfShape` with a constant shape makes: (bytes,
/// dims), `Err(dims)` when its element count overflows, `None` for other ops or a shape that
/// is not constant. For `Expand` it is a lower bound (the input broadcasts into it).
fn constant_shaped_output(
    n: &pb::NodeProto,
    constants: &HashMap<&str, &pb::TensorProto>,
) -> Option<Result<TensorSize, Vec<i64>>> {
    let (shape_input, elem) = match n.op_type.as_str() {
        "Expand" => {
            let data = n.input.first().and_then(|i| constants.get(i.as_str()));
            (1, data.map(|t| elem_bytes(t.data_type)).unwrap_or(1))
        }
        "ConstantOfShape" => {
            let value = attr(n, "value").and_then(|a| a.t.as_ref());
            (0, value.map(|t| elem_bytes(t.data_type)).unwrap_or(4))
        }
        _ => return None,
    };
    let dims = int64_values(constants.get(n.input.get(shape_input)?.as_str())?)?;
    if dims.iter().any(|&d| d < 0) {
        return None;
    }
    Some(
        elements(dims.iter().map(|&d| d as u64))
            .and_then(|e| e.checked_mul(elem))
            .map(|b| (b, dims.clone()))
            .ok_or(dims),
    )
}

#[cfg(test)]
mod tests;
