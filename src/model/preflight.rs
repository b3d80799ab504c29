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
//! - [`diagnose`]: when tract's shape inference fails or panics, what the facts it reached say
//!   is wrong (a group whose channels do not match the input's), instead of tract's rule text.
//!
//! - [`tensor_data`]: tensors whose bytes do not match their dims, and external data: only
//!   regular files inside the model's own folder, of the size the dims need, fitting in memory
//!   (tract reads them; it also refuses locations that leave the folder).
//!
//! Each returns the reason as one sentence; the caller names the model.

use super::onnx_node_name;
use crate::cost::{attr_int as int, attr_ints as ints};
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
pub fn empty_input(name: &str, dims: &[i64]) -> String {
    format!(
        "input `{name}` of shape {} is empty (a dimension of 0): nothing to measure",
        dims_text(dims)
    )
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

fn overflow(what: String, dims: &[i64]) -> String {
    format!(
        "{what}: {} elements overflow a 64-bit count",
        dims_text(dims)
    )
}

/// Checks on the protobuf alone. `memory_bytes` is what the machine has available (`None`:
/// unknown, no size is refused).
pub fn graph(proto: &pb::ModelProto, memory_bytes: Option<u64>) -> Result<(), String> {
    let Some(g) = proto.graph.as_ref() else {
        return Ok(());
    };
    let initializers: HashMap<&str, &pb::TensorProto> =
        g.initializer.iter().map(|t| (t.name.as_str(), t)).collect();
    for t in &g.initializer {
        if t.dims.iter().any(|&d| d < 0) {
            return Err(format!(
                "initializer `{}` has a negative dimension: {}",
                t.name,
                dims_text(&t.dims)
            ));
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
            return Err(format!(
                "graph output `{}` is produced by no node, input or initializer",
                o.name
            ));
        }
    }
    for (ix, n) in g.node.iter().enumerate() {
        let name = onnx_node_name(ix, n);
        let at = || format!("node `{name}` ({})", n.op_type);
        if let Some(missing) = n
            .input
            .iter()
            .find(|i| !i.is_empty() && !defined.contains(i.as_str()))
        {
            return Err(format!(
                "{} reads `{missing}`, which no node, input or initializer produces",
                at()
            ));
        }
        if WINDOWED.contains(&n.op_type.as_str()) {
            window_attributes(n, &initializers).map_err(|why| format!("{}: {why}", at()))?;
        }
        if let Some(least) = least_rank(&n.op_type)
            && let Some(&rank) = n.input.first().and_then(|i| ranks.get(i.as_str()))
            && rank < least
        {
            return Err(format!(
                "{}: its input has {rank} dimension(s), it needs at least {least}",
                at()
            ));
        }
        if n.op_type == "Transpose"
            && let Some(perm) = ints(n, "perm")
        {
            let mut sorted = perm.clone();
            sorted.sort_unstable();
            if !sorted.iter().copied().eq(0..perm.len() as i64) {
                return Err(format!(
                    "{}: perm {perm:?} is not a permutation of the axes",
                    at()
                ));
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
            return Err(format!(
                "{}: {what} {values:?}: every value must be at least 0",
                at()
            ));
        }
        if let Some(bytes) = constant_shaped_output(n, &constants) {
            let bytes = bytes.map_err(|dims| overflow(at(), &dims))?;
            if let Some(avail) = memory_bytes.filter(|&a| bytes.0 > a) {
                return Err(format!(
                    "{} makes a tensor of {} ({}), more than the {} of memory available",
                    at(),
                    dims_text(&bytes.1),
                    bytes_text(bytes.0),
                    bytes_text(avail)
                ));
            }
        }
    }
    Ok(())
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
) -> Result<(), String> {
    for (name, least) in [
        ("strides", 1),
        ("dilations", 1),
        ("kernel_shape", 1),
        ("pads", 0),
    ] {
        if let Some(values) = ints(n, name).filter(|v| v.iter().any(|&x| x < least)) {
            return Err(format!(
                "{name} {values:?}: every value must be at least {least}"
            ));
        }
    }
    let group = int(n, "group").unwrap_or(1);
    if group < 1 {
        return Err(format!("group {group}: must be at least 1"));
    }
    let weight = weight_input(&n.op_type)
        .and_then(|i| n.input.get(i))
        .and_then(|w| initializers.get(w.as_str()));
    if let Some(&out_channels) = weight.and_then(|w| w.dims.first())
        && out_channels % group != 0
    {
        return Err(format!(
            "group {group} does not divide the weight's {out_channels} output channels"
        ));
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
            return Err(format!(
                "dilations {dilations:?}: a kernel of {k} spans more than 2^63"
            ));
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

/// Size in bytes of one element of a fixed-size ONNX data type (`None` for strings, sub-byte
/// and unknown types).
fn exact_elem_bytes(data_type: i32) -> Option<u64> {
    match DataType::try_from(data_type).ok()? {
        DataType::Bool | DataType::Int8 | DataType::Uint8 => Some(1),
        DataType::String | DataType::Undefined => None,
        d => {
            let b = elem_bytes(d as i32);
            (b > 1).then_some(b)
        }
    }
}

fn is_external(t: &pb::TensorProto) -> bool {
    t.data_location == Some(pb::tensor_proto::DataLocation::External as i32)
        && t.raw_data.is_empty()
}

fn external_key<'a>(t: &'a pb::TensorProto, key: &str) -> Option<&'a str> {
    t.external_data
        .iter()
        .find(|e| e.key == key)
        .map(|e| e.value.as_str())
}

/// Tensors stored in the file, whose bytes must match their dims; and tensors stored in
/// external files: each file is a regular file inside the model's folder (`model_dir`; `None`
/// for a model built in memory, which has none), holds the bytes the dims need, and all of
/// them fit in `memory_bytes` (tract reads them into memory).
pub fn tensor_data(
    proto: &pb::ModelProto,
    model_dir: Option<&std::path::Path>,
    memory_bytes: Option<u64>,
) -> Result<(), String> {
    let Some(g) = proto.graph.as_ref() else {
        return Ok(());
    };
    let constants = g
        .node
        .iter()
        .filter(|n| n.op_type == "Constant")
        .filter_map(|n| {
            let t = attr(n, "value")?.t.as_ref()?;
            Some((n.output.first().map(|o| o.as_str()).unwrap_or_default(), t))
        });
    let tensors = g
        .initializer
        .iter()
        .map(|t| (t.name.as_str(), t))
        .chain(constants);
    let mut external_bytes = 0u64;
    for (name, t) in tensors {
        let needed = elements(t.dims.iter().map(|&d| d.max(0) as u64))
            .zip(exact_elem_bytes(t.data_type))
            .and_then(|(e, b)| e.checked_mul(b));
        if !t.raw_data.is_empty() {
            if let Some(needed) = needed.filter(|&n| n != t.raw_data.len() as u64) {
                return Err(format!(
                    "tensor `{name}` holds {} bytes, its dims {} need {needed}",
                    t.raw_data.len(),
                    dims_text(&t.dims)
                ));
            }
            continue;
        }
        if !is_external(t) {
            continue;
        }
        let at = |why: String| format!("tensor `{name}`: external data {why}");
        let dir = model_dir.ok_or_else(|| {
            at("needs the model's folder, and this model was built in memory".into())
        })?;
        let location =
            external_key(t, "location").ok_or_else(|| at("without a location".into()))?;
        let relative = std::path::Path::new(location);
        if location.is_empty()
            || !relative.components().all(|c| {
                matches!(
                    c,
                    std::path::Component::Normal(_) | std::path::Component::CurDir
                )
            })
        {
            return Err(at(format!(
                "at `{location}`: refused, it must be a relative path inside the model's folder"
            )));
        }
        let dir = if dir.as_os_str().is_empty() {
            std::path::Path::new(".")
        } else {
            dir
        };
        let open_err = |e: std::io::Error| at(format!("at `{location}`: cannot read it: {e}"));
        let root = dir.canonicalize().map_err(open_err)?;
        let path = root.join(relative).canonicalize().map_err(open_err)?;
        if !path.starts_with(&root) {
            return Err(at(format!(
                "at `{location}`: refused, a link takes it out of the model's folder"
            )));
        }
        let meta = std::fs::metadata(&path).map_err(open_err)?;
        if !meta.is_file() {
            return Err(at(format!(
                "at `{location}` is not a regular file (a FIFO, a device or a directory)"
            )));
        }
        let number = |key: &str| -> Result<Option<u64>, String> {
            external_key(t, key)
                .map(|v| {
                    v.parse::<u64>()
                        .map_err(|_| at(format!("has a bad {key} `{v}`")))
                })
                .transpose()
        };
        let offset = number("offset")?.unwrap_or(0);
        let length = number("length")?;
        let size = meta.len();
        let end = offset.saturating_add(length.unwrap_or(0));
        if offset > size || end > size {
            return Err(at(format!(
                "at `{location}`: offset {offset} and length {} run past the file's {size} bytes",
                length.unwrap_or(0)
            )));
        }
        let held = length.unwrap_or(size - offset);
        if let Some(needed) = needed
            && (held < needed || (length.is_some() && held != needed))
        {
            return Err(at(format!(
                "at `{location}` holds {held} bytes, its dims {} need {needed}",
                dims_text(&t.dims)
            )));
        }
        external_bytes = external_bytes.saturating_add(needed.unwrap_or(held));
    }
    if let Some(avail) = memory_bytes.filter(|&a| external_bytes > a) {
        return Err(format!(
            "its external data is {}, more than the {} of memory available",
            bytes_text(external_bytes),
            bytes_text(avail)
        ));
    }
    Ok(())
}

/// Concrete dims of a fact, if every one is known.
fn concrete(fact: &InferenceFact) -> Option<TVec<usize>> {
    fact.shape.as_concrete_finite().ok().flatten()
}

/// One dim of a fact, if known.
fn dim(fact: &InferenceFact, axis: usize) -> Option<i64> {
    fact.shape.dim(axis)?.concretize()?.to_i64().ok()
}

fn fact_bytes(fact: &InferenceFact) -> Result<Option<(u64, TVec<usize>)>, TVec<usize>> {
    let Some(dims) = concrete(fact) else {
        return Ok(None);
    };
    let size = fact
        .datum_type
        .concretize()
        .map(|d| d.size_of() as u64)
        .unwrap_or(1);
    elements(dims.iter().map(|&d| d as u64))
        .and_then(|e| e.checked_mul(size))
        .map(|b| Some((b, dims.clone())))
        .ok_or(dims)
}

/// Checks on the analysed model: no tensor's size overflows, no node needs more memory at
/// once than `memory_bytes` (its inputs and outputs together: a lower bound of the run's peak),
/// no window spans more than its padded input.
pub fn shapes(
    proto: &pb::ModelProto,
    inf: &InferenceModel,
    memory_bytes: Option<u64>,
) -> Result<(), String> {
    let mut sizes: HashMap<OutletId, u64> = HashMap::new();
    for node in inf.nodes() {
        let at = || format!("node `{}` ({})", node.name, node.op.name());
        let mut outputs = 0u64;
        let mut largest: Option<(u64, TVec<usize>)> = None;
        for (slot, o) in node.outputs.iter().enumerate() {
            let Some((b, dims)) = fact_bytes(&o.fact).map_err(|dims| {
                format!(
                    "{}: {} elements overflow a 64-bit count",
                    at(),
                    dims_text(&dims)
                )
            })?
            else {
                continue;
            };
            sizes.insert(OutletId::new(node.id, slot), b);
            outputs = outputs.saturating_add(b);
            if largest.as_ref().is_none_or(|l| b > l.0) {
                largest = Some((b, dims));
            }
        }
        let inputs = node
            .inputs
            .iter()
            .filter_map(|i| sizes.get(i))
            .fold(0u64, |a, &b| a.saturating_add(b));
        let needed = inputs.saturating_add(outputs);
        if let (Some(avail), Some((b, dims))) = (memory_bytes, largest)
            && needed > avail
        {
            return Err(format!(
                "{} makes a tensor of {} ({}) and needs {} with its inputs, more than the {} of \
                 memory available",
                at(),
                dims_text(&dims),
                bytes_text(b),
                bytes_text(needed),
                bytes_text(avail)
            ));
        }
    }
    spans(proto, inf)
}

/// The analysed node of each windowed ONNX node.
fn windowed<'a>(
    proto: &'a pb::ModelProto,
    inf: &'a InferenceModel,
) -> impl Iterator<Item = (&'a pb::NodeProto, &'a InferenceNode, String)> + 'a {
    let nodes = proto
        .graph
        .as_ref()
        .map(|g| g.node.as_slice())
        .unwrap_or_default();
    nodes.iter().enumerate().filter_map(move |(ix, n)| {
        if !WINDOWED.contains(&n.op_type.as_str()) {
            return None;
        }
        let name = onnx_node_name(ix, n);
        let node = inf.node_by_name(&name).ok()?;
        Some((n, node, name))
    })
}

/// A dilated kernel spans `(k - 1) x d + 1` input positions; more than the padded input leaves
/// no output position (tract then runs it on nonsense or fails deep inside).
fn spans(proto: &pb::ModelProto, inf: &InferenceModel) -> Result<(), String> {
    for (n, node, name) in windowed(proto, inf) {
        if n.op_type == "ConvTranspose"
            || attr(n, "auto_pad").is_some_and(|a| !a.s.is_empty() && a.s != b"NOTSET")
        {
            continue;
        }
        let facts = |i: usize| node.inputs.get(i).and_then(|o| inf.outlet_fact(*o).ok());
        let Some(input) = facts(0).and_then(concrete) else {
            continue;
        };
        let weight = weight_input(&n.op_type).and_then(facts).and_then(concrete);
        let kernel: Vec<i64> = ints(n, "kernel_shape").unwrap_or_else(|| {
            weight
                .as_ref()
                .map(|w| w.iter().skip(2).map(|&k| k as i64).collect())
                .unwrap_or_default()
        });
        let spatial = input.len().saturating_sub(2);
        let dilations = ints(n, "dilations").unwrap_or_default();
        let pads = ints(n, "pads").unwrap_or_default();
        for (axis, &k) in kernel.iter().enumerate().take(spatial) {
            let d = dilations.get(axis).copied().unwrap_or(1);
            let padded = (input[2 + axis] as i64)
                .saturating_add(pads.get(axis).copied().unwrap_or(0))
                .saturating_add(pads.get(axis + spatial).copied().unwrap_or(0));
            let span = (k - 1).saturating_mul(d).saturating_add(1);
            if span > padded {
                return Err(format!(
                    "node `{name}` ({}): its kernel of {k} with dilation {d} spans {span} \
                     positions on axis {}, more than its input's {padded} (padded): no output",
                    n.op_type,
                    axis + 2
                ));
            }
        }
        // Work: every output position reads a whole window (times the channels per group
        // for a convolution), padding included.
        let outputs = node.outputs.first().and_then(|o| concrete(&o.fact));
        if let Some(outputs) = outputs {
            let per_group = weight.as_ref().and_then(|w| w.get(1).copied()).unwrap_or(1);
            let work = kernel
                .iter()
                .map(|&k| k.max(1) as u64)
                .chain(outputs.iter().map(|&d| d as u64))
                .chain([per_group as u64])
                .fold(1u64, |a, d| a.saturating_mul(d));
            if work > MAX_WINDOW_WORK {
                return Err(format!(
                    "node `{name}` ({}): its {} windows of {} over {} outputs are {work:.1e} \
                     multiply-accumulates or comparisons, more than {MAX_WINDOW_WORK:.0e}, \
                     which no real model needs (VGG16 at 224x224 is 1.5e10 MACs in all)",
                    n.op_type,
                    kernel.len(),
                    dims_text(&kernel),
                    dims_text(&outputs),
                ));
            }
        }
    }
    Ok(())
}

/// Most work one windowed op may do in one inference (window elements x output elements x
/// channels per group): a MaxPool with a 2^29-wide window over padding loops for ever.
const MAX_WINDOW_WORK: u64 = 10_000_000_000_000;

/// What the facts tract reached before its shape inference failed say about the model.
pub fn diagnose(proto: &pb::ModelProto, inf: &InferenceModel) -> Option<String> {
    for (n, node, name) in windowed(proto, inf) {
        let Some(w_ix) = weight_input(&n.op_type) else {
            continue;
        };
        let facts = |i: usize| node.inputs.get(i).and_then(|o| inf.outlet_fact(*o).ok());
        let (Some(channels), Some(per_group)) = (
            facts(0).and_then(|f| dim(f, 1)),
            facts(w_ix).and_then(|f| dim(f, 1)),
        ) else {
            continue;
        };
        let group = int(n, "group").unwrap_or(1);
        if group.checked_mul(per_group) != Some(channels) {
            return Some(format!(
                "node `{name}` ({}): group {group} x the weight's {per_group} channels per \
                 group need {} input channels, and its input has {channels} input channels",
                n.op_type,
                group.saturating_mul(per_group)
            ));
        }
    }
    spans(proto, inf).err()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A graph of `nodes` on a 1x4x8x8 input, producing `y`.
    fn graph_of(nodes: Vec<pb::NodeProto>, initializers: Vec<pb::TensorProto>) -> pb::ModelProto {
        pb::ModelProto {
            graph: Some(pb::GraphProto {
                node: nodes,
                initializer: initializers,
                input: vec![crate::zoo::proto::value_info_f32("input", &[1, 4, 8, 8])],
                output: vec![pb::ValueInfoProto {
                    name: "y".into(),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    fn node(op: &str, inputs: &[&str]) -> pb::NodeProto {
        pb::NodeProto {
            op_type: op.into(),
            input: inputs.iter().map(|s| s.to_string()).collect(),
            output: vec!["y".into()],
            ..Default::default()
        }
    }

    #[test]
    fn a_constant_shape_is_checked_against_the_memory_given() {
        let mut shape = crate::zoo::proto::tensor_i64(&[2], &[1000, 1000]);
        shape.name = "shape".into();
        let p = graph_of(vec![node("ConstantOfShape", &["shape"])], vec![shape]);
        // 10^6 float32 (the default value's type): 3.8 MiB
        assert_eq!(graph(&p, Some(4_000_000)), Ok(()));
        assert_eq!(graph(&p, None), Ok(()), "unknown memory: not refused");
        let refused = graph(&p, Some(3_999_999)).unwrap_err();
        assert!(refused.contains("1000x1000 (3.8 MiB)"), "{refused}");
        assert!(refused.contains("3.8 MiB of memory available"), "{refused}");
    }

    #[test]
    fn window_attributes_are_checked() {
        let mut w = crate::zoo::proto::tensor_f32("w", &[4, 2, 3, 3], &[0.0; 72]);
        w.name = "w".into();
        let conv = |attrs: Vec<pb::AttributeProto>| {
            let mut n = node("Conv", &["input", "w"]);
            n.attribute = attrs;
            graph(&graph_of(vec![n], vec![w.clone()]), None)
        };
        use crate::zoo::proto::{attr_int, attr_ints};
        assert_eq!(
            conv(vec![attr_ints("strides", &[1, 1]), attr_int("group", 2)]),
            Ok(())
        );
        for (attrs, needle) in [
            (vec![attr_ints("strides", &[1, 0])], "strides [1, 0]"),
            (
                vec![attr_ints("pads", &[0, -1, 0, 0])],
                "pads [0, -1, 0, 0]",
            ),
            (
                vec![attr_ints("kernel_shape", &[0, 3])],
                "kernel_shape [0, 3]",
            ),
            (vec![attr_int("group", 0)], "group 0"),
            (
                vec![attr_int("group", 3)],
                "does not divide the weight's 4 output channels",
            ),
            (
                vec![attr_ints("dilations", &[1 << 62, 1])],
                "spans more than 2^63",
            ),
        ] {
            let why = conv(attrs).unwrap_err();
            assert!(why.contains(needle), "`{needle}` not in {why}");
        }
    }

    #[test]
    fn too_few_dimensions_are_named_where_the_graph_makes_them_plain() {
        let mut shape = crate::zoo::proto::tensor_i64(&[1], &[-1]);
        shape.name = "shape".into();
        let mut reshape = node("Reshape", &["input", "shape"]);
        reshape.output = vec!["flat".into()];
        let mut relu = node("Relu", &["flat"]);
        relu.output = vec!["r".into()];
        let bn = node("BatchNormalization", &["r", "s", "b", "m", "v"]);
        let stats = ["s", "b", "m", "v"].map(|n| crate::zoo::proto::tensor_f32(n, &[4], &[1.0; 4]));
        let mut inits = vec![shape];
        inits.extend(stats);
        let why = graph(&graph_of(vec![reshape, relu, bn], inits.clone()), None).unwrap_err();
        assert!(
            why.contains("(BatchNormalization): its input has 1 dimension(s), it needs at least 2"),
            "{why}"
        );
        // on the 4-D input itself it is fine
        let bn = node("BatchNormalization", &["input", "s", "b", "m", "v"]);
        assert_eq!(
            graph(&graph_of(vec![bn], inits[1..].to_vec()), None),
            Ok(())
        );
    }

    #[test]
    fn inputs_and_outputs_nothing_produces_are_named() {
        let p = graph_of(vec![node("Relu", &["nothing"])], vec![]);
        let why = graph(&p, None).unwrap_err();
        assert!(why.contains("reads `nothing`"), "{why}");
        let mut p = graph_of(vec![node("Relu", &["input"])], vec![]);
        p.graph.as_mut().unwrap().output[0].name = "z".into();
        let why = graph(&p, None).unwrap_err();
        assert!(why.contains("graph output `z`"), "{why}");
    }

    #[test]
    fn element_counts_that_overflow_are_none() {
        assert_eq!(elements([2, 3, 4]), Some(24));
        assert_eq!(elements([]), Some(1));
        assert_eq!(elements([1 << 32, 1 << 32]), None);
    }
}
