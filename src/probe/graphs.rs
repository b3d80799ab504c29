//! The probe's ONNX graphs, built as protobuf bytes so that they take a user's path
//! (`model::load` decodes them as it decodes a file): one MatMul with a constant right-hand
//! side, the same product on 8-bit integers (MatMulInteger), and one Relu on a single element.

use crate::model::ModelSource;
use crate::zoo::proto::{self, tensor_f32_le, value_info_f32 as value_info};
use crate::zoo::rng::Rng;
use std::sync::Arc;
use tract_onnx::pb::tensor_proto::DataType;
use tract_onnx::pb::{GraphProto, NodeProto, TensorProto};

fn model(name: &str, graph: GraphProto) -> ModelSource {
    let proto = proto::model(graph, "hiddencost probe");
    ModelSource::Bytes {
        name: name.into(),
        source: format!("probe:{name}"),
        bytes: Arc::new(prost::Message::encode_to_vec(&proto)),
    }
}

/// The operands of a matmul probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operands {
    F32,
    /// i8 x i8, accumulated in i32.
    I8,
}

impl Operands {
    /// The record's name of the operand type (`MatmulProbe::operands`).
    pub fn as_str(self) -> &'static str {
        match self {
            Operands::F32 => "f32",
            Operands::I8 => "i8",
        }
    }

    pub(super) fn what(self) -> &'static str {
        match self {
            Operands::F32 => "matmul probe",
            Operands::I8 => "int8 matmul probe",
        }
    }

    pub(super) fn graph(self, side: usize) -> ModelSource {
        match self {
            Operands::F32 => matmul(side, side, side),
            Operands::I8 => matmul_int8(side, side, side),
        }
    }
}

/// `c[m, n] = a[m, k] x b[k, n]` with `a` the input and `b` a constant initializer, as a
/// linear layer or a convolution's weights are.
pub fn matmul(m: usize, k: usize, n: usize) -> ModelSource {
    let graph = GraphProto {
        name: "matmul".into(),
        node: vec![NodeProto {
            name: "matmul".into(),
            op_type: "MatMul".into(),
            input: vec!["a".into(), "b".into()],
            output: vec!["c".into()],
            ..Default::default()
        }],
        // Values in [-1, 1), seeded like the zoo's weights.
        initializer: vec![tensor_f32_le(
            "b",
            &[k, n],
            Rng::new(0).uniform_le_bytes(k * n, 0.0, 1.0),
        )],
        input: vec![value_info("a", &[m, k])],
        output: vec![value_info("c", &[m, n])],
        ..Default::default()
    };
    model("matmul", graph)
}

/// `c[m, n] = q(a)[m, k] x b[k, n]` on 8-bit integers, accumulated in i32: the f32 input `a`
/// is quantized to i8 (QuantizeLinear, scale 1/64, zero point 0: an executed op of its own,
/// as OptMatMulPack is) and multiplied by a constant i8 `b` with MatMulInteger, which tract
/// runs as an integer `OptMatMul` on its i8 x i8 -> i32 kernel. Zero points are absent (0),
/// so the product needs no offset sums: the `OptMatMul` op's time is the kernel's.
pub fn matmul_int8(m: usize, k: usize, n: usize) -> ModelSource {
    let node = |name: &str, op: &str, input: &[&str], output: &str| NodeProto {
        name: name.into(),
        op_type: op.into(),
        input: input.iter().map(|s| s.to_string()).collect(),
        output: vec![output.into()],
        ..Default::default()
    };
    // Values in [-127, 127], seeded like the f32 probe's: the i8 bytes of the same stream.
    let b: Vec<u8> = Rng::new(0)
        .uniform(k * n, 0.0, 127.0)
        .into_iter()
        .map(|v| (v.round() as i8) as u8)
        .collect();
    let graph = GraphProto {
        name: "matmul_int8".into(),
        node: vec![
            node(
                "quantize",
                "QuantizeLinear",
                &["a", "a_scale", "a_zero"],
                "a_q",
            ),
            node("matmul", "MatMulInteger", &["a_q", "b"], "c"),
        ],
        initializer: vec![
            tensor_f32_le("a_scale", &[], (1.0f32 / 64.0).to_le_bytes().to_vec()),
            tensor_i8("a_zero", &[], vec![0]),
            tensor_i8("b", &[k, n], b),
        ],
        input: vec![value_info("a", &[m, k])],
        output: vec![value_info_typed("c", &[m, n], DataType::Int32)],
        ..Default::default()
    };
    model("matmul_int8", graph)
}

/// An int8 tensor from its bytes (two's complement).
fn tensor_i8(name: &str, dims: &[usize], raw: Vec<u8>) -> TensorProto {
    TensorProto {
        name: name.to_string(),
        dims: dims.iter().map(|&d| d as i64).collect(),
        data_type: DataType::Int8 as i32,
        raw_data: raw,
        ..Default::default()
    }
}

/// A graph output of element type `ty`: the f32 value info with its type changed.
fn value_info_typed(name: &str, shape: &[usize], ty: DataType) -> tract_onnx::pb::ValueInfoProto {
    use tract_onnx::pb::type_proto::Value;
    let mut v = value_info(name, shape);
    if let Some(Value::TensorType(t)) = v.r#type.as_mut().and_then(|t| t.value.as_mut()) {
        t.elem_type = ty as i32;
    }
    v
}

/// `y = relu(x)` on one element: the cheapest op there is.
pub fn tiny_op() -> ModelSource {
    let graph = GraphProto {
        name: "tiny".into(),
        node: vec![NodeProto {
            name: "relu".into(),
            op_type: "Relu".into(),
            input: vec!["x".into()],
            output: vec!["y".into()],
            ..Default::default()
        }],
        input: vec![value_info("x", &[1])],
        output: vec![value_info("y", &[1])],
        ..Default::default()
    };
    model("tiny", graph)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{self, Optimize};

    #[test]
    fn graphs_load_as_models() {
        let mm = model::load(&matmul(48, 16, 48), None, Optimize::Full).unwrap();
        assert_eq!(mm.info.input_shape, [48, 16]);
        assert_eq!(mm.info.output_shapes, [vec![48, 48]]);
        assert_eq!(mm.info.totals.macs, 48 * 16 * 48);
        // The input's packing is an executed op of its own, so OptMatMul's time is the kernel's.
        assert_eq!(ops(&mm), ["OptMatMulPack", "OptMatMul"]);
        let q = model::load(&matmul_int8(48, 16, 48), None, Optimize::Full).unwrap();
        assert_eq!(q.info.totals.macs, 48 * 16 * 48);
        assert_eq!(
            q.info.totals.int8_macs,
            48 * 16 * 48,
            "MatMulInteger on i8 operands"
        );
        // The quantization and the packing run as ops of their own: OptMatMul is the kernel.
        assert_eq!(ops(&q), ["QuantizeLinearI8", "OptMatMulPack", "OptMatMul"]);
        let tiny = model::load(&tiny_op(), None, Optimize::Full).unwrap();
        assert_eq!(tiny.exec.len(), 1, "one executed op: {:?}", ops(&tiny));
    }

    fn ops(m: &model::LoadedModel) -> Vec<&str> {
        m.exec.iter().map(|e| e.op.as_str()).collect()
    }
}
