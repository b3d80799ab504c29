//! ShuffleNet (`shufflenet.py`, groups 3, stages [4, 8, 4]) and ShuffleNetV2 (`shufflenetv2.py`,
//! ratio 1), CIFAR-100 versions.
//!
//! Channel shuffle is exported as torch does: `Reshape` to [N, g, C/g, H, W], `Transpose`
//! (0, 2, 1, 3, 4), `Reshape` back. ShuffleNet's units all use grouped 1x1 convs (the reference
//! passes its stage list where the stage number was meant, so the stage-2 exception never
//! applies), every conv has a bias, and a downsampling unit concatenates a 3x3 average-pooled
//! shortcut. ShuffleNetV2 splits channels with `Split`, its stem has no ReLU, and its head pools
//! with the functional `F.adaptive_avg_pool2d` (invisible to thop).

use super::ZooError;
use super::builder::{Conv, GraphBuilder, Value};

type Out = Result<Value, ZooError>;

/// `ShuffleNetUnit(in, out, stride, groups=3)` at `m`.
fn shuffle_unit(b: &mut GraphBuilder, x: &Value, m: &str, out: usize, stride: usize) -> Out {
    const GROUPS: usize = 3;
    let cin = x.channels();
    let mid = out / 4;
    let downsample = stride != 1 || cin != out;
    let shortcut = if downsample {
        b.avg_pool(x, &format!("{m}.shortcut"), 3, 2, 1)?
    } else {
        x.clone()
    };
    let pw = |s: &str, i: usize| format!("{m}.{s}.pointwise.{i}");
    let mut y = b.conv_bn(
        x,
        &format!("{m}.bottlneck.0.pointwise.0"),
        &format!("{m}.bottlneck.0.pointwise.1"),
        Conv::new(mid, 1).groups(GROUPS),
    )?;
    y = b.relu(&y, &format!("{m}.bottlneck.1"));
    y = b.channel_shuffle(&y, GROUPS, &format!("{m}.channel_shuffle"))?;
    let dw = Conv::new(mid, 3).groups(mid).stride(stride).pad(1);
    y = b.conv_bn(
        &y,
        &format!("{m}.depthwise.depthwise.0"),
        &format!("{m}.depthwise.depthwise.1"),
        dw,
    )?;
    let expand_out = if downsample { out - cin } else { out };
    y = b.conv_bn(
        &y,
        &pw("expand", 0),
        &pw("expand", 1),
        Conv::new(expand_out, 1).groups(GROUPS),
    )?;
    let fused = if downsample {
        b.concat(&[&shortcut, &y], m)?
    } else {
        b.add(&shortcut, &y, m)?
    };
    Ok(b.relu(&fused, &format!("{m}.relu")))
}

pub(crate) fn shufflenet(b: &mut GraphBuilder, input: Value) -> Out {
    let mut x = b.conv_bn(&input, "conv1.conv", "conv1.bn", Conv::new(24, 3).pad(1))?;
    x = b.relu(&x, "conv1.relu");
    for (stage, blocks, out) in [("stage2", 4, 240), ("stage3", 8, 480), ("stage4", 4, 960)] {
        for i in 0..blocks {
            x = shuffle_unit(
                b,
                &x,
                &format!("{stage}.{i}"),
                out,
                if i == 0 { 2 } else { 1 },
            )?;
        }
    }
    x = b.global_avg_pool(&x, "avg", true)?;
    x = b.reshape(&x, &[1, -1], "")?;
    b.linear(&x, 100, "fc")
}

/// `ShuffleUnit(in, out, stride)` of ShuffleNetV2 at `m`.
fn shuffle_unit_v2(b: &mut GraphBuilder, x: &Value, m: &str, out: usize, stride: usize) -> Out {
    let cin = x.channels();
    let r = |i: usize| format!("{m}.residual.{i}");
    let (shortcut, residual, c) = if stride == 1 && cin == out {
        let halves = b.split(x, &[cin / 2, cin / 2], m)?;
        let mut halves = halves.into_iter();
        let (Some(s), Some(r)) = (halves.next(), halves.next()) else {
            return Err(b.error(m, "split did not give two halves".to_string()));
        };
        (s, r, cin / 2)
    } else {
        let s = |i: usize| format!("{m}.shortcut.{i}");
        let dw = Conv::new(cin, 3).stride(stride).pad(1).groups(cin);
        let mut sc = b.conv_bn(x, &s(0), &s(1), dw)?;
        sc = b.conv_bn(&sc, &s(2), &s(3), Conv::new(out / 2, 1))?;
        sc = b.relu(&sc, &s(4));
        (sc, x.clone(), cin)
    };
    let mut y = b.conv_bn(&residual, &r(0), &r(1), Conv::new(c, 1))?;
    y = b.relu(&y, &r(2));
    y = b.conv_bn(
        &y,
        &r(3),
        &r(4),
        Conv::new(c, 3).stride(stride).pad(1).groups(c),
    )?;
    y = b.conv_bn(&y, &r(5), &r(6), Conv::new(out / 2, 1))?;
    y = b.relu(&y, &r(7));
    let cat = b.concat(&[&shortcut, &y], m)?;
    b.channel_shuffle(&cat, 2, m)
}

pub(crate) fn shufflenet_v2(b: &mut GraphBuilder, input: Value) -> Out {
    let mut x = b.conv_bn(&input, "pre.0", "pre.1", Conv::new(24, 3).pad(1))?; // no ReLU
    for (stage, repeat, out) in [("stage2", 3, 116), ("stage3", 7, 232), ("stage4", 3, 464)] {
        x = shuffle_unit_v2(b, &x, &format!("{stage}.0"), out, 2)?;
        for i in 1..=repeat {
            x = shuffle_unit_v2(b, &x, &format!("{stage}.{i}"), out, 1)?;
        }
    }
    x = b.conv_bn(&x, "conv5.0", "conv5.1", Conv::new(1024, 1))?;
    x = b.relu(&x, "conv5.2");
    x = b.global_avg_pool(&x, "", false)?; // F.adaptive_avg_pool2d: thop does not see it
    x = b.reshape(&x, &[1, -1], "")?;
    b.linear(&x, 100, "fc")
}
