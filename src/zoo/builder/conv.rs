//! Convolutions: `nn.Conv2d` alone or followed by `nn.BatchNorm2d` (kept, or folded into the
//! conv), with geometry checks, weight drawing and thop's MAC rule.

use super::moments::Moments;
use super::{BN_EPSILON, Built, GraphBuilder, Value, window_out};
use crate::zoo::ZooError;
use crate::zoo::proto::{attr_float, attr_int, attr_ints};

/// The hyper-parameters of one `nn.Conv2d` (output channels first; PyTorch defaults otherwise).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Conv {
    pub(super) out: usize,
    pub(super) kernel: [usize; 2],
    pub(super) stride: [usize; 2],
    pub(super) pad: [usize; 2],
    pub(super) groups: usize,
    pub(super) bias: bool,
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

/// Weight values: drawn straight into little-endian bytes, or as floats when a BatchNorm is to be
/// folded into them first.
pub(super) enum Data {
    Floats(Vec<f32>),
    Bytes(Vec<u8>),
}

/// A convolution's drawn weights and geometry.
struct ConvDraw {
    weight: Data,
    bias: Option<Vec<f32>>,
    w_dims: [usize; 4],
    out_shape: Vec<usize>,
    /// By thop's rule.
    macs: u64,
}

impl ConvDraw {
    fn params(&self) -> u64 {
        let w: usize = self.w_dims.iter().product();
        (w + self.bias.as_ref().map_or(0, Vec::len)) as u64
    }
}

impl GraphBuilder {
    /// `nn.Conv2d` alone (no BatchNorm after it).
    pub(crate) fn conv(&mut self, x: &Value, module: &str, c: Conv) -> Built {
        let d = self.conv_weights(x, module, &c, false)?;
        self.stats.params += d.params();
        self.stats.macs_thop += d.macs;
        self.stats.macs_graph += d.macs;
        let bias = d.bias.clone();
        self.emit_conv(x, module, &c, d, bias.as_deref())
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
        let mut d = self.conv_weights(x, conv_module, &c, self.opts.fold_bn)?;
        let channels = c.out;
        let gamma = self.rng.uniform(channels, 1.0, 0.1);
        let beta = self.rng.uniform(channels, 0.0, 0.05);
        let mean = self.rng.uniform(channels, 0.0, 0.05);
        let var = self.rng.uniform(channels, 1.0, 0.1);
        let bn_macs = 4 * d.out_shape.iter().map(|&d| d as u64).product::<u64>();
        self.stats.params += d.params() + 2 * channels as u64;
        self.stats.macs_thop += d.macs + bn_macs;
        self.stats.macs_graph += d.macs;
        if let Data::Floats(w) = &mut d.weight {
            let per_out = w.len() / channels;
            let mut bias = vec![0.0f32; channels];
            for o in 0..channels {
                let scale = gamma[o] / (var[o] + BN_EPSILON).sqrt();
                w[o * per_out..(o + 1) * per_out]
                    .iter_mut()
                    .for_each(|v| *v *= scale);
                let b0 = d.bias.as_ref().map_or(0.0, |b| b[o]);
                bias[o] = beta[o] + (b0 - mean[o]) * scale;
            }
            return self.emit_conv(x, conv_module, &c, d, Some(&bias));
        }
        self.stats.macs_graph += bn_macs;
        let bias = d.bias.clone();
        let y = self.emit_conv(x, conv_module, &c, d, bias.as_deref())?;
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

    /// Checks the geometry and draws the conv weights, as floats if `floats` (to fold a
    /// BatchNorm into them) or else straight into bytes.
    fn conv_weights(
        &mut self,
        x: &Value,
        module: &str,
        c: &Conv,
        floats: bool,
    ) -> Result<ConvDraw, ZooError> {
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
        let half_width = (3.0 / (fan_in as f32 * input_ms)).sqrt();
        let weight = if floats {
            Data::Floats(self.rng.uniform(c.out * fan_in, 0.0, half_width))
        } else {
            Data::Bytes(self.rng.uniform_le_bytes(c.out * fan_in, 0.0, half_width))
        };
        let bias = c.bias.then(|| self.rng.uniform(c.out, 0.0, 0.01));
        let out_shape = vec![n, c.out, oh, ow];
        let macs = (n * c.out * oh * ow) as u64 * fan_in as u64;
        Ok(ConvDraw {
            weight,
            bias,
            w_dims,
            out_shape,
            macs,
        })
    }

    fn emit_conv(
        &mut self,
        x: &Value,
        module: &str,
        c: &Conv,
        d: ConvDraw,
        b: Option<&[f32]>,
    ) -> Built {
        let ConvDraw {
            weight,
            w_dims,
            out_shape,
            ..
        } = d;
        let mut inputs = vec![
            x.name.clone(),
            self.weight_initializer(module, &w_dims, weight)?,
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
}
