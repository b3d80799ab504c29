//! The kernel probes of quantized graphs (see [`int8_kernels`]).

use super::{CHANNELS, Lcg, MIN_PROBE_MACS, SPATIAL};
use crate::sweep::blocks::{Block, Kernel, Size};
use crate::zoo::builder::Quant;

/// Most MACs of an integer probe: tract's integer kernel ran at 0.54 GMAC/s on the x86 VM
/// (its f32 one at 47), so 4 M MACs take about 8 ms there.
pub const MAX_INT8_PROBE_MACS: u64 = 4_000_000;

/// Probes of each conv form and of each matmul form.
const CONVS_PER_FORM: usize = 8;
const MATMULS_PER_FORM: usize = 5;

/// The kernel probes of the three quantized formats, so that the kernel model has training
/// calls of the kernels tract runs for them: 1x1 and 3x3 convs c -> c and matmuls (GEMVs with
/// m = 1 among them, as a classifier is) in QDQ form (QuantizeLinearI8, DequantizeLinearF32
/// around the f32 kernel), QLinearConv / QLinearMatMul form and ConvInteger / MatMulInteger
/// form (the integer OptMatMul, OffsetU8asI8, QSum*, DynamicQuantizeLinearU8 and the requantizing
/// ops), each within [`MIN_PROBE_MACS`]..=[`MAX_INT8_PROBE_MACS`]. Fixed-seed, on a stream of
/// their own, after the other probes in the sweep.
pub fn int8_kernels() -> Vec<(Kernel, Size)> {
    let mut rng = Lcg(0x696e_7438_6b65_726e);
    let mut out: Vec<(Kernel, Size)> = Vec::new();
    let mut draw = |rng: &mut Lcg, kernel: Kernel, n: usize, size: &dyn Fn(&mut Lcg) -> Size| {
        let (mut added, mut tries) = (0, 0);
        while added < n && tries < 50 * n {
            tries += 1;
            let s = size(rng);
            let block = Block::Kernel(kernel);
            let macs = block.macs(s);
            let sized = (MIN_PROBE_MACS..=MAX_INT8_PROBE_MACS).contains(&macs);
            if block.fits(s) && sized && !out.contains(&(kernel, s)) {
                out.push((kernel, s));
                added += 1;
            }
        }
    };
    for quant in [Quant::Qdq, Quant::QLinear, Quant::Integer] {
        for k in [1, 3] {
            let square = |rng: &mut Lcg| {
                let hw = rng.pick(&SPATIAL[..6]);
                Size {
                    c: rng.pick(&CHANNELS[..10]),
                    h: hw,
                    w: hw,
                }
            };
            draw(
                &mut rng,
                Kernel::QConv { quant, k },
                CONVS_PER_FORM / 2,
                &square,
            );
        }
        let product = |rng: &mut Lcg| Size {
            c: rng.pick(&[64, 128, 256, 512, 1024, 2048]),
            h: rng.pick(&[1, 1, 16, 64]),
            w: rng.pick(&[10, 100, 128, 256, 512]),
        };
        draw(&mut rng, Kernel::QMatMul(quant), MATMULS_PER_FORM, &product);
    }
    out
}
