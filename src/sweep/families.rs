//! The design families (variants at matched MACs that differ in one design choice), and the
//! search that sizes each variant to its family's MACs; the single-kernel probes are
//! `super::kernels`'.

use super::blocks::{Act, Block, Kernel, Size};
use super::draft::{Draft, Free};
use super::kernels::kernels;
pub use super::kernels::sampled_kernels;
use super::{Family, Kind, Variant};

/// How close a variant's MACs must be to its family baseline's.
pub const MACS_TOLERANCE: f64 = 0.02;
/// What the search aims for, leaving room below [`MACS_TOLERANCE`].
const SEARCH_TOLERANCE: f64 = 0.01;

/// The baseline size of the design families: a 3x3 conv of 32 channels on 16x16
/// (2,359,296 MACs), small enough for a Cortex-A72 in a millisecond or two, large enough that a
/// conv dominates the dispatch of its ops.
const BASE: Size = Size {
    c: 32,
    h: 16,
    w: 16,
};

const RELU_CONV3: Block = Block::Conv {
    k: 3,
    groups: 1,
    act: Act::Relu,
    bn: None,
};

/// The families' names, in the sweep's order (design families, then `kernels`).
pub const NAMES: [&str; 10] = [
    "conv_type",
    "channels",
    "shuffle",
    "merge",
    "kernel_size",
    "activation",
    "batchnorm",
    "spatial",
    "int8",
    "kernels",
];

fn conv(k: usize, groups: usize, act: Act, bn: Option<bool>) -> Block {
    Block::Conv { k, groups, act, bn }
}

fn drafts() -> Vec<Draft> {
    let v = |name: &str, choice: &str, block: Block, size: Size, free: Free| {
        (name.to_string(), choice.to_string(), block, size, free)
    };
    let scaled = |c: f64| Size {
        c: c.round() as usize,
        ..BASE
    };
    let mut out = vec![
        Draft {
            name: "conv_type",
            question: "which convolution type is fastest for the same MACs",
            variants: vec![
                v("dense", "dense 3x3", RELU_CONV3, BASE, Free::Nothing),
                v(
                    "grouped_g2",
                    "grouped 3x3, g = 2",
                    conv(3, 2, Act::Relu, None),
                    scaled(32.0 * 2f64.sqrt()),
                    Free::Channels { step: 2 },
                ),
                v(
                    "grouped_g4",
                    "grouped 3x3, g = 4",
                    conv(3, 4, Act::Relu, None),
                    scaled(64.0),
                    Free::Channels { step: 4 },
                ),
                v(
                    "grouped_g8",
                    "grouped 3x3, g = 8",
                    conv(3, 8, Act::Relu, None),
                    scaled(32.0 * 8f64.sqrt()),
                    Free::Channels { step: 8 },
                ),
                v(
                    "dw_separable",
                    "depthwise-separable (dw 3x3 + pw 1x1)",
                    Block::DwSeparable,
                    scaled(91.6),
                    Free::Channels { step: 1 },
                ),
                v(
                    "bottleneck",
                    "1x1 bottleneck (1x1 c/4, 3x3, 1x1 c)",
                    Block::Bottleneck,
                    scaled(93.1),
                    Free::Channels { step: 4 },
                ),
            ],
        },
        Draft {
            name: "channels",
            question: "how the channel count's alignment to SIMD widths changes time per MAC",
            // The baseline (32) first, then 28 to 36.
            variants: std::iter::once(BASE.c)
                .chain((28..=36).filter(|&c| c != BASE.c))
                .map(|c| {
                    let free = if c == BASE.c {
                        Free::Nothing
                    } else {
                        Free::Spatial
                    };
                    v(
                        &format!("c{c}"),
                        &format!("{c} channels"),
                        RELU_CONV3,
                        Size { c, ..BASE },
                        free,
                    )
                })
                .collect(),
        },
        Draft {
            name: "shuffle",
            question: "what a channel shuffle between grouped 1x1 convs costs",
            variants: vec![
                v(
                    "no_shuffle",
                    "grouped 1x1 pair (g = 4), no shuffle",
                    Block::GroupedPointwise {
                        groups: 4,
                        shuffle: false,
                    },
                    Size { c: 128, ..BASE },
                    Free::Nothing,
                ),
                v(
                    "shuffle",
                    "grouped 1x1 pair (g = 4), channel shuffle between",
                    Block::GroupedPointwise {
                        groups: 4,
                        shuffle: true,
                    },
                    Size { c: 128, ..BASE },
                    Free::Nothing,
                ),
            ],
        },
        Draft {
            name: "merge",
            question: "whether two branches are cheaper merged by Add or by Concat",
            variants: vec![
                v(
                    "add",
                    "two 3x3 branches merged by Add",
                    Block::Merge { concat: false },
                    BASE,
                    Free::Nothing,
                ),
                v(
                    "concat",
                    "two 3x3 branches merged by Concat (twice the output)",
                    Block::Merge { concat: true },
                    BASE,
                    Free::Nothing,
                ),
            ],
        },
        Draft {
            name: "kernel_size",
            question: "which kernel size is fastest for the same MACs (fewer channels for larger kernels)",
            variants: [3usize, 5, 7]
                .into_iter()
                .map(|k| {
                    let free = if k == 3 {
                        Free::Nothing
                    } else {
                        Free::Channels { step: 1 }
                    };
                    v(
                        &format!("k{k}"),
                        &format!("dense {k}x{k}"),
                        conv(k, 1, Act::Relu, None),
                        scaled(BASE.c as f64 * 3.0 / k as f64),
                        free,
                    )
                })
                .collect(),
        },
        Draft {
            name: "activation",
            question: "what each activation costs after the same conv",
            variants: [Act::Relu, Act::Relu6, Act::HardSwish, Act::Silu]
                .into_iter()
                .map(|act| {
                    v(
                        act.as_str(),
                        &format!("3x3 conv + {}", act.as_str()),
                        conv(3, 1, act, None),
                        BASE,
                        Free::Nothing,
                    )
                })
                .collect(),
        },
        Draft {
            name: "batchnorm",
            question: "what a BatchNorm node costs when it is not folded into the conv",
            variants: vec![
                v(
                    "kept",
                    "3x3 conv, BatchNorm node, ReLU",
                    conv(3, 1, Act::Relu, Some(false)),
                    BASE,
                    Free::Nothing,
                ),
                v(
                    "folded",
                    "3x3 conv with the BatchNorm folded in, ReLU",
                    conv(3, 1, Act::Relu, Some(true)),
                    BASE,
                    Free::Nothing,
                ),
            ],
        },
        Draft {
            name: "spatial",
            question: "whether the same MACs run faster as more channels on a smaller map",
            variants: [(32, 16), (16, 32), (64, 8), (128, 4)]
                .into_iter()
                .map(|(c, hw)| {
                    v(
                        &format!("c{c}_{hw}x{hw}"),
                        &format!("{c} channels at {hw}x{hw}"),
                        RELU_CONV3,
                        Size { c, h: hw, w: hw },
                        Free::Nothing,
                    )
                })
                .collect(),
        },
        int8(),
    ];
    out.push(kernels());
    out
}

/// The same 3x3 conv (32 -> 32 channels on 16x16, no bias: the baseline's MACs) in f32 and
/// in onnxruntime's three int8 formats: what int8 buys on this runtime at equal MACs, and
/// where its time goes (Q/DQ ops, the integer kernel, requantization).
fn int8() -> Draft {
    use crate::zoo::builder::Quant;
    let variants = Quant::ALL
        .into_iter()
        .map(|quant| {
            let choice = match quant {
                Quant::F32 => "float Conv",
                Quant::Qdq => "QDQ int8: QuantizeLinear/DequantizeLinear around a float Conv",
                Quant::QLinear => "QOperator int8: QuantizeLinear, QLinearConv, DequantizeLinear",
                Quant::Integer => {
                    "dynamic int8: DynamicQuantizeLinear, ConvInteger, Cast, Mul by the scales"
                }
            };
            let block = Block::Kernel(Kernel::QConv {
                quant,
                k: 3,
                groups: 1,
            });
            let name = quant.as_str().to_string();
            (name, choice.to_string(), block, BASE, Free::Nothing)
        })
        .collect();
    Draft {
        name: "int8",
        question: "what int8 quantization buys at equal MACs, in each format tract runs",
        variants,
    }
}

/// Relative difference of `macs` from `target`.
pub fn macs_error(macs: u64, target: u64) -> f64 {
    if target == 0 {
        return if macs == 0 { 0.0 } else { f64::INFINITY };
    }
    (macs as f64 - target as f64).abs() / target as f64
}

/// The size of `block` closest to `ideal` whose MACs are within [`SEARCH_TOLERANCE`] of
/// `target` (or, if none is, the one nearest `target`), moving only what `free` allows.
fn matched_size(block: &Block, target: u64, ideal: Size, free: Free) -> Size {
    let near = |x: usize, d: usize| x.saturating_sub(d).max(1)..=x + d;
    let channels: Vec<usize> = match free {
        Free::Nothing => return ideal,
        Free::Spatial => vec![ideal.c],
        Free::Channels { step } => {
            let step = step.max(1);
            let lo = (ideal.c * 3 / 4).div_ceil(step).max(1) * step;
            (lo..=ideal.c * 5 / 4).step_by(step).collect()
        }
    };
    let spatial_reach = match free {
        Free::Spatial => ideal.h / 2,
        _ => 3,
    };
    let mut best: Option<(bool, f64, Size)> = None;
    for &c in &channels {
        for h in near(ideal.h, spatial_reach) {
            for w in near(ideal.w, spatial_reach) {
                let s = Size { c, h, w };
                if !block.fits(s) {
                    continue;
                }
                let err = macs_error(block.macs(s), target);
                let within = err <= SEARCH_TOLERANCE;
                let distance = rel(c, ideal.c) + rel(h, ideal.h) + rel(w, ideal.w) + rel(h, w);
                let score = if within { distance } else { err };
                let better = match &best {
                    None => true,
                    Some((b_within, b_score, _)) => {
                        (within && !b_within) || (within == *b_within && score < *b_score)
                    }
                };
                if better {
                    best = Some((within, score, s));
                }
            }
        }
    }
    best.map_or(ideal, |(_, _, s)| s)
}

fn rel(a: usize, b: usize) -> f64 {
    (a as f64 - b as f64).abs() / b.max(1) as f64
}

/// Every family with its variants sized.
pub fn all() -> Vec<Family> {
    drafts().into_iter().map(size_family).collect()
}

fn size_family(d: Draft) -> Family {
    let kind = if d.name == "kernels" {
        Kind::Kernel
    } else {
        Kind::Design
    };
    let target = d
        .variants
        .first()
        .map_or(0, |(_, _, block, size, _)| block.macs(*size));
    let variants = d
        .variants
        .into_iter()
        .enumerate()
        .map(|(ix, (name, choice, block, ideal, free))| {
            let size = matched_size(&block, target, ideal, free);
            Variant {
                family: d.name,
                name,
                choice,
                baseline: kind == Kind::Design && ix == 0,
                block,
                size,
                macs: block.macs(size),
                macs_target: (kind == Kind::Design).then_some(target),
            }
        })
        .collect();
    Family {
        name: d.name,
        question: d.question,
        kind,
        variants,
    }
}
