//! Hostile models and flags (issue #15, items 1 and 2): sizes that would abort the process on
//! allocation, and attributes that make tract panic, end as one clear error record each, the
//! models around them still run, and nothing aborts (exit status 1, never 134).

mod common;
use common::*;
#[allow(dead_code)] // only a few of the constructors are needed here
#[path = "../src/zoo/proto.rs"]
mod proto;

use prost::Message;
use proto::{attr_int, attr_ints, tensor_f32, tensor_i64, value_info_f32};
use tract_onnx::pb::{
    AttributeProto, GraphProto, ModelProto, NodeProto, OperatorSetIdProto, TensorProto,
    ValueInfoProto,
};

fn node(op: &str, inputs: &[&str], output: &str, attributes: Vec<AttributeProto>) -> NodeProto {
    NodeProto {
        name: format!("{op}_0"),
        op_type: op.to_string(),
        input: inputs.iter().map(|s| s.to_string()).collect(),
        output: vec![output.to_string()],
        attribute: attributes,
        ..Default::default()
    }
}

fn named(mut t: TensorProto, name: &str) -> TensorProto {
    t.name = name.to_string();
    t
}

/// A model of `nodes` reading `input` (float32 of `dims`) and producing `outputs`.
fn model_bytes(
    dims: &[usize],
    nodes: Vec<NodeProto>,
    initializers: Vec<TensorProto>,
    outputs: &[&str],
) -> Vec<u8> {
    let graph = GraphProto {
        name: "hostile".into(),
        node: nodes,
        initializer: initializers,
        input: vec![value_info_f32("input", dims)],
        output: outputs
            .iter()
            .map(|o| ValueInfoProto {
                name: o.to_string(),
                ..Default::default()
            })
            .collect(),
        ..Default::default()
    };
    ModelProto {
        ir_version: 8,
        opset_import: vec![OperatorSetIdProto {
            domain: String::new(),
            version: 17,
        }],
        graph: Some(graph),
        ..Default::default()
    }
    .encode_to_vec()
}

/// A 3x3 convolution of a 1x3x8x8 input into 4 channels, with extra attributes.
fn conv(attributes: Vec<AttributeProto>) -> Vec<u8> {
    model_bytes(
        &[1, 3, 8, 8],
        vec![node("Conv", &["input", "w"], "y", attributes)],
        vec![tensor_f32("w", &[4, 3, 3, 3], &[0.1; 108])],
        &["y"],
    )
}

fn write(dir: &tempfile::TempDir, name: &str, bytes: &[u8]) -> String {
    let path = dir.path().join(name);
    std::fs::write(&path, bytes).unwrap();
    path.display().to_string()
}

#[test]
fn a_conv_with_stride_zero_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let bad = write(
        &dir,
        "stride0.onnx",
        &conv(vec![attr_ints("strides", &[0, 1])]),
    );
    survives(&bad, &[], &["Conv_0", "strides", "0"]);
}

#[test]
fn a_conv_with_a_huge_dilation_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let huge = 1i64 << 40;
    let bad = write(
        &dir,
        "dilation.onnx",
        &conv(vec![attr_ints("dilations", &[huge, huge])]),
    );
    survives(
        &bad,
        &[],
        &["Conv_0", "dilation 1099511627776", "no output"],
    );
}

#[test]
fn a_group_that_does_not_divide_the_channels_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let bad = write(&dir, "group.onnx", &conv(vec![attr_int("group", 2)]));
    survives(&bad, &[], &["Conv_0", "group 2", "3 input channels"]);
}

#[test]
fn an_output_no_node_produces_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = model_bytes(
        &[1, 4],
        vec![node("Relu", &["input"], "y", vec![])],
        vec![],
        &["y", "nowhere"],
    );
    let bad = write(&dir, "dangling.onnx", &bytes);
    survives(&bad, &[], &["output `nowhere`", "no node"]);
}

#[test]
fn an_input_dim_of_2_pow_40_is_refused_before_allocation() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = model_bytes(
        &[1, 1 << 40],
        vec![node("Relu", &["input"], "y", vec![])],
        vec![],
        &["y"],
    );
    let bad = write(&dir, "dim40.onnx", &bytes);
    survives(&bad, &[], &["`input`", "memory"]);
}

#[test]
fn an_element_count_that_overflows_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let bytes = model_bytes(
        &[1 << 62, 1 << 62],
        vec![node("Relu", &["input"], "y", vec![])],
        vec![],
        &["y"],
    );
    let bad = write(&dir, "dim62.onnx", &bytes);
    survives(&bad, &[], &["`input`", "overflow"]);
}

/// The 1x1 input expanded to `dims` (f32).
fn expand(dims: [i64; 2]) -> Vec<u8> {
    let shape = named(tensor_i64(&[2], &dims), "shape");
    model_bytes(
        &[1, 1],
        vec![node("Expand", &["input", "shape"], "y", vec![])],
        vec![shape],
        &["y"],
    )
}

#[test]
fn an_expand_to_terabytes_is_refused_before_allocation() {
    let dir = tempfile::tempdir().unwrap();
    let bad = write(&dir, "expand.onnx", &expand([1_000_000, 1_000_000]));
    survives(&bad, &[], &["Expand_0", "memory"]);
}

#[test]
fn an_expand_of_a_constant_to_terabytes_is_refused_before_allocation() {
    // Both inputs constant: tract folds the Expand while loading, unless it is refused first.
    let dir = tempfile::tempdir().unwrap();
    let shape = named(tensor_i64(&[2], &[1_000_000, 1_000_000]), "shape");
    let one = tensor_f32("one", &[1, 1], &[1.0]);
    let bytes = model_bytes(
        &[1, 1],
        vec![
            node("Expand", &["one", "shape"], "big", vec![]),
            node("Add", &["input", "big"], "y", vec![]),
        ],
        vec![shape, one],
        &["y"],
    );
    let bad = write(&dir, "expand_const.onnx", &bytes);
    survives(&bad, &[], &["Expand_0", "memory"]);
}

#[test]
fn a_resize_to_terabytes_is_refused_before_allocation() {
    let dir = tempfile::tempdir().unwrap();
    let roi = tensor_f32("roi", &[0], &[]);
    let scales = tensor_f32("scales", &[4], &[1.0, 1.0, 1e6, 1e6]);
    let bytes = model_bytes(
        &[1, 1, 2, 2],
        vec![node("Resize", &["input", "roi", "scales"], "y", vec![])],
        vec![roi, scales],
        &["y"],
    );
    let bad = write(&dir, "resize.onnx", &bytes);
    survives(&bad, &[], &["Resize_0", "memory"]);
}

/// Benchmarks `models` with `extra` flags and checks [`every_model_failed`].
fn every_model_fails(models: &[String], extra: &[&str], expect: &[&str]) {
    every_model_fails_in(None, models, extra, expect)
}

/// [`every_model_fails`] with the memory available capped at `memory_bytes`.
fn every_model_fails_in(
    memory_bytes: Option<u64>,
    models: &[String],
    extra: &[&str],
    expect: &[&str],
) {
    let mut cmd = hiddencost();
    if let Some(bytes) = memory_bytes {
        cmd.env("HIDDENCOST_MEMORY_BYTES", bytes.to_string());
    }
    let out = cmd
        .timeout(CASE_TIMEOUT)
        .arg("bench")
        .args(models)
        .args(["--fake-counters", "--probe-budget", "0", "--out", "-"])
        .args(extra)
        .output()
        .unwrap();
    every_model_failed(&out, models.len(), expect);
}

/// A `bench` run's output in which all its `models` models failed: exit status 1 (not an
/// abort), no panic, an `end` record, and every error record containing every needle.
fn every_model_failed(out: &std::process::Output, models: usize, expect: &[&str]) {
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    let recs = records(&String::from_utf8_lossy(&out.stdout));
    let errors = of_type(&recs, "error");
    assert_eq!(errors.len(), models, "{recs:?}");
    for e in errors {
        let message = e["message"].as_str().unwrap();
        for needle in expect {
            assert!(message.contains(needle), "`{needle}` not in: {message}");
        }
    }
    assert_eq!(recs.last().unwrap()["type"], "end");
}

#[test]
fn a_120_gb_input_shape_is_refused_before_allocation() {
    every_model_fails(
        &[model("tiny_cnn.onnx")],
        &["--input-shape", "1,3,100000,100000", "--runs", "1"],
        &["`input`", "memory"],
    );
}

#[test]
fn runs_whose_samples_do_not_fit_in_memory_are_refused() {
    // The most runs `--runs` takes, on a board with 64 MiB to spare.
    every_model_fails_in(
        Some(64 << 20),
        &[model("tiny_cnn.onnx"), model("shuffle.onnx")],
        &["--runs", "100000"],
        &["--runs 100000", "memory", "use fewer runs"],
    );
}

/// The conv model with its weight in an external file at `location` (offset 0, 432 bytes).
fn conv_external(location: &str) -> Vec<u8> {
    use tract_onnx::pb::StringStringEntryProto;
    let mut w = tensor_f32("w", &[4, 3, 3, 3], &[0.0; 108]);
    w.raw_data.clear();
    w.data_location = Some(tract_onnx::pb::tensor_proto::DataLocation::External as i32);
    w.external_data = [("location", location), ("offset", "0"), ("length", "432")]
        .into_iter()
        .map(|(key, value)| StringStringEntryProto {
            key: key.into(),
            value: value.into(),
        })
        .collect();
    model_bytes(
        &[1, 3, 8, 8],
        vec![node("Conv", &["input", "w"], "y", vec![])],
        vec![w],
        &["y"],
    )
}

fn weights() -> Vec<u8> {
    (0..108)
        .flat_map(|i| (i as f32 * 0.01).to_le_bytes())
        .collect()
}

#[test]
fn external_data_in_the_model_folder_is_read() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("data")).unwrap();
    std::fs::write(dir.path().join("data/w.bin"), weights()).unwrap();
    let m = write(&dir, "external.onnx", &conv_external("data/w.bin"));
    let out = hiddencost()
        .timeout(CASE_TIMEOUT)
        .args([
            "bench",
            &m,
            "--runs",
            "2",
            "--fake-counters",
            "--probe-budget",
            "0",
        ])
        .args(["--out", "-"])
        .output()
        .unwrap();
    let recs = succeeded(&out);
    let models = of_type(&recs, "model");
    assert_eq!(models.len(), 1, "{recs:?}");
    assert_eq!(models[0]["params"], 108, "{:?}", models[0]);
}

#[test]
fn external_data_outside_the_model_folder_is_refused() {
    let outer = tempfile::tempdir().unwrap();
    std::fs::write(outer.path().join("w.bin"), weights()).unwrap();
    let dir = outer.path().join("model");
    std::fs::create_dir(&dir).unwrap();
    std::os::unix::fs::symlink("../w.bin", dir.join("link.bin")).unwrap();
    let absolute = outer.path().join("w.bin").display().to_string();
    for (location, needle) in [
        ("../w.bin", "relative path inside the model's folder"),
        (absolute.as_str(), "relative path inside the model's folder"),
        ("link.bin", "a link takes it out of the model's folder"),
        ("absent.bin", "cannot read it"),
    ] {
        let m = dir.join("m.onnx");
        std::fs::write(&m, conv_external(location)).unwrap();
        survives(m.to_str().unwrap(), &[], &["tensor `w`", needle]);
    }
}

#[test]
fn external_data_that_is_a_fifo_or_too_short_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    mkfifo(dir.path());
    let m = write(&dir, "fifo.onnx", &conv_external("fifo"));
    survives(
        &m,
        &[],
        &["tensor `w`", "is a FIFO (named pipe), not a regular file"],
    );
    std::fs::write(dir.path().join("short.bin"), &weights()[..400]).unwrap();
    let m = write(&dir, "short.onnx", &conv_external("short.bin"));
    survives(&m, &[], &["tensor `w`", "past the file's 400 bytes"]);
}

#[test]
fn an_empty_input_is_refused() {
    // tract evaluates every op of an empty input while loading, looping over its other dims.
    let dir = tempfile::tempdir().unwrap();
    let bytes = model_bytes(
        &[1 << 30, 0],
        vec![node("Relu", &["input"], "y", vec![])],
        vec![],
        &["y"],
    );
    let bad = write(&dir, "empty.onnx", &bytes);
    survives(&bad, &[], &["`input`", "1073741824x0 is empty"]);
}

#[test]
fn an_address_space_limit_is_memory_too() {
    // Under `ulimit -v` (RLIMIT_AS, as on a board with a small overcommit budget) an Expand to
    // 8 GB fits the machine's free memory but not the process: refused before tract allocates,
    // as for too little MemAvailable, never "tract panicked".
    let dir = tempfile::tempdir().unwrap();
    let bad = write(&dir, "expand8g.onnx", &expand([32_768, 65_536]));
    let bin = assert_cmd::cargo::cargo_bin("hiddencost");
    let out = std::process::Command::new("sh")
        .args(["-c", "ulimit -v 2097152 && exec \"$0\" \"$@\""])
        .arg(&bin)
        .args([
            "bench",
            &bad,
            "--fake-counters",
            "--probe-budget",
            "0",
            "--out",
            "-",
        ])
        .output()
        .unwrap();
    every_model_failed(
        &out,
        1,
        &["Expand_0", "32768x65536", "GiB of memory available"],
    );
}
