//! Shape-preserving rewrites of a model's own ONNX graph, each a design change the paper's RQ4
//! asks about, so that `study` and `advise` measure what the change saves on this device
//! instead of estimating it. Every rewrite keeps every tensor's shape; all but
//! [`Rewrite::FoldBn`] change what the network computes, and accuracy is not measured.
//!
//! A rewrite applies to the top-level graph (not to the bodies of `If` or `Loop`), and only
//! where it is sure: a BatchNorm whose conv output has another reader stays, as does an
//! activation it does not know.
//!
//! [`Rewrite::Int8`] ([`int8`]) is kept apart from [`Rewrite::CHANGES`]: it turns the model
//! into onnxruntime's QDQ int8 format, which `study` measures only when asked (`--int8`).

mod graph;
pub mod int8;

use graph::*;
use std::collections::{HashMap, HashSet};
use tract_onnx::pb::{GraphProto, ModelProto, NodeProto, TensorProto};

/// One rewrite of a model's graph.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Rewrite {
    /// No change: the model measured again just before its rewrites, so that each saving is
    /// taken against a run of the same moment.
    AsIs,
    /// No change, just after the rewrites: with [`Rewrite::AsIs`] it brackets them, so that a
    /// drift of the machine while they ran shows (and is taken out).
    AsIsAfter,
    /// Every activation it knows becomes a ReLU: ReLU6 (`Clip` from 0), LeakyReLU, ELU, SELU,
    /// CELU, Softplus, Mish, GELU, HardSwish, PReLU, and `x * sigmoid(x)` (SiLU, Swish) or
    /// `x * hardsigmoid(x)` (HardSwish as exported below opset 14).
    Relu,
    /// Windowed average pooling becomes max pooling: `AveragePool` to `MaxPool`.
    MaxPool,
    /// Global average pooling becomes global max pooling: `GlobalAveragePool`, and
    /// `ReduceMean` over the two spatial axes (adaptive average pooling's export). Kept apart
    /// from [`Rewrite::MaxPool`]: a runtime's global and windowed pools are different kernels.
    GlobalMaxPool,
    /// Each BatchNorm right after a conv is folded into the conv's weights and bias, as
    /// `torch.onnx.export` does in eval mode: the same function, one node fewer.
    FoldBn,
    /// Each channel shuffle (`Reshape` to 5-D, `Transpose` (0, 2, 1, 3, 4), `Reshape` back)
    /// is removed: the channels stay in their order.
    NoShuffle,
    /// The model quantized to int8 in onnxruntime's QDQ format ([`int8`]): int8 weights and
    /// int32 biases behind DequantizeLinear, a QuantizeLinear/DequantizeLinear pair on each
    /// quantized op's activation input.
    Int8,
}

impl Rewrite {
    /// The rewrites that change a graph, in the order they are measured.
    pub const CHANGES: [Rewrite; 5] = [
        Rewrite::Relu,
        Rewrite::MaxPool,
        Rewrite::GlobalMaxPool,
        Rewrite::FoldBn,
        Rewrite::NoShuffle,
    ];

    /// Its name: the suffix of the rewritten model's name (`resnet50+fold-bn`).
    pub fn as_str(self) -> &'static str {
        match self {
            Rewrite::AsIs => "as-is",
            Rewrite::AsIsAfter => "as-is-after",
            Rewrite::Relu => "relu",
            Rewrite::MaxPool => "max-pool",
            Rewrite::GlobalMaxPool => "global-max-pool",
            Rewrite::FoldBn => "fold-bn",
            Rewrite::NoShuffle => "no-shuffle",
            Rewrite::Int8 => "int8",
        }
    }

    /// Whether it changes the graph (the as-is runs do not).
    pub fn changes(self) -> bool {
        !matches!(self, Rewrite::AsIs | Rewrite::AsIsAfter)
    }
}

/// Every rewrite that changes `proto`, and how many places it changes: the
/// [`Rewrite::CHANGES`] in their order, then [`Rewrite::Int8`] (its places: the ops it
/// quantizes).
pub fn sites(proto: &ModelProto) -> Vec<(Rewrite, usize)> {
    let Some(g) = proto.graph.as_ref() else {
        return Vec::new();
    };
    Rewrite::CHANGES
        .into_iter()
        .chain([Rewrite::Int8])
        .map(|r| (r, places(proto, g, r)))
        .filter(|(_, n)| *n > 0)
        .collect()
}

/// How many places `rewrite` changes in `proto`'s graph `g`, without computing any weight.
fn places(proto: &ModelProto, g: &GraphProto, rewrite: Rewrite) -> usize {
    if rewrite == Rewrite::Int8 && !int8::opset_ok(proto) {
        return 0;
    }
    edits(g, rewrite, false).sites
}

/// Rewrites `proto` in place; returns how many places changed (0: the rewrite does not apply,
/// and nothing changed).
pub fn apply(proto: &mut ModelProto, rewrite: Rewrite) -> usize {
    if rewrite == Rewrite::Int8 && !int8::opset_ok(proto) {
        return 0;
    }
    let Some(g) = proto.graph.as_mut() else {
        return 0;
    };
    let e = edits(g, rewrite, true);
    let sites = e.sites;
    if sites > 0 {
        e.commit(g);
    }
    sites
}

/// What a rewrite changes: nodes replaced, inserted and removed, values read under another
/// name, initializers added.
#[derive(Default)]
struct Edits {
    replace: Vec<(usize, NodeProto)>,
    /// New nodes, each placed just before the node of that index (in the order given).
    insert: Vec<(usize, NodeProto)>,
    remove: HashSet<usize>,
    rename: HashMap<String, String>,
    add: Vec<TensorProto>,
    sites: usize,
}

impl Edits {
    fn commit(self, g: &mut GraphProto) {
        for (ix, node) in self.replace {
            g.node[ix] = node;
        }
        g.initializer.extend(self.add);
        let mut remove = self.remove;
        if !self.insert.is_empty() {
            // Rebuilt in order, the removed indices moved with their nodes.
            let mut before: HashMap<usize, Vec<NodeProto>> = HashMap::new();
            for (ix, node) in self.insert {
                before.entry(ix).or_default().push(node);
            }
            let old = std::mem::take(&mut g.node);
            let mut moved = HashSet::new();
            for (ix, node) in old.into_iter().enumerate() {
                g.node.extend(before.remove(&ix).unwrap_or_default());
                if remove.contains(&ix) {
                    moved.insert(g.node.len());
                }
                g.node.push(node);
            }
            remove = moved;
        }
        remove_and_rename(g, &remove, &self.rename);
    }
}

/// The edits of `rewrite` on `g`; the folded weights are computed only with `compute` (else
/// only the places are counted).
fn edits(g: &GraphProto, rewrite: Rewrite, compute: bool) -> Edits {
    match rewrite {
        Rewrite::AsIs | Rewrite::AsIsAfter => Edits::default(),
        Rewrite::Relu => relu(g),
        Rewrite::MaxPool => max_pool(g, false),
        Rewrite::GlobalMaxPool => max_pool(g, true),
        Rewrite::FoldBn => fold_bn(g, compute),
        Rewrite::NoShuffle => no_shuffle(g),
        Rewrite::Int8 => int8::edits(g, compute),
    }
}

/// `op_type` on `input`, under `like`'s name and first output.
fn node_like(like: &NodeProto, op_type: &str, input: Vec<String>) -> NodeProto {
    NodeProto {
        name: like.name.clone(),
        op_type: op_type.to_string(),
        input,
        output: like.output.iter().take(1).cloned().collect(),
        ..Default::default()
    }
}

/// Element-wise activations that become a ReLU of their first input.
const ACTIVATIONS: [&str; 11] = [
    "LeakyRelu",
    "Elu",
    "Selu",
    "Celu",
    "Softplus",
    "Mish",
    "Gelu",
    "HardSwish",
    "ThresholdedRelu",
    "PRelu",
    "Clip",
];

/// Whether a `Clip` is a ReLU with a ceiling (ReLU6): its minimum is 0.
fn clip_from_zero(g: &GraphProto, n: &NodeProto) -> bool {
    match n.input.get(1) {
        Some(min) if !min.is_empty() => scalar(g, min) == Some(0.0),
        _ => attr_float(n, "min") == Some(0.0),
    }
}

fn relu(g: &GraphProto) -> Edits {
    let producer = producers(g);
    let uses = uses(g);
    let mut e = Edits::default();
    for (ix, n) in g.node.iter().enumerate() {
        let Some(x) = n.input.first() else { continue };
        if !n.domain.is_empty() && n.domain != "ai.onnx" {
            continue;
        }
        if ACTIVATIONS.contains(&n.op_type.as_str())
            && (n.op_type != "Clip" || clip_from_zero(g, n))
        {
            e.replace.push((ix, node_like(n, "Relu", vec![x.clone()])));
            e.sites += 1;
            continue;
        }
        // x * sigmoid(x), either way round.
        if n.op_type != "Mul" || n.input.len() != 2 {
            continue;
        }
        let gated = [(0, 1), (1, 0)].into_iter().find_map(|(a, b)| {
            let gate_ix = *producer.get(n.input[b].as_str())?;
            let gate = &g.node[gate_ix];
            let is_gate = matches!(gate.op_type.as_str(), "Sigmoid" | "HardSigmoid");
            (is_gate && gate.input.first() == Some(&n.input[a])).then_some((a, gate_ix))
        });
        if let Some((a, gate_ix)) = gated {
            e.replace
                .push((ix, node_like(n, "Relu", vec![n.input[a].clone()])));
            if uses.get(g.node[gate_ix].output[0].as_str()) == Some(&1) {
                e.remove.insert(gate_ix);
            }
            e.sites += 1;
        }
    }
    e
}

/// Whether a `ReduceMean` averages over the two spatial axes of an NCHW tensor.
fn spatial_mean(g: &GraphProto, n: &NodeProto) -> bool {
    let axes = match attr_ints(n, "axes") {
        Some(a) => a.to_vec(),
        None => match n.input.get(1).and_then(|a| constant(g, a)).and_then(ints) {
            Some(a) => a,
            None => return false,
        },
    };
    let mut axes = axes;
    axes.sort_unstable();
    axes == [2, 3] || axes == [-2, -1]
}

/// Average pools to max pools: the windowed ones, or (`global`) the global ones.
fn max_pool(g: &GraphProto, global: bool) -> Edits {
    let mut e = Edits::default();
    for (ix, n) in g.node.iter().enumerate() {
        let to = match (n.op_type.as_str(), global) {
            ("AveragePool", false) => "MaxPool",
            ("GlobalAveragePool", true) => "GlobalMaxPool",
            ("ReduceMean", true) if spatial_mean(g, n) => "ReduceMax",
            _ => continue,
        };
        let mut m = node_like(n, to, n.input.clone());
        // MaxPool has no count_include_pad; every other attribute means the same.
        m.attribute = n
            .attribute
            .iter()
            .filter(|a| a.name != "count_include_pad")
            .cloned()
            .collect();
        e.replace.push((ix, m));
        e.sites += 1;
    }
    e
}

/// The float values of constant input `i` of `n` (absent: `None`).
fn const_input(g: &GraphProto, n: &NodeProto, i: usize) -> Option<Vec<f32>> {
    n.input
        .get(i)
        .filter(|s| !s.is_empty())
        .and_then(|s| constant(g, s))
        .and_then(floats)
}

fn fold_bn(g: &GraphProto, compute: bool) -> Edits {
    let producer = producers(g);
    let uses = uses(g);
    let mut e = Edits::default();
    for (bn_ix, bn) in g.node.iter().enumerate() {
        if bn.op_type != "BatchNormalization"
            || bn.input.len() != 5
            || bn.output.iter().skip(1).any(|o| !o.is_empty())
        {
            continue;
        }
        let x = bn.input[0].as_str();
        let Some(&conv_ix) = producer.get(x) else {
            continue;
        };
        let conv = &g.node[conv_ix];
        if conv.op_type != "Conv" || uses.get(x) != Some(&1) || is_graph_output(g, x) {
            continue;
        }
        let Some(w_tensor) = conv.input.get(1).and_then(|w| constant(g, w)) else {
            continue;
        };
        let out_channels = w_tensor.dims.first().copied().unwrap_or(0).max(0) as usize;
        let params: Option<Vec<Vec<f32>>> = (1..5).map(|i| const_input(g, bn, i)).collect();
        let Some(params) = params.filter(|p| p.iter().all(|v| v.len() == out_channels)) else {
            continue;
        };
        let has_bias = conv.input.get(2).is_some_and(|b| !b.is_empty());
        let bias = if has_bias {
            match const_input(g, conv, 2) {
                Some(b) if b.len() == out_channels => b,
                _ => continue,
            }
        } else {
            vec![0.0; out_channels]
        };
        // Counting only: checked without decoding that the weights are floats in the file.
        let weights = if compute {
            floats(w_tensor)
        } else {
            floats_in_file(w_tensor).map(|_| Vec::new())
        };
        let Some(mut w) = weights.filter(|_| out_channels > 0) else {
            continue;
        };
        e.sites += 1;
        e.remove.insert(bn_ix);
        let mut folded = conv.clone();
        folded.output = vec![bn.output[0].clone()];
        if compute {
            let [gamma, beta, mean, var] = [&params[0], &params[1], &params[2], &params[3]];
            let eps = attr_float(bn, "epsilon").unwrap_or(1e-5);
            let per_channel = w.len() / out_channels;
            let mut b = bias;
            for o in 0..out_channels {
                let scale = gamma[o] / (var[o] + eps).sqrt();
                w[o * per_channel..(o + 1) * per_channel]
                    .iter_mut()
                    .for_each(|v| *v *= scale);
                b[o] = beta[o] + (b[o] - mean[o]) * scale;
            }
            let stem = format!("{}.folded{bn_ix}", bn.output[0]);
            let (w_name, b_name) = (format!("{stem}.weight"), format!("{stem}.bias"));
            e.add
                .push(tensor(w_name.clone(), w_tensor.dims.clone(), &w));
            e.add
                .push(tensor(b_name.clone(), vec![out_channels as i64], &b));
            folded.input = vec![conv.input[0].clone(), w_name, b_name];
        }
        e.replace.push((conv_ix, folded));
    }
    e
}

/// How many floats a tensor holds in the file, without decoding them.
fn floats_in_file(t: &TensorProto) -> Option<usize> {
    use tract_onnx::pb::tensor_proto::{DataLocation, DataType};
    let external = t.data_location == Some(DataLocation::External as i32);
    let count = if t.raw_data.is_empty() {
        t.float_data.len()
    } else {
        t.raw_data.len() / 4
    };
    (t.data_type == DataType::Float as i32 && !external).then_some(count)
}

/// Which nodes read each value.
fn readers(g: &GraphProto) -> HashMap<&str, Vec<usize>> {
    let mut out: HashMap<&str, Vec<usize>> = HashMap::new();
    for (ix, n) in g.node.iter().enumerate() {
        for i in &n.input {
            out.entry(i.as_str()).or_default().push(ix);
        }
    }
    out
}

fn no_shuffle(g: &GraphProto) -> Edits {
    let producer = producers(g);
    let readers = readers(g);
    let only_reader = |value: &str| match readers.get(value).map(|r| r.as_slice()) {
        Some([one]) if !is_graph_output(g, value) => Some(*one),
        _ => None,
    };
    let mut e = Edits::default();
    for (t_ix, t) in g.node.iter().enumerate() {
        if t.op_type != "Transpose" || attr_ints(t, "perm") != Some(&[0, 2, 1, 3, 4][..]) {
            continue;
        }
        let Some(t_in) = t.input.first() else {
            continue;
        };
        let Some(&r1_ix) = producer.get(t_in.as_str()) else {
            continue;
        };
        let r1 = &g.node[r1_ix];
        let Some(r2_ix) = t.output.first().and_then(|o| only_reader(o)) else {
            continue;
        };
        let r2 = &g.node[r2_ix];
        if r1.op_type != "Reshape"
            || r2.op_type != "Reshape"
            || only_reader(t_in) != Some(t_ix)
            || r2.input.first() != t.output.first()
        {
            continue;
        }
        let (Some(x), Some(y)) = (r1.input.first(), r2.output.first()) else {
            continue;
        };
        e.sites += 1;
        e.remove.extend([r1_ix, t_ix]);
        if is_graph_output(g, y) {
            e.replace
                .push((r2_ix, node_like(r2, "Identity", vec![x.clone()])));
        } else {
            e.remove.insert(r2_ix);
            e.rename.insert(y.clone(), x.clone());
        }
    }
    e
}

#[cfg(test)]
pub(crate) mod tests;
