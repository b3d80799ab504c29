//! The single-kernel probes of the sweep: each op alone at a few shapes, and the sampled
//! configurations of each kernel the kernel model is fitted on (fixed-seed, the same on every
//! board).

use super::blocks::{Block, Kernel, Size, Unit};
use super::draft::{Draft, Free};

#[path = "kernels_more.rs"]
mod more;
pub use more::more_kernels;
#[path = "kernels_int8.rs"]
mod int8;
#[cfg(test)]
pub use int8::MAX_INT8_PROBE_MACS;
pub use int8::int8_kernels;

/// The single-kernel probes: each op alone at a few sampled shapes.
pub(super) fn kernels() -> Draft {
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
    let sampled = sampled_kernels().into_iter().chain(more_kernels());
    for (kernel, s) in sampled.chain(int8_kernels()) {
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
pub(super) const SPATIAL: [usize; 8] = [32, 30, 16, 14, 8, 6, 4, 2];
/// Channel counts of the zoo's layers, from a stem's 16 to ResNet-50's 2048.
pub(super) const CHANNELS: [usize; 16] = [
    16, 24, 32, 48, 64, 96, 128, 160, 192, 256, 384, 512, 728, 1024, 1536, 2048,
];
/// A sampled probe above this many MACs would spend the budget on one shape.
pub(super) const MAX_PROBE_MACS: u64 = 160_000_000;
/// Nor below this: too little work to tell a kernel's rate from its dispatch.
pub(super) const MIN_PROBE_MACS: u64 = 20_000;

/// A small deterministic generator (64-bit LCG, Knuth's constants): the probes' shapes are the
/// same on every board, so logs of different boards sample the same kernels.
pub(super) struct Lcg(pub(super) u64);

impl Lcg {
    pub(super) fn below(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        ((self.0 >> 33) % n.max(1) as u64) as usize
    }
    pub(super) fn pick<T: Copy>(&mut self, from: &[T]) -> T {
        from[self.below(from.len())]
    }
}

/// The sampled kernel probes (nn-Meter's idea: sample each kernel's configuration space, fit
/// per kernel): conv-BN-ReLU units dense (1x1, 3x3, 5x5, 7x7, 1x7, 7x1, stride 1 and 2),
/// depthwise, grouped and stem convs, pools, global pools and classifiers, at the channel
/// counts and spatial sizes of `SPATIAL` and `CHANNELS`, each within
/// `MIN_PROBE_MACS..=MAX_PROBE_MACS` when it has MACs. Deterministic.
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
    let unit = |out, kh, kw, stride, groups| {
        Kernel::ConvUnit(Unit {
            out,
            kh,
            kw,
            stride,
            groups,
        })
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
        Kernel::ConvUnit(u) => format!(
            "unit_c{}_o{}_k{}x{}_s{}_g{}_{}x{}",
            s.c, u.out, u.kh, u.kw, u.stride, u.groups, s.h, s.w
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
        Kernel::MatMul => format!("matmul_m{}_k{}_n{}", s.h, s.c, s.w),
        Kernel::Slice { spatial } => format!(
            "slice_{}_c{}_{}x{}",
            if spatial { "rows" } else { "channels" },
            s.c,
            s.h,
            s.w
        ),
        Kernel::ConcatOf { inputs } => format!("concat{inputs}_c{}_{}x{}", s.c, s.h, s.w),
        Kernel::Permute(p) => format!(
            "permute_{}{}{}{}_c{}_{}x{}",
            p[0], p[1], p[2], p[3], s.c, s.h, s.w
        ),
        Kernel::Shuffle { groups } => format!("shuffle_g{groups}_c{}_{}x{}", s.c, s.h, s.w),
        Kernel::Reduce { mean, spatial } => format!(
            "reduce{}_{}_c{}_{}x{}",
            if mean { "mean" } else { "sum" },
            if spatial { "spatial" } else { "channels" },
            s.c,
            s.h,
            s.w
        ),
        Kernel::Eltwise(e) => format!("{}_c{}_{}x{}", e.as_str(), s.c, s.h, s.w),
        Kernel::Softmax => format!("softmax_h{}_{}x{}", s.c, s.h, s.w),
        Kernel::Norm { rms } => format!(
            "{}_t{}_d{}",
            if rms { "rmsnorm" } else { "layernorm" },
            s.h,
            s.c
        ),
        Kernel::Gelu => format!("gelu_t{}_d{}", s.h, s.c),
        Kernel::EinSum => format!("einsum_h{}_t{}_d{}", s.c, s.h, s.w),
        Kernel::QConv { quant, k, groups } => {
            let q = quant.as_str();
            format!("qconv_{q}_k{k}_g{groups}_c{}_{}x{}", s.c, s.h, s.w)
        }
        Kernel::QMatMul(quant) => {
            format!("qmatmul_{}_m{}_k{}_n{}", quant.as_str(), s.h, s.c, s.w)
        }
        other => format!("{}_c{}_{}x{}", other.op_type(), s.c, s.h, s.w),
    }
}

fn sampled_choice(k: Kernel, s: Size) -> String {
    match k {
        Kernel::ConvUnit(u) => format!(
            "Conv {}x{} stride {} groups {} [1, {}, {}, {}] -> {} channels, BatchNorm, ReLU",
            u.kh, u.kw, u.stride, u.groups, s.c, s.h, s.w, u.out
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
        Kernel::MatMul => format!("MatMul [1, {}, {}] x [{}, {}]", s.h, s.c, s.c, s.w),
        Kernel::Norm { rms } => format!(
            "{} over the last axis of [1, {}, {}], written out as opset 13 exports do",
            if rms { "RmsNorm" } else { "LayerNorm" },
            s.h,
            s.c
        ),
        Kernel::Gelu => format!("GELU (erf form) on [1, {}, {}]", s.h, s.c),
        Kernel::EinSum => format!(
            "Einsum bhqd,bhkd->bhqk of [1, {}, {}, {}] and a ReLU of it",
            s.c, s.h, s.w
        ),
        Kernel::Permute(p) => format!("Transpose {p:?} of [1, {}, {}, {}]", s.c, s.h, s.w),
        Kernel::Shuffle { groups } => format!(
            "channel shuffle in {groups} groups of [1, {}, {}, {}] (Reshape, Transpose, Reshape)",
            s.c, s.h, s.w
        ),
        Kernel::QConv { quant, k, groups } => format!(
            "Conv {k}x{k} groups {groups} [1, {}, {}, {}] -> {} channels, no bias, as {} ({})",
            s.c,
            s.h,
            s.w,
            s.c,
            k_op(quant, true),
            quant.as_str()
        ),
        Kernel::QMatMul(quant) => format!(
            "MatMul [1, {}, {}] x [{}, {}] as {} ({})",
            s.h,
            s.c,
            s.c,
            s.w,
            k_op(quant, false),
            quant.as_str()
        ),
        other => format!("{} on [1, {}, {}, {}]", other.op_type(), s.c, s.h, s.w),
    }
}

/// What a quantized form runs, in words.
fn k_op(quant: crate::zoo::builder::Quant, conv: bool) -> &'static str {
    use crate::zoo::builder::Quant;
    match (quant, conv) {
        (Quant::F32, _) => "float",
        (Quant::Qdq, _) => "QuantizeLinear/DequantizeLinear around the float op",
        (Quant::QLinear, true) => "QLinearConv",
        (Quant::QLinear, false) => "QLinearMatMul",
        (Quant::Integer, true) => "DynamicQuantizeLinear, ConvInteger, Cast, Mul",
        (Quant::Integer, false) => "DynamicQuantizeLinear, MatMulInteger, Cast, Mul",
    }
}
