//! One convolution or matrix product written in each of onnxruntime's quantized formats, for
//! the sweep's int8 probes: the same product in f32, in QDQ (QuantizeLinear / DequantizeLinear
//! around a float Conv or MatMul: what onnxruntime's static quantizer writes), in QOperator
//! form (QLinearConv, QLinearMatMul) and in dynamic form (DynamicQuantizeLinear, then
//! ConvInteger or MatMulInteger, a Cast and the rescaling Mul). Float in, float out, no bias,
//! so that the product's MACs are the graph's in every form.
//!
//! Fixed scales, not calibrated ones (accuracy is not the point, the kernels are): the input
//! quantized with scale 1/32 (a unit-variance input spans about +-4), the weights drawn as
//! int8 in [-127, 127] with one per-tensor scale of 1 / (127 sqrt(fan-in)), the quantized output
//! with scale 1/16; every zero point 0 on int8, as onnxruntime's symmetric int8 default.

use super::moments::Moments;
use super::{Built, GraphBuilder, Value, window_out};
use crate::zoo::ZooError;
use crate::zoo::proto::{attr_int, attr_ints, tensor_f32};
use tract_onnx::pb::TensorProto;
use tract_onnx::pb::tensor_proto::DataType;

/// How a conv or matmul's arithmetic is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quant {
    /// Plain float Conv / MatMul.
    F32,
    /// QuantizeLinear / DequantizeLinear around the float op (input, int8 weight, output).
    Qdq,
    /// QuantizeLinear, QLinearConv / QLinearMatMul on int8, DequantizeLinear.
    QLinear,
    /// DynamicQuantizeLinear (uint8), ConvInteger / MatMulInteger with int8 weights, a Cast to
    /// float and a Mul by the two scales.
    Integer,
}

impl Quant {
    pub const ALL: [Quant; 4] = [Quant::F32, Quant::Qdq, Quant::QLinear, Quant::Integer];

    pub fn as_str(self) -> &'static str {
        match self {
            Quant::F32 => "fp32",
            Quant::Qdq => "qdq",
            Quant::QLinear => "qlinear",
            Quant::Integer => "integer",
        }
    }

    /// The ONNX op computing the product in this form.
    pub fn op_type(self, conv: bool) -> &'static str {
        match (self, conv) {
            (Quant::F32 | Quant::Qdq, true) => "Conv",
            (Quant::F32 | Quant::Qdq, false) => "MatMul",
            (Quant::QLinear, true) => "QLinearConv",
            (Quant::QLinear, false) => "QLinearMatMul",
            (Quant::Integer, true) => "ConvInteger",
            (Quant::Integer, false) => "MatMulInteger",
        }
    }
}

const INPUT_SCALE: f32 = 1.0 / 32.0;
const OUTPUT_SCALE: f32 = 1.0 / 16.0;

/// A tensor of `ty` from its raw little-endian bytes.
fn tensor_raw(name: &str, dims: &[usize], ty: DataType, raw: Vec<u8>) -> TensorProto {
    TensorProto {
        name: name.to_string(),
        dims: dims.iter().map(|&d| d as i64).collect(),
        data_type: ty as i32,
        raw_data: raw,
        ..Default::default()
    }
}

impl GraphBuilder {
    fn push_initializer(&mut self, t: TensorProto) -> Result<String, ZooError> {
        if !self.initializer_names.insert(t.name.clone()) {
            return Err(self.error(&t.name, "initializer defined twice".to_string()));
        }
        let name = t.name.clone();
        self.initializers.push(t);
        Ok(name)
    }

    /// A float scalar initializer `<module>.<param>`.
    fn scalar_f32(&mut self, module: &str, param: &str, v: f32) -> Result<String, ZooError> {
        self.push_initializer(tensor_f32(&format!("{module}.{param}"), &[], &[v]))
    }

    /// An int8 scalar initializer `<module>.<param>` (a zero point).
    fn zero_i8(&mut self, module: &str, param: &str) -> Result<String, ZooError> {
        let name = format!("{module}.{param}");
        self.push_initializer(tensor_raw(&name, &[], DataType::Int8, vec![0]))
    }

    /// `fan_in x ...` int8 weights in [-127, 127] (`dims`), and their per-tensor scale.
    fn int8_weight(
        &mut self,
        module: &str,
        dims: &[usize],
        fan_in: usize,
    ) -> Result<(String, String), ZooError> {
        let n: usize = dims.iter().product();
        let raw: Vec<u8> = (self.rng.uniform(n, 0.0, 127.0).into_iter())
            .map(|v| (v.round().clamp(-127.0, 127.0) as i8) as u8)
            .collect();
        let name = format!("{module}.weight_quantized");
        let w = self.push_initializer(tensor_raw(&name, dims, DataType::Int8, raw))?;
        let scale = 1.0 / (127.0 * (fan_in.max(1) as f32).sqrt());
        Ok((w, self.scalar_f32(module, "weight_scale", scale)?))
    }

    /// `QuantizeLinear` then `DequantizeLinear` of `x` with `scale` and a zero point 0.
    fn qdq(&mut self, x: &str, module: &str, what: &str, scale: f32) -> Result<String, ZooError> {
        let s = self.scalar_f32(module, &format!("{what}_scale"), scale)?;
        let z = self.zero_i8(module, &format!("{what}_zero_point"))?;
        let q = self.node1(
            module,
            "QuantizeLinear",
            vec![x.into(), s.clone(), z.clone()],
            vec![],
        );
        Ok(self.node1(module, "DequantizeLinear", vec![q, s, z], vec![]))
    }

    /// The product `op` of `x` and its int8 weight `w` (scale `ws`) in `form`, as float:
    /// `attrs` are the conv's (none for a matmul).
    fn quantized(
        &mut self,
        x: &Value,
        module: &str,
        form: Quant,
        conv: bool,
        (w_dims, fan_in): (&[usize], usize),
        attrs: Vec<tract_onnx::pb::AttributeProto>,
    ) -> Result<String, ZooError> {
        let op = form.op_type(conv);
        match form {
            Quant::F32 => {
                let n: usize = w_dims.iter().product();
                let bound = 1.0 / (fan_in.max(1) as f32).sqrt();
                let raw = self.rng.uniform_le_bytes(n, 0.0, bound);
                let w = self.initializer_le(module, "weight", w_dims, raw)?;
                Ok(self.node1(module, op, vec![x.name.clone(), w], attrs))
            }
            Quant::Qdq => {
                let (w, ws) = self.int8_weight(module, w_dims, fan_in)?;
                let xd = self.qdq(&x.name, module, "input", INPUT_SCALE)?;
                let wz = self.zero_i8(module, "weight_zero_point")?;
                let wd = self.node1(module, "DequantizeLinear", vec![w, ws, wz], vec![]);
                let y = self.node1(module, op, vec![xd, wd], attrs);
                self.qdq(&y, module, "output", OUTPUT_SCALE)
            }
            Quant::QLinear => {
                let (w, ws) = self.int8_weight(module, w_dims, fan_in)?;
                let xs = self.scalar_f32(module, "input_scale", INPUT_SCALE)?;
                let xz = self.zero_i8(module, "input_zero_point")?;
                let q = vec![x.name.clone(), xs.clone(), xz.clone()];
                let xq = self.node1(module, "QuantizeLinear", q, vec![]);
                let wz = self.zero_i8(module, "weight_zero_point")?;
                let ys = self.scalar_f32(module, "output_scale", OUTPUT_SCALE)?;
                let yz = self.zero_i8(module, "output_zero_point")?;
                let inputs = vec![xq, xs, xz, w, ws, wz, ys.clone(), yz.clone()];
                let yq = self.node1(module, op, inputs, attrs);
                Ok(self.node1(module, "DequantizeLinear", vec![yq, ys, yz], vec![]))
            }
            Quant::Integer => {
                let (w, ws) = self.int8_weight(module, w_dims, fan_in)?;
                let d = self.node(
                    module,
                    "DynamicQuantizeLinear",
                    vec![x.name.clone()],
                    vec![],
                    3,
                );
                let [xq, xs, xz] = [d[0].clone(), d[1].clone(), d[2].clone()];
                let wz = self.zero_i8(module, "weight_zero_point")?;
                let y = self.node1(module, op, vec![xq, w, xz, wz], attrs);
                let to = attr_int("to", DataType::Float as i64);
                let y = self.node1(module, "Cast", vec![y], vec![to]);
                let scale = self.node1(module, "Mul", vec![xs, ws], vec![]);
                Ok(self.node1(module, "Mul", vec![y, scale], vec![]))
            }
        }
    }

    /// A `k` x `k` convolution c -> `out` in `groups` groups, stride 1, padding k / 2, no
    /// bias, in `form`.
    pub(crate) fn quant_conv(
        &mut self,
        x: &Value,
        module: &str,
        (out, k, groups): (usize, usize, usize),
        form: Quant,
    ) -> Built {
        let [_, c, h, w] = x.shape[..] else {
            return Err(self.error(module, format!("conv of {:?}", x.shape)));
        };
        let (Some(oh), Some(ow)) = (window_out(h, k, 1, k / 2), window_out(w, k, 1, k / 2)) else {
            return Err(self.error(module, format!("{k}x{k} conv of {:?}", x.shape)));
        };
        if out == 0 || k == 0 || groups == 0 || c % groups != 0 || out % groups != 0 {
            let what = format!("{k}x{k} conv of {c} to {out} channels in {groups} groups");
            return Err(self.error(module, what));
        }
        let per_group = c / groups;
        let macs = (oh * ow * out * per_group * k * k) as u64;
        self.stats.params += (out * per_group * k * k) as u64;
        self.stats.macs_thop += macs;
        self.stats.macs_graph += macs;
        let p = (k / 2) as i64;
        let attrs = vec![
            attr_ints("dilations", &[1, 1]),
            attr_int("group", groups as i64),
            attr_ints("kernel_shape", &[k as i64, k as i64]),
            attr_ints("pads", &[p, p, p, p]),
            attr_ints("strides", &[1, 1]),
        ];
        let dims = [out, per_group, k, k];
        let fan_in = per_group * k * k;
        let name = self.quantized(x, module, form, true, (&dims, fan_in), attrs)?;
        Ok(Value {
            name,
            shape: vec![1, out, oh, ow],
            m: Moments::UNIT,
        })
    }

    /// `x[.., k] x w[k, n]` with a constant `w`, in `form`.
    pub(crate) fn quant_matmul(&mut self, x: &Value, n: usize, module: &str, form: Quant) -> Built {
        let Some((&k, rows)) = x.shape.split_last() else {
            return Err(self.error(module, "matmul of a scalar".to_string()));
        };
        if k == 0 || n == 0 {
            return Err(self.error(module, format!("matmul of {:?} to {n}", x.shape)));
        }
        let macs = rows.iter().product::<usize>() as u64 * (k * n) as u64;
        self.stats.params += (k * n) as u64;
        self.stats.macs_thop += macs;
        self.stats.macs_graph += macs;
        let name = self.quantized(x, module, form, false, (&[k, n], k), vec![])?;
        let mut shape = x.shape.clone();
        if let Some(last) = shape.last_mut() {
            *last = n;
        }
        Ok(Value {
            name,
            shape,
            m: Moments::UNIT,
        })
    }
}
