//! The families: matched MACs by the cost module on the built graphs, one design choice per
//! family, unique names, every variant loadable.

use super::blocks::{Act, Block, Size};
use super::*;
use crate::model;

/// MACs of a variant as the records carry them: the cost module on the graph that
/// `model::load` sees.
fn cost_macs(v: &Variant) -> u64 {
    let (src, _) = source(v, 0).unwrap();
    model::load_static(&src, None)
        .unwrap_or_else(|e| panic!("{}: {e}", v.label()))
        .totals
        .macs
}

fn family(name: &str) -> Family {
    select(name).unwrap().remove(0)
}

/// Every variant's MACs (cost module) within 2% of its baseline's (cost module), and the
/// block's own rule agreeing with the cost module exactly.
fn assert_matched(name: &str) {
    let f = family(name);
    assert_eq!(f.kind, Kind::Design);
    assert!(f.variants.len() >= 2, "{name}: a family compares variants");
    assert!(f.variants[0].baseline);
    assert_eq!(f.variants.iter().filter(|v| v.baseline).count(), 1);
    let base = cost_macs(&f.variants[0]);
    assert!(base > 0);
    for v in &f.variants {
        let macs = cost_macs(v);
        assert_eq!(
            macs,
            v.macs,
            "{}: the block's rule vs the cost module",
            v.label()
        );
        assert_eq!(v.macs_target, Some(base), "{}", v.label());
        let err = families::macs_error(macs, base);
        assert!(
            err <= MACS_TOLERANCE,
            "{} ({}): {macs} MACs, {:.2}% from the baseline's {base}",
            v.label(),
            v.params(),
            err * 100.0
        );
    }
}

#[test]
fn conv_type_variants_have_matched_macs() {
    assert_matched("conv_type");
}

#[test]
fn channel_variants_have_matched_macs() {
    assert_matched("channels");
}

#[test]
fn shuffle_variants_have_matched_macs() {
    assert_matched("shuffle");
}

#[test]
fn merge_variants_have_matched_macs() {
    assert_matched("merge");
}

#[test]
fn kernel_size_variants_have_matched_macs() {
    assert_matched("kernel_size");
}

#[test]
fn activation_variants_have_matched_macs() {
    assert_matched("activation");
}

#[test]
fn batchnorm_variants_have_matched_macs() {
    assert_matched("batchnorm");
}

#[test]
fn spatial_variants_have_matched_macs() {
    assert_matched("spatial");
}

fn op_types(v: &Variant) -> Vec<String> {
    build(v, 0)
        .unwrap()
        .graph
        .unwrap()
        .node
        .iter()
        .map(|n| n.op_type.clone())
        .filter(|op| op != "Constant")
        .collect()
}

#[test]
fn each_family_varies_its_one_design_choice() {
    let conv_type = family("conv_type");
    let groups: Vec<usize> = conv_type
        .variants
        .iter()
        .filter_map(|v| match v.block {
            Block::Conv { groups, k, .. } => {
                assert_eq!(k, 3);
                Some(groups)
            }
            _ => None,
        })
        .collect();
    assert_eq!(groups, [1, 2, 4, 8]);
    let channels = family("channels");
    let cs: Vec<usize> = channels.variants.iter().map(|v| v.size.c).collect();
    assert_eq!(cs, [32, 28, 29, 30, 31, 33, 34, 35, 36]);
    assert!(
        channels
            .variants
            .iter()
            .all(|v| v.block == channels.variants[0].block)
    );

    let shuffle = family("shuffle");
    let (off, on) = (
        op_types(&shuffle.variants[0]),
        op_types(&shuffle.variants[1]),
    );
    assert!(!off.iter().any(|op| op == "Transpose"));
    let mut without: Vec<String> = on.clone();
    without.retain(|op| op != "Reshape" && op != "Transpose");
    assert_eq!(without, off, "the shuffle is the only difference");
    assert_eq!(shuffle.variants[0].size, shuffle.variants[1].size);

    let merge = family("merge");
    assert_eq!(op_types(&merge.variants[0]).last().unwrap(), "Add");
    assert_eq!(op_types(&merge.variants[1]).last().unwrap(), "Concat");

    let act = family("activation");
    let last_ops: Vec<Vec<String>> = act
        .variants
        .iter()
        .map(|v| op_types(v)[1..].to_vec())
        .collect();
    assert_eq!(last_ops[0], ["Relu"]);
    assert_eq!(last_ops[1], ["Clip"]);
    assert_eq!(last_ops[2], ["HardSigmoid", "Mul"]);
    assert_eq!(last_ops[3], ["Sigmoid", "Mul"]);
    assert!(act.variants.iter().all(|v| v.size == act.variants[0].size));

    let bn = family("batchnorm");
    assert_eq!(
        op_types(&bn.variants[0]),
        ["Conv", "BatchNormalization", "Relu"]
    );
    assert_eq!(op_types(&bn.variants[1]), ["Conv", "Relu"]);

    let ks: Vec<usize> = family("kernel_size")
        .variants
        .iter()
        .map(|v| match v.block {
            Block::Conv { k, act, .. } => {
                assert_eq!(act, Act::Relu);
                k
            }
            _ => 0,
        })
        .collect();
    assert_eq!(ks, [3, 5, 7]);
    let spatial = family("spatial");
    assert!(
        spatial
            .variants
            .iter()
            .all(|v| v.block == spatial.variants[0].block)
    );
    let sizes: Vec<Size> = spatial.variants.iter().map(|v| v.size).collect();
    assert!(sizes.iter().all(|s| s.h == s.w));
    assert!(sizes.windows(2).all(|w| w[0].c != w[1].c));
}

#[test]
fn kernel_probes_cover_the_predictors_ops_and_load() {
    let kernels = family("kernels");
    assert_eq!(kernels.kind, Kind::Kernel);
    assert!(
        kernels
            .variants
            .iter()
            .all(|v| !v.baseline && v.macs_target.is_none())
    );
    let mut ops: Vec<&str> = kernels
        .variants
        .iter()
        .filter_map(|v| match v.block {
            Block::Kernel(k) => Some(k.op_type()),
            _ => None,
        })
        .collect();
    ops.dedup();
    for op in [
        "Conv",
        "MaxPool",
        "Concat",
        "Add",
        "Transpose",
        "Reshape",
        "Resize",
        "MatMul",
    ] {
        assert!(ops.contains(&op), "no {op} probe");
    }
    for v in &kernels.variants {
        let macs = cost_macs(v);
        assert_eq!(macs, v.macs, "{}", v.label());
        let (_, meta) = source(v, 0).unwrap();
        let sweep = meta.sweep.unwrap();
        assert_eq!(sweep.kind, Kind::Kernel);
        assert!(sweep.op.is_some());
    }
}

#[test]
fn names_are_unique_and_metadata_names_family_variant_and_params() {
    let all = all();
    assert_eq!(
        all.iter().map(|f| f.name).collect::<Vec<_>>(),
        NAMES.to_vec()
    );
    let mut labels: Vec<String> = all
        .iter()
        .flat_map(|f| f.variants.iter().map(Variant::label))
        .collect();
    let n = labels.len();
    labels.sort();
    labels.dedup();
    assert_eq!(labels.len(), n, "duplicate variant names");
    let v = &family("conv_type").variants[3];
    let (src, meta) = source(v, 7).unwrap();
    assert_eq!(src.label(), "sweep:conv_type.grouped_g8");
    assert_eq!(src.name(), "conv_type.grouped_g8");
    // As the record carries it: one flat object with the `sweep.*` keys.
    let meta = serde_json::to_value(&meta).unwrap();
    assert_eq!(meta["sweep.family"], "conv_type");
    assert_eq!(meta["sweep.variant"], "grouped_g8");
    assert_eq!(meta["sweep.baseline"], false);
    assert_eq!(meta["sweep.kind"], "design");
    assert_eq!(meta["sweep.params"], v.params().as_str());
    assert!(v.params().contains("g=8"));
    assert_eq!(meta["sweep.macs_target"], 2_359_296);
    assert_eq!(meta["seed"], 7);
}

#[test]
fn selections() {
    assert_eq!(select("all").unwrap().len(), NAMES.len());
    let two = select(" merge, Shuffle ,merge").unwrap();
    assert_eq!(
        two.iter().map(|f| f.name).collect::<Vec<_>>(),
        ["shuffle", "merge"],
        "sweep order, each once"
    );
    assert!(matches!(select("merge,nope"), Err(SweepError::UnknownFamily(n)) if n == "nope"));
    assert!(matches!(select(" , "), Err(SweepError::Empty)));
}

#[test]
fn sampled_kernel_probes_cover_the_zoos_shapes_and_are_deterministic() {
    use super::blocks::Kernel;
    use super::families::sampled_kernels;
    let sampled = sampled_kernels();
    assert_eq!(sampled, sampled_kernels(), "same probes on every board");
    let units: Vec<(Kernel, Size)> = sampled
        .iter()
        .copied()
        .filter(|(k, _)| matches!(k, Kernel::ConvUnit(_)))
        .collect();
    assert!(units.len() >= 150, "{} conv units", units.len());
    let has = |f: &dyn Fn(&Kernel, &Size) -> bool| units.iter().any(|(k, s)| f(k, s));
    for hw in [32, 30, 16, 14, 8, 6, 4, 2] {
        assert!(has(&|_, s| s.h == hw), "no conv at {hw}x{hw}");
    }
    let unit = |k: &Kernel| match *k {
        Kernel::ConvUnit(u) => (u.out, u.kh, u.kw, u.stride, u.groups),
        _ => unreachable!(),
    };
    assert!(has(&|k, _| unit(k).3 == 2), "no stride 2");
    assert!(has(&|k, s| unit(k).4 == s.c && s.c > 1), "no depthwise");
    assert!(has(&|k, s| (2..s.c).contains(&unit(k).4)), "no grouped");
    assert!(has(&|k, _| (unit(k).1, unit(k).2) == (1, 7)), "no 1x7");
    assert!(has(&|k, _| (unit(k).1, unit(k).2) == (7, 1)), "no 7x1");
    assert!(has(&|_, s| s.c == 3), "no stem");
    assert!(
        has(&|k, s| unit(k).0 >= 1024 || s.c >= 1024),
        "no wide layer"
    );
    for (k, s) in &sampled {
        let macs = Block::Kernel(*k).macs(*s);
        if matches!(k, Kernel::ConvUnit(_) | Kernel::Linear { .. }) {
            assert!(
                (20_000..=160_000_000).contains(&macs),
                "{k:?} {s:?}: {macs}"
            );
        }
    }
    for want in [
        Kernel::GlobalAvgPool,
        Kernel::Linear { out: 4096 },
        Kernel::Pool {
            max: false,
            k: 3,
            stride: 1,
            pad: 1,
        },
    ] {
        assert!(sampled.iter().any(|(k, _)| *k == want), "no {want:?}");
    }
}

#[test]
fn more_kernel_probes_cover_the_zoos_other_ops_and_are_deterministic() {
    use super::blocks::{Elt, Kernel, Unit};
    use super::kernels::more_kernels;
    let more = more_kernels();
    assert_eq!(more, more_kernels(), "same probes on every board");
    assert_eq!(more.len(), 190);
    let count = |f: &dyn Fn(&Kernel) -> bool| more.iter().filter(|(k, _)| f(k)).count();
    // At least 10 of each (the kernel model's minimum for a fit of its own), by the tract op
    // they run as (docs/analysis.md): Concat, Slice, MoveAxis, Reduce<Sum>, OptSumPool,
    // OptAddUnicast, Sigmoid, Silu, Softmax, GeluExact, RmsNorm.
    assert_eq!(count(&|k| matches!(k, Kernel::ConcatOf { .. })), 14);
    assert_eq!(count(&|k| matches!(k, Kernel::Slice { .. })), 12);
    assert_eq!(
        count(&|k| matches!(k, Kernel::Permute(_) | Kernel::Shuffle { .. })),
        17
    );
    assert_eq!(count(&|k| matches!(k, Kernel::Reduce { .. })), 15);
    assert_eq!(count(&|k| matches!(k, Kernel::Pool { max: false, .. })), 10);
    assert_eq!(count(&|k| *k == Kernel::Add), 10);
    assert_eq!(count(&|k| *k == Kernel::Eltwise(Elt::Sigmoid)), 10);
    assert_eq!(count(&|k| *k == Kernel::Eltwise(Elt::Silu)), 10);
    assert_eq!(count(&|k| *k == Kernel::Softmax), 10);
    assert_eq!(count(&|k| *k == Kernel::Gelu), 10);
    assert_eq!(count(&|k| matches!(k, Kernel::Norm { .. })), 16);
    assert_eq!(count(&|k| *k == Kernel::EinSum), 10);
    // Depthwise units per kernel size and stride.
    let dw = |kk: usize, stride: usize| {
        count(
            &|k| matches!(k, Kernel::ConvUnit(u) if u.kh == kk && u.stride == stride && u.groups == u.out),
        )
    };
    assert_eq!(
        [dw(3, 1), dw(3, 2), dw(5, 1), dw(5, 2), dw(7, 1), dw(7, 2)],
        [3, 3, 4, 4, 4, 4]
    );
    // The first depthwise 7x7: 160 channels at 14x14, 14 x 14 x 160 x 49 MACs.
    let (k, s) = more
        .iter()
        .find(|(k, _)| matches!(k, Kernel::ConvUnit(u) if u.kh == 7))
        .unwrap();
    assert_eq!(
        (*k, *s),
        (
            Kernel::ConvUnit(Unit {
                out: 160,
                kh: 7,
                kw: 7,
                stride: 1,
                groups: 160
            }),
            Size {
                c: 160,
                h: 14,
                w: 14
            }
        )
    );
    assert_eq!(Block::Kernel(*k).macs(*s), 1_536_640);
    // GEMVs at m = 1: weights of 4 to 64 MiB, the largest twice the 32 MiB last cache here.
    let gemv: Vec<(usize, usize, u64)> = more
        .iter()
        .filter(|(k, _)| *k == Kernel::MatMul)
        .map(|(k, s)| (s.c, s.w, Block::Kernel(*k).macs(*s)))
        .collect();
    assert_eq!(
        gemv,
        [
            (1024, 1024, 1_048_576),
            (2048, 2048, 4_194_304),
            (1024, 4096, 4_194_304),
            (4096, 1024, 4_194_304),
            (2048, 4096, 8_388_608),
            (4096, 4096, 16_777_216)
        ]
    );
    assert!(more.iter().all(|(k, s)| *k != Kernel::MatMul || s.h == 1));
    // No probe is also one of the sampled kernels.
    let sampled = super::families::sampled_kernels();
    assert!(more.iter().all(|p| !sampled.contains(p)));
}

#[test]
fn more_kernel_probes_are_written_as_exports_write_them() {
    use super::blocks::{Elt, Kernel};
    let probe = |k: Kernel, s: Size| {
        let v = Variant {
            family: "kernels",
            name: "p".into(),
            choice: String::new(),
            baseline: false,
            block: Block::Kernel(k),
            size: s,
            macs: Block::Kernel(k).macs(s),
            macs_target: None,
        };
        let ops = op_types(&v);
        let out = model::load_static(&source(&v, 0).unwrap().0, None)
            .unwrap_or_else(|e| panic!("{k:?}: {e}"));
        (ops, out.totals.macs)
    };
    let sq = Size { c: 48, h: 8, w: 8 };
    let tokens = Size { c: 64, h: 16, w: 1 };
    let cases: [(Kernel, Size, &[&str]); 10] = [
        (Kernel::Slice { spatial: false }, sq, &["Slice"]),
        (
            Kernel::ConcatOf { inputs: 4 },
            sq,
            &["Relu", "Relu", "Relu", "Concat"],
        ),
        (
            Kernel::Shuffle { groups: 3 },
            sq,
            &["Reshape", "Transpose", "Reshape"],
        ),
        (
            Kernel::Reduce {
                mean: false,
                spatial: true,
            },
            sq,
            &["ReduceSum"],
        ),
        (Kernel::Eltwise(Elt::Silu), sq, &["Sigmoid", "Mul"]),
        (
            Kernel::Eltwise(Elt::ScaleShiftRelu),
            sq,
            &["Mul", "Add", "Relu"],
        ),
        (
            Kernel::Norm { rms: false },
            tokens,
            &[
                "ReduceMean",
                "Sub",
                "Pow",
                "ReduceMean",
                "Add",
                "Sqrt",
                "Div",
                "Mul",
                "Add",
            ],
        ),
        (
            Kernel::Norm { rms: true },
            tokens,
            &["Pow", "ReduceMean", "Add", "Sqrt", "Div", "Mul"],
        ),
        (Kernel::Gelu, tokens, &["Div", "Erf", "Add", "Mul", "Mul"]),
        (
            Kernel::EinSum,
            Size { c: 4, h: 16, w: 32 },
            &["Relu", "Einsum"],
        ),
    ];
    for (k, s, want) in cases {
        let (ops, macs) = probe(k, s);
        assert_eq!(ops, want, "{k:?}");
        // None of these has MACs by the cost module (Einsum's are tract's, on its OptMatMul).
        assert_eq!(macs, 0, "{k:?}");
    }
    assert_eq!(
        Block::Kernel(Kernel::Norm { rms: false }).input_shape(tokens),
        [1, 16, 64]
    );
}
