//! The kernel probes of quantized graphs (see [`int8_kernels`]).

use super::{CHANNELS, Lcg, MIN_PROBE_MACS, SPATIAL};
use crate::sweep::blocks::{Block, Kernel, Size};
use crate::zoo::builder::Quant;

/// Most MACs of an integer probe: tract's integer kernel ran at 0.54 GMAC/s on the x86 VM
/// (its f32 one at 47), so 4.2 M MACs take about 8 ms there (a 512-channel 1x1 conv at 4x4,
/// 4,194,304 MACs, fits).
pub const MAX_INT8_PROBE_MACS: u64 = 4_200_000;

/// Probes per form: dense 1x1 and 3x3 convs, deep 1x1 convs, grouped 1x1 convs, depthwise
/// 3x3 convs, matmuls.
const PER_CONV_KIND: usize = 4;
const MATMULS_PER_FORM: usize = 5;

/// The kernel probes of the three quantized formats, so that the kernel model has training
/// calls of the kernels tract runs for them: dense 1x1 and 3x3 convs c -> c (and 1x1 convs of
/// 512 to 1024 channels on 4x4 and 2x2, where the integer kernel is slowest), grouped 1x1 convs
/// (ShuffleNet's; tract runs a grouped integer conv with large `Sub`s of the zero points'
/// sums), depthwise 3x3 convs (tract runs a depthwise integer conv on its integer
/// `OptMatMul`, not `DepthWiseConv`) and matmuls (GEMVs with m = 1 among them, as a classifier
/// is) in QDQ form (QuantizeLinearI8, DequantizeLinearF32 around the f32 kernel),
/// QLinearConv / QLinearMatMul form and ConvInteger / MatMulInteger form (the integer
/// OptMatMul, OffsetU8asI8, DynamicQuantizeLinearU8 and the requantizing ops), each within
/// [`MIN_PROBE_MACS`]..=[`MAX_INT8_PROBE_MACS`]. Fixed-seed, on a stream of their own, after
/// the other probes in the sweep.
pub fn int8_kernels() -> Vec<(Kernel, Size)> {
    let mut rng = Lcg(0x696e_7438_6b65_726e);
    let mut out: Vec<(Kernel, Size)> = Vec::new();
    let mut draw = |rng: &mut Lcg, n: usize, probe: &dyn Fn(&mut Lcg) -> (Kernel, Size)| {
        let (mut added, mut tries) = (0, 0);
        while added < n && tries < 50 * n {
            tries += 1;
            let (kernel, s) = probe(rng);
            let block = Block::Kernel(kernel);
            let macs = block.macs(s);
            let sized = (MIN_PROBE_MACS..=MAX_INT8_PROBE_MACS).contains(&macs);
            if block.fits(s) && sized && !out.contains(&(kernel, s)) {
                out.push((kernel, s));
                added += 1;
            }
        }
    };
    // Every spatial size down to 2x2 and channels up to 1024: the integer kernel's rate falls
    // with the output's pixels (MobileNet's 512-channel 1x1 convs at 4x4 ran at 0.18 GMAC/s
    // on the x86 VM, its 1024-channel ones at 2x2 at 0.09, the 16x16 ones at 0.5).
    let square = |rng: &mut Lcg| {
        let hw = rng.pick(&SPATIAL);
        Size {
            c: rng.pick(&CHANNELS[..14]),
            h: hw,
            w: hw,
        }
    };
    for quant in [Quant::Qdq, Quant::QLinear, Quant::Integer] {
        let conv = |k, groups| Kernel::QConv { quant, k, groups };
        for k in [1, 3] {
            draw(&mut rng, PER_CONV_KIND, &|r| (conv(k, 1), square(r)));
        }
        // The deep 1x1 convs of a network's last stages: 512 to 1024 channels on 4x4 and 2x2.
        let deep = |r: &mut Lcg| {
            let hw = r.pick(&[2, 4]);
            let c = r.pick(&[512, 728, 1024]);
            (conv(1, 1), Size { c, h: hw, w: hw })
        };
        draw(&mut rng, 3, &deep);
        let grouped = |r: &mut Lcg| (conv(1, r.pick(&[2, 3, 4, 8])), square(r));
        draw(&mut rng, PER_CONV_KIND, &grouped);
        let depthwise = |r: &mut Lcg| {
            let s = square(r);
            (conv(3, s.c), s)
        };
        draw(&mut rng, PER_CONV_KIND, &depthwise);
        let product = |rng: &mut Lcg| Size {
            c: rng.pick(&[64, 128, 256, 512, 1024, 2048]),
            h: rng.pick(&[1, 1, 16, 64]),
            w: rng.pick(&[10, 100, 128, 256, 512]),
        };
        draw(&mut rng, MATMULS_PER_FORM, &|r| {
            (Kernel::QMatMul(quant), product(r))
        });
    }
    out
}
