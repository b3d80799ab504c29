//! The builder's ops of transformer-style and shape-heavy graphs, emitted as
//! `torch.onnx.export` writes them at opset 13: `Slice`, `ReduceMean`/`ReduceSum`, `Softmax`,
//! element-wise ops with a scalar, `Einsum`, LayerNorm and RmsNorm written out (opset 13 has no
//! `LayerNormalization`), GELU in its erf form. The sweep's single-kernel probes use them.

use super::{Built, GraphBuilder, Value};
use crate::zoo::proto::{attr_int, attr_ints, attr_string};

/// `nn.LayerNorm`'s default epsilon.
const LN_EPSILON: f32 = 1e-5;

impl GraphBuilder {
    /// `x[..., start:end, ...]` on `axis`, as opset 13 writes it: starts, ends and axes as
    /// int64 `Constant` inputs.
    pub(crate) fn slice(
        &mut self,
        x: &Value,
        axis: usize,
        start: usize,
        end: usize,
        module: &str,
    ) -> Built {
        if axis >= x.shape.len() || start >= end || end > x.shape[axis] {
            return Err(self.error(
                module,
                format!("slice {start}..{end} on axis {axis} of {:?}", x.shape),
            ));
        }
        let starts = self.const_i64(module, &[start as i64]);
        let ends = self.const_i64(module, &[end as i64]);
        let axes = self.const_i64(module, &[axis as i64]);
        let name = self.node1(
            module,
            "Slice",
            vec![x.name.clone(), starts, ends, axes],
            vec![],
        );
        let mut shape = x.shape.clone();
        shape[axis] = end - start;
        Ok(Value {
            name,
            shape,
            m: x.m,
        })
    }

    /// `x.mean(axes, keepdim=True)` (`ReduceMean`, axes an attribute at opset 13) or
    /// `x.sum(axes, keepdim=True)` (`ReduceSum`, axes an int64 input since opset 13).
    pub(crate) fn reduce(&mut self, x: &Value, mean: bool, axes: &[usize], module: &str) -> Built {
        if axes.is_empty() || axes.iter().any(|&a| a >= x.shape.len()) {
            return Err(self.error(module, format!("reduce {axes:?} of {:?}", x.shape)));
        }
        let axes_i64: Vec<i64> = axes.iter().map(|&a| a as i64).collect();
        let name = if mean {
            let attrs = vec![attr_ints("axes", &axes_i64), attr_int("keepdims", 1)];
            self.node1(module, "ReduceMean", vec![x.name.clone()], attrs)
        } else {
            let axes = self.const_i64(module, &axes_i64);
            let attrs = vec![attr_int("keepdims", 1)];
            self.node1(module, "ReduceSum", vec![x.name.clone(), axes], attrs)
        };
        let mut shape = x.shape.clone();
        for &a in axes {
            shape[a] = 1;
        }
        Ok(Value {
            name,
            shape,
            m: x.m.averaged(),
        })
    }

    /// `x.softmax(-1)`.
    pub(crate) fn softmax(&mut self, x: &Value, module: &str) -> Value {
        let name = self.node1(
            module,
            "Softmax",
            vec![x.name.clone()],
            vec![attr_int("axis", -1)],
        );
        Value {
            name,
            shape: x.shape.clone(),
            m: x.m.averaged(),
        }
    }

    /// An element-wise op of one input (`Sqrt`, `Erf`, ...): same shape out.
    pub(crate) fn elementwise(&mut self, x: &Value, op: &str, module: &str) -> Value {
        let name = self.node1(module, op, vec![x.name.clone()], vec![]);
        Value {
            name,
            shape: x.shape.clone(),
            m: x.m,
        }
    }

    /// `x <op> v` for a float scalar `v` (a `Constant`, as torch exports Python numbers):
    /// `Add`, `Sub`, `Mul`, `Div`, `Pow`.
    pub(crate) fn with_scalar(&mut self, x: &Value, op: &str, v: f32, module: &str) -> Value {
        let c = self.const_f32_scalar(module, v);
        let name = self.node1(module, op, vec![x.name.clone(), c], vec![]);
        Value {
            name,
            shape: x.shape.clone(),
            m: x.m,
        }
    }

    /// `a <op> b` where `b`'s shape broadcasts to `a`'s (numpy rules, same rank).
    pub(crate) fn broadcast(&mut self, a: &Value, b: &Value, op: &str, module: &str) -> Built {
        let fits = a.shape.len() == b.shape.len()
            && a.shape
                .iter()
                .zip(&b.shape)
                .all(|(&x, &y)| x == y || y == 1);
        if !fits {
            return Err(self.error(module, format!("{op} of {:?} and {:?}", a.shape, b.shape)));
        }
        let name = self.node1(module, op, vec![a.name.clone(), b.name.clone()], vec![]);
        Ok(Value {
            name,
            shape: a.shape.clone(),
            m: a.m,
        })
    }

    /// A per-channel constant of shape [1, c, 1, 1], uniform in `center` ± `half_width`, named
    /// `<module>.<param>` (a scale or shift an export keeps apart from its conv).
    pub(crate) fn channel_const(
        &mut self,
        module: &str,
        param: &str,
        c: usize,
        center: f32,
        half_width: f32,
    ) -> Built {
        let values = self.rng.uniform(c, center, half_width);
        let name = self.initializer(module, param, &[1, c, 1, 1], &values)?;
        self.stats.params += c as u64;
        Ok(Value {
            name,
            shape: vec![1, c, 1, 1],
            m: super::moments::Moments::UNIT,
        })
    }

    /// `torch.einsum(equation, a, b)` whose output has `shape`.
    pub(crate) fn einsum(
        &mut self,
        a: &Value,
        b: &Value,
        equation: &str,
        shape: Vec<usize>,
        module: &str,
    ) -> Value {
        let attrs = vec![attr_string("equation", equation)];
        let name = self.node1(
            module,
            "Einsum",
            vec![a.name.clone(), b.name.clone()],
            attrs,
        );
        Value {
            name,
            shape,
            m: a.m,
        }
    }

    /// `nn.LayerNorm(d)` over the last axis as exports below opset 17 write it: `ReduceMean`,
    /// `Sub`, `Pow` 2, `ReduceMean`, `Add` eps, `Sqrt`, `Div`, `Mul` by the weight, `Add` the
    /// bias. With `rms`, T5/LLaMA's RmsNorm: `Pow` 2, `ReduceMean`, `Add` eps, `Sqrt`, `Div`,
    /// `Mul` by the weight (no centring, no bias).
    pub(crate) fn layer_norm(&mut self, x: &Value, rms: bool, module: &str) -> Built {
        let Some(&d) = x.shape.last() else {
            return Err(self.error(module, "layer norm of a scalar".to_string()));
        };
        let last = x.shape.len() - 1;
        let centred = if rms {
            x.clone()
        } else {
            let mean = self.reduce(x, true, &[last], module)?;
            self.broadcast(x, &mean, "Sub", module)?
        };
        let square = self.with_scalar(&centred, "Pow", 2.0, module);
        let var = self.reduce(&square, true, &[last], module)?;
        let var = self.with_scalar(&var, "Add", LN_EPSILON, module);
        let std = self.elementwise(&var, "Sqrt", module);
        let y = self.broadcast(&centred, &std, "Div", module)?;
        let gamma = self.rng.uniform(d, 1.0, 0.1);
        let mut ones = vec![1; x.shape.len()];
        ones[last] = d;
        let weight = Value {
            name: self.initializer(module, "weight", &[d], &gamma)?,
            shape: ones.clone(),
            m: y.m,
        };
        let y = self.broadcast(&y, &weight, "Mul", module)?;
        self.stats.params += d as u64;
        if rms {
            return Ok(y);
        }
        let beta = self.rng.uniform(d, 0.0, 0.05);
        let bias = Value {
            name: self.initializer(module, "bias", &[d], &beta)?,
            shape: ones,
            m: y.m,
        };
        self.stats.params += d as u64;
        self.broadcast(&y, &bias, "Add", module)
    }

    /// `nn.GELU()` (exact, erf form) as torch exports it: `Div` by √2, `Erf`, `Add` 1, `Mul`
    /// by the input, `Mul` by 0.5.
    pub(crate) fn gelu(&mut self, x: &Value, module: &str) -> Built {
        let y = self.with_scalar(x, "Div", std::f32::consts::SQRT_2, module);
        let y = self.elementwise(&y, "Erf", module);
        let y = self.with_scalar(&y, "Add", 1.0, module);
        let y = self.broadcast(x, &y, "Mul", module)?;
        Ok(self.with_scalar(&y, "Mul", 0.5, module))
    }
}
