//! MobileNet (`mobilenet.py`, width 1) and MobileNetV2 (`mobilenetv2.py`), CIFAR-100 versions.
//!
//! MobileNet: a 3x3 stem, then 13 depthwise-separable blocks; the depthwise convs have no bias,
//! the pointwise convs do (the keyword arguments only reach the depthwise conv).
//!
//! MobileNetV2: the stem is a 1x1 convolution with padding 1, so the first feature map is 34x34
//! (then 17, 9, 5). ReLU6 is exported as `Clip` with `Constant` bounds. The residual add is
//! `residual += x` (in place on the block's own output, harmless). The head pools with the
//! functional `F.adaptive_avg_pool2d` (invisible to thop) and classifies with a 1x1 conv.

use super::ZooError;
use super::builder::{Conv, GraphBuilder, Value};

type Out = Result<Value, ZooError>;

/// `DepthSeperabelConv2d(in, out, 3, stride, padding=1, bias=False)` at `m`.
fn depth_separable(b: &mut GraphBuilder, x: &Value, m: &str, out: usize, stride: usize) -> Out {
    let cin = x.channels();
    let dw = Conv::new(cin, 3)
        .stride(stride)
        .pad(1)
        .groups(cin)
        .no_bias();
    let mut y = b.conv_bn(
        x,
        &format!("{m}.depthwise.0"),
        &format!("{m}.depthwise.1"),
        dw,
    )?;
    y = b.relu(&y, &format!("{m}.depthwise.2"));
    y = b.conv_bn(
        &y,
        &format!("{m}.pointwise.0"),
        &format!("{m}.pointwise.1"),
        Conv::new(out, 1),
    )?;
    Ok(b.relu(&y, &format!("{m}.pointwise.2")))
}

/// (module, output channels, stride) of the 13 separable blocks.
const MOBILENET_BLOCKS: [(&str, usize, usize); 13] = [
    ("stem.1", 64, 1),
    ("conv1.0", 128, 2),
    ("conv1.1", 128, 1),
    ("conv2.0", 256, 2),
    ("conv2.1", 256, 1),
    ("conv3.0", 512, 2),
    ("conv3.1", 512, 1),
    ("conv3.2", 512, 1),
    ("conv3.3", 512, 1),
    ("conv3.4", 512, 1),
    ("conv3.5", 512, 1),
    ("conv4.0", 1024, 2),
    ("conv4.1", 1024, 1),
];

pub(crate) fn mobilenet(b: &mut GraphBuilder, input: Value) -> Out {
    let mut x = b.conv_bn(
        &input,
        "stem.0.conv",
        "stem.0.bn",
        Conv::new(32, 3).pad(1).no_bias(),
    )?;
    x = b.relu(&x, "stem.0.relu");
    for (m, out, stride) in MOBILENET_BLOCKS {
        x = depth_separable(b, &x, m, out, stride)?;
    }
    x = b.global_avg_pool(&x, "avg", true)?;
    x = b.reshape(&x, &[1, -1], "")?;
    b.linear(&x, 100, "fc")
}

/// `LinearBottleNeck(in, out, stride, t)` at `m`.
fn linear_bottleneck(
    b: &mut GraphBuilder,
    x: &Value,
    m: &str,
    out: usize,
    stride: usize,
    t: usize,
) -> Out {
    let cin = x.channels();
    let r = |i: usize| format!("{m}.residual.{i}");
    let mut y = b.conv_bn(x, &r(0), &r(1), Conv::new(cin * t, 1))?;
    y = b.relu6(&y, &r(2));
    let dw = Conv::new(cin * t, 3).stride(stride).pad(1).groups(cin * t);
    y = b.conv_bn(&y, &r(3), &r(4), dw)?;
    y = b.relu6(&y, &r(5));
    y = b.conv_bn(&y, &r(6), &r(7), Conv::new(out, 1))?;
    if stride == 1 && cin == out {
        y = b.add(&y, x, m)?;
    }
    Ok(y)
}

/// (module, repeats, output channels, stride of the first block, expansion t).
const MOBILENETV2_STAGES: [(&str, usize, usize, usize, usize); 5] = [
    ("stage2", 2, 24, 2, 6),
    ("stage3", 3, 32, 2, 6),
    ("stage4", 4, 64, 2, 6),
    ("stage5", 3, 96, 1, 6),
    ("stage6", 3, 160, 1, 6),
];

pub(crate) fn mobilenet_v2(b: &mut GraphBuilder, input: Value) -> Out {
    let mut x = b.conv_bn(&input, "pre.0", "pre.1", Conv::new(32, 1).pad(1))?; // 32 -> 34
    x = b.relu6(&x, "pre.2");
    x = linear_bottleneck(b, &x, "stage1", 16, 1, 1)?;
    for (stage, repeat, out, stride, t) in MOBILENETV2_STAGES {
        for i in 0..repeat {
            let s = if i == 0 { stride } else { 1 };
            x = linear_bottleneck(b, &x, &format!("{stage}.{i}"), out, s, t)?;
        }
    }
    x = linear_bottleneck(b, &x, "stage7", 320, 1, 6)?;
    x = b.conv_bn(&x, "conv1.0", "conv1.1", Conv::new(1280, 1))?;
    x = b.relu6(&x, "conv1.2");
    x = b.global_avg_pool(&x, "", false)?; // F.adaptive_avg_pool2d: thop does not see it
    x = b.conv(&x, "conv2", Conv::new(100, 1))?;
    b.reshape(&x, &[1, -1], "")
}
