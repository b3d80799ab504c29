//! Tests of the zoo against numbers measured once on the reference PyTorch definitions.
//!
//! The expected constants were measured with torch 2.15.0 (CPU) and thop 0.1.1.post2209072238 on
//! weiaicunzai/pytorch-cifar100 at commit 11d8418 (models/*.py, unmodified), Python 3.11:
//!
//! ```text
//! m = <model>().eval()
//! params = sum(p.numel() for p in m.parameters())
//! macs_thop, _ = thop.profile(m, inputs=(torch.randn(1, 3, 32, 32),))
//! torch.onnx.export(m, (x,), f, opset_version=13, dynamo=False,
//!                   training=torch.onnx.TrainingMode.PRESERVE)   # keeps BatchNormalization
//! ```
//!
//! `macs_graph` applies thop's rules to every node of that exported graph; it differs from thop
//! only where the module calls `F.adaptive_avg_pool2d` (thop does not see functionals). The op
//! histograms are the export's, less the `Identity` nodes its initializer deduplication adds.
//!
//! Parameters and `macs_graph` are recomputed here from the proto alone, by a shape walk that
//! shares no code with the builder; the builder's own counts are checked too.

use super::*;
use std::collections::{BTreeMap, HashMap, HashSet};
use tract_onnx::pb::{AttributeProto, ModelProto, NodeProto};
use tract_onnx::prelude::*;

struct Expected {
    name: &'static str,
    params: u64,
    macs_thop: u64,
    macs_graph: u64,
    ops: &'static str,
}

#[rustfmt::skip]
const EXPECTED: [Expected; 10] = [
    Expected { name: "vgg16", params: 34_015_396, macs_thop: 333_586_432, macs_graph: 333_586_432,
        ops: "BatchNormalization:13 Constant:1 Conv:13 Gemm:3 MaxPool:5 Relu:15 Reshape:1" },
    Expected { name: "inceptionv3", params: 22_318_148, macs_thop: 3_406_971_520, macs_graph: 3_406_971_520,
        ops: "AveragePool:10 BatchNormalization:94 Concat:11 Constant:1 Conv:94 Gemm:1 GlobalAveragePool:1 MaxPool:1 Relu:94 Reshape:1" },
    Expected { name: "inceptionv4", params: 41_296_516, macs_thop: 7_535_302_784, macs_graph: 7_535_302_784,
        ops: "AveragePool:15 BatchNormalization:149 Concat:19 Constant:1 Conv:149 Gemm:1 MaxPool:4 Relu:149 Reshape:1" },
    Expected { name: "resnet50", params: 23_705_252, macs_thop: 1_311_778_816, macs_graph: 1_311_778_816,
        ops: "Add:16 BatchNormalization:53 Constant:1 Conv:53 Gemm:1 GlobalAveragePool:1 Relu:49 Reshape:1" },
    Expected { name: "seresnet50", params: 26_262_804, macs_thop: 1_316_076_288, macs_graph: 1_316_111_104,
        ops: "Add:16 BatchNormalization:53 Constant:33 Conv:53 Expand:16 Gemm:33 GlobalAveragePool:17 Mul:16 Relu:81 Reshape:33 Shape:16 Sigmoid:16" },
    Expected { name: "xception", params: 21_013_988, macs_thop: 1_137_838_592, macs_graph: 1_137_838_592,
        ops: "Add:12 BatchNormalization:40 Constant:1 Conv:74 Gemm:1 GlobalAveragePool:1 MaxPool:4 Relu:35 Reshape:1" },
    Expected { name: "mobilenet", params: 3_315_428, macs_thop: 48_098_304, macs_graph: 48_098_304,
        ops: "BatchNormalization:27 Constant:1 Conv:27 Gemm:1 GlobalAveragePool:1 Relu:27 Reshape:1" },
    Expected { name: "mobilenetv2", params: 2_369_380, macs_thop: 68_474_112, macs_graph: 68_507_392,
        ops: "Add:10 BatchNormalization:53 Clip:36 Constant:73 Conv:54 GlobalAveragePool:1 Reshape:1" },
    Expected { name: "shufflenet", params: 1_012_108, macs_thop: 45_361_344, macs_graph: 45_361_344,
        ops: "Add:13 AveragePool:3 BatchNormalization:49 Concat:3 Constant:33 Conv:49 Gemm:1 GlobalAveragePool:1 Relu:33 Reshape:33 Transpose:16" },
    Expected { name: "shufflenetv2", params: 1_360_896, macs_thop: 45_753_728, macs_graph: 45_771_136,
        ops: "BatchNormalization:56 Concat:16 Constant:46 Conv:56 Gemm:1 GlobalAveragePool:1 Relu:36 Reshape:33 Split:13 Transpose:16" },
];

/// What the proto alone says: parameters (Conv/Gemm weight and bias, BatchNorm scale and shift;
/// running statistics are buffers), MACs by thop's rules, op histogram, output shape.
#[derive(Debug, Default)]
struct Walk {
    params: u64,
    macs: u64,
    ops: BTreeMap<String, usize>,
    output: Vec<usize>,
}

fn ints(node: &NodeProto, name: &str) -> Vec<usize> {
    let a: Option<&AttributeProto> = node.attribute.iter().find(|a| a.name == name);
    a.map(|a| a.ints.iter().map(|&i| i as usize).collect())
        .unwrap_or_default()
}

fn int(node: &NodeProto, name: &str) -> Option<i64> {
    node.attribute.iter().find(|a| a.name == name).map(|a| a.i)
}

fn numel(shape: &[usize]) -> u64 {
    shape.iter().map(|&d| d as u64).product()
}

/// Output shape of a 2-D window op (Conv or pool), from its attributes.
fn window(node: &NodeProto, x: &[usize], channels: usize, kernel: [usize; 2]) -> Vec<usize> {
    let (pads, strides) = (ints(node, "pads"), ints(node, "strides"));
    let out = |i: usize| (x[2 + i] + pads[i] + pads[i + 2] - kernel[i]) / strides[i] + 1;
    vec![x[0], channels, out(0), out(1)]
}

fn walk(proto: &ModelProto) -> Walk {
    let graph = proto.graph.as_ref().expect("graph");
    let mut shapes: HashMap<String, Vec<usize>> = HashMap::new();
    let mut values: HashMap<String, Vec<i64>> = HashMap::new();
    for t in &graph.initializer {
        shapes.insert(t.name.clone(), t.dims.iter().map(|&d| d as usize).collect());
    }
    let input = &graph.input[0].name;
    shapes.insert(input.clone(), vec![1, 3, 32, 32]);
    let mut w = Walk::default();
    for node in &graph.node {
        *w.ops.entry(node.op_type.clone()).or_default() += 1;
        let shape = |i: usize| shapes[&node.input[i]].clone();
        let out: Vec<Vec<usize>> = match node.op_type.as_str() {
            "Constant" => {
                let t = node.attribute[0].t.as_ref().expect("constant tensor");
                if t.data_type == 7 {
                    let v = t
                        .raw_data
                        .chunks(8)
                        .map(|c| i64::from_le_bytes(c.try_into().unwrap()));
                    values.insert(node.output[0].clone(), v.collect());
                }
                vec![t.dims.iter().map(|&d| d as usize).collect()]
            }
            "Conv" => {
                let (x, wt) = (shape(0), shape(1));
                let y = window(node, &x, wt[0], [wt[2], wt[3]]);
                w.macs += numel(&y) * (wt[1] * wt[2] * wt[3]) as u64;
                w.params += numel(&wt) + node.input.get(2).map_or(0, |b| numel(&shapes[b]));
                vec![y]
            }
            "BatchNormalization" => {
                w.macs += 4 * numel(&shape(0));
                w.params += numel(&shape(1)) + numel(&shape(2));
                vec![shape(0)]
            }
            "Relu" | "Sigmoid" | "Clip" => vec![shape(0)],
            "MaxPool" | "AveragePool" => {
                let (x, k) = (shape(0), ints(node, "kernel_shape"));
                let y = window(node, &x, x[1], [k[0], k[1]]);
                if node.op_type == "AveragePool" {
                    assert_eq!(int(node, "count_include_pad"), Some(1), "{}", node.name);
                    w.macs += numel(&y);
                }
                vec![y]
            }
            "GlobalAveragePool" => {
                let x = shape(0);
                w.macs += (x[2] * x[3] + 1) as u64 * (x[0] * x[1]) as u64;
                vec![vec![x[0], x[1], 1, 1]]
            }
            "Add" | "Mul" => {
                assert_eq!(shape(0), shape(1), "{}", node.name);
                vec![shape(0)]
            }
            "Concat" => {
                let mut y = shape(0);
                y[1] = (0..node.input.len()).map(|i| shape(i)[1]).sum();
                vec![y]
            }
            "Split" => values[&node.input[1]]
                .iter()
                .map(|&c| {
                    let mut y = shape(0);
                    y[1] = c as usize;
                    y
                })
                .collect(),
            "Reshape" => {
                let total = numel(&shape(0)) as i64;
                let target = &values[&node.input[1]];
                let known: i64 = target.iter().filter(|&&d| d != -1).product();
                vec![
                    target
                        .iter()
                        .map(|&d| if d == -1 { total / known } else { d } as usize)
                        .collect(),
                ]
            }
            "Transpose" => {
                let x = shape(0);
                vec![ints(node, "perm").iter().map(|&p| x[p]).collect()]
            }
            "Shape" => {
                values.insert(
                    node.output[0].clone(),
                    shape(0).iter().map(|&d| d as i64).collect(),
                );
                vec![vec![shape(0).len()]]
            }
            "Expand" => vec![values[&node.input[1]].iter().map(|&d| d as usize).collect()],
            "Gemm" => {
                let (x, wt) = (shape(0), shape(1));
                assert_eq!(int(node, "transB"), Some(1));
                assert_eq!(x[1], wt[1], "{}", node.name);
                w.macs += (wt[1] * x[0] * wt[0]) as u64;
                w.params += numel(&wt) + numel(&shape(2));
                vec![vec![x[0], wt[0]]]
            }
            other => panic!("walk: unexpected op {other} at {}", node.name),
        };
        for (name, s) in node.output.iter().zip(out) {
            shapes.insert(name.clone(), s);
        }
    }
    w.output = shapes[&graph.output[0].name].clone();
    w
}

fn histogram(spec: &str) -> BTreeMap<String, usize> {
    spec.split_whitespace()
        .map(|kv| {
            let (k, v) = kv.split_once(':').unwrap();
            (k.to_string(), v.parse().unwrap())
        })
        .collect()
}

/// Runs the proto through tract's normal loading path once, on a fixed input.
fn run_tract(proto: &ModelProto) -> Vec<f32> {
    let model = tract_onnx::onnx()
        .model_for_proto_model(proto)
        .and_then(|m| m.into_optimized())
        .and_then(|m| m.into_runnable())
        .expect("tract loads and optimizes the model");
    let input = tract_ndarray::Array4::from_shape_fn((1, 3, 32, 32), |(_, c, y, x)| {
        ((c * 1024 + y * 32 + x) % 17) as f32 / 8.0 - 1.0
    });
    let out = model
        .run(tvec!(Tensor::from(input).into()))
        .expect("tract runs the model");
    assert_eq!(out[0].shape(), &[1, 100]);
    out[0]
        .to_plain_array_view::<f32>()
        .expect("f32 output")
        .iter()
        .copied()
        .collect()
}

fn check_model(name: &str) {
    let e = EXPECTED
        .iter()
        .find(|e| e.name == name)
        .expect("expected numbers");
    let opts = ZooOptions {
        seed: 0,
        fold_bn: false,
    };
    let (proto, stats) = build_with_stats(name, &opts).expect("builds");

    assert_eq!(
        stats,
        ZooStats {
            params: e.params,
            macs_thop: e.macs_thop,
            macs_graph: e.macs_graph
        }
    );
    let w = walk(&proto);
    assert_eq!(
        w.params, e.params,
        "{name}: parameters from the proto's initializers"
    );
    assert_eq!(w.macs, e.macs_graph, "{name}: MACs from the proto");
    assert_eq!(w.ops, histogram(e.ops), "{name}: op histogram");
    assert_eq!(w.output, vec![1, 100]);

    let graph = proto.graph.as_ref().unwrap();
    assert_eq!((proto.ir_version, proto.opset_import[0].version), (7, 13));
    assert_eq!(graph.input.len(), 1);
    assert_eq!(
        (graph.input[0].name.as_str(), graph.output[0].name.as_str()),
        ("input", "output")
    );
    let mut names = HashSet::new();
    assert!(
        graph
            .node
            .iter()
            .all(|n| !n.name.is_empty() && names.insert(n.name.as_str())),
        "{name}: node names"
    );

    let bytes = to_bytes(&proto);
    assert_eq!(
        bytes,
        to_bytes(&build(name, &opts).unwrap()),
        "{name}: same seed, same bytes"
    );
    let other = build(name, &ZooOptions { seed: 1, ..opts }).unwrap();
    assert_ne!(bytes, to_bytes(&other), "{name}: another seed, other bytes");

    let y = run_tract(&proto);
    let max_abs = y.iter().fold(0f32, |m, v| m.max(v.abs()));
    assert!(y.iter().all(|v| v.is_finite()), "{name}: finite outputs");
    assert!(
        max_abs > 1e-3 && max_abs < 100.0,
        "{name}: moderate outputs, max |y| = {max_abs}"
    );
    eprintln!("{name}: max |y| = {max_abs}");
}

#[test]
#[ignore = "heavy tier: bash tests/run.sh heavy"]
fn vgg16() {
    check_model("vgg16");
}
#[test]
#[ignore = "heavy tier: bash tests/run.sh heavy"]
fn inceptionv3() {
    check_model("inceptionv3");
}
#[test]
#[ignore = "heavy tier: bash tests/run.sh heavy"]
fn inceptionv4() {
    check_model("inceptionv4");
}
#[test]
#[ignore = "heavy tier: bash tests/run.sh heavy"]
fn resnet50() {
    check_model("resnet50");
}
#[test]
#[ignore = "heavy tier: bash tests/run.sh heavy"]
fn seresnet50() {
    check_model("seresnet50");
}
#[test]
#[ignore = "heavy tier: bash tests/run.sh heavy"]
fn xception() {
    check_model("xception");
}
#[test]
fn mobilenet() {
    check_model("mobilenet");
}
#[test]
fn mobilenetv2() {
    check_model("mobilenetv2");
}
#[test]
fn shufflenet() {
    check_model("shufflenet");
}
#[test]
fn shufflenetv2() {
    check_model("shufflenetv2");
}

#[test]
fn names_info_and_errors() {
    let all = all();
    assert_eq!(all.iter().map(|i| i.name).collect::<Vec<_>>(), NAMES);
    assert_eq!(EXPECTED.map(|e| e.name), NAMES);
    for i in &all {
        assert!(i.top1_error > i.top5_error && i.top5_error > 0.0 && i.top1_error < 50.0);
        assert!(
            i.reference
                .starts_with("weiaicunzai/pytorch-cifar100 models/")
        );
    }
    assert_eq!(info("ResNet50").map(|i| i.display_name), Some("ResNet50"));
    assert_eq!(
        info("resnet50").map(|i| (i.top1_error, i.top5_error)),
        Some((22.61, 6.04))
    );
    let err = build("resnet18", &ZooOptions::default()).unwrap_err();
    assert!(matches!(err, ZooError::Unknown(ref n) if n == "resnet18"));
    assert!(err.to_string().contains("shufflenetv2"), "{err}");
    assert!(info("").is_none());
}

/// Folding changes the graph, not the function: same outputs, no BatchNormalization, each conv
/// biased, and the parameter count moves by exactly what folding implies.
#[test]
fn fold_bn_keeps_the_function() {
    for name in ["mobilenetv2", "shufflenetv2", "xception"] {
        let plain = build(
            name,
            &ZooOptions {
                seed: 3,
                fold_bn: false,
            },
        )
        .unwrap();
        let folded = build(
            name,
            &ZooOptions {
                seed: 3,
                fold_bn: true,
            },
        )
        .unwrap();
        let (wp, wf) = (walk(&plain), walk(&folded));
        assert_eq!(wf.ops.get("BatchNormalization"), None);
        assert_eq!(wf.ops["Conv"], wp.ops["Conv"]);
        let g = plain.graph.as_ref().unwrap();
        let dims: HashMap<&str, u64> = g
            .initializer
            .iter()
            .map(|t| (t.name.as_str(), t.dims.iter().product::<i64>() as u64))
            .collect();
        let producer: HashMap<&str, &NodeProto> =
            g.node.iter().map(|n| (n.output[0].as_str(), n)).collect();
        let mut expected = wp.params;
        for bn in g.node.iter().filter(|n| n.op_type == "BatchNormalization") {
            let conv = producer[bn.input[0].as_str()];
            assert_eq!(conv.op_type, "Conv");
            let channels = dims[bn.input[1].as_str()];
            expected -= 2 * channels; // BN scale and shift go
            if conv.input.len() == 2 {
                expected += channels; // the conv gains a bias
            }
        }
        assert_eq!(wf.params, expected, "{name}");
        let (a, b) = (run_tract(&plain), run_tract(&folded));
        let scale = a.iter().fold(0f32, |m, v| m.max(v.abs()));
        let diff = a
            .iter()
            .zip(&b)
            .fold(0f32, |m, (x, y)| m.max((x - y).abs()));
        assert!(
            diff <= 1e-3 * scale.max(1.0),
            "{name}: folded differs by {diff} (scale {scale})"
        );
    }
}
