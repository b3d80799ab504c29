//! The bytes executed ops move (`cost::exec`), on one-node ONNX graphs as tract runs them at
//! `--optimize full`: packed constant operands held by the kernel, and the im2col and packing
//! scratch.

use crate::model::{self, LoadedModel, ModelSource, Optimize};
use crate::zoo::proto::{self, attr_int, attr_ints, tensor_f32_le, value_info_f32 as value_info};
use crate::zoo::rng::Rng;
use std::sync::Arc;
use tract_onnx::pb::{GraphProto, NodeProto};

/// One ONNX node `op(x, w[, b]) -> y` with seeded constant weights.
fn one_node(
    op: &str,
    x: &[usize],
    w: &[usize],
    bias: Option<usize>,
    y: &[usize],
    attrs: Vec<tract_onnx::pb::AttributeProto>,
) -> LoadedModel {
    let mut rng = Rng::new(1);
    let numel = |s: &[usize]| s.iter().product::<usize>();
    let mut initializer = vec![tensor_f32_le(
        "w",
        w,
        rng.uniform_le_bytes(numel(w), 0.0, 0.1),
    )];
    let mut input = vec!["x".to_string(), "w".to_string()];
    if let Some(b) = bias {
        initializer.push(tensor_f32_le("b", &[b], rng.uniform_le_bytes(b, 0.0, 0.1)));
        input.push("b".into());
    }
    let graph = GraphProto {
        name: op.into(),
        node: vec![NodeProto {
            name: "n".into(),
            op_type: op.into(),
            input,
            output: vec!["y".into()],
            attribute: attrs,
            ..Default::default()
        }],
        initializer,
        input: vec![value_info("x", x)],
        output: vec![value_info("y", y)],
        ..Default::default()
    };
    let proto = proto::model(graph, "hiddencost test");
    let src = ModelSource::Bytes {
        name: op.into(),
        source: format!("test:{op}"),
        bytes: Arc::new(prost::Message::encode_to_vec(&proto)),
    };
    model::load(&src, None, Optimize::Full).unwrap()
}

/// The one executed op named `op`.
fn op<'m>(m: &'m LoadedModel, op: &str) -> &'m crate::cost::ExecNode {
    let mut found = m.exec.iter().filter(|e| e.op == op);
    let e = found.next().unwrap_or_else(|| panic!("no {op}"));
    assert!(found.next().is_none(), "one {op}");
    e
}

/// Exact values hold where tract picks the kernels of this x86-64 FMA machine (their tiles
/// and alignment set the packed sizes); elsewhere the packed size is checked against the
/// unpacked one.
fn exact_here() -> bool {
    #[cfg(target_arch = "x86_64")]
    return std::is_x86_feature_detected!("fma") && !std::is_x86_feature_detected!("avx512f");
    #[cfg(not(target_arch = "x86_64"))]
    false
}

/// `packed` is `plain` padded to the kernel's tiles: at least it, and at most a quarter more
/// (a short k pads most: 64 + 1 rounded up to 80).
fn padded(packed: u64, plain: u64, exact: u64) {
    if exact_here() {
        assert_eq!(packed, exact);
    }
    assert!(
        packed >= plain && packed * 4 <= plain * 5,
        "{packed} vs {plain}"
    );
}

#[test]
fn a_linear_layer_reads_its_packed_weights() {
    // nn.Linear(4096, 4096) at batch 1: VGG16's classifier layer, a GEMV.
    let m = one_node(
        "Gemm",
        &[1, 4096],
        &[4096, 4096],
        Some(4096),
        &[1, 4096],
        vec![attr_int("transB", 1)],
    );
    let ops: Vec<&str> = m.exec.iter().map(|e| e.op.as_str()).collect();
    assert_eq!(ops, ["OptMatMulPack", "OptMatMul"]);
    let pack = op(&m, "OptMatMulPack").cost;
    // The input row (16 KiB) in, packed into one panel of the kernel's width.
    assert_eq!((pack.bytes_read, pack.bytes_written), (4096 * 4, 0));
    assert_eq!(pack.scratch_bytes_written, 16_400);
    let mm = op(&m, "OptMatMul").cost;
    // tract bakes the packed weights into the op: 4096 rows in panels of 16, each panel
    // (4096 + 1) x 16 elements rounded up to 64, so 4100 x 4096 x 4 bytes.
    padded(mm.packed_const_bytes, 4096 * 4096 * 4, 4096 * 4100 * 4);
    // The bias is a plain constant input, the packed row scratch, the output an activation.
    assert_eq!((mm.bytes_read, mm.weight_bytes), (4096 * 4, 4096 * 4));
    assert_eq!(mm.scratch_bytes_read, pack.scratch_bytes_written);
    assert_eq!((mm.bytes_written, mm.scratch_bytes_written), (4096 * 4, 0));
    assert!(mm.traffic_bytes() >= 64 << 20, "64 MiB per inference");
    assert_eq!(mm.macs, 4096 * 4096);
}

#[test]
fn a_1x1_conv_reads_its_large_packed_weights() {
    // 512 -> 2048 channels at 14x14, ResNet-50's last expansion: 4 MiB of weights.
    let m = one_node(
        "Conv",
        &[1, 512, 14, 14],
        &[2048, 512, 1, 1],
        Some(2048),
        &[1, 2048, 14, 14],
        vec![],
    );
    // A 1x1 conv is a matmul: a reshape and a pack of the input, no im2col.
    assert!(m.exec.iter().all(|e| !e.op.contains("Im2col")));
    let pack = op(&m, "OptMatMulPack").cost;
    assert_eq!(pack.bytes_read, 512 * 196 * 4);
    let mm = op(&m, "OptMatMul").cost;
    // 2048 rows in panels of 16, each (512 + 1) x 16 elements rounded up to 256.
    padded(mm.packed_const_bytes, 2048 * 512 * 4, 2048 * 528 * 4);
    assert_eq!((mm.bytes_read, mm.weight_bytes), (2048 * 4, 2048 * 4));
    assert_eq!(mm.scratch_bytes_read, pack.scratch_bytes_written);
    assert_eq!(mm.bytes_written, 2048 * 196 * 4);
}

#[test]
fn a_3x3_conv_gathers_its_lazy_im2col_panels_in_the_kernel() {
    // 64 -> 64 channels, 3x3, padding 1, at 32x32: tract pads, then a lazy im2col.
    let m = one_node(
        "Conv",
        &[1, 64, 32, 32],
        &[64, 64, 3, 3],
        Some(64),
        &[1, 64, 32, 32],
        vec![attr_ints("pads", &[1, 1, 1, 1])],
    );
    let pad = op(&m, "Pad").cost;
    assert_eq!(pad.bytes_written, 64 * 34 * 34 * 4);
    // The lazy im2col only builds offset tables.
    let lazy = op(&m, "LazyIm2col").cost;
    assert_eq!(lazy.traffic_bytes(), 0);
    let mm = op(&m, "OptMatMul").cost;
    // The kernel reads the padded input and gathers the k x n = 576 x 1024 matrix into panels
    // (their packed size), which it then reads.
    assert_eq!(mm.bytes_read, pad.bytes_written + 64 * 4);
    assert_eq!(mm.weight_bytes, 64 * 4);
    padded(mm.scratch_bytes_written, 576 * 1024 * 4, 2_369_376);
    assert_eq!(mm.scratch_bytes_read, mm.scratch_bytes_written);
    // The weights are a packed constant input: 64 rows, (576 + 1) x 16 rounded up to 256.
    padded(mm.packed_const_bytes, 64 * 576 * 4, 64 * 592 * 4);
    assert_eq!(mm.bytes_written, 64 * 1024 * 4);
}

#[test]
fn a_2x2_conv_fills_an_eager_im2col_buffer() {
    // 16 -> 32 channels, 2x2, no padding, at 32x32: a small kernel, so eager im2col.
    let m = one_node(
        "Conv",
        &[1, 16, 32, 32],
        &[32, 16, 2, 2],
        None,
        &[1, 32, 31, 31],
        vec![],
    );
    let im2col = op(&m, "Im2col").cost;
    // k x n = 64 x 961, packed.
    assert_eq!(
        (im2col.bytes_read, im2col.bytes_written),
        (16 * 32 * 32 * 4, 0)
    );
    padded(im2col.scratch_bytes_written, 64 * 961 * 4, 252_448);
    let mm = op(&m, "OptMatMul").cost;
    assert_eq!(mm.scratch_bytes_read, im2col.scratch_bytes_written);
    assert_eq!((mm.bytes_read, mm.scratch_bytes_written), (0, 0));
    // 32 rows, (64 + 1) x 16 rounded up to 256 is 80 x 16.
    padded(mm.packed_const_bytes, 32 * 64 * 4, 32 * 80 * 4);
    assert_eq!(mm.bytes_written, 32 * 961 * 4);
}
