//! The micro-models of the sweep: one block each, built with the zoo's graph builder from a
//! [`Block`] (the design choice) and its [`Size`] (channels and spatial size, chosen by the
//! family so that MACs match).
//!
//! Every block takes `input` [1, c, h, w] (a matmul probe [1, m, k]) and its last op is the
//! graph output: no stem, no head, so that the MACs are the block's. Convolutions are
//! `nn.Conv2d` with bias and padding k / 2 (same size out), each followed by its activation,
//! as in the networks the families stand for.

use crate::zoo::ZooError;
use crate::zoo::builder::{Conv, GraphBuilder, Quant, Value};

/// Activation after each convolution of a block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Act {
    Relu,
    /// `nn.ReLU6`: `Clip(0, 6)`.
    Relu6,
    /// `nn.Hardswish`: `HardSigmoid` then `Mul`.
    HardSwish,
    /// `nn.SiLU` written out: `Sigmoid` then `Mul`.
    Silu,
}

impl Act {
    pub fn as_str(self) -> &'static str {
        match self {
            Act::Relu => "relu",
            Act::Relu6 => "relu6",
            Act::HardSwish => "hardswish",
            Act::Silu => "silu",
        }
    }
}

/// Channels and spatial size of a block's input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Size {
    pub c: usize,
    pub h: usize,
    pub w: usize,
}

/// What a micro-model computes (the design choice); its [`Size`] comes separately.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Block {
    /// A `k` x `k` convolution c -> c in `groups` groups, then `act`; with a BatchNorm between
    /// them when `bn` is `Some(folded)` (folded into the conv's weights, or kept as a node).
    Conv {
        k: usize,
        groups: usize,
        act: Act,
        bn: Option<bool>,
    },
    /// Depthwise 3x3, ReLU, pointwise 1x1 c -> c, ReLU (MobileNet's block).
    DwSeparable,
    /// 1x1 c -> c/4, ReLU, 3x3 c/4 -> c/4, ReLU, 1x1 c/4 -> c, ReLU (ResNet's bottleneck).
    Bottleneck,
    /// Grouped 1x1 c -> c, ReLU, channel shuffle (or not), grouped 1x1 c -> c, ReLU
    /// (ShuffleNet's unit without its depthwise conv).
    GroupedPointwise { groups: usize, shuffle: bool },
    /// Two 3x3 branches c -> c, each with a ReLU, merged by `Add` (c out) or `Concat` (2c out).
    Merge { concat: bool },
    /// One op alone, for the per-kernel probes.
    Kernel(Kernel),
}

/// The zoo's unit at a sampled shape: a `kh` x `kw` conv c -> `out` with `stride` and
/// `groups` (padding kh / 2, kw / 2), a BatchNorm node (tract folds it) and a ReLU.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Unit {
    pub out: usize,
    pub kh: usize,
    pub kw: usize,
    pub stride: usize,
    pub groups: usize,
}

impl Unit {
    /// Its output's height and width at input size `s`, when the window fits.
    fn output(&self, s: Size) -> Option<(usize, usize)> {
        let h = window(s.h, self.kh, self.stride, self.kh / 2)?;
        let w = window(s.w, self.kw, self.stride, self.kw / 2)?;
        Some((h, w))
    }

    fn fits(&self, s: Size) -> bool {
        self.groups > 0
            && self.out > 0
            && self.stride > 0
            && s.c.is_multiple_of(self.groups)
            && self.out.is_multiple_of(self.groups)
            && self.output(s).is_some()
    }

    fn macs(&self, s: Size) -> u64 {
        let (oh, ow) = self.output(s).unwrap_or((0, 0));
        let per_output = (s.c / self.groups.max(1)) * self.kh * self.kw;
        (oh * ow) as u64 * self.out as u64 * per_output as u64
    }
}

/// The single-op probes (the predictor's sampled shapes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kernel {
    /// Dense 3x3 conv c -> c.
    Conv,
    /// Depthwise 3x3 conv.
    Depthwise,
    /// 2x2 max pool, stride 2.
    MaxPool,
    /// `Concat(x, relu(x))` on channels.
    Concat,
    /// `Add(x, relu(x))`.
    Add,
    /// NCHW -> NHWC.
    Transpose,
    /// [1, c, h, w] -> [1, c, h * w].
    Reshape,
    /// Nearest-neighbour upsampling by 2.
    Resize,
    /// [1, m, k] x [k, n] with a constant weight; `Size` is read as m = h, k = c, n = w.
    MatMul,
    /// The zoo's unit at a sampled shape (see [`Unit`]).
    ConvUnit(Unit),
    /// A `k` x `k` pool with `stride` and `pad`: max, or average (padding counted).
    Pool {
        max: bool,
        k: usize,
        stride: usize,
        pad: usize,
    },
    /// `GlobalAveragePool` (the networks' head).
    GlobalAvgPool,
    /// `nn.Linear(c, out)` on [1, c] (`Gemm`); `Size` is read as in = c.
    Linear { out: usize },
    /// `x[:, :c/2]` (channels, ShuffleNetV2's split) or `x[:, :, :h/2]` (rows).
    Slice { spatial: bool },
    /// `Concat` on channels of x and `inputs - 1` ReLUs of it (Inception's 4-way merge).
    ConcatOf { inputs: usize },
    /// A permutation of [1, c, h, w]'s axes (`Transpose`).
    Permute([usize; 4]),
    /// ShuffleNet's channel shuffle in `groups`: `Reshape`, `Transpose`, `Reshape`.
    Shuffle { groups: usize },
    /// `ReduceMean` or `ReduceSum` over the spatial axes or the channel axis, dims kept.
    Reduce { mean: bool, spatial: bool },
    /// An element-wise chain.
    Eltwise(Elt),
    /// `Softmax` over the last axis of [1, heads, rows, cols] (`Size`: heads = c).
    Softmax,
    /// LayerNorm, or RmsNorm, over the last axis of [1, tokens, features] written out as
    /// opset-13 exports write it; `Size` is read as tokens = h, features = c.
    Norm { rms: bool },
    /// GELU, erf form, on [1, tokens, features] (`Size` as for `Norm`).
    Gelu,
    /// `Einsum("bhqd,bhkd->bhqk")` (attention scores) of [1, heads, tokens, d] and a ReLU of
    /// it; `Size` is read as heads = c, tokens = h, d = w.
    EinSum,
    /// A `k` x `k` conv c -> c in `groups` groups (padding k / 2, no bias; `groups` = c is a
    /// depthwise conv) written in `quant`'s form: f32, QDQ, QLinearConv or ConvInteger
    /// (`GraphBuilder::quant_conv`).
    QConv {
        quant: Quant,
        k: usize,
        groups: usize,
    },
    /// [1, m, k] x [k, n] with a constant weight in `quant`'s form (`Size` as for `MatMul`).
    QMatMul(Quant),
}

/// The element-wise chains of the kernel probes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Elt {
    /// `Sigmoid(x)`.
    Sigmoid,
    /// `x * Sigmoid(x)` (SiLU written out).
    Silu,
    /// `x * relu(x) + x`.
    MulAdd,
    /// `relu(x * scale + shift)` with per-channel constants: a BatchNorm tract does not fold,
    /// and its ReLU.
    ScaleShiftRelu,
}

impl Elt {
    pub fn as_str(self) -> &'static str {
        match self {
            Elt::Sigmoid => "sigmoid",
            Elt::Silu => "silu",
            Elt::MulAdd => "muladd",
            Elt::ScaleShiftRelu => "scaleshiftrelu",
        }
    }
}

/// Output size of a window over `size` (PyTorch's rule, floor mode).
fn window(size: usize, k: usize, stride: usize, pad: usize) -> Option<usize> {
    (size + 2 * pad)
        .checked_sub(k)
        .map(|d| d / stride.max(1) + 1)
}

impl Kernel {
    /// The ONNX op the probe is about.
    pub fn op_type(self) -> &'static str {
        match self {
            Kernel::Conv | Kernel::Depthwise | Kernel::ConvUnit(_) => "Conv",
            Kernel::Pool { max: true, .. } => "MaxPool",
            Kernel::Pool { max: false, .. } => "AveragePool",
            Kernel::GlobalAvgPool => "GlobalAveragePool",
            Kernel::Linear { .. } => "Gemm",
            Kernel::MaxPool => "MaxPool",
            Kernel::Concat => "Concat",
            Kernel::Add => "Add",
            Kernel::Transpose => "Transpose",
            Kernel::Reshape => "Reshape",
            Kernel::Resize => "Resize",
            Kernel::MatMul => "MatMul",
            Kernel::Slice { .. } => "Slice",
            Kernel::ConcatOf { .. } => "Concat",
            Kernel::Permute(_) | Kernel::Shuffle { .. } => "Transpose",
            Kernel::Reduce { mean: true, .. } => "ReduceMean",
            Kernel::Reduce { mean: false, .. } => "ReduceSum",
            Kernel::Eltwise(Elt::Sigmoid | Elt::Silu) => "Sigmoid",
            Kernel::Eltwise(Elt::MulAdd | Elt::ScaleShiftRelu) => "Mul",
            Kernel::Softmax => "Softmax",
            Kernel::Norm { .. } => "ReduceMean",
            Kernel::Gelu => "Erf",
            Kernel::EinSum => "Einsum",
            Kernel::QConv { quant, .. } => quant.op_type(true),
            Kernel::QMatMul(quant) => quant.op_type(false),
        }
    }
}

type Built = Result<Value, ZooError>;

impl Block {
    /// The graph input's shape.
    pub fn input_shape(&self, s: Size) -> Vec<usize> {
        match self {
            Block::Kernel(Kernel::MatMul | Kernel::QMatMul(_)) => vec![1, s.h, s.c],
            Block::Kernel(Kernel::Linear { .. }) => vec![1, s.c],
            Block::Kernel(Kernel::Norm { .. } | Kernel::Gelu) => vec![1, s.h, s.c],
            _ => vec![1, s.c, s.h, s.w],
        }
    }

    /// Whether `s` is a size this block can be built at (groups divide the channels, ...).
    pub fn fits(&self, s: Size) -> bool {
        let positive = s.c > 0 && s.h > 0 && s.w > 0;
        positive
            && match *self {
                Block::Conv { groups, .. } => groups > 0 && s.c.is_multiple_of(groups),
                Block::Bottleneck => s.c.is_multiple_of(4),
                Block::GroupedPointwise { groups, .. } => groups > 0 && s.c.is_multiple_of(groups),
                Block::Kernel(Kernel::MaxPool) => s.h >= 2 && s.w >= 2,
                Block::Kernel(Kernel::ConvUnit(u)) => u.fits(s),
                Block::Kernel(Kernel::Pool { k, stride, pad, .. }) => {
                    k > 0
                        && stride > 0
                        && pad < k
                        && window(s.h, k, stride, pad).is_some()
                        && window(s.w, k, stride, pad).is_some()
                }
                Block::Kernel(Kernel::Linear { out }) => out > 0,
                Block::Kernel(Kernel::QConv { k, groups, .. }) => {
                    k % 2 == 1 && groups > 0 && s.c.is_multiple_of(groups)
                }
                Block::Kernel(Kernel::Slice { spatial }) => {
                    if spatial {
                        s.h >= 2
                    } else {
                        s.c >= 2
                    }
                }
                Block::Kernel(Kernel::ConcatOf { inputs }) => inputs >= 2,
                Block::Kernel(Kernel::Permute(p)) => {
                    let mut sorted = p;
                    sorted.sort_unstable();
                    sorted == [0, 1, 2, 3]
                }
                Block::Kernel(Kernel::Shuffle { groups }) => {
                    groups > 1 && s.c.is_multiple_of(groups)
                }
                _ => true,
            }
    }

    /// The block's MACs by the cost module's rule (Conv: output elements x in channels / groups
    /// x kernel elements; MatMul: M x N x K; everything else 0). Used to search for matched
    /// sizes; the tests check it against the cost module on the built graph.
    pub fn macs(&self, s: Size) -> u64 {
        let (c, hw) = (s.c as u64, (s.h * s.w) as u64);
        match *self {
            Block::Conv { k, groups, .. } => hw * c * (c / groups.max(1) as u64) * (k * k) as u64,
            Block::DwSeparable => hw * c * 9 + hw * c * c,
            Block::Bottleneck => {
                let q = c / 4;
                hw * q * c + hw * q * q * 9 + hw * c * q
            }
            Block::GroupedPointwise { groups, .. } => 2 * hw * c * (c / groups.max(1) as u64),
            Block::Merge { .. } => 2 * hw * c * c * 9,
            Block::Kernel(Kernel::Conv) => hw * c * c * 9,
            Block::Kernel(Kernel::Depthwise) => hw * c * 9,
            Block::Kernel(Kernel::MatMul | Kernel::QMatMul(_)) => (s.h * s.c * s.w) as u64,
            Block::Kernel(Kernel::QConv { k, groups, .. }) => {
                hw * c * (c / groups.max(1) as u64) * (k * k) as u64
            }
            Block::Kernel(Kernel::ConvUnit(u)) => u.macs(s),
            Block::Kernel(Kernel::Linear { out }) => c * out as u64,
            Block::Kernel(_) => 0,
        }
    }

    /// Emits the block on `x` (the builder's input); returns the output value.
    pub(crate) fn build(&self, b: &mut GraphBuilder, x: &Value, s: Size) -> Built {
        let c = s.c;
        match *self {
            Block::Conv { k, groups, act, bn } => {
                let conv = Conv::new(c, k).pad(k / 2).groups(groups);
                let y = match bn {
                    Some(_) => b.conv_bn(x, "block.conv", "block.bn", conv.no_bias())?,
                    None => b.conv(x, "block.conv", conv)?,
                };
                activation(b, &y, act, "block.act")
            }
            Block::DwSeparable => {
                let y = b.conv(x, "block.depthwise", Conv::new(c, 3).pad(1).groups(c))?;
                let y = b.relu(&y, "block.relu1");
                let y = b.conv(&y, "block.pointwise", Conv::new(c, 1))?;
                Ok(b.relu(&y, "block.relu2"))
            }
            Block::Bottleneck => {
                let y = b.conv(x, "block.reduce", Conv::new(c / 4, 1))?;
                let y = b.relu(&y, "block.relu1");
                let y = b.conv(&y, "block.conv", Conv::new(c / 4, 3).pad(1))?;
                let y = b.relu(&y, "block.relu2");
                let y = b.conv(&y, "block.expand", Conv::new(c, 1))?;
                Ok(b.relu(&y, "block.relu3"))
            }
            Block::GroupedPointwise { groups, shuffle } => {
                let y = b.conv(x, "block.gconv1", Conv::new(c, 1).groups(groups))?;
                let mut y = b.relu(&y, "block.relu1");
                if shuffle {
                    y = b.channel_shuffle(&y, groups, "block.shuffle")?;
                }
                let y = b.conv(&y, "block.gconv2", Conv::new(c, 1).groups(groups))?;
                Ok(b.relu(&y, "block.relu2"))
            }
            Block::Merge { concat } => {
                let l = b.conv(x, "block.left", Conv::new(c, 3).pad(1))?;
                let l = b.relu(&l, "block.left_relu");
                let r = b.conv(x, "block.right", Conv::new(c, 3).pad(1))?;
                let r = b.relu(&r, "block.right_relu");
                if concat {
                    b.concat(&[&l, &r], "block.merge")
                } else {
                    b.add(&l, &r, "block.merge")
                }
            }
            Block::Kernel(kernel) => build_kernel(b, x, kernel, s),
        }
    }
}

fn activation(b: &mut GraphBuilder, x: &Value, act: Act, m: &str) -> Built {
    match act {
        Act::Relu => Ok(b.relu(x, m)),
        Act::Relu6 => Ok(b.relu6(x, m)),
        Act::HardSwish => b.hard_swish(x, m),
        Act::Silu => {
            let gate = b.sigmoid(x, m);
            b.mul(x, &gate, m)
        }
    }
}

/// The graphs of the first kernel probes (`kernel_graphs` builds the others).
fn build_kernel(b: &mut GraphBuilder, x: &Value, kernel: Kernel, s: Size) -> Built {
    let m = "probe";
    match kernel {
        Kernel::Conv => b.conv(x, m, Conv::new(s.c, 3).pad(1)),
        Kernel::Depthwise => b.conv(x, m, Conv::new(s.c, 3).pad(1).groups(s.c)),
        Kernel::MaxPool => b.max_pool(x, m, 2, 2, 0),
        Kernel::Concat => {
            let r = b.relu(x, "probe.relu");
            b.concat(&[x, &r], m)
        }
        Kernel::Add => {
            let r = b.relu(x, "probe.relu");
            b.add(x, &r, m)
        }
        Kernel::Transpose => b.transpose(x, &[0, 2, 3, 1], m),
        Kernel::Reshape => b.reshape(x, &[1, s.c as i64, (s.h * s.w) as i64], m),
        Kernel::Resize => b.resize_nearest(x, 2, m),
        Kernel::MatMul => b.matmul_const(x, s.w, m),
        Kernel::ConvUnit(u) => {
            let conv = Conv::rect(u.out, u.kh, u.kw)
                .stride(u.stride)
                .pad2(u.kh / 2, u.kw / 2)
                .groups(u.groups)
                .no_bias();
            b.conv_bn(x, m, "probe.bn", conv)
                .map(|y| b.relu(&y, "probe.relu"))
        }
        Kernel::Pool {
            max: true,
            k,
            stride,
            pad,
        } => b.max_pool(x, m, k, stride, pad),
        Kernel::Pool {
            max: false,
            k,
            stride,
            pad,
        } => b.avg_pool(x, m, k, stride, pad),
        Kernel::GlobalAvgPool => b.global_avg_pool(x, m, true),
        Kernel::Linear { out } => b.linear(x, out, m),
        Kernel::QConv { quant, k, groups } => b.quant_conv(x, m, (s.c, k, groups), quant),
        Kernel::QMatMul(quant) => b.quant_matmul(x, s.w, m, quant),
        other => Err(b.error(m, format!("{other:?} is built by kernel_graphs"))),
    }
}
