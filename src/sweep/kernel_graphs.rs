//! The graphs of the kernel probes added for the kernel types networks and common exports run
//! besides convolutions: slices, concats of several inputs, transposes, reductions,
//! element-wise chains, softmax, LayerNorm and RmsNorm, GELU and Einsum (the others are in
//! [`super::blocks`]). Each is one op, or the few ops an export writes for one layer, on the
//! probe's input.

use super::blocks::{Elt, Kernel, Size};
use crate::zoo::ZooError;
use crate::zoo::builder::{GraphBuilder, Value};

type Built = Result<Value, ZooError>;

/// Whether [`build`] builds `kernel` (else [`super::blocks`] does).
pub(super) fn builds(kernel: Kernel) -> bool {
    matches!(
        kernel,
        Kernel::Slice { .. }
            | Kernel::ConcatOf { .. }
            | Kernel::Permute(_)
            | Kernel::Shuffle { .. }
            | Kernel::Reduce { .. }
            | Kernel::Eltwise(_)
            | Kernel::Softmax
            | Kernel::Norm { .. }
            | Kernel::Gelu
            | Kernel::EinSum
    )
}

pub(super) fn build(b: &mut GraphBuilder, x: &Value, kernel: Kernel, s: Size) -> Built {
    let m = "probe";
    match kernel {
        Kernel::Slice { spatial: false } => b.slice(x, 1, 0, s.c / 2, m),
        Kernel::Slice { spatial: true } => b.slice(x, 2, 0, s.h / 2, m),
        Kernel::ConcatOf { inputs } => {
            let relus: Vec<Value> = (1..inputs)
                .map(|i| b.relu(x, &format!("probe.relu{i}")))
                .collect();
            let all: Vec<&Value> = std::iter::once(x).chain(&relus).collect();
            b.concat(&all, m)
        }
        Kernel::Permute(p) => b.transpose(x, &p, m),
        Kernel::Shuffle { groups } => b.channel_shuffle(x, groups, m),
        Kernel::Reduce { mean, spatial } => {
            let axes: &[usize] = if spatial { &[2, 3] } else { &[1] };
            b.reduce(x, mean, axes, m)
        }
        Kernel::Eltwise(elt) => eltwise(b, x, elt, s),
        Kernel::Softmax => Ok(b.softmax(x, m)),
        Kernel::Norm { rms } => b.layer_norm(x, rms, m),
        Kernel::Gelu => b.gelu(x, m),
        Kernel::EinSum => {
            let k = b.relu(x, "probe.relu");
            Ok(b.einsum(x, &k, "bhqd,bhkd->bhqk", vec![1, s.c, s.h, s.h], m))
        }
        other => Err(b.error(m, format!("{other:?} is built by blocks"))),
    }
}

fn eltwise(b: &mut GraphBuilder, x: &Value, elt: Elt, s: Size) -> Built {
    let m = "probe";
    match elt {
        Elt::Sigmoid => Ok(b.sigmoid(x, m)),
        Elt::Silu => {
            let gate = b.sigmoid(x, m);
            b.mul(x, &gate, m)
        }
        Elt::MulAdd => {
            let r = b.relu(x, "probe.relu");
            let y = b.mul(x, &r, m)?;
            b.add(&y, x, m)
        }
        Elt::ScaleShiftRelu => {
            let scale = b.channel_const(m, "scale", s.c, 1.0, 0.1)?;
            let shift = b.channel_const(m, "shift", s.c, 0.0, 0.05)?;
            let y = b.broadcast(x, &scale, "Mul", m)?;
            let y = b.broadcast(&y, &shift, "Add", m)?;
            Ok(b.relu(&y, m))
        }
    }
}
