//! Checks of the analysed model: tensor sizes against the memory available, window spans,
//! input types, and what a failed shape inference's facts say.

use super::*;

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
) -> Result<(), Refusal> {
    let mut sizes: HashMap<OutletId, u64> = HashMap::new();
    for node in inf.nodes() {
        let at = || format!("node `{}` ({})", node.name, node.op.name());
        let mut outputs = 0u64;
        let mut largest: Option<(u64, TVec<usize>)> = None;
        for (slot, o) in node.outputs.iter().enumerate() {
            let Some((b, dims)) = fact_bytes(&o.fact).map_err(|dims| Refusal::Overflow {
                what: at(),
                dims: dims_text(&dims),
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
            return Err(Refusal::NodeTooLarge {
                at: at(),
                dims: dims_text(&dims),
                bytes: b,
                needed,
                available: avail,
            });
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
fn spans(proto: &pb::ModelProto, inf: &InferenceModel) -> Result<(), Refusal> {
    for (n, node, name) in windowed(proto, inf) {
        let at = || format!("node `{name}` ({})", n.op_type);
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
                return Err(Refusal::NoOutput {
                    at: at(),
                    kernel: k,
                    dilation: d,
                    span,
                    axis: axis + 2,
                    padded,
                });
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
                return Err(Refusal::TooMuchWork {
                    at: at(),
                    windows: kernel.len(),
                    kernel: dims_text(&kernel),
                    outputs: dims_text(&outputs),
                    work,
                    limit: MAX_WINDOW_WORK,
                });
            }
        }
    }
    Ok(())
}

/// Most work one windowed op may do in one inference (window elements x output elements x
/// channels per group): a MaxPool with a 2^29-wide window over padding loops for ever.
const MAX_WINDOW_WORK: u64 = 10_000_000_000_000;

/// Ops that compute on numbers: no ONNX version of them takes a bool or a string input (tract
/// fails on one when it runs it, or panics while typing it: Pow). Not ReduceMax: its opset 20
/// takes bool.
const NUMERIC: [&str; 51] = [
    "Add",
    "Sub",
    "Mul",
    "Div",
    "Pow",
    "Mod",
    "Neg",
    "Abs",
    "Sign",
    "Reciprocal",
    "Sqrt",
    "Exp",
    "Log",
    "Floor",
    "Ceil",
    "Round",
    "Erf",
    "Sin",
    "Cos",
    "Tan",
    "Min",
    "Max",
    "Sum",
    "Mean",
    "Clip",
    "Relu",
    "LeakyRelu",
    "PRelu",
    "ThresholdedRelu",
    "Sigmoid",
    "HardSigmoid",
    "HardSwish",
    "Tanh",
    "Softplus",
    "Softsign",
    "Elu",
    "Selu",
    "Celu",
    "Gelu",
    "Mish",
    "Softmax",
    "LogSoftmax",
    "MatMul",
    "Gemm",
    "MaxPool",
    "AveragePool",
    "GlobalAveragePool",
    "GlobalMaxPool",
    "LRN",
    "ReduceMean",
    "ReduceSum",
];

/// Ops that ONNX defines on floating-point data only (tract panics typing an integer GRU),
/// besides the [`NUMERIC`] ones: their data input (input 0) is checked.
const FLOAT_ONLY: [&str; 8] = [
    "Conv",
    "ConvTranspose",
    "GRU",
    "LSTM",
    "RNN",
    "BatchNormalization",
    "InstanceNormalization",
    "LayerNormalization",
];

/// Inputs of a type their op does not take: a bool or string input of a [`NUMERIC`] op, a data
/// input that is not floating-point of a [`FLOAT_ONLY`] one. Types tract has not inferred are
/// left to it.
pub fn types(proto: &pb::ModelProto, inf: &InferenceModel) -> Result<(), Refusal> {
    let nodes = proto.graph.as_ref().map(|g| g.node.as_slice());
    for (ix, n) in nodes.unwrap_or_default().iter().enumerate() {
        let float_only = FLOAT_ONLY.contains(&n.op_type.as_str());
        let Some(op) = FLOAT_ONLY.iter().chain(&NUMERIC).find(|o| **o == n.op_type) else {
            continue;
        };
        let name = onnx_node_name(ix, n);
        let Ok(node) = inf.node_by_name(&name) else {
            continue;
        };
        let named: Vec<&String> = n.input.iter().filter(|i| !i.is_empty()).collect();
        for (slot, outlet) in node.inputs.iter().enumerate() {
            let Some(dt) = inf
                .outlet_fact(*outlet)
                .ok()
                .and_then(|f| f.datum_type.concretize())
            else {
                continue;
            };
            let not_a_number = matches!(dt, DatumType::Bool | DatumType::String);
            let takes = if float_only && slot == 0 && !dt.is_float() {
                Takes::FloatingPoint
            } else if not_a_number {
                Takes::Numbers
            } else {
                continue;
            };
            return Err(Refusal::InputType {
                at: format!("node `{name}` ({op})"),
                op,
                input: named
                    .get(slot)
                    .map_or_else(|| inf.node(outlet.node).name.clone(), |s| s.to_string()),
                ty: crate::model::failure::onnx_type(&format!("{dt:?}")).unwrap_or("another"),
                takes,
            });
        }
    }
    Ok(())
}

/// What the facts tract reached before its shape inference failed say about the model.
pub fn diagnose(proto: &pb::ModelProto, inf: &InferenceModel) -> Option<Refusal> {
    if let Err(wrong_type) = types(proto, inf) {
        return Some(wrong_type);
    }
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
            return Some(Refusal::GroupChannels {
                at: format!("node `{name}` ({})", n.op_type),
                group,
                per_group,
                needed: group.saturating_mul(per_group),
                channels,
            });
        }
    }
    spans(proto, inf).err()
}
