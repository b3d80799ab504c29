//! The zoo through the same paths as a user's file: static cost against the zoo builder's own
//! counts, `zoo list` and `zoo export` (`bench` of all ten: zoo_bench.rs).

mod common;
use common::*;
use hiddencost::model::load_static;
use hiddencost::session::zoo_source;
use hiddencost::zoo::{self, ZooOptions};

/// The cost module (graph + tract shapes) and the zoo builder (its own layer bookkeeping) count
/// independently; they must agree to the unit, and params must equal the PyTorch module's.
#[test]
#[ignore = "heavy tier: bash tests/run.sh heavy"]
fn cost_module_agrees_with_the_zoo_builder() {
    for name in zoo::NAMES {
        let (src, meta) = zoo_source(name, &ZooOptions::default()).unwrap();
        let (_, stats) = zoo::build_with_stats(name, &ZooOptions::default()).unwrap();
        let st = load_static(&src, None).unwrap();
        assert_eq!(st.totals.params, stats.params, "{name} params");
        assert_eq!(meta.zoo.unwrap().pytorch_params, stats.params, "{name}");
        assert_eq!(
            st.totals.thop_macs, stats.macs_graph,
            "{name} thop MACs by graph rules"
        );
        assert_eq!(st.input_shape, [1, 3, 32, 32]);
        assert_eq!(st.output_shapes, [vec![1, 100]]);
    }
}

#[test]
#[ignore = "heavy tier: bash tests/run.sh heavy"]
fn fold_bn_removes_batchnorm_nodes() {
    let run = |extra: &[&str]| {
        let out = hiddencost()
            .args(["cost", "zoo:resnet50", "--json"])
            .args(extra)
            .output()
            .unwrap();
        assert!(out.status.success());
        let recs = records(&String::from_utf8_lossy(&out.stdout));
        of_type(&recs, "node")
            .iter()
            .filter(|n| n["op_type"] == "BatchNormalization")
            .count()
    };
    assert_eq!(run(&[]), 53);
    assert_eq!(run(&["--fold-bn"]), 0);
}

#[test]
fn unknown_zoo_name_is_an_error_record_and_the_rest_runs() {
    let out = hiddencost()
        .args([
            "bench",
            "zoo:resnet5",
            &model("shuffle.onnx"),
            "--runs",
            "1",
            "--fake-counters",
        ])
        .args(["--out", "-"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let recs = records(&String::from_utf8_lossy(&out.stdout));
    let err = &of_type(&recs, "error")[0];
    assert_eq!(err["model"], "zoo:resnet5");
    assert!(err["message"].as_str().unwrap().contains("known: vgg16"));
    assert_eq!(of_type(&recs, "model").len(), 1);
}

#[test]
#[ignore = "heavy tier: bash tests/run.sh heavy"]
fn zoo_list_and_export() {
    let out = hiddencost().args(["zoo", "list"]).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("resnet50") && text.contains("23705252"),
        "{text}"
    );
    let dir = tempfile::tempdir().unwrap();
    let out = hiddencost()
        .args(["zoo", "export"])
        .arg(dir.path())
        .args(["mobilenet", "zoo:shufflenetv2"])
        .output()
        .unwrap();
    assert!(out.status.success());
    let a = std::fs::read(dir.path().join("mobilenet.onnx")).unwrap();
    let proto = zoo::build("mobilenet", &ZooOptions::default()).unwrap();
    assert_eq!(
        a,
        zoo::to_bytes(&proto),
        "export writes the same bytes as the in-memory build"
    );
    assert!(dir.path().join("shufflenetv2.onnx").exists());
    // and an exported file benchmarks like the in-memory model
    let out = hiddencost()
        .args(["cost", "--json"])
        .arg(dir.path().join("mobilenet.onnx"))
        .output()
        .unwrap();
    let recs = records(&String::from_utf8_lossy(&out.stdout));
    assert_eq!(of_type(&recs, "model_cost")[0]["params"], 3315428);
}

/// `zoo export --int8` writes the int8 form as NAME+int8.onnx: loaded as a file it has the
/// zoo model's params (3,315,428 for MobileNet: docs/zoo.md) and the records' name of
/// `zoo:NAME-int8`, and 28 quantized ops' worth of QuantizeLinear/DequantizeLinear nodes.
#[test]
fn zoo_export_int8_writes_the_qdq_form() {
    let dir = tempfile::tempdir().unwrap();
    let out = hiddencost()
        .args(["zoo", "export", "--int8"])
        .arg(dir.path())
        .arg("mobilenet")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let path = dir.path().join("mobilenet+int8.onnx");
    let file = hiddencost::model::ModelSource::Path(path);
    let st = load_static(&file, None).unwrap();
    assert_eq!(st.name, "mobilenet+int8");
    assert_eq!(st.totals.params, 3_315_428);
    let ops = |op: &str| st.sources.iter().filter(|s| s.op_type == op).count();
    // One pair per distinct activation tensor (28: each conv and the Gemm read their own), and
    // a DequantizeLinear per weight (28) and per bias (the 13 pointwise convs' and the Gemm's:
    // the stem and the depthwise convs have none, src/zoo/mobilenet.rs).
    assert_eq!(ops("QuantizeLinear"), 28);
    assert_eq!(ops("DequantizeLinear"), 28 + 28 + 14);
}
