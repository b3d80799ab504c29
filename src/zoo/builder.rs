//! A tiny graph builder: PyTorch-like layer calls in, an ONNX `ModelProto` out.
//!
//! Each family module describes its network with calls such as
//! `b.conv_bn(&x, "conv1.0", "conv1.1", Conv::new(64, 3).pad(1))`, naming every layer by its
//! PyTorch module path. The builder tracks static shapes, draws the weights, names nodes and
//! tensors the way `torch.onnx.export` does (`/conv1/conv1.0/Conv`, `conv1.0.weight`,
//! `/conv1/conv1.0/Conv_output_0`), and keeps two running MAC counts:
//!
//! - `macs_thop`: what thop 0.1.1 reports for the PyTorch module. thop hooks modules only, so a
//!   functional call such as `F.adaptive_avg_pool2d` costs nothing there.
//! - `macs_graph`: the same rules applied to every node of the emitted graph (so it counts those
//!   functional pools, and drops BatchNorm when it is folded).
//!
//! The rules (thop 0.1.1): Conv = output elements x (in_channels / groups) x kernel elements,
//! bias ignored; BatchNorm = 4 x input elements; Linear = in_features x output elements;
//! AvgPool = output elements; adaptive/global average pool = (input spatial / output spatial
//! + 1) x output elements; everything else 0.
//!
//! Weight scales, so that activations stay ordinary floats through 150 layers, as in a trained
//! network where every BatchNorm sees roughly normalized data: each convolution's weights are
//! uniform with variance `1 / (fan_in * E[x^2])`, where `E[x^2]` is the builder's running
//! estimate of its input's mean square (halved by a ReLU, summed by an Add, ...). After a ReLU
//! on normalized data that is Kaiming's `2 / fan_in`; after a linear layer, a depthwise conv or
//! a residual sum it is smaller, which is what keeps deep residual and separable stacks from
//! growing. Conv biases lie within +-0.01; BatchNorm scale 1 +- 0.1, shift and running mean
//! within +-0.05, running variance 1 +- 0.1 (so BatchNorm is near identity); Linear layers use
//! PyTorch's default `U(-1/sqrt(in), 1/sqrt(in))` for weight and bias.

mod conv;
mod moments;
mod ops;
mod quant;
mod tensor_ops;

pub(crate) use conv::Conv;
use conv::Data;
pub use quant::Quant;

use super::proto::{attr_tensor, tensor_f32, tensor_f32_le, tensor_i64, value_info_f32};
use super::rng::Rng;
use super::{ZooError, ZooOptions, ZooStats};
use moments::Moments;
use std::collections::{HashMap, HashSet};
use tract_onnx::pb::{
    AttributeProto, GraphProto, ModelProto, NodeProto, StringStringEntryProto, TensorProto,
};

/// BatchNorm2d's default epsilon.
const BN_EPSILON: f32 = 1e-5;
/// Input of every zoo model: one 32x32 RGB image.
pub(crate) const INPUT_SHAPE: [usize; 4] = [1, 3, 32, 32];
/// Output of every zoo model: CIFAR-100 logits.
pub(crate) const OUTPUT_SHAPE: [usize; 2] = [1, 100];

/// A tensor of the graph being built: its name and static shape.
#[derive(Debug, Clone)]
pub(crate) struct Value {
    pub(crate) name: String,
    pub(crate) shape: Vec<usize>,
    /// Rough estimate of its elements' statistics, from which the next convolution scales its
    /// weights (see the module header).
    m: Moments,
}

impl Value {
    /// Channels of an NCHW value (0 for a value of rank < 2, which the next op then rejects).
    pub(crate) fn channels(&self) -> usize {
        self.shape.get(1).copied().unwrap_or(0)
    }

    fn numel(&self) -> u64 {
        self.shape.iter().map(|&d| d as u64).product()
    }
}

/// Turns a PyTorch module path into the scope `torch.onnx.export` writes in node names:
/// `stage1.0.residual.0` -> `/stage1/stage1.0/residual/residual.0`; "" -> "".
fn scope(module: &str) -> String {
    let mut out = String::new();
    let mut last = String::new();
    for part in module.split('.').filter(|p| !p.is_empty()) {
        last = if part.bytes().all(|c| c.is_ascii_digit()) && !last.is_empty() {
            format!("{last}.{part}")
        } else {
            part.to_string()
        };
        out.push('/');
        out.push_str(&last);
    }
    out
}

/// Output size of a convolution or pooling window along one axis.
fn window_out(size: usize, kernel: usize, stride: usize, pad: usize) -> Option<usize> {
    (size + 2 * pad).checked_sub(kernel).map(|d| d / stride + 1)
}

pub(crate) struct GraphBuilder {
    model: &'static str,
    opts: ZooOptions,
    rng: Rng,
    nodes: Vec<NodeProto>,
    initializers: Vec<TensorProto>,
    node_names: HashMap<String, usize>,
    initializer_names: HashSet<String>,
    stats: ZooStats,
    /// Shape of the graph input: [`INPUT_SHAPE`] for the zoo, anything for a probe.
    input_shape: Vec<usize>,
}

type Built = Result<Value, ZooError>;

impl GraphBuilder {
    pub(crate) fn new(model: &'static str, opts: &ZooOptions) -> Self {
        Self {
            model,
            opts: *opts,
            rng: Rng::new(opts.seed),
            nodes: Vec::new(),
            initializers: Vec::new(),
            node_names: HashMap::new(),
            initializer_names: HashSet::new(),
            stats: ZooStats::default(),
            input_shape: INPUT_SHAPE.to_vec(),
        }
    }

    /// A builder whose graph input is `input` float32 `shape` instead of the zoo's image (the
    /// micro-models of `sweep`).
    pub(crate) fn with_input_shape(
        model: &'static str,
        opts: &ZooOptions,
        shape: &[usize],
    ) -> Self {
        let mut b = Self::new(model, opts);
        b.input_shape = shape.to_vec();
        b
    }

    /// The graph input, `input` float32 [1, 3, 32, 32] (or the shape given to
    /// [`Self::with_input_shape`]).
    pub(crate) fn input(&self) -> Value {
        Value {
            name: "input".to_string(),
            shape: self.input_shape.clone(),
            m: Moments::UNIT,
        }
    }

    pub(crate) fn error(&self, at: &str, reason: String) -> ZooError {
        ZooError::Graph {
            model: self.model,
            at: at.to_string(),
            reason,
        }
    }

    /// Appends a node named `<scope>/<op>` (made unique with `_1`, `_2`... as torch does) and
    /// returns the names of its `outputs` outputs.
    fn node(
        &mut self,
        module: &str,
        op: &str,
        input: Vec<String>,
        attribute: Vec<AttributeProto>,
        outputs: usize,
    ) -> Vec<String> {
        let base = format!("{}/{op}", scope(module));
        let count = self.node_names.entry(base.clone()).or_insert(0);
        let name = if *count == 0 {
            base
        } else {
            format!("{base}_{count}")
        };
        *count += 1;
        let output: Vec<String> = (0..outputs).map(|i| format!("{name}_output_{i}")).collect();
        self.nodes.push(NodeProto {
            name,
            op_type: op.to_string(),
            input,
            output: output.clone(),
            attribute,
            ..Default::default()
        });
        output
    }

    fn node1(
        &mut self,
        module: &str,
        op: &str,
        input: Vec<String>,
        attrs: Vec<AttributeProto>,
    ) -> String {
        self.node(module, op, input, attrs, 1).remove(0)
    }

    /// Adds a float initializer named `<module>.<param>` (PyTorch's state_dict key).
    fn initializer(
        &mut self,
        module: &str,
        param: &str,
        dims: &[usize],
        data: &[f32],
    ) -> Result<String, ZooError> {
        let name = format!("{module}.{param}");
        if !self.initializer_names.insert(name.clone()) {
            return Err(self.error(&name, "initializer defined twice".to_string()));
        }
        self.initializers.push(tensor_f32(&name, dims, data));
        Ok(name)
    }

    /// Like [`Self::initializer`], for values already in little-endian bytes.
    fn initializer_le(
        &mut self,
        module: &str,
        param: &str,
        dims: &[usize],
        raw: Vec<u8>,
    ) -> Result<String, ZooError> {
        let name = format!("{module}.{param}");
        if !self.initializer_names.insert(name.clone()) {
            return Err(self.error(&name, "initializer defined twice".to_string()));
        }
        self.initializers.push(tensor_f32_le(&name, dims, raw));
        Ok(name)
    }

    fn weight_initializer(
        &mut self,
        module: &str,
        dims: &[usize],
        data: Data,
    ) -> Result<String, ZooError> {
        match data {
            Data::Floats(v) => self.initializer(module, "weight", dims, &v),
            Data::Bytes(raw) => self.initializer_le(module, "weight", dims, raw),
        }
    }

    /// A `Constant` node holding an int64 vector, as torch emits for shapes and split sizes.
    fn const_i64(&mut self, module: &str, values: &[i64]) -> String {
        let value = attr_tensor("value", tensor_i64(&[values.len()], values));
        self.node1(module, "Constant", vec![], vec![value])
    }

    /// A `Constant` node holding a float scalar (Clip's bounds).
    fn const_f32_scalar(&mut self, module: &str, v: f32) -> String {
        let value = attr_tensor("value", tensor_f32("", &[], &[v]));
        self.node1(module, "Constant", vec![], vec![value])
    }

    /// Names `out` `output`, checks it is [1, 100], and assembles the model.
    pub(crate) fn finish(self, out: Value, doc: &str) -> Result<(ModelProto, ZooStats), ZooError> {
        if out.shape != OUTPUT_SHAPE {
            return Err(self.error(
                "output",
                format!("output shape {:?}, expected [1, 100]", out.shape),
            ));
        }
        let name = self.model.to_string();
        self.assemble(out, &name, doc)
    }

    /// Names `out` `output` whatever its shape, and assembles a model whose graph is named
    /// `graph_name` (the micro-models of `sweep`).
    pub(crate) fn finish_any(
        self,
        out: Value,
        graph_name: &str,
        doc: &str,
    ) -> Result<(ModelProto, ZooStats), ZooError> {
        self.assemble(out, graph_name, doc)
    }

    fn assemble(
        mut self,
        out: Value,
        graph_name: &str,
        doc: &str,
    ) -> Result<(ModelProto, ZooStats), ZooError> {
        if out.name == "input" {
            return Err(self.error("output", "the graph computes nothing".to_string()));
        }
        for node in &mut self.nodes {
            for name in node.output.iter_mut().chain(node.input.iter_mut()) {
                if *name == out.name {
                    *name = "output".to_string();
                }
            }
        }
        let meta = |key: &str, value: String| StringStringEntryProto {
            key: key.to_string(),
            value,
        };
        let graph = GraphProto {
            name: graph_name.to_string(),
            node: self.nodes,
            initializer: self.initializers,
            input: vec![value_info_f32("input", &self.input_shape)],
            output: vec![value_info_f32("output", &out.shape)],
            ..Default::default()
        };
        let proto = ModelProto {
            producer_version: env!("CARGO_PKG_VERSION").to_string(),
            doc_string: doc.to_string(),
            metadata_props: vec![
                meta("hiddencost.zoo.name", graph_name.to_string()),
                meta("hiddencost.zoo.seed", self.opts.seed.to_string()),
                meta("hiddencost.zoo.fold_bn", self.opts.fold_bn.to_string()),
                meta(
                    "hiddencost.zoo.note",
                    "random weights: for speed, not accuracy".to_string(),
                ),
            ],
            ..super::proto::model(graph, "hiddencost")
        };
        Ok((proto, self.stats))
    }
}

#[cfg(test)]
mod tests {
    use super::scope;

    #[test]
    fn scopes_follow_torch_export() {
        assert_eq!(
            scope("stage1.0.residual.0"),
            "/stage1/stage1.0/residual/residual.0"
        );
        assert_eq!(
            scope("inception_a.InceptionA_0.branchpool.0"),
            "/inception_a/InceptionA_0/branchpool/branchpool.0"
        );
        assert_eq!(scope("conv1"), "/conv1");
        assert_eq!(scope(""), "");
    }
}
