//! Xception (`xception.py`), CIFAR-100 version: entry flow (two convs and three residual
//! blocks, down to 8x8), a middle flow of eight residual blocks at 728 channels, an exit flow,
//! then a global pool and the classifier.
//!
//! In-place ReLUs decide what the shortcuts see. PyTorch computes `conv4_residual(x)` first, and
//! its leading `ReLU(inplace=True)` overwrites `x`; `conv4_shortcut(x)` then convolves `relu(x)`.
//! Same for `conv5`, and in every middle block the identity shortcut adds `relu(x)`, not `x`. The
//! exit flow computes its shortcut first and its ReLU is not in-place, so that shortcut sees `x`.
//! The graph reproduces this: those shortcuts read the ReLU's output.

use super::ZooError;
use super::builder::{Conv, GraphBuilder, Value};

type Out = Result<Value, ZooError>;

/// `SeperableConv2d(in, out, 3, padding=1)` at `sep`, followed by the `BatchNorm2d` at `bn`:
/// a depthwise 3x3 and a pointwise 1x1, neither with bias.
fn separable_bn(b: &mut GraphBuilder, x: &Value, sep: &str, bn: &str, out: usize) -> Out {
    let cin = x.channels();
    let dw = Conv::new(cin, 3).pad(1).groups(cin).no_bias();
    let y = b.conv(x, &format!("{sep}.depthwise"), dw)?;
    b.conv_bn(
        &y,
        &format!("{sep}.pointwise"),
        bn,
        Conv::new(out, 1).no_bias(),
    )
}

/// Entry-flow blocks 4 and 5: ReLU (in-place), two separable convs, max pool; 1x1 shortcut.
fn entry_block(b: &mut GraphBuilder, x: &Value, n: usize, out: usize, stride: usize) -> Out {
    let r = |i: usize| format!("entry_flow.conv{n}_residual.{i}");
    let relu_x = b.relu(x, &r(0)); // in place: the shortcut below sees it too
    let mut y = separable_bn(b, &relu_x, &r(1), &r(2), out)?;
    y = b.relu(&y, &r(3));
    y = separable_bn(b, &y, &r(4), &r(5), out)?;
    y = b.max_pool(&y, &r(6), 3, stride, 1)?;
    let s = |i: usize| format!("entry_flow.conv{n}_shortcut.{i}");
    let sc = b.conv_bn(&relu_x, &s(0), &s(1), Conv::new(out, 1).stride(stride))?;
    b.add(&y, &sc, "entry_flow")
}

fn entry_flow(b: &mut GraphBuilder, x: &Value) -> Out {
    let mut x = b.conv_bn(
        x,
        "entry_flow.conv1.0",
        "entry_flow.conv1.1",
        Conv::new(32, 3).pad(1).no_bias(),
    )?;
    x = b.relu(&x, "entry_flow.conv1.2");
    x = b.conv_bn(
        &x,
        "entry_flow.conv2.0",
        "entry_flow.conv2.1",
        Conv::new(64, 3).pad(1).no_bias(),
    )?;
    x = b.relu(&x, "entry_flow.conv2.2");

    let r = |i: usize| format!("entry_flow.conv3_residual.{i}");
    let mut y = separable_bn(b, &x, &r(0), &r(1), 128)?;
    y = b.relu(&y, &r(2));
    y = separable_bn(b, &y, &r(3), &r(4), 128)?;
    y = b.max_pool(&y, &r(5), 3, 2, 1)?;
    let sc = b.conv_bn(
        &x,
        "entry_flow.conv3_shortcut.0",
        "entry_flow.conv3_shortcut.1",
        Conv::new(128, 1).stride(2),
    )?;
    x = b.add(&y, &sc, "entry_flow")?; // 32 -> 16
    x = entry_block(b, &x, 4, 256, 2)?; // 16 -> 8
    entry_block(b, &x, 5, 728, 1)
}

/// `MiddleFLowBlock`: three (ReLU, separable conv, BN) with an identity shortcut that, the first
/// ReLU being in-place, adds `relu(x)`.
fn middle_block(b: &mut GraphBuilder, x: &Value, m: &str) -> Out {
    let relu_x = b.relu(x, &format!("{m}.conv1.0"));
    let mut y = separable_bn(
        b,
        &relu_x,
        &format!("{m}.conv1.1"),
        &format!("{m}.conv1.2"),
        728,
    )?;
    for conv in ["conv2", "conv3"] {
        y = b.relu(&y, &format!("{m}.{conv}.0"));
        y = separable_bn(
            b,
            &y,
            &format!("{m}.{conv}.1"),
            &format!("{m}.{conv}.2"),
            728,
        )?;
    }
    b.add(&relu_x, &y, m)
}

fn exit_flow(b: &mut GraphBuilder, x: &Value) -> Out {
    let sc = b.conv_bn(
        x,
        "exit_flow.shortcut.0",
        "exit_flow.shortcut.1",
        Conv::new(1024, 1).stride(2),
    )?;
    let r = |i: usize| format!("exit_flow.residual.{i}");
    let mut y = b.relu(x, &r(0)); // not in place, and after the shortcut anyway
    y = separable_bn(b, &y, &r(1), &r(2), 728)?;
    y = b.relu(&y, &r(3));
    y = separable_bn(b, &y, &r(4), &r(5), 1024)?;
    y = b.max_pool(&y, &r(6), 3, 2, 1)?; // 8 -> 4
    let mut x = b.add(&sc, &y, "exit_flow")?;
    x = separable_bn(b, &x, "exit_flow.conv.0", "exit_flow.conv.1", 1536)?;
    x = b.relu(&x, "exit_flow.conv.2");
    x = separable_bn(b, &x, "exit_flow.conv.3", "exit_flow.conv.4", 2048)?;
    x = b.relu(&x, "exit_flow.conv.5");
    b.global_avg_pool(&x, "exit_flow.avgpool", true)
}

pub(crate) fn xception(b: &mut GraphBuilder, input: Value) -> Out {
    let mut x = entry_flow(b, &input)?;
    for i in 0..8 {
        x = middle_block(b, &x, &format!("middel_flow.middel_block.{i}"))?;
    }
    x = exit_flow(b, &x)?;
    x = b.reshape(&x, &[1, -1], "")?;
    b.linear(&x, 100, "fc")
}
