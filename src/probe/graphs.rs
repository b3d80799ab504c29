//! The probe's two ONNX graphs, built as protobuf bytes so that they take a user's path
//! (`model::load` decodes them as it decodes a file): one MatMul with a constant right-hand
//! side, and one Relu on a single element.

use crate::model::ModelSource;
use crate::zoo::proto::{self, tensor_f32_le, value_info_f32 as value_info};
use crate::zoo::rng::Rng;
use std::sync::Arc;
use tract_onnx::pb::{GraphProto, NodeProto};

fn model(name: &str, graph: GraphProto) -> ModelSource {
    let proto = proto::model(graph, "hiddencost probe");
    ModelSource::Bytes {
        name: name.into(),
        source: format!("probe:{name}"),
        bytes: Arc::new(prost::Message::encode_to_vec(&proto)),
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
        let tiny = model::load(&tiny_op(), None, Optimize::Full).unwrap();
        assert_eq!(tiny.exec.len(), 1, "one executed op: {:?}", ops(&tiny));
    }

    fn ops(m: &model::LoadedModel) -> Vec<&str> {
        m.exec.iter().map(|e| e.op.as_str()).collect()
    }
}
