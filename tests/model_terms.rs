//! Broken models are described in the model's own terms, with what to do, never in tract's
//! (issue #30 item 8): a node without outputs, an initializer without data, a cycle, an
//! `--input-shape` of the wrong rank or for one of several inputs, a file nested deeper than
//! protobuf decoding goes. Each is an error naming the node, tensor or input (exit 1).
//! An input of a type its op does not take (a bool into Clip or Pow, an integer into a GRU) is
//! refused before tract runs (fails on or panics at) it. Where tract fails at a node it expanded
//! into nodes of its own (Clip into `NAME.low`, Softplus into `NAME.exp`), the error names the
//! model's node and op, and what is wrong with its inputs, when typing, preparing or running
//! it, at every `--optimize` level.

mod common;
use common::*;
#[allow(dead_code)] // only a few of the constructors are needed here
#[path = "../src/zoo/proto.rs"]
mod proto;

use prost::Message;
use proto::{attr_float, attr_int, tensor_f32, tensor_i64, value_info_f32};
use tract_onnx::pb::tensor_proto::DataType;
use tract_onnx::pb::type_proto::Value as TypeValue;
use tract_onnx::pb::{
    AttributeProto, GraphProto, ModelProto, NodeProto, OperatorSetIdProto, TensorProto,
    ValueInfoProto,
};

/// tract's words that must not reach the user for these models.
const TRACT_WORDS: [&str; 12] = [
    "Impossible to unify",
    "Wrong number of outputs",
    "ShapeError",
    "Loop detected",
    "recursion limit",
    "Can not broadcast",
    "does not support",
    "No super type",
    "Output mismatch",
    "Evaluating #",
    "Failed analyse",
    "ToTypedTranslator",
];

fn node(op: &str, name: &str, inputs: &[&str], outputs: &[&str]) -> NodeProto {
    NodeProto {
        name: name.into(),
        op_type: op.into(),
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: outputs.iter().map(|s| s.to_string()).collect(),
        ..Default::default()
    }
}

fn graph_bytes(
    inputs: Vec<ValueInfoProto>,
    nodes: Vec<NodeProto>,
    inits: Vec<TensorProto>,
) -> Vec<u8> {
    graph_bytes_at(13, inputs, nodes, inits)
}

/// [`graph_bytes`] at ONNX opset `opset`.
fn graph_bytes_at(
    opset: i64,
    inputs: Vec<ValueInfoProto>,
    nodes: Vec<NodeProto>,
    inits: Vec<TensorProto>,
) -> Vec<u8> {
    ModelProto {
        ir_version: 8,
        opset_import: vec![OperatorSetIdProto {
            domain: String::new(),
            version: opset,
        }],
        graph: Some(GraphProto {
            name: "g".into(),
            node: nodes,
            initializer: inits,
            input: inputs,
            output: vec![ValueInfoProto {
                name: "y".into(),
                ..Default::default()
            }],
            ..Default::default()
        }),
        ..Default::default()
    }
    .encode_to_vec()
}

/// `hiddencost cost` of `bytes`: exit 1 and stderr, which says `said` and none of tract's words;
/// returns stderr.
fn refused(bytes: &[u8], extra: &[&str], said: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.onnx");
    std::fs::write(&path, bytes).unwrap();
    let out = hiddencost()
        .arg("cost")
        .arg(&path)
        .args(extra)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains(said), "`{said}` not in {stderr}");
    for words in TRACT_WORDS {
        assert!(!stderr.contains(words), "tract's `{words}` in {stderr}");
    }
    stderr.into_owned()
}

fn x(dims: &[usize]) -> Vec<ValueInfoProto> {
    vec![value_info_f32("x", dims)]
}

/// Input `x` of `dims` and ONNX type `elem`.
fn x_of(elem: DataType, dims: &[usize]) -> Vec<ValueInfoProto> {
    let mut x = value_info_f32("x", dims);
    if let Some(TypeValue::TensorType(t)) = x.r#type.as_mut().and_then(|t| t.value.as_mut()) {
        t.elem_type = elem as i32;
    }
    vec![x]
}

/// `hiddencost bench` of `bytes` at `--optimize` `level`: the model fails (exit 1) with one
/// error record, also on stderr, that says each of `said` and none of tract's words nor any of
/// `internal` (tract's names for the nodes it derived).
fn bench_fails(bytes: &[u8], level: &str, said: &[&str], internal: &[&str]) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("m.onnx");
    std::fs::write(&path, bytes).unwrap();
    let out = hiddencost()
        .timeout(CASE_TIMEOUT)
        .arg("bench")
        .arg(&path)
        .args(["--runs", "1", "--warmup", "1", "--fake-counters"])
        .args(["--probe-budget", "0", "--optimize", level, "--out", "-"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    let recs = records(&String::from_utf8_lossy(&out.stdout));
    let errors = of_type(&recs, "error");
    assert_eq!(errors.len(), 1, "{recs:?}");
    let message = errors[0]["message"].as_str().unwrap();
    assert!(stderr.contains(message), "{stderr}");
    for s in said {
        assert!(message.contains(s), "`{s}` not in {message}");
    }
    for words in TRACT_WORDS.iter().chain(internal) {
        assert!(!stderr.contains(words), "`{words}` in {stderr}");
    }
}

const LEVELS: [&str; 2] = ["none", "full"];

#[test]
fn an_input_of_a_type_its_op_does_not_take_is_refused_before_tract() {
    // Clip at opset 6 (min as an attribute) is tract's Max of `same.low` and `same.low.cst`,
    // which fails on booleans when run; Pow on booleans panics in tract while typing it, an
    // integer GRU while optimizing it.
    let mut clip = node("Clip", "same", &["x"], &["y"]);
    clip.attribute.push(attr_float("min", 0.0));
    let clip = graph_bytes_at(6, x_of(DataType::Bool, &[1, 4]), vec![clip], vec![]);
    let pow = node("Pow", "pw", &["x", "p"], &["y"]);
    let p = tensor_f32("p", &[], &[2.0]);
    let pow = graph_bytes(x_of(DataType::Bool, &[1, 4]), vec![pow], vec![p]);
    let mut gru = node("GRU", "gru", &["x", "w", "r"], &["y"]);
    gru.attribute.push(attr_int("hidden_size", 2));
    let mut w = tensor_i64(&[1, 6, 4], &[0; 24]);
    w.name = "w".into();
    let mut r = tensor_i64(&[1, 6, 2], &[0; 12]);
    r.name = "r".into();
    let gru = graph_bytes(x_of(DataType::Int64, &[2, 1, 4]), vec![gru], vec![w, r]);
    let cases = [
        (
            &clip,
            "node `same` (Clip) reads `x`, of type bool, and Clip takes numbers only",
        ),
        (
            &pow,
            "node `pw` (Pow) reads `x`, of type bool, and Pow takes numbers only",
        ),
        (
            &gru,
            "node `gru` (GRU) reads `x`, of type int64, and GRU takes floating-point values only",
        ),
    ];
    for (bytes, said) in cases {
        let todo = "cast it first (a Cast node before this one), or export the model again";
        for level in LEVELS {
            bench_fails(
                bytes,
                level,
                &[said, todo],
                &["same.low", "Max", "panicked"],
            );
        }
        refused(bytes, &[], said);
    }
}

#[test]
fn an_expanded_activation_that_fails_to_run_names_its_node() {
    // Softplus is tract's `sp.exp`, `sp.plus_one`, `sp.ln`: Exp fails on integers.
    let sp = node("Softplus", "sp", &["x"], &["y"]);
    let bytes = graph_bytes(x_of(DataType::Int64, &[1, 4]), vec![sp], vec![]);
    for level in LEVELS {
        bench_fails(
            &bytes,
            level,
            &["node `sp` (Softplus) fails when run: Softplus does not take int64 values"],
            &["sp.exp", "Exp"],
        );
    }
}

#[test]
fn a_clip_whose_bound_is_not_a_scalar_names_the_shapes() {
    // tract expands Clip-11 into `same.min` and `same.max`; a 2x4 min changes the output's
    // shape, which tract finds when it translates the expansion.
    let clip = node("Clip", "same", &["x", "mn"], &["y"]);
    let mn = tensor_f32("mn", &[2, 4], &[0.0; 8]);
    let bytes = graph_bytes(x(&[1, 4]), vec![clip], vec![mn]);
    for level in LEVELS {
        bench_fails(
            &bytes,
            level,
            &[
                "node `same` (Clip) fails while tract prepares it to run: its inputs' shapes \
                 (1x4, 2x4) do not fit together; check the model",
            ],
            &["same.min"],
        );
    }
}

#[test]
fn shape_inference_failures_are_said_in_types_and_shapes() {
    let gemm = node("Gemm", "fc", &["x", "w"], &["y"]);
    let w = tensor_f32("w", &[5, 3], &[0.0; 15]);
    refused(
        &graph_bytes(x(&[1, 4]), vec![gemm], vec![w]),
        &[],
        "node `fc` (Gemm) fails in shape inference: its inputs' shapes (1x4, 5x3) do not fit \
         together; check the model with onnx.checker.check_model(model, full_check=True)",
    );
    let add = node("Add", "add", &["x", "b"], &["y"]);
    let mut b = tensor_i64(&[1, 4], &[0; 4]);
    b.name = "b".into();
    refused(
        &graph_bytes(x(&[1, 4]), vec![add], vec![b]),
        &[],
        "node `add` (Add) fails in shape inference: its inputs are of different types (float \
         and int64)",
    );
}

#[test]
fn a_node_without_output_names_is_named() {
    let nodes = vec![
        node("Relu", "r", &["x"], &[""]),
        node("Relu", "r2", &["x"], &["y"]),
    ];
    refused(
        &graph_bytes(x(&[1, 4]), nodes, vec![]),
        &[],
        "node `r` (Relu) names no output tensor: every ONNX node writes at least one",
    );
}

#[test]
fn an_initializer_without_its_data_is_named() {
    let mut w = tensor_f32("w", &[4, 4, 3, 3], &[]);
    w.float_data.clear();
    w.raw_data.clear();
    let conv = node("Conv", "c", &["x", "w"], &["y"]);
    refused(
        &graph_bytes(x(&[1, 4, 8, 8]), vec![conv], vec![w]),
        &[],
        "tensor `w` holds 0 values, its dims 4x4x3x3 need 144",
    );
}

#[test]
fn a_cycle_is_named_by_a_node_on_it() {
    let nodes = vec![
        node("Relu", "r1", &["z"], &["a"]),
        node("Add", "add", &["x", "a"], &["z"]),
        node("Relu", "r2", &["z"], &["y"]),
    ];
    let stderr = refused(
        &graph_bytes(x(&[1, 4]), nodes, vec![]),
        &[],
        "the graph has a cycle",
    );
    // Either node of the cycle names it, through the tensor it reads from the other.
    assert!(
        stderr.contains("node `r1` (Relu) reads `z`, which is computed from its own output")
            || stderr.contains("node `add` (Add) reads `a`, which is computed from its own output"),
        "{stderr}"
    );
}

#[test]
fn an_input_shape_of_the_wrong_rank_says_the_right_one() {
    refused(
        &std::fs::read(common::model("tiny_cnn.onnx")).unwrap(),
        &["--input-shape", "1,3,8,8,2"],
        "input `input` has 4 dimension(s), --input-shape [1, 3, 8, 8, 2] gives 5: give 4",
    );
}

#[test]
fn an_input_shape_for_one_of_two_inputs_names_the_other() {
    let mut cat = node("Concat", "cat", &["x", "b"], &["y"]);
    cat.attribute.push(attr_int("axis", 0));
    let inputs = vec![value_info_f32("x", &[1, 4]), value_info_f32("b", &[1, 4])];
    refused(
        &graph_bytes(inputs, vec![cat], vec![]),
        &["--input-shape", "2,3"],
        "--input-shape sets the first input `x` only, the others keep their own shapes \
         (`b` [1, 4]), and the shapes do not fit together at node `cat`: give a first shape",
    );
}

#[test]
fn a_file_nested_deeper_than_protobuf_reads_is_not_called_truncated() {
    // 120 If nodes, each the then-branch of the one above: a whole file.
    let mut body = GraphProto {
        name: "leaf".into(),
        ..Default::default()
    };
    for depth in 0..120 {
        let mut n = node("If", &format!("if{depth}"), &["cond"], &["y"]);
        n.attribute.push(AttributeProto {
            name: "then_branch".into(),
            r#type: 5,
            g: Some(body),
            ..Default::default()
        });
        body = GraphProto {
            name: format!("g{depth}"),
            node: vec![n],
            ..Default::default()
        };
    }
    let bytes = ModelProto {
        ir_version: 8,
        graph: Some(body),
        ..Default::default()
    }
    .encode_to_vec();
    refused(
        &bytes,
        &[],
        "nested deeper than the 100 levels the protobuf decoder reads",
    );
}
