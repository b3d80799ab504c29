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

use super::proto::{
    attr_float, attr_int, attr_ints, attr_tensor, tensor_f32, tensor_i64, value_info_f32,
};
use super::rng::Rng;
use super::{ZooError, ZooOptions, ZooStats};
use std::collections::{HashMap, HashSet};
use tract_onnx::pb::{
    AttributeProto, GraphProto, ModelProto, NodeProto, OperatorSetIdProto, StringStringEntryProto,
    TensorProto,
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

/// Mean and mean square of a tensor's elements, propagated with Gaussian approximations.
#[derive(Debug, Clone, Copy)]
struct Moments {
    mean: f32,
    ms: f32,
}

impl Moments {
    const UNIT: Moments = Moments { mean: 0.0, ms: 1.0 };

    fn var(self) -> f32 {
        (self.ms - self.mean * self.mean).max(1e-12)
    }

    /// `max(x, 0)` of a Gaussian with these moments.
    fn relu(self) -> Moments {
        let (mu, sigma) = (self.mean, self.var().sqrt());
        let z = mu / sigma;
        let cdf = 0.5 * (1.0 + erf(z / std::f32::consts::SQRT_2));
        let pdf = (-0.5 * z * z).exp() / (2.0 * std::f32::consts::PI).sqrt();
        Moments {
            mean: mu * cdf + sigma * pdf,
            ms: (mu * mu + sigma * sigma) * cdf + mu * sigma * pdf,
        }
    }

    /// A mean over many correlated values: same mean, half the spread.
    fn averaged(self) -> Moments {
        Moments {
            mean: self.mean,
            ms: self.mean * self.mean + self.var() / 2.0,
        }
    }
}

/// The error function (Abramowitz and Stegun 7.1.26, error below 1.5e-7).
fn erf(x: f32) -> f32 {
    let t = 1.0 / (1.0 + 0.327_591_1 * x.abs());
    let poly = t
        * (0.254_829_6
            + t * (-0.284_496_7 + t * (1.421_413_7 + t * (-1.453_152 + t * 1.061_405_4))));
    (1.0 - poly * (-x * x).exp()).copysign(x)
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

/// The hyper-parameters of one `nn.Conv2d` (output channels first; PyTorch defaults otherwise).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Conv {
    out: usize,
    kernel: [usize; 2],
    stride: [usize; 2],
    pad: [usize; 2],
    groups: usize,
    bias: bool,
}

impl Conv {
    /// `nn.Conv2d(in, out, k)`: stride 1, no padding, one group, with bias.
    pub(crate) fn new(out: usize, k: usize) -> Self {
        Self::rect(out, k, k)
    }
    /// A `kh x kw` kernel, e.g. `(1, 7)`.
    pub(crate) fn rect(out: usize, kh: usize, kw: usize) -> Self {
        Self {
            out,
            kernel: [kh, kw],
            stride: [1, 1],
            pad: [0, 0],
            groups: 1,
            bias: true,
        }
    }
    pub(crate) fn stride(mut self, s: usize) -> Self {
        self.stride = [s, s];
        self
    }
    pub(crate) fn pad(mut self, p: usize) -> Self {
        self.pad = [p, p];
        self
    }
    pub(crate) fn pad2(mut self, ph: usize, pw: usize) -> Self {
        self.pad = [ph, pw];
        self
    }
    pub(crate) fn groups(mut self, g: usize) -> Self {
        self.groups = g;
        self
    }
    pub(crate) fn no_bias(mut self) -> Self {
        self.bias = false;
        self
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
        }
    }

    /// The graph input, `input` float32 [1, 3, 32, 32].
    pub(crate) fn input(&self) -> Value {
        Value {
            name: "input".to_string(),
            shape: INPUT_SHAPE.to_vec(),
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

    /// `nn.Conv2d` alone (no BatchNorm after it).
    pub(crate) fn conv(&mut self, x: &Value, module: &str, c: Conv) -> Built {
        let (w, b, w_dims, out_shape, macs) = self.conv_weights(x, module, &c)?;
        self.stats.params += (w.len() + b.as_ref().map_or(0, Vec::len)) as u64;
        self.stats.macs_thop += macs;
        self.stats.macs_graph += macs;
        self.emit_conv(x, module, &c, &w, b.as_deref(), &w_dims, out_shape)
    }

    /// `nn.Conv2d` followed by `nn.BatchNorm2d`: two nodes, or one conv with the BatchNorm
    /// folded into its weights and bias when `fold_bn` is set. The weights are drawn in the same
    /// order either way, so both graphs compute the same function.
    pub(crate) fn conv_bn(
        &mut self,
        x: &Value,
        conv_module: &str,
        bn_module: &str,
        c: Conv,
    ) -> Built {
        let (mut w, b, w_dims, out_shape, conv_macs) = self.conv_weights(x, conv_module, &c)?;
        let channels = c.out;
        let gamma = self.rng.uniform(channels, 1.0, 0.1);
        let beta = self.rng.uniform(channels, 0.0, 0.05);
        let mean = self.rng.uniform(channels, 0.0, 0.05);
        let var = self.rng.uniform(channels, 1.0, 0.1);
        let bn_macs = 4 * out_shape.iter().map(|&d| d as u64).product::<u64>();
        self.stats.params += (w.len() + b.as_ref().map_or(0, Vec::len) + 2 * channels) as u64;
        self.stats.macs_thop += conv_macs + bn_macs;
        self.stats.macs_graph += conv_macs;
        if self.opts.fold_bn {
            let per_out = w.len() / channels;
            let mut bias = vec![0.0f32; channels];
            for o in 0..channels {
                let scale = gamma[o] / (var[o] + BN_EPSILON).sqrt();
                w[o * per_out..(o + 1) * per_out]
                    .iter_mut()
                    .for_each(|v| *v *= scale);
                let b0 = b.as_ref().map_or(0.0, |b| b[o]);
                bias[o] = beta[o] + (b0 - mean[o]) * scale;
            }
            return self.emit_conv(x, conv_module, &c, &w, Some(&bias), &w_dims, out_shape);
        }
        self.stats.macs_graph += bn_macs;
        let y = self.emit_conv(x, conv_module, &c, &w, b.as_deref(), &w_dims, out_shape)?;
        let inputs = vec![
            y.name.clone(),
            self.initializer(bn_module, "weight", &[channels], &gamma)?,
            self.initializer(bn_module, "bias", &[channels], &beta)?,
            self.initializer(bn_module, "running_mean", &[channels], &mean)?,
            self.initializer(bn_module, "running_var", &[channels], &var)?,
        ];
        let attrs = vec![
            attr_float("epsilon", BN_EPSILON),
            attr_float("momentum", 0.9),
        ];
        let name = self.node1(bn_module, "BatchNormalization", inputs, attrs);
        Ok(Value {
            name,
            shape: y.shape,
            m: y.m,
        })
    }

    /// Checks the geometry and draws the conv weights: (weight, bias, weight dims, output shape,
    /// thop MACs).
    #[allow(clippy::type_complexity)]
    fn conv_weights(
        &mut self,
        x: &Value,
        module: &str,
        c: &Conv,
    ) -> Result<(Vec<f32>, Option<Vec<f32>>, [usize; 4], Vec<usize>, u64), ZooError> {
        let [n, cin, h, w] = x.shape[..] else {
            return Err(self.error(module, format!("conv input must be 4-D, got {:?}", x.shape)));
        };
        if c.groups == 0 || !cin.is_multiple_of(c.groups) || !c.out.is_multiple_of(c.groups) {
            let reason = format!(
                "groups {} must divide {cin} inputs and {} outputs",
                c.groups, c.out
            );
            return Err(self.error(module, reason));
        }
        let oh = window_out(h, c.kernel[0], c.stride[0], c.pad[0]);
        let ow = window_out(w, c.kernel[1], c.stride[1], c.pad[1]);
        let (Some(oh), Some(ow)) = (oh, ow) else {
            return Err(self.error(
                module,
                format!(
                    "kernel {:?} larger than padded input {:?}",
                    c.kernel, x.shape
                ),
            ));
        };
        let w_dims = [c.out, cin / c.groups, c.kernel[0], c.kernel[1]];
        let fan_in = w_dims[1] * w_dims[2] * w_dims[3];
        // Var(w) = 1 / (fan_in * E[x^2]) makes E[y^2] about 1: Kaiming's 2 / fan_in after a ReLU.
        let input_ms = x.m.ms.clamp(1e-3, 1e3);
        let weight = self.rng.uniform(
            c.out * fan_in,
            0.0,
            (3.0 / (fan_in as f32 * input_ms)).sqrt(),
        );
        let bias = c.bias.then(|| self.rng.uniform(c.out, 0.0, 0.01));
        let out_shape = vec![n, c.out, oh, ow];
        let macs = (n * c.out * oh * ow) as u64 * fan_in as u64;
        Ok((weight, bias, w_dims, out_shape, macs))
    }

    #[allow(clippy::too_many_arguments)]
    fn emit_conv(
        &mut self,
        x: &Value,
        module: &str,
        c: &Conv,
        w: &[f32],
        b: Option<&[f32]>,
        w_dims: &[usize; 4],
        out_shape: Vec<usize>,
    ) -> Built {
        let mut inputs = vec![
            x.name.clone(),
            self.initializer(module, "weight", w_dims, w)?,
        ];
        if let Some(b) = b {
            inputs.push(self.initializer(module, "bias", &[c.out], b)?);
        }
        let [ph, pw] = c.pad.map(|p| p as i64);
        let attrs = vec![
            attr_ints("dilations", &[1, 1]),
            attr_int("group", c.groups as i64),
            attr_ints("kernel_shape", &c.kernel.map(|k| k as i64)),
            attr_ints("pads", &[ph, pw, ph, pw]),
            attr_ints("strides", &c.stride.map(|s| s as i64)),
        ];
        let name = self.node1(module, "Conv", inputs, attrs);
        Ok(Value {
            name,
            shape: out_shape,
            m: Moments::UNIT,
        })
    }

    fn unary(&mut self, x: &Value, module: &str, op: &str, m: Moments) -> Value {
        let name = self.node1(module, op, vec![x.name.clone()], vec![]);
        Value {
            name,
            shape: x.shape.clone(),
            m,
        }
    }

    pub(crate) fn relu(&mut self, x: &Value, module: &str) -> Value {
        self.unary(x, module, "Relu", x.m.relu())
    }

    pub(crate) fn sigmoid(&mut self, x: &Value, module: &str) -> Value {
        // Near 0 the sigmoid is 1/2 + x/4.
        let m = Moments {
            mean: 0.5 + x.m.mean / 4.0,
            ms: 0.25 + x.m.mean / 4.0 + x.m.ms / 16.0,
        };
        self.unary(x, module, "Sigmoid", m)
    }

    /// `nn.ReLU6` as torch exports it: `Clip` with two `Constant` bounds.
    pub(crate) fn relu6(&mut self, x: &Value, module: &str) -> Value {
        let lo = self.const_f32_scalar(module, 0.0);
        let hi = self.const_f32_scalar(module, 6.0);
        let name = self.node1(module, "Clip", vec![x.name.clone(), lo, hi], vec![]);
        Value {
            name,
            shape: x.shape.clone(),
            m: x.m.relu(),
        }
    }

    fn pool(&mut self, x: &Value, module: &str, op: &str, k: usize, s: usize, p: usize) -> Built {
        let [n, c, h, w] = x.shape[..] else {
            return Err(self.error(module, format!("pool input must be 4-D, got {:?}", x.shape)));
        };
        let (Some(oh), Some(ow)) = (window_out(h, k, s, p), window_out(w, k, s, p)) else {
            return Err(self.error(
                module,
                format!("window {k} larger than padded input {:?}", x.shape),
            ));
        };
        let (k, s, p) = (k as i64, s as i64, p as i64);
        let mut attrs = vec![attr_int("ceil_mode", 0)];
        if op == "AveragePool" {
            attrs.push(attr_int("count_include_pad", 1)); // PyTorch's default
        } else {
            attrs.push(attr_ints("dilations", &[1, 1]));
        }
        attrs.push(attr_ints("kernel_shape", &[k, k]));
        attrs.push(attr_ints("pads", &[p, p, p, p]));
        attrs.push(attr_ints("strides", &[s, s]));
        let name = self.node1(module, op, vec![x.name.clone()], attrs);
        // A max over a window of rectified values is larger than a typical one; an average is not.
        let m = if op == "MaxPool" && k > 1 {
            let mean = x.m.mean + x.m.var().sqrt(); // roughly, for a 2x2 or 3x3 window
            Moments {
                mean,
                ms: mean * mean + x.m.var() / 2.0,
            }
        } else {
            x.m.averaged()
        };
        Ok(Value {
            name,
            shape: vec![n, c, oh, ow],
            m,
        })
    }

    /// `nn.MaxPool2d(k, stride=s, padding=p)`.
    pub(crate) fn max_pool(
        &mut self,
        x: &Value,
        module: &str,
        k: usize,
        s: usize,
        p: usize,
    ) -> Built {
        self.pool(x, module, "MaxPool", k, s, p)
    }

    /// `nn.AvgPool2d(k, stride=s, padding=p)` (padding counted in the mean, as in PyTorch).
    pub(crate) fn avg_pool(
        &mut self,
        x: &Value,
        module: &str,
        k: usize,
        s: usize,
        p: usize,
    ) -> Built {
        let y = self.pool(x, module, "AveragePool", k, s, p)?;
        self.stats.macs_thop += y.numel();
        self.stats.macs_graph += y.numel();
        Ok(y)
    }

    /// `nn.AdaptiveAvgPool2d(1)` (`thop_module: true`) or `F.adaptive_avg_pool2d(x, 1)`
    /// (`false`: thop does not see functional calls).
    pub(crate) fn global_avg_pool(&mut self, x: &Value, module: &str, thop_module: bool) -> Built {
        let [n, c, h, w] = x.shape[..] else {
            return Err(self.error(module, format!("pool input must be 4-D, got {:?}", x.shape)));
        };
        let macs = (h as u64 * w as u64 + 1) * (n * c) as u64;
        self.stats.macs_graph += macs;
        if thop_module {
            self.stats.macs_thop += macs;
        }
        let name = self.node1(module, "GlobalAveragePool", vec![x.name.clone()], vec![]);
        Ok(Value {
            name,
            shape: vec![n, c, 1, 1],
            m: x.m.averaged(),
        })
    }

    fn binary(&mut self, a: &Value, b: &Value, module: &str, op: &str, m: Moments) -> Built {
        if a.shape != b.shape {
            return Err(self.error(module, format!("{op} of {:?} and {:?}", a.shape, b.shape)));
        }
        let name = self.node1(module, op, vec![a.name.clone(), b.name.clone()], vec![]);
        Ok(Value {
            name,
            shape: a.shape.clone(),
            m,
        })
    }

    pub(crate) fn add(&mut self, a: &Value, b: &Value, module: &str) -> Built {
        let (x, y) = (a.m, b.m);
        let m = Moments {
            mean: x.mean + y.mean,
            ms: x.ms + y.ms + 2.0 * x.mean * y.mean,
        };
        self.binary(a, b, module, "Add", m)
    }

    pub(crate) fn mul(&mut self, a: &Value, b: &Value, module: &str) -> Built {
        let m = Moments {
            mean: a.m.mean * b.m.mean,
            ms: a.m.ms * b.m.ms,
        };
        self.binary(a, b, module, "Mul", m)
    }

    /// `x.expand_as(like)` as torch exports it: `Shape(like)` then `Expand`.
    pub(crate) fn expand_as(&mut self, x: &Value, like: &Value, module: &str) -> Built {
        let broadcastable = x.shape.len() == like.shape.len()
            && x.shape
                .iter()
                .zip(&like.shape)
                .all(|(&a, &b)| a == b || a == 1);
        if !broadcastable {
            return Err(self.error(
                module,
                format!("cannot expand {:?} to {:?}", x.shape, like.shape),
            ));
        }
        let shape = self.node1(module, "Shape", vec![like.name.clone()], vec![]);
        let name = self.node1(module, "Expand", vec![x.name.clone(), shape], vec![]);
        Ok(Value {
            name,
            shape: like.shape.clone(),
            m: x.m,
        })
    }

    /// `torch.cat(xs, 1)`.
    pub(crate) fn concat(&mut self, xs: &[&Value], module: &str) -> Built {
        let Some(first) = xs.first() else {
            return Err(self.error(module, "concat of nothing".to_string()));
        };
        let mut shape = first.shape.clone();
        let weighted = |f: fn(&Moments) -> f32| -> f32 {
            xs.iter().map(|x| f(&x.m) * x.channels() as f32).sum()
        };
        let (sum_mean, sum_ms) = (weighted(|m| m.mean), weighted(|m| m.ms));
        for x in &xs[1..] {
            let same_rest = x.shape.len() == shape.len()
                && x.shape
                    .iter()
                    .enumerate()
                    .all(|(i, &d)| i == 1 || d == shape[i]);
            if !same_rest || shape.len() < 2 {
                return Err(self.error(module, format!("concat of {:?} and {:?}", shape, x.shape)));
            }
            shape[1] += x.shape[1];
        }
        let inputs = xs.iter().map(|x| x.name.clone()).collect();
        let name = self.node1(module, "Concat", inputs, vec![attr_int("axis", 1)]);
        let c = shape[1].max(1) as f32;
        Ok(Value {
            name,
            shape,
            m: Moments {
                mean: sum_mean / c,
                ms: sum_ms / c,
            },
        })
    }

    /// `torch.split(x, sizes, dim=1)` as opset 13 has it: sizes as a second int64 input.
    pub(crate) fn split(
        &mut self,
        x: &Value,
        sizes: &[usize],
        module: &str,
    ) -> Result<Vec<Value>, ZooError> {
        if x.shape.len() < 2 || sizes.iter().sum::<usize>() != x.shape[1] {
            return Err(self.error(module, format!("split {:?} of {:?}", sizes, x.shape)));
        }
        let sizes_i64: Vec<i64> = sizes.iter().map(|&s| s as i64).collect();
        let split = self.const_i64(module, &sizes_i64);
        let names = self.node(
            module,
            "Split",
            vec![x.name.clone(), split],
            vec![attr_int("axis", 1)],
            sizes.len(),
        );
        Ok(names
            .into_iter()
            .zip(sizes)
            .map(|(name, &c)| {
                let mut shape = x.shape.clone();
                shape[1] = c;
                Value {
                    name,
                    shape,
                    m: x.m,
                }
            })
            .collect())
    }

    /// `x.view(target)` as torch exports it: a `Constant` shape then `Reshape`; one -1 allowed.
    pub(crate) fn reshape(&mut self, x: &Value, target: &[i64], module: &str) -> Built {
        let known: i64 = target.iter().filter(|&&d| d != -1).product();
        let total = x.numel() as i64;
        let holes = target.iter().filter(|&&d| d == -1).count();
        let valid = target.iter().all(|&d| d > 0 || d == -1)
            && holes <= 1
            && known > 0
            && if holes == 0 {
                known == total
            } else {
                total % known == 0
            };
        if !valid {
            return Err(self.error(module, format!("cannot view {:?} as {:?}", x.shape, target)));
        }
        let shape = target
            .iter()
            .map(|&d| {
                if d == -1 {
                    (total / known) as usize
                } else {
                    d as usize
                }
            })
            .collect();
        let target_name = self.const_i64(module, target);
        let name = self.node1(module, "Reshape", vec![x.name.clone(), target_name], vec![]);
        Ok(Value {
            name,
            shape,
            m: x.m,
        })
    }

    pub(crate) fn transpose(&mut self, x: &Value, perm: &[usize], module: &str) -> Built {
        let mut sorted = perm.to_vec();
        sorted.sort_unstable();
        if sorted != (0..x.shape.len()).collect::<Vec<_>>() {
            return Err(self.error(module, format!("permutation {:?} of {:?}", perm, x.shape)));
        }
        let perm_i64: Vec<i64> = perm.iter().map(|&p| p as i64).collect();
        let name = self.node1(
            module,
            "Transpose",
            vec![x.name.clone()],
            vec![attr_ints("perm", &perm_i64)],
        );
        Ok(Value {
            name,
            shape: perm.iter().map(|&p| x.shape[p]).collect(),
            m: x.m,
        })
    }

    /// `nn.Linear(in, out)` on a [N, in] input: `Gemm` with `transB = 1`.
    pub(crate) fn linear(&mut self, x: &Value, out: usize, module: &str) -> Built {
        let [n, cin] = x.shape[..] else {
            return Err(self.error(
                module,
                format!("linear input must be 2-D, got {:?}", x.shape),
            ));
        };
        let bound = 1.0 / (cin as f32).sqrt();
        let w = self.rng.uniform(out * cin, 0.0, bound);
        let b = self.rng.uniform(out, 0.0, bound);
        self.stats.params += (out * cin + out) as u64;
        let macs = (cin * n * out) as u64;
        self.stats.macs_thop += macs;
        self.stats.macs_graph += macs;
        let inputs = vec![
            x.name.clone(),
            self.initializer(module, "weight", &[out, cin], &w)?,
            self.initializer(module, "bias", &[out], &b)?,
        ];
        let attrs = vec![
            attr_float("alpha", 1.0),
            attr_float("beta", 1.0),
            attr_int("transB", 1),
        ];
        let name = self.node1(module, "Gemm", inputs, attrs);
        // Var(w) = 1 / (3 * in): the output's mean square is a third of the input's.
        Ok(Value {
            name,
            shape: vec![n, out],
            m: Moments {
                mean: 0.0,
                ms: x.m.ms / 3.0,
            },
        })
    }

    /// Names `out` `output`, checks it is [1, 100], and assembles the model.
    pub(crate) fn finish(
        mut self,
        out: Value,
        doc: &str,
    ) -> Result<(ModelProto, ZooStats), ZooError> {
        if out.shape != OUTPUT_SHAPE {
            return Err(self.error(
                "output",
                format!("output shape {:?}, expected [1, 100]", out.shape),
            ));
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
            name: self.model.to_string(),
            node: self.nodes,
            initializer: self.initializers,
            input: vec![value_info_f32("input", &INPUT_SHAPE)],
            output: vec![value_info_f32("output", &OUTPUT_SHAPE)],
            ..Default::default()
        };
        let proto = ModelProto {
            ir_version: 7,
            opset_import: vec![OperatorSetIdProto {
                domain: String::new(),
                version: 13,
            }],
            producer_name: "hiddencost".to_string(),
            producer_version: env!("CARGO_PKG_VERSION").to_string(),
            doc_string: doc.to_string(),
            graph: Some(graph),
            metadata_props: vec![
                meta("hiddencost.zoo.name", self.model.to_string()),
                meta("hiddencost.zoo.seed", self.opts.seed.to_string()),
                meta("hiddencost.zoo.fold_bn", self.opts.fold_bn.to_string()),
                meta(
                    "hiddencost.zoo.note",
                    "random weights: for speed, not accuracy".to_string(),
                ),
            ],
            ..Default::default()
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
