//! Tests of the int8 family and the quantized kernel probes.

use super::blocks::{Block, Kernel, Size};
use super::kernels::{MAX_INT8_PROBE_MACS, int8_kernels};
use super::*;
use crate::model::{self, Optimize};
use crate::zoo::builder::Quant;

fn loaded(v: &Variant) -> model::LoadedModel {
    let (src, _) = source(v, 0).unwrap();
    model::load(&src, None, Optimize::Full).unwrap_or_else(|e| panic!("{}: {e}", v.label()))
}

#[test]
fn int8_family_is_one_conv_in_four_forms_at_equal_macs() {
    let f = select("int8").unwrap().remove(0);
    assert_eq!(f.kind, Kind::Design);
    let names: Vec<&str> = f.variants.iter().map(|v| v.name.as_str()).collect();
    assert_eq!(names, ["fp32", "qdq", "qlinear", "integer"]);
    assert!(f.variants[0].baseline);
    // 3x3 conv 32 -> 32 on 16x16: 16 x 16 x 32 x 32 x 9 MACs in every form.
    for v in &f.variants {
        assert_eq!(
            v.size,
            Size {
                c: 32,
                h: 16,
                w: 16
            }
        );
        assert_eq!((v.macs, v.macs_target), (2_359_296, Some(2_359_296)));
        let m = loaded(v);
        assert_eq!(m.info.totals.macs, 2_359_296, "{}", v.label());
        assert_eq!(
            m.info.totals.params,
            9216,
            "{}: the conv's weights",
            v.label()
        );
        let ops: Vec<&str> = m.exec.iter().map(|e| e.op.as_str()).collect();
        let int8_macs = m.info.totals.int8_macs;
        match v.name.as_str() {
            // tract folds the weight's DequantizeLinear and runs the conv in f32
            "fp32" | "qdq" => assert_eq!(int8_macs, 0, "{}: {ops:?}", v.label()),
            _ => assert_eq!(int8_macs, 2_359_296, "{}: {ops:?}", v.label()),
        }
        let has = |op: &str| ops.iter().any(|o| o.starts_with(op));
        assert!(has("OptMatMul"), "{}: {ops:?}", v.label());
        assert_eq!(
            has("QuantizeLinear"),
            v.name == "qdq" || v.name == "qlinear"
        );
        assert_eq!(has("DynamicQuantizeLinear"), v.name == "integer");
    }
}

#[test]
fn int8_kernel_probes_are_deterministic_sized_and_cover_every_form() {
    let probes = int8_kernels();
    assert_eq!(probes, int8_kernels(), "same probes on every board");
    let count = |f: &dyn Fn(&Kernel) -> bool| probes.iter().filter(|(k, _)| f(k)).count();
    for quant in [Quant::Qdq, Quant::QLinear, Quant::Integer] {
        let convs = |f: &dyn Fn(usize, usize) -> bool| {
            count(
                &|p| matches!(*p, Kernel::QConv { quant: q, k, groups } if q == quant && f(k, groups)),
            )
        };
        assert_eq!(
            convs(&|k, g| k == 1 && g == 1),
            7,
            "{quant:?} dense 1x1, 3 of them deep"
        );
        assert_eq!(convs(&|k, g| k == 3 && g == 1), 4, "{quant:?} dense 3x3");
        assert_eq!(convs(&|k, g| k == 1 && g > 1), 4, "{quant:?} grouped 1x1");
        assert_eq!(convs(&|k, g| k == 3 && g > 1), 4, "{quant:?} depthwise 3x3");
        assert_eq!(
            count(&|p| *p == Kernel::QMatMul(quant)),
            5,
            "{quant:?} matmul"
        );
    }
    assert_eq!(probes.len(), 72);
    let deep = |s: &Size| s.c >= 512 && s.h <= 4;
    // 9 drawn as deep 1x1 convs (3 per form), 7 more of the other kinds land there too
    assert_eq!(probes.iter().filter(|(_, s)| deep(s)).count(), 16);
    // Depthwise: one group per channel.
    assert!(probes.iter().all(|(k, s)| match k {
        Kernel::QConv { k: 3, groups, .. } => *groups == 1 || *groups == s.c,
        _ => true,
    }));
    for (k, s) in &probes {
        let macs = Block::Kernel(*k).macs(*s);
        assert!(
            (20_000..=MAX_INT8_PROBE_MACS).contains(&macs),
            "{k:?} {s:?}: {macs}"
        );
    }
    // Integer MACs on every integer matmul probe, as the kernel model keys them.
    let kernels = select("kernels").unwrap().remove(0);
    let quantized: Vec<&Variant> = (kernels.variants.iter())
        .filter(|v| {
            matches!(
                v.block,
                Block::Kernel(Kernel::QMatMul(_) | Kernel::QConv { .. })
            )
        })
        .collect();
    assert_eq!(quantized.len(), 72);
    for v in quantized {
        let m = loaded(v);
        assert_eq!(m.info.totals.macs, v.macs, "{}", v.label());
        let integer = matches!(
            v.block,
            Block::Kernel(
                Kernel::QMatMul(Quant::QLinear | Quant::Integer)
                    | Kernel::QConv {
                        quant: Quant::QLinear | Quant::Integer,
                        ..
                    }
            )
        );
        let want = if integer { v.macs } else { 0 };
        assert_eq!(m.info.totals.int8_macs, want, "{}", v.label());
    }
}
