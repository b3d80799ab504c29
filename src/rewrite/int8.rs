//! The `int8` rewrite: any fp32 graph to onnxruntime's QDQ format, with fixed rules instead of
//! calibration (accuracy is not the point; the graph and the kernels the runtime picks for it
//! are). Placement, as `quantize_static(quant_format=QDQ)` puts it around the ops it quantizes,
//! restricted to the ops with weights:
//!
//! - each `Conv`, `Gemm` and `MatMul` with a constant float weight is quantized: its weight
//!   becomes an int8 initializer, symmetric per output channel (scale = max|w| / 127, zero point
//!   0), behind a `DequantizeLinear` (axis: the output-channel axis, 0 for a Conv and a Gemm
//!   with `transB`, else 1);
//! - its bias (a Conv's third input, a Gemm's `C` when it is one value per output channel and
//!   `alpha` = `beta` = 1) becomes int32 with scale `x_scale * w_scale` per channel, zero point
//!   0, behind a `DequantizeLinear` (axis 0);
//! - its activation input gets a `QuantizeLinear` -> `DequantizeLinear` pair (int8, scale
//!   [`ACTIVATION_SCALE`], zero point 0): one pair per activation tensor, read by every
//!   quantized op that reads that tensor (onnxruntime's default, without dedicated pairs).
//!
//! Not quantized, unlike onnxruntime's defaults: the inputs of Add, Concat, pooling and
//! activations (onnxruntime puts pairs there too when their neighbours are quantized). A node
//! whose weight is not a float constant in the file (already quantized, external data, an
//! activation) stays as it is. Per-channel `DequantizeLinear` needs opset 13: a graph of an
//! older default-domain opset is left as it is (see [`super::sites`]).

use super::Edits;
use super::graph::{attr_float, attr_int, constant, floats};
use std::collections::HashMap;
use tract_onnx::pb::attribute_proto::AttributeType;
use tract_onnx::pb::tensor_proto::{DataLocation, DataType};
use tract_onnx::pb::{AttributeProto, GraphProto, ModelProto, NodeProto, TensorProto};

/// Scale of every quantized activation: int8 steps of 1/16 cover [-8, 7.94], the order of a
/// CNN's activations from inputs in [-1, 1) (a power of two, so bias scales stay exact).
pub const ACTIVATION_SCALE: f32 = 1.0 / 16.0;

/// Lowest default-domain opset with per-axis `DequantizeLinear`.
pub const MIN_OPSET: i64 = 13;

/// The ops quantized (with a constant weight).
pub const QUANTIZED_OPS: [&str; 3] = ["Conv", "Gemm", "MatMul"];

/// Whether the graph's default-domain opset has per-axis `DequantizeLinear`.
pub fn opset_ok(proto: &ModelProto) -> bool {
    proto
        .opset_import
        .iter()
        .find(|o| o.domain.is_empty() || o.domain == "ai.onnx")
        .is_some_and(|o| o.version >= MIN_OPSET)
}

/// One quantizable node: its weight and bias inputs, and the weight's output-channel axis.
struct Site<'a> {
    ix: usize,
    node: &'a NodeProto,
    weight: &'a TensorProto,
    axis: usize,
    /// The bias input slot, when its bias is quantized too.
    bias: Option<(usize, &'a TensorProto)>,
}

/// Whether `t` holds `count(dims)` floats in the file (not external).
fn float_weight(t: &TensorProto) -> bool {
    let count = t
        .dims
        .iter()
        .try_fold(1i64, |n, &d| n.checked_mul(d.max(0)));
    let stored = if t.raw_data.is_empty() {
        t.float_data.len() as i64
    } else {
        t.raw_data.len() as i64 / 4
    };
    t.data_type == DataType::Float as i32
        && t.data_location != Some(DataLocation::External as i32)
        && count == Some(stored)
        && stored > 0
}

/// A float bias of `channels` values, stored in the file.
fn float_bias<'a>(
    g: &'a GraphProto,
    name: Option<&String>,
    channels: i64,
) -> Option<&'a TensorProto> {
    let t = constant(g, name?)?;
    (float_weight(t) && t.dims.as_slice() == [channels]).then_some(t)
}

/// `n` as a quantizable node, when it is one.
fn site<'a>(g: &'a GraphProto, ix: usize, n: &'a NodeProto) -> Option<Site<'a>> {
    if !QUANTIZED_OPS.contains(&n.op_type.as_str())
        || !(n.domain.is_empty() || n.domain == "ai.onnx")
        || n.output.first().is_none_or(|o| o.is_empty())
    {
        return None;
    }
    let x = n.input.first().filter(|x| !x.is_empty())?;
    if constant(g, x).is_some() {
        return None;
    }
    let weight = constant(g, n.input.get(1)?).filter(|t| float_weight(t))?;
    let rank = weight.dims.len();
    let (axis, bias) = match n.op_type.as_str() {
        "Conv" if rank >= 3 => (
            0,
            float_bias(g, n.input.get(2), weight.dims[0]).map(|b| (2, b)),
        ),
        "Gemm" if rank == 2 && attr_int(n, "transA").unwrap_or(0) == 0 => {
            let axis = if attr_int(n, "transB").unwrap_or(0) != 0 {
                0
            } else {
                1
            };
            let unit = |a| attr_float(n, a).unwrap_or(1.0) == 1.0;
            let bias = (unit("alpha") && unit("beta"))
                .then(|| float_bias(g, n.input.get(2), weight.dims[axis]))
                .flatten();
            (axis, bias.map(|b| (2, b)))
        }
        "MatMul" if rank == 2 => (1, None),
        _ => return None,
    };
    Some(Site {
        ix,
        node: n,
        weight,
        axis,
        bias,
    })
}

/// How many nodes the rewrite quantizes (no weight is decoded).
pub(super) fn count(g: &GraphProto) -> usize {
    g.node
        .iter()
        .enumerate()
        .filter(|(ix, n)| site(g, *ix, n).is_some())
        .count()
}

/// Per-channel symmetric int8 quantization of `w` along `axis` of `dims`: the int8 values and
/// one scale per channel (max|w| / 127; 1 for a channel of zeros).
pub fn quantize_weights(w: &[f32], dims: &[i64], axis: usize) -> (Vec<i8>, Vec<f32>) {
    let channels = dims.get(axis).copied().unwrap_or(1).max(1) as usize;
    // Elements after the axis: the stride between two values of one channel's run.
    let inner: usize = dims
        .iter()
        .skip(axis + 1)
        .map(|&d| d.max(1) as usize)
        .product();
    let channel = |i: usize| (i / inner.max(1)) % channels;
    let mut max = vec![0f32; channels];
    for (i, v) in w.iter().enumerate() {
        let c = channel(i);
        max[c] = max[c].max(v.abs());
    }
    let scales: Vec<f32> = max
        .iter()
        .map(|&m| {
            if m > 0.0 && m.is_finite() {
                m / 127.0
            } else {
                1.0
            }
        })
        .collect();
    let q = w
        .iter()
        .enumerate()
        .map(|(i, v)| (v / scales[channel(i)]).round().clamp(-127.0, 127.0) as i8)
        .collect();
    (q, scales)
}

fn int_tensor(name: String, dims: Vec<i64>, data_type: DataType, raw_data: Vec<u8>) -> TensorProto {
    TensorProto {
        name,
        dims,
        data_type: data_type as i32,
        raw_data,
        ..Default::default()
    }
}

fn floats_tensor(name: String, dims: Vec<i64>, values: &[f32]) -> TensorProto {
    super::graph::tensor(name, dims, values)
}

fn node(
    name: String,
    op: &str,
    input: Vec<String>,
    output: String,
    axis: Option<i64>,
) -> NodeProto {
    NodeProto {
        name,
        op_type: op.to_string(),
        input,
        output: vec![output],
        attribute: axis
            .map(|a| AttributeProto {
                name: "axis".into(),
                r#type: AttributeType::Int as i32,
                i: a,
                ..Default::default()
            })
            .into_iter()
            .collect(),
        ..Default::default()
    }
}

/// The edits: with `compute`, the weights quantized and the Q/DQ nodes inserted; without, only
/// the places counted.
pub(super) fn edits(g: &GraphProto, compute: bool) -> Edits {
    let mut e = Edits::default();
    if !compute {
        e.sites = count(g);
        return e;
    }
    let sites: Vec<Site> = g
        .node
        .iter()
        .enumerate()
        .filter_map(|(ix, n)| site(g, ix, n))
        .collect();
    e.sites = sites.len();
    // One activation pair per tensor, one DQ per weight, one per (bias, weight).
    let mut pairs: HashMap<String, String> = HashMap::new();
    let mut weights: HashMap<String, (String, Vec<f32>)> = HashMap::new();
    let mut biases: HashMap<(String, String), String> = HashMap::new();
    let x_scale = "hiddencost_int8_activation_scale".to_string();
    let x_zero = "hiddencost_int8_activation_zero_point".to_string();
    if !sites.is_empty() {
        e.add
            .push(floats_tensor(x_scale.clone(), vec![], &[ACTIVATION_SCALE]));
        e.add
            .push(int_tensor(x_zero.clone(), vec![], DataType::Int8, vec![0]));
    }
    for s in &sites {
        let mut inserted: Vec<NodeProto> = Vec::new();
        let mut quantized = s.node.clone();
        let x = &s.node.input[0];
        let x_dq = pairs.entry(x.clone()).or_insert_with(|| {
            let (q, dq) = (
                format!("{x}_QuantizeLinear_Output"),
                format!("{x}_DequantizeLinear_Output"),
            );
            let inputs = vec![x_scale.clone(), x_zero.clone()];
            let with = |v: &str| [vec![v.to_string()], inputs.clone()].concat();
            inserted.push(node(
                format!("{x}_QuantizeLinear"),
                "QuantizeLinear",
                with(x),
                q.clone(),
                None,
            ));
            inserted.push(node(
                format!("{x}_DequantizeLinear"),
                "DequantizeLinear",
                with(&q),
                dq.clone(),
                None,
            ));
            dq
        });
        quantized.input[0] = x_dq.clone();
        let w_name = &s.node.input[1];
        if !weights.contains_key(w_name) {
            let w = floats(s.weight).unwrap_or_default();
            let (q, scales) = quantize_weights(&w, &s.weight.dims, s.axis);
            let channels = scales.len() as i64;
            let names = [
                format!("{w_name}_quantized"),
                format!("{w_name}_scale"),
                format!("{w_name}_zero_point"),
            ];
            let raw = q.iter().map(|v| v.to_le_bytes()[0]).collect();
            e.add.push(int_tensor(
                names[0].clone(),
                s.weight.dims.clone(),
                DataType::Int8,
                raw,
            ));
            e.add
                .push(floats_tensor(names[1].clone(), vec![channels], &scales));
            let zeros = vec![0u8; scales.len()];
            e.add.push(int_tensor(
                names[2].clone(),
                vec![channels],
                DataType::Int8,
                zeros,
            ));
            let out = format!("{w_name}_DequantizeLinear_Output");
            inserted.push(node(
                format!("{w_name}_DequantizeLinear"),
                "DequantizeLinear",
                names.to_vec(),
                out.clone(),
                Some(s.axis as i64),
            ));
            weights.insert(w_name.clone(), (out, scales));
        }
        let (w_dq, w_scales) = &weights[w_name];
        quantized.input[1] = w_dq.clone();
        if let Some((slot, bias)) = s.bias {
            let b_name = s.node.input[slot].clone();
            let key = (b_name.clone(), w_name.clone());
            if !biases.contains_key(&key) {
                let stem = format!("{b_name}_quantized{}", biases.len());
                let scales: Vec<f32> = w_scales.iter().map(|w| w * ACTIVATION_SCALE).collect();
                let b = floats(bias).unwrap_or_default();
                let raw = b
                    .iter()
                    .zip(&scales)
                    .flat_map(|(v, s)| {
                        let q = (f64::from(*v) / f64::from(*s)).round();
                        (q.clamp(i32::MIN as f64, i32::MAX as f64) as i32).to_le_bytes()
                    })
                    .collect();
                let channels = vec![scales.len() as i64];
                let names = [
                    stem.clone(),
                    format!("{stem}_scale"),
                    format!("{stem}_zero_point"),
                ];
                e.add.push(int_tensor(
                    names[0].clone(),
                    channels.clone(),
                    DataType::Int32,
                    raw,
                ));
                e.add
                    .push(floats_tensor(names[1].clone(), channels.clone(), &scales));
                let zeros = vec![0u8; 4 * scales.len()];
                e.add.push(int_tensor(
                    names[2].clone(),
                    channels,
                    DataType::Int32,
                    zeros,
                ));
                let out = format!("{stem}_DequantizeLinear_Output");
                inserted.push(node(
                    format!("{stem}_DequantizeLinear"),
                    "DequantizeLinear",
                    names.to_vec(),
                    out.clone(),
                    Some(0),
                ));
                biases.insert(key.clone(), out);
            }
            quantized.input[slot] = biases[&key].clone();
        }
        e.insert.extend(inserted.into_iter().map(|n| (s.ix, n)));
        e.replace.push((s.ix, quantized));
    }
    e
}

#[cfg(test)]
#[path = "int8_tests.rs"]
mod tests;
