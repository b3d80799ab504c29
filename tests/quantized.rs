//! Static cost of quantized graphs in onnxruntime's three formats (`quant_qdq.onnx`,
//! `quant_qoperator.onnx`, `quant_dynamic.onnx`, made by models/make_fixtures.py): MACs of the
//! integer convs and matmuls (and `int8_macs`), params on the quantized weights, one byte per
//! int8 element, and the `quantize` category in the source and the executed view
//! (src/cost/params.rs, src/cost/category.rs, src/cost/exec.rs).

mod common;
use common::*;
use serde_json::Value;

/// (node, op type, category, params, MACs, int8 MACs, bytes read) of each source node.
type Row<'a> = (&'a str, &'a str, &'a str, u64, u64, u64, u64);

fn source_rows(recs: &[Value]) -> Vec<Row<'_>> {
    of_type(recs, "node")
        .iter()
        .map(|n| {
            let u = |k: &str| n[k].as_u64().unwrap();
            (
                n["node"].as_str().unwrap(),
                n["op_type"].as_str().unwrap(),
                n["category"].as_str().unwrap(),
                u("params"),
                u("macs"),
                u("int8_macs"),
                u("bytes_read"),
            )
        })
        .collect()
}

/// conv 3x3 8->16 over 8x8: 16*8*8 outputs x 8*9.
const CONV_MACS: u64 = 16 * 8 * 8 * 8 * 9;

#[test]
fn qdq_counts_dequantized_weights_as_parameters_of_their_float_ops() {
    let recs = cost_json("quant_qdq.onnx");
    let q = "quantize";
    // Activations: 512 f32 (2,048 bytes) to int8 (512 bytes); scale and zero point 4 + 1 bytes.
    let expected: Vec<Row> = vec![
        ("in/q", "QuantizeLinear", q, 0, 0, 0, 2048 + 5),
        ("in/dq", "DequantizeLinear", q, 0, 0, 0, 512 + 5),
        // per channel: 1,152 int8 weights, 16 f32 scales, 16 int8 zero points
        ("c/w/dq", "DequantizeLinear", q, 0, 0, 0, 1152 + 64 + 16),
        ("c/b/dq", "DequantizeLinear", q, 0, 0, 0, 64 + 64 + 64),
        // the dequantized f32 weights and bias, and their params
        (
            "conv",
            "Conv",
            "conv",
            1152 + 16,
            CONV_MACS,
            0,
            2048 + 4608 + 64,
        ),
        ("relu", "Relu", "activation", 0, 0, 0, 4096),
        ("r/q", "QuantizeLinear", q, 0, 0, 0, 4096 + 5),
        ("r/dq", "DequantizeLinear", q, 0, 0, 0, 1024 + 5),
        ("gap", "GlobalAveragePool", "pool", 0, 0, 0, 4096),
        ("flatten", "Flatten", "tensor", 0, 0, 0, 64),
        ("fc/w/dq", "DequantizeLinear", q, 0, 0, 0, 160 + 5),
        ("fc", "MatMul", "linear", 160, 160, 0, 64 + 640),
        ("fc/bias", "Add", "add", 10, 0, 0, 40 + 40),
    ];
    assert_eq!(source_rows(&recs), expected);
    let total = &of_type(&recs, "model_cost")[0];
    assert_eq!(total["params"], 1338);
    assert_eq!(total["macs"], CONV_MACS + 160);
    assert_eq!(total["int8_macs"], 0);
}

#[test]
fn qoperator_and_dynamic_ops_have_integer_macs() {
    let q = "quantize";
    let recs = cost_json("quant_qoperator.onnx");
    let expected: Vec<Row> = vec![
        ("in/q", "QuantizeLinear", q, 0, 0, 0, 2048 + 5),
        // x (uint8) + 3 scales + 3 zero points (1 + 16 + 1) + weights + bias (int32)
        (
            "conv",
            "QLinearConv",
            "conv",
            1152 + 16,
            CONV_MACS,
            CONV_MACS,
            512 + 4 + 1 + 1152 + 64 + 16 + 4 + 1 + 64,
        ),
        ("flatten", "Reshape", "tensor", 0, 0, 0, 1024 + 16),
        (
            "fc",
            "QLinearMatMul",
            "linear",
            10240,
            10240,
            10240,
            1024 + 4 + 1 + 10240 + 4 + 1 + 4 + 1,
        ),
        ("out/dq", "DequantizeLinear", q, 0, 0, 0, 10 + 5),
    ];
    assert_eq!(source_rows(&recs), expected);
    let total = &of_type(&recs, "model_cost")[0];
    assert_eq!(
        (&total["params"], &total["macs"], &total["int8_macs"]),
        (
            &Value::from(11408),
            &Value::from(CONV_MACS + 10240),
            &Value::from(CONV_MACS + 10240)
        )
    );

    let recs = cost_json("quant_dynamic.onnx");
    let expected: Vec<Row> = vec![
        ("in/dql", "DynamicQuantizeLinear", q, 0, 0, 0, 2048),
        (
            "conv",
            "ConvInteger",
            "conv",
            1152,
            CONV_MACS,
            CONV_MACS,
            512 + 1152 + 1 + 1,
        ),
        // the dequantizing tail: int32 to f32, times x_scale * w_scale
        ("conv/cast", "Cast", q, 0, 0, 0, 4096),
        ("conv/scale", "Mul", q, 0, 0, 0, 8),
        ("conv/rescale", "Mul", q, 0, 0, 0, 4096 + 4),
        ("conv/bias", "Add", "add", 16, 0, 0, 4096 + 64),
        ("relu", "Relu", "activation", 0, 0, 0, 4096),
        ("flatten", "Reshape", "tensor", 0, 0, 0, 4096 + 16),
        ("fc/dql", "DynamicQuantizeLinear", q, 0, 0, 0, 4096),
        (
            "fc",
            "MatMulInteger",
            "linear",
            10240,
            10240,
            10240,
            1024 + 10240 + 1 + 1,
        ),
        ("fc/cast", "Cast", q, 0, 0, 0, 40),
        ("fc/scale", "Mul", q, 0, 0, 0, 8),
        ("fc/rescale", "Mul", q, 0, 0, 0, 40 + 4),
    ];
    assert_eq!(source_rows(&recs), expected);
}

/// The executed view: tract's quantization ops and an integer kernel's requantizing tail are
/// `quantize`, its kernels carry the MACs (integer MACs where they compute on integers), and
/// params and MACs add up to the source's at every optimization level.
#[test]
fn executed_ops_of_quantized_models_keep_costs_and_quantize_category() {
    for (fixture, int8) in [
        ("quant_qdq.onnx", false),
        ("quant_qoperator.onnx", true),
        ("quant_dynamic.onnx", true),
    ] {
        for level in ["full", "none"] {
            let recs = bench_once(&[&model(fixture), "--optimize", level]);
            let ops = of_type(&recs, "op");
            let m = &of_type(&recs, "model")[0];
            let sum = |k: &str| ops.iter().map(|o| o[k].as_u64().unwrap()).sum::<u64>();
            let what = format!("{fixture} at {level}");
            assert_eq!(sum("params"), m["params"].as_u64().unwrap(), "{what}");
            assert_eq!(sum("macs"), m["macs"].as_u64().unwrap(), "{what}");
            assert_eq!(sum("int8_macs"), m["int8_macs"].as_u64().unwrap(), "{what}");
            assert_eq!(m["int8_macs"] == m["macs"], int8, "{what}");
            let category_of = |op: &str| -> Vec<&str> {
                ops.iter()
                    .filter(|o| o["op"].as_str().unwrap().starts_with(op))
                    .map(|o| o["category"].as_str().unwrap())
                    .collect()
            };
            for op in [
                "QuantizeLinear",
                "DequantizeLinear",
                "DynamicQuantizeLinear",
            ] {
                assert!(
                    category_of(op).iter().all(|c| *c == "quantize"),
                    "{what}: {op}"
                );
            }
            assert!(ops.iter().any(|o| o["category"] == "quantize"), "{what}");
            // Every op with MACs is a kernel of a conv or a linear layer.
            for o in ops.iter().filter(|o| o["macs"].as_u64().unwrap() > 0) {
                let c = o["category"].as_str().unwrap();
                assert!(c == "conv" || c == "linear", "{what}: {o}");
            }
            if int8 && level == "full" {
                // tract's integer path: offsets and zero-point sums, no MACs, all `quantize`.
                for op in ["OffsetU8asI8", "QSum"] {
                    for c in category_of(op) {
                        assert_eq!(c, "quantize", "{what}: {op}");
                    }
                }
            }
        }
    }
}

/// onnxruntime's quantized contrib operators (QOperator format, `com.microsoft`): refused with
/// what to do instead, and `cost` still gives the ops before them.
#[test]
fn contrib_quantized_ops_are_refused_with_the_qdq_way_out_and_cost_shows_the_rest() {
    let out = hiddencost()
        .args(["cost", &model("quant_contrib.onnx")])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    for said in [
        "`QLinearAdd` (node `add_quant`), `QLinearGlobalAveragePool` (node `gap`)",
        "all of them are onnxruntime's quantized operators (the QOperator format)",
        "quant_format=QuantFormat.QDQ",
        "nodes_to_exclude=[\"add\", \"gap\"]",
    ] {
        assert!(stderr.contains(said), "{said} not in {stderr}");
    }
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(
            "not costed (tract cannot run them, or they read what those compute): add_quant, gap, out/dq"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!(
            "total of the 2 costed nodes: 1152 params, {CONV_MACS} MACs ({CONV_MACS} on 8-bit integers)"
        )),
        "{stdout}"
    );

    let out = hiddencost()
        .args(["cost", "--json", &model("quant_contrib.onnx")])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let recs = records(&String::from_utf8_lossy(&out.stdout));
    let nodes: Vec<&str> = of_type(&recs, "node")
        .iter()
        .map(|n| n["node"].as_str().unwrap())
        .collect();
    assert_eq!(nodes, ["in/q", "conv"]);
    assert!(
        of_type(&recs, "model_cost").is_empty(),
        "a partial total is no model's cost"
    );
}
