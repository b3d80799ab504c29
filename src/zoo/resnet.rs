//! ResNet50 (`resnet.py`) and SEResNet50 (`senet.py`): bottleneck residual networks with a 3x3
//! stride-1 stem and stages of 3, 4, 6 and 3 blocks (64, 128, 256 and 512 bottleneck channels,
//! expansion 4). The two differ in more than the SE blocks: SEResNet's convolutions carry a bias,
//! its residual branch ends in a ReLU before the excitation, the shortcut is computed first, and
//! its final pool is the functional `F.adaptive_avg_pool2d` (invisible to thop).
//!
//! The linear layer takes today's width (`self.in_channels`, 2048); the 26.5M parameters in the
//! reference README predate that fix, today's definition has 26,262,804.

use super::ZooError;
use super::builder::{Conv, GraphBuilder, Value};

const STAGES: [(usize, usize, usize); 4] = [(64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2)];
const EXPANSION: usize = 4;

/// A block's shortcut: `x` itself, or `conv` and a BatchNorm (`{m}.shortcut.0` and `.1`) where
/// the block changes the stride or the channels (to `wide`).
fn shortcut(
    b: &mut GraphBuilder,
    x: &Value,
    m: &str,
    wide: usize,
    stride: usize,
    conv: Conv,
) -> Result<Value, ZooError> {
    if stride != 1 || x.channels() != wide {
        b.conv_bn(
            x,
            &format!("{m}.shortcut.0"),
            &format!("{m}.shortcut.1"),
            conv,
        )
    } else {
        Ok(x.clone())
    }
}

/// `BottleNeck(in, out, stride)`, returns the block output.
fn bottleneck(
    b: &mut GraphBuilder,
    x: &Value,
    m: &str,
    out: usize,
    stride: usize,
) -> Result<Value, ZooError> {
    let rf = |i: usize| format!("{m}.residual_function.{i}");
    let mut r = b.conv_bn(x, &rf(0), &rf(1), Conv::new(out, 1).no_bias())?;
    r = b.relu(&r, &rf(2));
    r = b.conv_bn(
        &r,
        &rf(3),
        &rf(4),
        Conv::new(out, 3).stride(stride).pad(1).no_bias(),
    )?;
    r = b.relu(&r, &rf(5));
    r = b.conv_bn(&r, &rf(6), &rf(7), Conv::new(out * EXPANSION, 1).no_bias())?;
    let conv = Conv::new(out * EXPANSION, 1).stride(stride).no_bias();
    let shortcut = shortcut(b, x, m, out * EXPANSION, stride, conv)?;
    let y = b.add(&r, &shortcut, m)?;
    Ok(b.relu(&y, m)) // nn.ReLU(inplace=True) built inside forward
}

pub(crate) fn resnet50(b: &mut GraphBuilder, input: Value) -> Result<Value, ZooError> {
    let mut x = b.conv_bn(
        &input,
        "conv1.0",
        "conv1.1",
        Conv::new(64, 3).pad(1).no_bias(),
    )?;
    x = b.relu(&x, "conv1.2");
    for (stage, (out, blocks, stride)) in STAGES.into_iter().enumerate() {
        for i in 0..blocks {
            let m = format!("conv{}_x.{i}", stage + 2);
            x = bottleneck(b, &x, &m, out, if i == 0 { stride } else { 1 })?;
        }
    }
    x = b.global_avg_pool(&x, "avg_pool", true)?;
    x = b.reshape(&x, &[1, -1], "")?;
    b.linear(&x, 100, "fc")
}

/// `BottleneckResidualSEBlock(in, out, stride)` with reduction 16.
fn se_bottleneck(
    b: &mut GraphBuilder,
    x: &Value,
    m: &str,
    out: usize,
    stride: usize,
) -> Result<Value, ZooError> {
    let wide = out * EXPANSION;
    let shortcut = shortcut(b, x, m, wide, stride, Conv::new(wide, 1).stride(stride))?;
    let res = |i: usize| format!("{m}.residual.{i}");
    let mut r = b.conv_bn(x, &res(0), &res(1), Conv::new(out, 1))?;
    r = b.relu(&r, &res(2));
    r = b.conv_bn(
        &r,
        &res(3),
        &res(4),
        Conv::new(out, 3).stride(stride).pad(1),
    )?;
    r = b.relu(&r, &res(5));
    r = b.conv_bn(&r, &res(6), &res(7), Conv::new(wide, 1))?;
    r = b.relu(&r, &res(8));

    let exc = |i: usize| format!("{m}.excitation.{i}");
    let mut e = b.global_avg_pool(&r, &format!("{m}.squeeze"), true)?;
    e = b.reshape(&e, &[1, -1], m)?;
    e = b.linear(&e, wide / 16, &exc(0))?;
    e = b.relu(&e, &exc(1));
    e = b.linear(&e, wide, &exc(2))?;
    e = b.sigmoid(&e, &exc(3));
    e = b.reshape(&e, &[1, wide as i64, 1, 1], m)?;
    e = b.expand_as(&e, &r, m)?;
    let scaled = b.mul(&r, &e, m)?;
    let y = b.add(&scaled, &shortcut, m)?;
    Ok(b.relu(&y, m)) // F.relu
}

pub(crate) fn seresnet50(b: &mut GraphBuilder, input: Value) -> Result<Value, ZooError> {
    let mut x = b.conv_bn(&input, "pre.0", "pre.1", Conv::new(64, 3).pad(1))?;
    x = b.relu(&x, "pre.2");
    for (stage, (out, blocks, stride)) in STAGES.into_iter().enumerate() {
        for i in 0..blocks {
            let m = format!("stage{}.{i}", stage + 1);
            x = se_bottleneck(b, &x, &m, out, if i == 0 { stride } else { 1 })?;
        }
    }
    x = b.global_avg_pool(&x, "", false)?; // F.adaptive_avg_pool2d: not a module, thop skips it
    x = b.reshape(&x, &[1, -1], "")?;
    b.linear(&x, 100, "linear")
}
