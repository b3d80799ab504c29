//! Static cost in the executed view lands on the kernels that do the work: for every op of the
//! zoo and of the fixtures, summed MACs equal the model's, no data-movement op carries MACs or
//! params, each kernel's MACs equal tract's own multiply-accumulate count of that op
//! (`TypedOp::cost`), and each source's MACs are on its own kernels. `siblings.onnx` (1x1 convs
//! sharing tract's deduplicated packing) and `fire.onnx` (a conv split over a Concat) are the
//! two rewrites that broke the one-source-one-kernel rule.

mod common;
use common::*;
use hiddencost::cost::is_matmul_like;
use hiddencost::model::{LoadedModel, ModelSource, Optimize, load};
use hiddencost::session::zoo_source;
use hiddencost::zoo::ZooOptions;
use std::collections::HashMap;
use std::path::PathBuf;
use tract_core::internal::*;

/// tract's FMA count of an executed node, from its input facts.
fn tract_fma(m: &LoadedModel, node_id: usize) -> Option<u64> {
    let model = m.plan.model();
    let node = model.node(node_id);
    let facts: TVec<&TypedFact> = node
        .inputs
        .iter()
        .map(|o| model.outlet_fact(*o).unwrap())
        .collect();
    let costs = node.op.cost(&facts).ok()?;
    let fma: Vec<u64> = costs
        .iter()
        .filter(|(c, _)| matches!(c, tract_core::ops::Cost::FMA(_)))
        .map(|(_, n)| n.to_i64().unwrap() as u64)
        .collect();
    (!fma.is_empty()).then(|| fma.iter().sum())
}

/// The invariants, per op; returns the per-source sums of op MACs for further checks.
fn check(m: &LoadedModel, label: &str) -> HashMap<String, u64> {
    let total: u64 = m.exec.iter().map(|e| e.cost.macs).sum();
    assert_eq!(total, m.info.totals.macs, "{label}: op MACs vs model MACs");
    let mut per_source: HashMap<String, u64> = HashMap::new();
    for e in &m.exec {
        let what = format!("{label}: {} {} `{}`", e.node_id, e.op, e.name);
        if e.category == "tensor" || e.category == "concat" {
            assert_eq!((e.cost.macs, e.cost.params), (0, 0), "{what} moves data");
        }
        if is_matmul_like(&e.op) {
            let s = e.source.map(|s| &m.info.sources[s]);
            assert!(
                s.is_some_and(|s| matches!(s.category, "conv" | "linear")),
                "{what}: a kernel mapped to {:?}",
                s.map(|s| &s.name)
            );
            if let Some(fma) = tract_fma(m, e.node_id) {
                assert_eq!(e.cost.macs, fma, "{what}: MACs vs tract's FMA count");
            }
        }
        if let Some(s) = e.source {
            *per_source
                .entry(m.info.sources[s].name.clone())
                .or_default() += e.cost.macs;
        }
    }
    // In tract 0.23.9 no kernel computes two sources: each source's MACs are on its own ops.
    for s in &m.info.sources {
        if s.cost.macs > 0 {
            assert_eq!(
                per_source.get(&s.name),
                Some(&s.cost.macs),
                "{label}: {}",
                s.name
            );
        }
    }
    per_source
}

fn fixture(name: &str, optimize: Optimize) -> LoadedModel {
    let path = PathBuf::from(model(name));
    load(&ModelSource::Path(path), None, optimize).unwrap()
}

const LEVELS: [Optimize; 3] = [Optimize::Full, Optimize::Declutter, Optimize::None];

#[test]
fn fixtures_hold_the_invariants_at_every_optimize_level() {
    for name in MAPPED_FIXTURES.into_iter().chain([
        "activations.onnx",
        "preact.onnx",
        "subsample.onnx",
        "qkv.onnx",
    ]) {
        for level in LEVELS {
            check(&fixture(name, level), &format!("{name} {}", level.as_str()));
        }
    }
}

/// The kernel whose output reshape is `X/conv.unmerge_out...` computes X/conv.
fn kernel_before(m: &LoadedModel, reshape_prefix: &str) -> (String, u64) {
    let model = m.plan.model();
    let reshape = m
        .exec
        .iter()
        .find(|e| e.name.starts_with(reshape_prefix))
        .unwrap_or_else(|| panic!("no `{reshape_prefix}` node"));
    let from = model.node(reshape.node_id).inputs[0].node;
    let k = m.exec.iter().find(|e| e.node_id == from).unwrap();
    assert!(is_matmul_like(&k.op), "{} is fed by {}", reshape.name, k.op);
    let s = &m.info.sources[k.source.unwrap()];
    (s.name.clone(), k.cost.macs)
}

#[test]
fn sibling_convs_sharing_a_pack_each_keep_their_kernel() {
    let m = fixture("siblings.onnx", Optimize::Full);
    // The bug's shape: one packing node, named after a/conv, feeds four kernels.
    let pack = m.exec.iter().find(|e| e.op == "OptMatMulPack").unwrap();
    assert_eq!(pack.name, "a/conv.pack_a");
    let readers = m
        .exec
        .iter()
        .filter(|e| {
            let n = m.plan.model().node(e.node_id);
            n.inputs.iter().any(|o| o.node == pack.node_id)
        })
        .count();
    assert_eq!(readers, 4);
    assert_eq!(
        kernel_before(&m, "a/conv.unmerge_out"),
        ("a/conv".into(), 4 * 8 * 36)
    );
    assert_eq!(
        kernel_before(&m, "b/conv.unmerge_out"),
        ("b/conv".into(), 6 * 8 * 36)
    );
    // c's kernel is the fused Add+ReLU, d's kernel feeds it as the accumulator.
    assert_eq!(
        kernel_before(&m, "c/conv.unmerge_out"),
        ("c/conv".into(), 6 * 8 * 36)
    );
    let per_source = check(&m, "siblings");
    assert_eq!(per_source["d/conv"], 6 * 8 * 36);
}

#[test]
fn a_conv_split_over_a_concat_shares_its_macs_by_the_pieces_work() {
    let m = fixture("fire.onnx", Optimize::Full);
    let pieces: Vec<u64> = m
        .exec
        .iter()
        .filter(|e| is_matmul_like(&e.op) && e.name.starts_with("next/conv."))
        .map(|e| e.cost.macs)
        .collect();
    // K = 10 channels of expand3x3, then K = 6 of expand1x1; 5 outputs over 6x6.
    assert_eq!(pieces, [10 * 5 * 36, 6 * 5 * 36]);
    let whole = fixture("fire.onnx", Optimize::None);
    let conv = whole.exec.iter().find(|e| e.name == "next/conv").unwrap();
    assert_eq!(conv.cost.macs, 16 * 5 * 36);
}

#[test]
fn a_conv_split_over_its_outputs_gives_each_kernel_its_share() {
    let m = fixture("qkv.onnx", Optimize::Full);
    let pieces: Vec<(String, u64)> = m
        .exec
        .iter()
        .filter(|e| is_matmul_like(&e.op))
        .map(|e| (m.info.sources[e.source.unwrap()].name.clone(), e.cost.macs))
        .collect();
    // 8 output channels of 8 inputs over 16x16 each: q's kernel is named after its ReLU.
    let piece = ("/qkv/Conv".to_string(), 8 * 8 * 256);
    assert_eq!(pieces, [piece.clone(), piece.clone(), piece]);
    let split: Vec<&str> = m
        .exec
        .iter()
        .filter(|e| is_matmul_like(&e.op))
        .map(|e| e.name.as_str())
        .collect();
    assert_eq!(
        split,
        [
            "/qkv/Conv.split-over-1.8..16",
            "/qkv/Conv.split-over-1.16..24",
            "/q/Relu.low.prefused"
        ]
    );
    let whole = fixture("qkv.onnx", Optimize::None);
    let conv = whole.exec.iter().find(|e| e.name == "/qkv/Conv").unwrap();
    assert_eq!(conv.cost.macs, 24 * 8 * 256);
}

#[test]
fn op_records_carry_the_kernels_macs() {
    let (siblings, fire) = (model("siblings.onnx"), model("fire.onnx"));
    // The bounds need the machine probe.
    let out = bench_once_output(&[&siblings, &fire, "--probe-budget", "3"]);
    let recs = succeeded(&out);
    for m in of_type(&recs, "model") {
        let name = m["model"].as_str().unwrap();
        let ops: Vec<_> = recs
            .iter()
            .filter(|r| r["type"] == "op" && r["model"] == name)
            .collect();
        let sum: u64 = ops.iter().map(|o| o["macs"].as_u64().unwrap()).sum();
        assert_eq!(sum, m["macs"].as_u64().unwrap(), "{name}");
        for o in &ops {
            if o["category"] == "tensor" {
                assert_eq!(o["macs"], 0, "{name}: {}", o["node"]);
            }
        }
        let kernels_with_macs = ops
            .iter()
            .filter(|o| o["op"] == "OptMatMul" && o["macs"].as_u64().unwrap() > 0)
            .count();
        assert_eq!(kernels_with_macs, if name == "siblings" { 4 } else { 5 });
    }
    assert_bounds_hold(&out.stdout);
}

fn zoo_model(name: &str) {
    let (src, _) = zoo_source(name, &ZooOptions::default()).unwrap();
    check(&load(&src, None, Optimize::Full).unwrap(), name);
}

/// One test per zoo network; the big ones (`heavy:`) run in the heavy tier of tests/run.sh.
macro_rules! zoo_model {
    (heavy: $($name:ident),*) => {$(
        #[test]
        #[ignore = "heavy tier: bash tests/run.sh heavy"]
        fn $name() {
            zoo_model(stringify!($name));
        }
    )*};
    ($($name:ident),*) => {$(
        #[test]
        fn $name() {
            zoo_model(stringify!($name));
        }
    )*};
}

mod zoo {
    use super::*;
    zoo_model!(
        heavy: vgg16,
        inceptionv3,
        inceptionv4,
        resnet50,
        seresnet50,
        xception
    );
    zoo_model!(mobilenet, mobilenetv2, shufflenet, shufflenetv2);
}
