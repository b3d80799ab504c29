use super::*;
use crate::zoo::proto::{attr_float, attr_ints, model, tensor_f32, value_info_f32};
use crate::zoo::{self, ZooOptions};

/// A zoo network as the rewrite tests build it (seed 7).
pub(crate) fn zoo_model(name: &str, fold_bn: bool) -> ModelProto {
    zoo::build(name, &ZooOptions { seed: 7, fold_bn }).unwrap()
}

pub(super) fn count(proto: &ModelProto, op: &str) -> usize {
    let g = proto.graph.as_ref().unwrap();
    g.node.iter().filter(|n| n.op_type == op).count()
}

/// The places each rewrite changes in each zoo network, from the networks' definitions
/// (docs/zoo.md): every BatchNorm follows its conv; the windowed average pools are Inception's
/// and ShuffleNet's branch pools (and InceptionV4's head), the global ones the heads' and
/// SE-ResNet's squeezes; only MobileNetV2 has an activation
/// other than ReLU (ReLU6); both ShuffleNets shuffle once per unit, 16 units. `int8` quantizes
/// every Conv and Gemm (each has a constant weight): the convs BatchNorm follows, plus the
/// classifier (VGG16's three linear layers, SE-ResNet50's two per squeeze-and-excitation block
/// and its head; MobileNetV2's head is a conv).
#[test]
fn each_zoo_network_has_the_places_its_definition_says() {
    use Rewrite::*;
    let expected: [(&str, &[(Rewrite, usize)]); 10] = [
        ("vgg16", &[(FoldBn, 13), (Int8, 16)]),
        (
            "inceptionv3",
            &[(MaxPool, 10), (GlobalMaxPool, 1), (FoldBn, 94), (Int8, 95)],
        ),
        ("inceptionv4", &[(MaxPool, 15), (FoldBn, 149), (Int8, 150)]),
        ("resnet50", &[(GlobalMaxPool, 1), (FoldBn, 53), (Int8, 54)]),
        (
            "seresnet50",
            &[(GlobalMaxPool, 17), (FoldBn, 53), (Int8, 86)],
        ),
        ("xception", &[(GlobalMaxPool, 1), (FoldBn, 40), (Int8, 75)]),
        ("mobilenet", &[(GlobalMaxPool, 1), (FoldBn, 27), (Int8, 28)]),
        (
            "mobilenetv2",
            &[(Relu, 36), (GlobalMaxPool, 1), (FoldBn, 53), (Int8, 54)],
        ),
        (
            "shufflenet",
            &[
                (MaxPool, 3),
                (GlobalMaxPool, 1),
                (FoldBn, 49),
                (NoShuffle, 16),
                (Int8, 50),
            ],
        ),
        (
            "shufflenetv2",
            &[
                (GlobalMaxPool, 1),
                (FoldBn, 56),
                (NoShuffle, 16),
                (Int8, 57),
            ],
        ),
    ];
    for (name, places) in expected {
        assert_eq!(sites(&zoo_model(name, false)), places, "{name}");
    }
}

/// What each rewrite leaves of ShuffleNet: counted on the graph, and the nodes it no longer
/// needs gone with their constants.
#[test]
fn rewritten_graphs_hold_the_new_ops_and_drop_what_nothing_reads() {
    let base = zoo_model("shufflenet", false);
    let mut p = base.clone();
    assert_eq!(apply(&mut p, Rewrite::NoShuffle), 16);
    assert_eq!(count(&p, "Transpose"), 0);
    // 33 Reshapes were 16 shuffles' two and the head's flatten.
    assert_eq!(count(&p, "Reshape"), 1);
    assert_eq!(count(&p, "Constant"), count(&base, "Constant") - 32);
    assert_eq!(
        sites(&p).iter().find(|(r, _)| *r == Rewrite::NoShuffle),
        None
    );

    let mut p = base.clone();
    assert_eq!(apply(&mut p, Rewrite::MaxPool), 3);
    assert_eq!((count(&p, "AveragePool"), count(&p, "MaxPool")), (0, 3));
    assert_eq!(apply(&mut p, Rewrite::GlobalMaxPool), 1);
    assert_eq!(
        (count(&p, "GlobalAveragePool"), count(&p, "GlobalMaxPool")),
        (0, 1)
    );

    let mut p = base.clone();
    let initializers = base.graph.as_ref().unwrap().initializer.len();
    assert_eq!(apply(&mut p, Rewrite::FoldBn), 49);
    assert_eq!(count(&p, "BatchNormalization"), 0);
    // Each fold trades a conv's weight and bias (the reference ShuffleNet's convs have one)
    // and the BN's four tensors for a new weight and bias.
    let g = p.graph.as_ref().unwrap();
    assert_eq!(g.initializer.len(), initializers - 49 * 6 + 49 * 2);
    assert_eq!(apply(&mut p, Rewrite::AsIs), 0);
}

/// Folding computes what the zoo's own folding (`--fold-bn`, the graph torch exports in eval
/// mode) computes from the same weights: every conv's weights and bias agree to float
/// rounding.
#[test]
fn folding_gives_the_weights_the_zoo_folds_itself() {
    let mut p = zoo_model("mobilenetv2", false);
    apply(&mut p, Rewrite::FoldBn);
    let folded = zoo_model("mobilenetv2", true);
    let convs = |m: &ModelProto| -> Vec<Vec<Vec<f32>>> {
        let g = m.graph.as_ref().unwrap();
        g.node
            .iter()
            .filter(|n| n.op_type == "Conv")
            .map(|n| {
                let inputs = n.input.iter().skip(1);
                inputs
                    .map(|i| graph::floats(graph::constant(g, i).unwrap()).unwrap())
                    .collect()
            })
            .collect()
    };
    let (ours, theirs) = (convs(&p), convs(&folded));
    assert_eq!(ours.len(), 54);
    assert_eq!(ours.len(), theirs.len());
    for (a, b) in ours.iter().flatten().zip(theirs.iter().flatten()) {
        assert_eq!(a.len(), b.len());
        for (x, y) in a.iter().zip(b) {
            assert!((x - y).abs() <= 1e-6 * (1.0 + y.abs()), "{x} against {y}");
        }
    }
}

pub(super) fn node(op: &str, inputs: &[&str], output: &str) -> NodeProto {
    NodeProto {
        name: output.into(),
        op_type: op.into(),
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: vec![output.into()],
        ..Default::default()
    }
}

fn graph(nodes: Vec<NodeProto>, init: Vec<TensorProto>, out: &str) -> ModelProto {
    model(
        GraphProto {
            node: nodes,
            initializer: init,
            input: vec![value_info_f32("x", &[1, 4, 2, 2])],
            output: vec![value_info_f32(out, &[1, 4, 2, 2])],
            ..Default::default()
        },
        "test",
    )
}

/// What is not the change a rewrite stands for stays: a clip that is not ReLU6, a sigmoid
/// gate of another tensor (squeeze-and-excitation), a conv whose output another node reads.
#[test]
fn only_sure_places_change() {
    let zero = tensor_f32("zero", &[], &[0.0]);
    let one = tensor_f32("one", &[], &[1.0]);
    let six = tensor_f32("six", &[], &[6.0]);
    let nodes = vec![
        node("Clip", &["x", "one", "six"], "clipped"),
        node("Clip", &["clipped", "zero", "six"], "relu6"),
        node("Sigmoid", &["relu6"], "gate"),
        node("Mul", &["x", "gate"], "gated"),
        node("Sigmoid", &["gated"], "s"),
        node("Mul", &["s", "gated"], "silu"),
    ];
    let mut p = graph(nodes, vec![zero, one, six], "silu");
    assert_eq!(apply(&mut p, Rewrite::Relu), 2);
    let ops: Vec<_> = p
        .graph
        .as_ref()
        .unwrap()
        .node
        .iter()
        .map(|n| n.op_type.as_str())
        .collect();
    assert_eq!(ops, ["Clip", "Relu", "Sigmoid", "Mul", "Relu"]);
    let g = p.graph.as_ref().unwrap();
    assert_eq!(g.node[4].input, ["gated"]);
    // The zero bound had one reader, the clip that became a ReLU.
    assert!(g.initializer.iter().all(|t| t.name != "zero"));

    let w = tensor_f32("w", &[4, 4, 1, 1], &[1.0; 16]);
    let bn: Vec<TensorProto> = ["g", "b", "m", "v"]
        .iter()
        .map(|n| tensor_f32(n, &[4], &[1.0; 4]))
        .collect();
    let mut nodes = vec![
        node("Conv", &["x", "w"], "c"),
        node("BatchNormalization", &["c", "g", "b", "m", "v"], "bn"),
        node("Add", &["bn", "c"], "y"),
    ];
    nodes[1].attribute.push(attr_float("epsilon", 0.0));
    let mut init = vec![w];
    init.extend(bn);
    assert_eq!(apply(&mut graph(nodes, init, "y"), Rewrite::FoldBn), 0);
}

/// Folding's arithmetic, by hand: w' = w * gamma / sqrt(var + eps), b' = beta + (b - mean) *
/// gamma / sqrt(var + eps).
#[test]
fn folding_scales_each_output_channel() {
    let w = tensor_f32("w", &[2, 1, 1, 1], &[2.0, 3.0]);
    let b = tensor_f32("b", &[2], &[1.0, -1.0]);
    let params = [
        tensor_f32("g", &[2], &[4.0, 1.0]),
        tensor_f32("beta", &[2], &[0.5, 0.0]),
        tensor_f32("m", &[2], &[1.0, 2.0]),
        tensor_f32("v", &[2], &[4.0, 0.25]),
    ];
    let mut nodes = vec![
        node("Conv", &["x", "w", "b"], "c"),
        node("BatchNormalization", &["c", "g", "beta", "m", "v"], "y"),
    ];
    nodes[1].attribute.push(attr_float("epsilon", 0.0));
    nodes[0].attribute.push(attr_ints("kernel_shape", &[1, 1]));
    let mut init = vec![w, b];
    init.extend(params);
    let mut p = graph(nodes, init, "y");
    assert_eq!(apply(&mut p, Rewrite::FoldBn), 1);
    let g = p.graph.as_ref().unwrap();
    assert_eq!(g.node.len(), 1);
    assert_eq!(g.node[0].output, ["y"]);
    let value = |i: usize| graph::floats(graph::constant(g, &g.node[0].input[i]).unwrap());
    // Scales 4 / 2 = 2 and 1 / 0.5 = 2.
    assert_eq!(value(1), Some(vec![4.0, 6.0]));
    assert_eq!(value(2), Some(vec![0.5, -6.0]));
    assert_eq!(g.initializer.len(), 2);
}

/// Two shuffles in a row both go, and the graph output keeps its name through an Identity.
#[test]
fn shuffles_in_a_row_and_at_the_output_go() {
    let shape5 = crate::zoo::proto::tensor_i64(&[5], &[1, 2, 2, 2, 2]);
    let shape4 = crate::zoo::proto::tensor_i64(&[4], &[1, 4, 2, 2]);
    let (mut s5, mut s4) = (shape5, shape4);
    s5.name = "s5".into();
    s4.name = "s4".into();
    let mut nodes = Vec::new();
    for (x, y) in [("x", "y1"), ("y1", "y2")] {
        nodes.push(node("Reshape", &[x, "s5"], &format!("{y}.r")));
        let mut t = node("Transpose", &[&format!("{y}.r")], &format!("{y}.t"));
        t.attribute.push(attr_ints("perm", &[0, 2, 1, 3, 4]));
        nodes.push(t);
        nodes.push(node("Reshape", &[&format!("{y}.t"), "s4"], y));
    }
    let mut p = graph(nodes, vec![s5, s4], "y2");
    assert_eq!(apply(&mut p, Rewrite::NoShuffle), 2);
    let g = p.graph.as_ref().unwrap();
    assert_eq!(g.node.len(), 1);
    assert_eq!(
        (g.node[0].op_type.as_str(), g.node[0].input.as_slice()),
        ("Identity", &["x".to_string()][..])
    );
    assert!(g.initializer.is_empty());
}
