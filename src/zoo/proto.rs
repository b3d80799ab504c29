//! Small constructors for the ONNX protobuf messages (the prost types tract-onnx generates).
//!
//! Only what the zoo (and the probe's graphs) emit: a model at IR version 7 and opset 13, float and int64 tensors stored as little-endian `raw_data` (as
//! `torch.onnx.export` stores them), int/ints/float/tensor attributes, and float value infos with
//! a static shape.

use tract_onnx::pb::attribute_proto::AttributeType;
use tract_onnx::pb::tensor_proto::DataType;
use tract_onnx::pb::tensor_shape_proto::{Dimension, dimension};
use tract_onnx::pb::type_proto::{Tensor as TensorType, Value as TypeValue};
use tract_onnx::pb::{
    AttributeProto, GraphProto, ModelProto, OperatorSetIdProto, TensorProto, TensorShapeProto,
    TypeProto, ValueInfoProto,
};

/// A float32 tensor named `name`.
pub(crate) fn tensor_f32(name: &str, dims: &[usize], data: &[f32]) -> TensorProto {
    let mut raw = vec![0u8; data.len() * 4];
    for (bytes, v) in raw.chunks_exact_mut(4).zip(data) {
        bytes.copy_from_slice(&v.to_le_bytes());
    }
    tensor_f32_le(name, dims, raw)
}

/// A float32 tensor from its little-endian bytes.
pub(crate) fn tensor_f32_le(name: &str, dims: &[usize], raw: Vec<u8>) -> TensorProto {
    TensorProto {
        name: name.to_string(),
        dims: dims.iter().map(|&d| d as i64).collect(),
        data_type: DataType::Float as i32,
        raw_data: raw,
        ..Default::default()
    }
}

/// An int64 tensor; `dims` empty means a scalar.
pub(crate) fn tensor_i64(dims: &[usize], data: &[i64]) -> TensorProto {
    let mut raw = Vec::with_capacity(data.len() * 8);
    for v in data {
        raw.extend_from_slice(&v.to_le_bytes());
    }
    TensorProto {
        dims: dims.iter().map(|&d| d as i64).collect(),
        data_type: DataType::Int64 as i32,
        raw_data: raw,
        ..Default::default()
    }
}

pub(crate) fn attr_int(name: &str, i: i64) -> AttributeProto {
    AttributeProto {
        name: name.to_string(),
        r#type: AttributeType::Int as i32,
        i,
        ..Default::default()
    }
}

pub(crate) fn attr_ints(name: &str, ints: &[i64]) -> AttributeProto {
    AttributeProto {
        name: name.to_string(),
        r#type: AttributeType::Ints as i32,
        ints: ints.to_vec(),
        ..Default::default()
    }
}

pub(crate) fn attr_float(name: &str, f: f32) -> AttributeProto {
    AttributeProto {
        name: name.to_string(),
        r#type: AttributeType::Float as i32,
        f,
        ..Default::default()
    }
}

pub(crate) fn attr_string(name: &str, value: &str) -> AttributeProto {
    AttributeProto {
        name: name.to_string(),
        r#type: AttributeType::String as i32,
        s: value.as_bytes().to_vec(),
        ..Default::default()
    }
}

pub(crate) fn attr_tensor(name: &str, t: TensorProto) -> AttributeProto {
    AttributeProto {
        name: name.to_string(),
        r#type: AttributeType::Tensor as i32,
        t: Some(t),
        ..Default::default()
    }
}

/// A float32 graph input or output with a fully static shape.
pub(crate) fn value_info_f32(name: &str, shape: &[usize]) -> ValueInfoProto {
    let dim = shape
        .iter()
        .map(|&d| Dimension {
            value: Some(dimension::Value::DimValue(d as i64)),
            ..Default::default()
        })
        .collect();
    ValueInfoProto {
        name: name.to_string(),
        r#type: Some(TypeProto {
            value: Some(TypeValue::TensorType(TensorType {
                elem_type: DataType::Float as i32,
                shape: Some(TensorShapeProto { dim }),
            })),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// `graph` as a model at IR version 7 and opset 13 (the default domain), the versions every
/// graph we build targets, by `producer`.
pub(crate) fn model(graph: GraphProto, producer: &str) -> ModelProto {
    ModelProto {
        ir_version: 7,
        opset_import: vec![OperatorSetIdProto {
            domain: String::new(),
            version: 13,
        }],
        producer_name: producer.to_string(),
        graph: Some(graph),
        ..Default::default()
    }
}
