//! InceptionV3 (`inceptionv3.py`) and InceptionV4 (`inceptionv4.py`), CIFAR-100 versions.
//!
//! Every convolution is a `BasicConv2d`: conv without bias, BatchNorm, ReLU. Average pools
//! count padding in the mean (PyTorch's default, `count_include_pad=1` in ONNX). Where a block
//! concatenates the result of an inner concatenation (InceptionV3's E blocks, InceptionV4's C
//! blocks), `torch.onnx.export` flattens the two into one `Concat`; so do we. Dropout is absent
//! at inference. InceptionV4's head is `AvgPool2d(7)` on the 7x7 map (an `AveragePool`, not a
//! global pool) and `view(-1, 1536)`.

use super::ZooError;
use super::builder::{Conv, GraphBuilder, Value};

type Out = Result<Value, ZooError>;

/// `BasicConv2d` at module path `m`.
fn basic(b: &mut GraphBuilder, x: &Value, m: &str, conv: Conv) -> Out {
    let y = b.conv_bn(x, &format!("{m}.conv"), &format!("{m}.bn"), conv.no_bias())?;
    Ok(b.relu(&y, &format!("{m}.relu")))
}

/// An `nn.Sequential` of `BasicConv2d`s at `m.0`, `m.1`...
fn chain(b: &mut GraphBuilder, x: &Value, m: &str, convs: &[Conv]) -> Out {
    let mut y = x.clone();
    for (i, &conv) in convs.iter().enumerate() {
        y = basic(b, &y, &format!("{m}.{i}"), conv)?;
    }
    Ok(y)
}

/// `nn.Sequential(AvgPool2d(3, 1, 1), BasicConv2d(.., out, k))` at `m`.
fn pool_branch(b: &mut GraphBuilder, x: &Value, m: &str, conv: Conv) -> Out {
    let p = b.avg_pool(x, &format!("{m}.0"), 3, 1, 1)?;
    basic(b, &p, &format!("{m}.1"), conv)
}

fn k(out: usize, size: usize) -> Conv {
    Conv::new(out, size)
}
/// A 1x7 / 7x1 (or 1x3 / 3x1) factorized kernel with "same" padding.
fn kh(out: usize, h: usize, w: usize) -> Conv {
    Conv::rect(out, h, w).pad2(h / 2, w / 2)
}

fn v3_a(b: &mut GraphBuilder, x: &Value, m: &str, pool_features: usize) -> Out {
    let b1 = basic(b, x, &format!("{m}.branch1x1"), k(64, 1))?;
    let b5 = chain(
        b,
        x,
        &format!("{m}.branch5x5"),
        &[k(48, 1), k(64, 5).pad(2)],
    )?;
    let b3 = chain(
        b,
        x,
        &format!("{m}.branch3x3"),
        &[k(64, 1), k(96, 3).pad(1), k(96, 3).pad(1)],
    )?;
    let bp = pool_branch(b, x, &format!("{m}.branchpool"), k(pool_features, 3).pad(1))?;
    b.concat(&[&b1, &b5, &b3, &bp], m)
}

fn v3_b(b: &mut GraphBuilder, x: &Value, m: &str) -> Out {
    let b3 = basic(b, x, &format!("{m}.branch3x3"), k(384, 3).stride(2))?;
    let stack = [k(64, 1), k(96, 3).pad(1), k(96, 3).stride(2)];
    let bs = chain(b, x, &format!("{m}.branch3x3stack"), &stack)?;
    let bp = b.max_pool(x, &format!("{m}.branchpool"), 3, 2, 0)?;
    b.concat(&[&b3, &bs, &bp], m)
}

fn v3_c(b: &mut GraphBuilder, x: &Value, m: &str, c7: usize) -> Out {
    let b1 = basic(b, x, &format!("{m}.branch1x1"), k(192, 1))?;
    let b7 = chain(
        b,
        x,
        &format!("{m}.branch7x7"),
        &[k(c7, 1), kh(c7, 7, 1), kh(192, 1, 7)],
    )?;
    let stack = [
        k(c7, 1),
        kh(c7, 7, 1),
        kh(c7, 1, 7),
        kh(c7, 7, 1),
        kh(192, 1, 7),
    ];
    let bs = chain(b, x, &format!("{m}.branch7x7stack"), &stack)?;
    let bp = pool_branch(b, x, &format!("{m}.branch_pool"), k(192, 1))?;
    b.concat(&[&b1, &b7, &bs, &bp], m)
}

fn v3_d(b: &mut GraphBuilder, x: &Value, m: &str) -> Out {
    let b3 = chain(
        b,
        x,
        &format!("{m}.branch3x3"),
        &[k(192, 1), k(320, 3).stride(2)],
    )?;
    let seven = [k(192, 1), kh(192, 1, 7), kh(192, 7, 1), k(192, 3).stride(2)];
    let b7 = chain(b, x, &format!("{m}.branch7x7"), &seven)?;
    let bp = b.avg_pool(x, &format!("{m}.branchpool"), 3, 2, 0)?;
    b.concat(&[&b3, &b7, &bp], m)
}

fn v3_e(b: &mut GraphBuilder, x: &Value, m: &str) -> Out {
    let p = |s: &str| format!("{m}.{s}");
    let b1 = basic(b, x, &p("branch1x1"), k(320, 1))?;
    let t = basic(b, x, &p("branch3x3_1"), k(384, 1))?;
    let b3a = basic(b, &t, &p("branch3x3_2a"), kh(384, 1, 3))?;
    let b3b = basic(b, &t, &p("branch3x3_2b"), kh(384, 3, 1))?;
    let s = basic(b, x, &p("branch3x3stack_1"), k(448, 1))?;
    let s = basic(b, &s, &p("branch3x3stack_2"), k(384, 3).pad(1))?;
    let s3a = basic(b, &s, &p("branch3x3stack_3a"), kh(384, 1, 3))?;
    let s3b = basic(b, &s, &p("branch3x3stack_3b"), kh(384, 3, 1))?;
    let bp = pool_branch(b, x, &p("branch_pool"), k(192, 1))?;
    b.concat(&[&b1, &b3a, &b3b, &s3a, &s3b, &bp], m) // the inner cats, flattened
}

pub(crate) fn inception_v3(b: &mut GraphBuilder, input: Value) -> Out {
    let mut x = basic(b, &input, "Conv2d_1a_3x3", k(32, 3).pad(1))?;
    x = basic(b, &x, "Conv2d_2a_3x3", k(32, 3).pad(1))?;
    x = basic(b, &x, "Conv2d_2b_3x3", k(64, 3).pad(1))?;
    x = basic(b, &x, "Conv2d_3b_1x1", k(80, 1))?;
    x = basic(b, &x, "Conv2d_4a_3x3", k(192, 3))?; // 32 -> 30
    x = v3_a(b, &x, "Mixed_5b", 32)?;
    x = v3_a(b, &x, "Mixed_5c", 64)?;
    x = v3_a(b, &x, "Mixed_5d", 64)?;
    x = v3_b(b, &x, "Mixed_6a")?; // 30 -> 14
    for (m, c7) in [
        ("Mixed_6b", 128),
        ("Mixed_6c", 160),
        ("Mixed_6d", 160),
        ("Mixed_6e", 192),
    ] {
        x = v3_c(b, &x, m, c7)?;
    }
    x = v3_d(b, &x, "Mixed_7a")?; // 14 -> 6
    x = v3_e(b, &x, "Mixed_7b")?;
    x = v3_e(b, &x, "Mixed_7c")?;
    x = b.global_avg_pool(&x, "avgpool", true)?;
    x = b.reshape(&x, &[1, -1], "")?;
    b.linear(&x, 100, "linear")
}

fn v4_stem(b: &mut GraphBuilder, x: &Value) -> Out {
    let x = chain(
        b,
        x,
        "stem.conv1",
        &[k(32, 3), k(32, 3).pad(1), k(64, 3).pad(1)],
    )?; // 32 -> 30
    let c = basic(b, &x, "stem.branch3x3_conv", k(96, 3).pad(1))?;
    let p = b.max_pool(&x, "stem.branch3x3_pool", 3, 1, 1)?;
    let x = b.concat(&[&c, &p], "stem")?;
    let seven = [k(64, 1), kh(64, 7, 1), kh(64, 1, 7), k(96, 3).pad(1)];
    let a = chain(b, &x, "stem.branch7x7a", &seven)?;
    let bb = chain(b, &x, "stem.branch7x7b", &[k(64, 1), k(96, 3).pad(1)])?;
    let x = b.concat(&[&a, &bb], "stem")?;
    let pa = b.max_pool(&x, "stem.branchpoola", 3, 1, 1)?;
    let pb = basic(b, &x, "stem.branchpoolb", k(192, 3).pad(1))?;
    b.concat(&[&pa, &pb], "stem")
}

fn v4_a(b: &mut GraphBuilder, x: &Value, m: &str) -> Out {
    let stack = [k(64, 1), k(96, 3).pad(1), k(96, 3).pad(1)];
    let bs = chain(b, x, &format!("{m}.branch3x3stack"), &stack)?;
    let b3 = chain(
        b,
        x,
        &format!("{m}.branch3x3"),
        &[k(64, 1), k(96, 3).pad(1)],
    )?;
    let b1 = basic(b, x, &format!("{m}.branch1x1"), k(96, 1))?;
    let bp = pool_branch(b, x, &format!("{m}.branchpool"), k(96, 1))?;
    b.concat(&[&bs, &b3, &b1, &bp], m)
}

/// `ReductionA(384, k=192, l=224, m=256, n=384)`.
fn v4_reduction_a(b: &mut GraphBuilder, x: &Value) -> Out {
    let stack = [k(192, 1), k(224, 3).pad(1), k(256, 3).stride(2)];
    let bs = chain(b, x, "reduction_a.branch3x3stack", &stack)?;
    let b3 = basic(b, x, "reduction_a.branch3x3", k(384, 3).stride(2))?;
    let bp = b.max_pool(x, "reduction_a.branchpool", 3, 2, 0)?;
    b.concat(&[&bs, &b3, &bp], "reduction_a")
}

fn v4_b(b: &mut GraphBuilder, x: &Value, m: &str) -> Out {
    let b1 = basic(b, x, &format!("{m}.branch1x1"), k(384, 1))?;
    let seven = [k(192, 1), kh(224, 1, 7), kh(256, 7, 1)];
    let b7 = chain(b, x, &format!("{m}.branch7x7"), &seven)?;
    let stack = [
        k(192, 1),
        kh(192, 1, 7),
        kh(224, 7, 1),
        kh(224, 1, 7),
        kh(256, 7, 1),
    ];
    let bs = chain(b, x, &format!("{m}.branch7x7stack"), &stack)?;
    let bp = pool_branch(b, x, &format!("{m}.branchpool"), k(128, 1))?;
    b.concat(&[&b1, &b7, &bs, &bp], m)
}

fn v4_reduction_b(b: &mut GraphBuilder, x: &Value) -> Out {
    let b3 = chain(
        b,
        x,
        "reduction_b.branch3x3",
        &[k(192, 1), k(192, 3).stride(2).pad(1)],
    )?;
    let seven = [
        k(256, 1),
        kh(256, 1, 7),
        kh(320, 7, 1),
        k(320, 3).stride(2).pad(1),
    ];
    let b7 = chain(b, x, "reduction_b.branch7x7", &seven)?;
    let bp = b.max_pool(x, "reduction_b.branchpool", 3, 2, 1)?;
    b.concat(&[&b3, &b7, &bp], "reduction_b")
}

fn v4_c(b: &mut GraphBuilder, x: &Value, m: &str) -> Out {
    let p = |s: &str| format!("{m}.{s}");
    let stack = [k(384, 1), kh(448, 1, 3), kh(512, 3, 1)];
    let s = chain(b, x, &p("branch3x3stack"), &stack)?;
    let sa = basic(b, &s, &p("branch3x3stacka"), kh(256, 1, 3))?;
    let sb = basic(b, &s, &p("branch3x3stackb"), kh(256, 3, 1))?;
    let t = basic(b, x, &p("branch3x3"), k(384, 1))?;
    let ta = basic(b, &t, &p("branch3x3a"), kh(256, 3, 1))?;
    let tb = basic(b, &t, &p("branch3x3b"), kh(256, 1, 3))?;
    let b1 = basic(b, x, &p("branch1x1"), k(256, 1))?;
    let bp = pool_branch(b, x, &p("branchpool"), k(256, 1))?;
    b.concat(&[&b1, &ta, &tb, &sa, &sb, &bp], m) // the inner cats, flattened
}

/// `inceptionv4()`: `InceptionV4(A=4, B=7, C=3)`.
pub(crate) fn inception_v4(b: &mut GraphBuilder, input: Value) -> Out {
    let mut x = v4_stem(b, &input)?;
    for i in 0..4 {
        x = v4_a(b, &x, &format!("inception_a.InceptionA_{i}"))?;
    }
    x = v4_reduction_a(b, &x)?; // 30 -> 14
    for i in 0..7 {
        x = v4_b(b, &x, &format!("inception_b.InceptionB_{i}"))?;
    }
    x = v4_reduction_b(b, &x)?; // 14 -> 7
    for i in 0..3 {
        x = v4_c(b, &x, &format!("inception_c.InceptionC_{i}"))?;
    }
    x = b.avg_pool(&x, "avgpool", 7, 7, 0)?;
    x = b.reshape(&x, &[-1, 1536], "")?;
    b.linear(&x, 100, "linear")
}
