//! The kernel probes added for the op types networks and exports run besides convolutions
//! (see [`more_kernels`]).

use super::{CHANNELS, Lcg, MAX_PROBE_MACS, MIN_PROBE_MACS, SPATIAL};
use crate::sweep::blocks::{Block, Elt, Kernel, Size, Unit};

/// The kernel probes of the op types networks and exports run besides convolutions, so that
/// each has training calls of its own in the kernel model: concats of 2 and 4 inputs, channel
/// and row slices, transposes and channel shuffles, reductions, element-wise chains, average
/// and max pools, depthwise units per kernel size (3, 5, 7), GEMVs (m = 1) whose weights lie
/// beyond the last cache (4 to 64 MiB), softmax, LayerNorm, RmsNorm, GELU and Einsum at
/// transformer sizes. Fixed-seed like [`sampled_kernels`], on a stream of its own (those stay
/// as they were), and after them in the sweep.
pub fn more_kernels() -> Vec<(Kernel, Size)> {
    let mut rng = Lcg(0x6d6f_7265_6b65_726e);
    let mut out: Vec<(Kernel, Size)> = Vec::new();
    let sampled = super::sampled_kernels();
    // `n` probes of `kernel` at sizes from `size` (at most 50 draws each).
    let draw = |out: &mut Vec<(Kernel, Size)>,
                rng: &mut Lcg,
                kernel: Kernel,
                n: usize,
                size: &dyn Fn(&mut Lcg) -> Size| {
        let (mut added, mut tries) = (0, 0);
        while added < n && tries < 50 * n {
            tries += 1;
            let s = size(rng);
            let block = Block::Kernel(kernel);
            let sized = !matches!(kernel, Kernel::ConvUnit(_))
                || (MIN_PROBE_MACS..=MAX_PROBE_MACS).contains(&block.macs(s));
            let new = !out.contains(&(kernel, s)) && !sampled.contains(&(kernel, s));
            if block.fits(s) && sized && new {
                out.push((kernel, s));
                added += 1;
            }
        }
    };
    let square = |rng: &mut Lcg| {
        let c = rng.pick(&CHANNELS[..12]);
        let hw = rng.pick(&SPATIAL[..6]);
        Size { c, h: hw, w: hw }
    };
    let tensor_ops = [
        (Kernel::ConcatOf { inputs: 2 }, 8),
        (Kernel::ConcatOf { inputs: 4 }, 6),
        (Kernel::Slice { spatial: false }, 8),
        (Kernel::Slice { spatial: true }, 4),
        (Kernel::Permute([0, 2, 3, 1]), 4),
        (Kernel::Permute([0, 3, 1, 2]), 3),
        (Kernel::Permute([0, 1, 3, 2]), 3),
        (Kernel::Shuffle { groups: 2 }, 4),
        (Kernel::Shuffle { groups: 3 }, 3),
        (
            Kernel::Reduce {
                mean: true,
                spatial: true,
            },
            5,
        ),
        (
            Kernel::Reduce {
                mean: false,
                spatial: true,
            },
            4,
        ),
        (
            Kernel::Reduce {
                mean: true,
                spatial: false,
            },
            3,
        ),
        (
            Kernel::Reduce {
                mean: false,
                spatial: false,
            },
            3,
        ),
        (Kernel::Add, 10),
        (Kernel::Eltwise(Elt::Sigmoid), 5),
        (Kernel::Eltwise(Elt::Silu), 10),
        (Kernel::Eltwise(Elt::MulAdd), 4),
        (Kernel::Eltwise(Elt::ScaleShiftRelu), 6),
        (
            Kernel::Pool {
                max: false,
                k: 3,
                stride: 1,
                pad: 1,
            },
            5,
        ),
        (
            Kernel::Pool {
                max: false,
                k: 2,
                stride: 2,
                pad: 0,
            },
            5,
        ),
        (
            Kernel::Pool {
                max: true,
                k: 3,
                stride: 2,
                pad: 1,
            },
            3,
        ),
        (
            Kernel::Pool {
                max: true,
                k: 3,
                stride: 1,
                pad: 1,
            },
            3,
        ),
    ];
    for (kernel, n) in tensor_ops {
        draw(&mut out, &mut rng, kernel, n, &square);
    }
    // Squeeze-and-excitation's gate: a sigmoid on [1, c, 1, 1].
    let gate = |rng: &mut Lcg| Size {
        c: rng.pick(&CHANNELS[4..]),
        h: 1,
        w: 1,
    };
    draw(&mut out, &mut rng, Kernel::Eltwise(Elt::Sigmoid), 5, &gate);
    // Depthwise units per kernel size, stride 1 and 2.
    for (k, n) in [(3, 6), (5, 8), (7, 8)] {
        for stride in [1, 2] {
            let unit = |c| {
                Kernel::ConvUnit(Unit {
                    out: c,
                    kh: k,
                    kw: k,
                    stride,
                    groups: c,
                })
            };
            let (mut added, mut tries) = (0, 0);
            while added < n / 2 && tries < 100 {
                tries += 1;
                let s = square(&mut rng);
                let before = out.len();
                draw(&mut out, &mut rng, unit(s.c), 1, &|_| s);
                added += out.len() - before;
            }
        }
    }
    // GEMVs: [1, 1, k] x [k, n] and `nn.Linear` at batch 1, 4 to 64 MiB of weights.
    for (k, n) in [
        (1024, 1024),
        (2048, 2048),
        (1024, 4096),
        (4096, 1024),
        (2048, 4096),
        (4096, 4096),
    ] {
        draw(&mut out, &mut rng, Kernel::MatMul, 1, &|_| Size {
            c: k,
            h: 1,
            w: n,
        });
    }
    for (k, n) in [(2048, 2048), (1024, 4096)] {
        let s = Size { c: k, h: 1, w: 1 };
        draw(&mut out, &mut rng, Kernel::Linear { out: n }, 1, &|_| s);
    }
    // Transformer ops: attention scores [1, heads, t, t] (softmax) and their einsum, and
    // LayerNorm, RmsNorm and GELU on [1, t, d].
    let heads = [1, 4, 8, 12];
    let tokens = [16, 32, 49, 64, 128, 196];
    let scores = |rng: &mut Lcg| {
        let t = rng.pick(&tokens);
        Size {
            c: rng.pick(&heads),
            h: t,
            w: t,
        }
    };
    draw(&mut out, &mut rng, Kernel::Softmax, 10, &scores);
    let per_head = |rng: &mut Lcg| Size {
        c: rng.pick(&heads),
        h: rng.pick(&tokens),
        w: rng.pick(&[32, 64]),
    };
    draw(&mut out, &mut rng, Kernel::EinSum, 10, &per_head);
    let features = |rng: &mut Lcg| Size {
        c: rng.pick(&[64, 128, 256, 384, 512, 768, 1024, 3072]),
        h: rng.pick(&tokens),
        w: 1,
    };
    draw(
        &mut out,
        &mut rng,
        Kernel::Norm { rms: false },
        10,
        &features,
    );
    draw(&mut out, &mut rng, Kernel::Norm { rms: true }, 6, &features);
    draw(&mut out, &mut rng, Kernel::Gelu, 10, &features);
    out
}
