//! The design families (variants at matched MACs that differ in one design choice) and the
//! single-kernel probes, and the search that sizes each variant to its family's MACs.

use super::blocks::{Act, Block, Kernel, Size};
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
pub const NAMES: [&str; 9] = [
    "conv_type",
    "channels",
    "shuffle",
    "merge",
    "kernel_size",
    "activation",
    "batchnorm",
    "spatial",
    "kernels",
];

/// One family's description before sizing.
struct Draft {
    name: &'static str,
    question: &'static str,
    /// (variant name, design choice, block, the size it would have without matching, what the
    /// search may change). The first is the baseline.
    variants: Vec<(String, String, Block, Size, Free)>,
}

/// Which size parameters the MAC search may move.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Free {
    /// None: the design choice itself keeps MACs equal (or it is a kernel probe).
    Nothing,
    /// Channels (in steps of `step`) and, to fine-tune, the spatial size by up to 3 each way.
    Channels { step: usize },
    /// The spatial size only (the channel count is the design choice).
    Spatial,
}

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
    ];
    out.push(kernels());
    out
}

/// The single-kernel probes: each op alone at a few sampled shapes.
fn kernels() -> Draft {
    let sq = |c: usize, hw: usize| Size { c, h: hw, w: hw };
    let shapes: [(Kernel, &str, Vec<Size>); 9] = [
        (
            Kernel::Conv,
            "conv",
            vec![sq(16, 32), sq(32, 16), sq(64, 8)],
        ),
        (
            Kernel::Depthwise,
            "depthwise",
            vec![sq(32, 32), sq(64, 16), sq(128, 8)],
        ),
        (Kernel::MaxPool, "maxpool", vec![sq(32, 32), sq(64, 16)]),
        (Kernel::Concat, "concat", vec![sq(32, 16), sq(64, 8)]),
        (Kernel::Add, "add", vec![sq(32, 16), sq(64, 8)]),
        (Kernel::Transpose, "transpose", vec![sq(32, 16), sq(64, 8)]),
        (Kernel::Reshape, "reshape", vec![sq(32, 16), sq(64, 8)]),
        (Kernel::Resize, "resize", vec![sq(32, 16), sq(64, 8)]),
        (
            Kernel::MatMul,
            "matmul",
            vec![
                Size {
                    c: 64,
                    h: 64,
                    w: 64,
                },
                Size {
                    c: 128,
                    h: 256,
                    w: 128,
                },
                Size {
                    c: 512,
                    h: 16,
                    w: 512,
                },
            ],
        ),
    ];
    let mut variants = Vec::new();
    for (kernel, name, sizes) in shapes {
        for s in sizes {
            let (label, choice) = if kernel == Kernel::MatMul {
                (
                    format!("{name}_m{}_k{}_n{}", s.h, s.c, s.w),
                    format!("MatMul [1, {}, {}] x [{}, {}]", s.h, s.c, s.c, s.w),
                )
            } else {
                (
                    format!("{name}_c{}_{}x{}", s.c, s.h, s.w),
                    format!("{} on [1, {}, {}, {}]", kernel.op_type(), s.c, s.h, s.w),
                )
            };
            variants.push((label, choice, Block::Kernel(kernel), s, Free::Nothing));
        }
    }
    for (kernel, s) in sampled_kernels() {
        variants.push((
            sampled_label(kernel, s),
            sampled_choice(kernel, s),
            Block::Kernel(kernel),
            s,
            Free::Nothing,
        ));
    }
    Draft {
        name: "kernels",
        question: "what each kernel costs alone at sampled shapes (for a latency predictor)",
        variants,
    }
}

/// Spatial sizes the zoo's CIFAR networks run their layers at (32x32 input; Inception's
/// valid-padded stages at 30, 14 and 6).
const SPATIAL: [usize; 8] = [32, 30, 16, 14, 8, 6, 4, 2];
/// Channel counts of the zoo's layers, from a stem's 16 to ResNet-50's 2048.
const CHANNELS: [usize; 16] = [
    16, 24, 32, 48, 64, 96, 128, 160, 192, 256, 384, 512, 728, 1024, 1536, 2048,
];
/// A sampled probe above this many MACs would spend the budget on one shape.
const MAX_PROBE_MACS: u64 = 160_000_000;
/// Nor below this: too little work to tell a kernel's rate from its dispatch.
const MIN_PROBE_MACS: u64 = 20_000;

/// A small deterministic generator (64-bit LCG, Knuth's constants): the probes' shapes are the
/// same on every board, so logs of different boards sample the same kernels.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) % n.max(1) as u64) as usize
    }
    fn pick<T: Copy>(&mut self, from: &[T]) -> T {
        from[self.below(from.len())]
    }
}

/// The sampled kernel probes (nn-Meter's idea: sample each kernel's configuration space, fit
/// per kernel): conv-BN-ReLU units dense (1x1, 3x3, 5x5, 7x7, 1x7, 7x1, stride 1 and 2),
/// depthwise, grouped and stem convs, pools, global pools and classifiers, at the channel
/// counts and spatial sizes of [`SPATIAL`] and [`CHANNELS`], each within
/// [`MIN_PROBE_MACS`]..=[`MAX_PROBE_MACS`] when it has MACs. Deterministic.
pub fn sampled_kernels() -> Vec<(Kernel, Size)> {
    let mut rng = Lcg(0x5eed_4b65_726e_656c);
    let mut out: Vec<(Kernel, Size)> = Vec::new();
    let push = |out: &mut Vec<(Kernel, Size)>, k: Kernel, s: Size| {
        let block = Block::Kernel(k);
        let macs = block.macs(s);
        let has_macs = !matches!(
            k,
            Kernel::Pool { .. } | Kernel::GlobalAvgPool | Kernel::MaxPool
        );
        let sized = !has_macs || (MIN_PROBE_MACS..=MAX_PROBE_MACS).contains(&macs);
        if block.fits(s) && sized && !out.contains(&(k, s)) {
            out.push((k, s));
            true
        } else {
            false
        }
    };
    let unit = |out, kh, kw, stride, groups| Kernel::ConvUnit {
        out,
        kh,
        kw,
        stride,
        groups,
    };
    // Stems: the 3-channel input at 32x32.
    for c_out in [16, 32, 64] {
        push(
            &mut out,
            unit(c_out, 3, 3, 1, 1),
            Size { c: 3, h: 32, w: 32 },
        );
    }
    // Dense units: 1x1 and 3x3 most often, as in the networks.
    let kernel_shapes = [
        (1, 1),
        (1, 1),
        (1, 1),
        (3, 3),
        (3, 3),
        (3, 3),
        (5, 5),
        (7, 7),
        (1, 7),
        (7, 1),
    ];
    let mut tries = 0;
    let mut dense = 0;
    while dense < 120 && tries < 20_000 {
        tries += 1;
        let (kh, kw) = rng.pick(&kernel_shapes);
        let stride = if rng.below(5) == 0 { 2 } else { 1 };
        let hw = rng.pick(&SPATIAL);
        let (c, c_out) = (rng.pick(&CHANNELS), rng.pick(&CHANNELS));
        let s = Size { c, h: hw, w: hw };
        dense += usize::from(push(&mut out, unit(c_out, kh, kw, stride, 1), s));
    }
    // Depthwise 3x3 (and 5x5), stride 1 and 2.
    let mut depthwise = 0;
    tries = 0;
    while depthwise < 28 && tries < 20_000 {
        tries += 1;
        let c = rng.pick(&CHANNELS);
        let k = if rng.below(4) == 0 { 5 } else { 3 };
        let stride = if rng.below(3) == 0 { 2 } else { 1 };
        let s = Size {
            c,
            h: rng.pick(&SPATIAL),
            w: 0,
        };
        let s = Size { w: s.h, ..s };
        depthwise += usize::from(push(&mut out, unit(c, k, k, stride, c), s));
    }
    // Grouped 1x1 and 3x3 (ShuffleNet's, ResNeXt-like), channels kept.
    let mut grouped = 0;
    tries = 0;
    while grouped < 16 && tries < 20_000 {
        tries += 1;
        let groups = rng.pick(&[2, 3, 4, 8]);
        let c = groups * rng.pick(&[8, 16, 20, 32, 60, 64]);
        let k = rng.pick(&[1, 1, 3]);
        let hw = rng.pick(&SPATIAL[..6]);
        let s = Size { c, h: hw, w: hw };
        grouped += usize::from(push(&mut out, unit(c, k, k, 1, groups), s));
    }
    // Pools: 2x2/2 and 3x3/2 max (VGG, ResNet, Inception), 3x3/1 average (Inception's branch).
    for (max, k, stride, pad) in [
        (true, 2, 2, 0),
        (true, 3, 2, 1),
        (true, 3, 1, 1),
        (false, 3, 1, 1),
        (false, 2, 2, 0),
    ] {
        for _ in 0..4 {
            let hw = rng.pick(&SPATIAL[..6]);
            let c = rng.pick(&CHANNELS[..12]);
            let s = Size { c, h: hw, w: hw };
            push(
                &mut out,
                Kernel::Pool {
                    max,
                    k,
                    stride,
                    pad,
                },
                s,
            );
        }
    }
    for _ in 0..8 {
        let hw = rng.pick(&SPATIAL[2..]);
        let c = rng.pick(&CHANNELS[4..]);
        push(&mut out, Kernel::GlobalAvgPool, Size { c, h: hw, w: hw });
    }
    // Classifiers: 100 classes from the networks' feature widths, and VGG's 4096-wide layers.
    for (c, o) in [
        (256, 100),
        (512, 100),
        (1024, 100),
        (1280, 100),
        (2048, 100),
        (512, 4096),
        (4096, 4096),
        (4096, 100),
    ] {
        push(&mut out, Kernel::Linear { out: o }, Size { c, h: 1, w: 1 });
    }
    out
}

fn sampled_label(k: Kernel, s: Size) -> String {
    match k {
        Kernel::ConvUnit {
            out,
            kh,
            kw,
            stride,
            groups,
        } => format!(
            "unit_c{}_o{out}_k{kh}x{kw}_s{stride}_g{groups}_{}x{}",
            s.c, s.h, s.w
        ),
        Kernel::Pool {
            max,
            k,
            stride,
            pad,
        } => format!(
            "{}pool_k{k}_s{stride}_p{pad}_c{}_{}x{}",
            if max { "max" } else { "avg" },
            s.c,
            s.h,
            s.w
        ),
        Kernel::GlobalAvgPool => format!("gap_c{}_{}x{}", s.c, s.h, s.w),
        Kernel::Linear { out } => format!("linear_{}_{out}", s.c),
        other => format!("{}_c{}_{}x{}", other.op_type(), s.c, s.h, s.w),
    }
}

fn sampled_choice(k: Kernel, s: Size) -> String {
    match k {
        Kernel::ConvUnit {
            out,
            kh,
            kw,
            stride,
            groups,
        } => format!(
            "Conv {kh}x{kw} stride {stride} groups {groups} [1, {}, {}, {}] -> {out} channels, BatchNorm, ReLU",
            s.c, s.h, s.w
        ),
        Kernel::Linear { out } => format!("Gemm [1, {}] -> [1, {out}]", s.c),
        Kernel::Pool {
            k: w, stride, pad, ..
        } => format!(
            "{} {w}x{w} stride {stride} pad {pad} on [1, {}, {}, {}]",
            k.op_type(),
            s.c,
            s.h,
            s.w
        ),
        other => format!("{} on [1, {}, {}, {}]", other.op_type(), s.c, s.h, s.w),
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
