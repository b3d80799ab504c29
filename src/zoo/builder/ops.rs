//! The builder's layers other than convolutions: activations, pools, element-wise ops, shape
//! ops and `nn.Linear`, each emitted as `torch.onnx.export` emits it.

use super::moments::Moments;
use super::{Built, GraphBuilder, Value, window_out};
use crate::zoo::ZooError;
use crate::zoo::proto::{attr_float, attr_int, attr_ints, attr_string, attr_tensor, tensor_f32};

impl GraphBuilder {
    fn unary(&mut self, x: &Value, module: &str, op: &str, m: Moments) -> Value {
        let name = self.node1(module, op, vec![x.name.clone()], vec![]);
        Value {
            name,
            shape: x.shape.clone(),
            m,
        }
    }

    pub(crate) fn relu(&mut self, x: &Value, module: &str) -> Value {
        self.unary(x, module, "Relu", x.m.relu())
    }

    pub(crate) fn sigmoid(&mut self, x: &Value, module: &str) -> Value {
        // Near 0 the sigmoid is 1/2 + x/4.
        let m = Moments {
            mean: 0.5 + x.m.mean / 4.0,
            ms: 0.25 + x.m.mean / 4.0 + x.m.ms / 16.0,
        };
        self.unary(x, module, "Sigmoid", m)
    }

    /// `nn.ReLU6` as torch exports it: `Clip` with two `Constant` bounds.
    pub(crate) fn relu6(&mut self, x: &Value, module: &str) -> Value {
        let lo = self.const_f32_scalar(module, 0.0);
        let hi = self.const_f32_scalar(module, 6.0);
        let name = self.node1(module, "Clip", vec![x.name.clone(), lo, hi], vec![]);
        Value {
            name,
            shape: x.shape.clone(),
            m: x.m.relu(),
        }
    }

    fn pool(&mut self, x: &Value, module: &str, op: &str, k: usize, s: usize, p: usize) -> Built {
        let [n, c, h, w] = x.shape[..] else {
            return Err(self.error(module, format!("pool input must be 4-D, got {:?}", x.shape)));
        };
        let (Some(oh), Some(ow)) = (window_out(h, k, s, p), window_out(w, k, s, p)) else {
            return Err(self.error(
                module,
                format!("window {k} larger than padded input {:?}", x.shape),
            ));
        };
        let (k, s, p) = (k as i64, s as i64, p as i64);
        let mut attrs = vec![attr_int("ceil_mode", 0)];
        if op == "AveragePool" {
            attrs.push(attr_int("count_include_pad", 1)); // PyTorch's default
        } else {
            attrs.push(attr_ints("dilations", &[1, 1]));
        }
        attrs.push(attr_ints("kernel_shape", &[k, k]));
        attrs.push(attr_ints("pads", &[p, p, p, p]));
        attrs.push(attr_ints("strides", &[s, s]));
        let name = self.node1(module, op, vec![x.name.clone()], attrs);
        // A max over a window of rectified values is larger than a typical one; an average is not.
        let m = if op == "MaxPool" && k > 1 {
            let mean = x.m.mean + x.m.var().sqrt(); // roughly, for a 2x2 or 3x3 window
            Moments {
                mean,
                ms: mean * mean + x.m.var() / 2.0,
            }
        } else {
            x.m.averaged()
        };
        Ok(Value {
            name,
            shape: vec![n, c, oh, ow],
            m,
        })
    }

    /// `nn.MaxPool2d(k, stride=s, padding=p)`.
    pub(crate) fn max_pool(
        &mut self,
        x: &Value,
        module: &str,
        k: usize,
        s: usize,
        p: usize,
    ) -> Built {
        self.pool(x, module, "MaxPool", k, s, p)
    }

    /// `nn.AvgPool2d(k, stride=s, padding=p)` (padding counted in the mean, as in PyTorch).
    pub(crate) fn avg_pool(
        &mut self,
        x: &Value,
        module: &str,
        k: usize,
        s: usize,
        p: usize,
    ) -> Built {
        let y = self.pool(x, module, "AveragePool", k, s, p)?;
        self.stats.macs_thop += y.numel();
        self.stats.macs_graph += y.numel();
        Ok(y)
    }

    /// `nn.AdaptiveAvgPool2d(1)` (`thop_module: true`) or `F.adaptive_avg_pool2d(x, 1)`
    /// (`false`: thop does not see functional calls).
    pub(crate) fn global_avg_pool(&mut self, x: &Value, module: &str, thop_module: bool) -> Built {
        let [n, c, h, w] = x.shape[..] else {
            return Err(self.error(module, format!("pool input must be 4-D, got {:?}", x.shape)));
        };
        let macs = (h as u64 * w as u64 + 1) * (n * c) as u64;
        self.stats.macs_graph += macs;
        if thop_module {
            self.stats.macs_thop += macs;
        }
        let name = self.node1(module, "GlobalAveragePool", vec![x.name.clone()], vec![]);
        Ok(Value {
            name,
            shape: vec![n, c, 1, 1],
            m: x.m.averaged(),
        })
    }

    fn binary(&mut self, a: &Value, b: &Value, module: &str, op: &str, m: Moments) -> Built {
        if a.shape != b.shape {
            return Err(self.error(module, format!("{op} of {:?} and {:?}", a.shape, b.shape)));
        }
        let name = self.node1(module, op, vec![a.name.clone(), b.name.clone()], vec![]);
        Ok(Value {
            name,
            shape: a.shape.clone(),
            m,
        })
    }

    pub(crate) fn add(&mut self, a: &Value, b: &Value, module: &str) -> Built {
        let (x, y) = (a.m, b.m);
        let m = Moments {
            mean: x.mean + y.mean,
            ms: x.ms + y.ms + 2.0 * x.mean * y.mean,
        };
        self.binary(a, b, module, "Add", m)
    }

    pub(crate) fn mul(&mut self, a: &Value, b: &Value, module: &str) -> Built {
        let m = Moments {
            mean: a.m.mean * b.m.mean,
            ms: a.m.ms * b.m.ms,
        };
        self.binary(a, b, module, "Mul", m)
    }

    /// `x.expand_as(like)` as torch exports it: `Shape(like)` then `Expand`.
    pub(crate) fn expand_as(&mut self, x: &Value, like: &Value, module: &str) -> Built {
        let broadcastable = x.shape.len() == like.shape.len()
            && x.shape
                .iter()
                .zip(&like.shape)
                .all(|(&a, &b)| a == b || a == 1);
        if !broadcastable {
            return Err(self.error(
                module,
                format!("cannot expand {:?} to {:?}", x.shape, like.shape),
            ));
        }
        let shape = self.node1(module, "Shape", vec![like.name.clone()], vec![]);
        let name = self.node1(module, "Expand", vec![x.name.clone(), shape], vec![]);
        Ok(Value {
            name,
            shape: like.shape.clone(),
            m: x.m,
        })
    }

    /// `torch.cat(xs, 1)`.
    pub(crate) fn concat(&mut self, xs: &[&Value], module: &str) -> Built {
        let Some(first) = xs.first() else {
            return Err(self.error(module, "concat of nothing".to_string()));
        };
        let mut shape = first.shape.clone();
        let weighted = |f: fn(&Moments) -> f32| -> f32 {
            xs.iter().map(|x| f(&x.m) * x.channels() as f32).sum()
        };
        let (sum_mean, sum_ms) = (weighted(|m| m.mean), weighted(|m| m.ms));
        for x in &xs[1..] {
            let same_rest = x.shape.len() == shape.len()
                && x.shape
                    .iter()
                    .enumerate()
                    .all(|(i, &d)| i == 1 || d == shape[i]);
            if !same_rest || shape.len() < 2 {
                return Err(self.error(module, format!("concat of {:?} and {:?}", shape, x.shape)));
            }
            shape[1] += x.shape[1];
        }
        let inputs = xs.iter().map(|x| x.name.clone()).collect();
        let name = self.node1(module, "Concat", inputs, vec![attr_int("axis", 1)]);
        let c = shape[1].max(1) as f32;
        Ok(Value {
            name,
            shape,
            m: Moments {
                mean: sum_mean / c,
                ms: sum_ms / c,
            },
        })
    }

    /// `torch.split(x, sizes, dim=1)` as opset 13 has it: sizes as a second int64 input.
    pub(crate) fn split(
        &mut self,
        x: &Value,
        sizes: &[usize],
        module: &str,
    ) -> Result<Vec<Value>, ZooError> {
        if x.shape.len() < 2 || sizes.iter().sum::<usize>() != x.shape[1] {
            return Err(self.error(module, format!("split {:?} of {:?}", sizes, x.shape)));
        }
        let sizes_i64: Vec<i64> = sizes.iter().map(|&s| s as i64).collect();
        let split = self.const_i64(module, &sizes_i64);
        let names = self.node(
            module,
            "Split",
            vec![x.name.clone(), split],
            vec![attr_int("axis", 1)],
            sizes.len(),
        );
        Ok(names
            .into_iter()
            .zip(sizes)
            .map(|(name, &c)| {
                let mut shape = x.shape.clone();
                shape[1] = c;
                Value {
                    name,
                    shape,
                    m: x.m,
                }
            })
            .collect())
    }

    /// `x.view(target)` as torch exports it: a `Constant` shape then `Reshape`; one -1 allowed.
    pub(crate) fn reshape(&mut self, x: &Value, target: &[i64], module: &str) -> Built {
        let known: i64 = target.iter().filter(|&&d| d != -1).product();
        let total = x.numel() as i64;
        let holes = target.iter().filter(|&&d| d == -1).count();
        let valid = target.iter().all(|&d| d > 0 || d == -1)
            && holes <= 1
            && known > 0
            && if holes == 0 {
                known == total
            } else {
                total % known == 0
            };
        if !valid {
            return Err(self.error(module, format!("cannot view {:?} as {:?}", x.shape, target)));
        }
        let shape = target
            .iter()
            .map(|&d| {
                if d == -1 {
                    (total / known) as usize
                } else {
                    d as usize
                }
            })
            .collect();
        let target_name = self.const_i64(module, target);
        let name = self.node1(module, "Reshape", vec![x.name.clone(), target_name], vec![]);
        Ok(Value {
            name,
            shape,
            m: x.m,
        })
    }

    /// Channel shuffle as torch exports it (ShuffleNet's, and the sweep's `shuffle` family):
    /// `Reshape` to [N, g, C/g, H, W], `Transpose` (0, 2, 1, 3, 4), `Reshape` back.
    pub(crate) fn channel_shuffle(&mut self, x: &Value, groups: usize, module: &str) -> Built {
        let [n, c, h, w] = x.shape[..] else {
            return Err(self.error(module, format!("channel shuffle of {:?}", x.shape)));
        };
        let (n, c, h, w, g) = (n as i64, c as i64, h as i64, w as i64, groups as i64);
        let y = self.reshape(x, &[n, g, c / g, h, w], module)?;
        let y = self.transpose(&y, &[0, 2, 1, 3, 4], module)?;
        self.reshape(&y, &[n, -1, h, w], module)
    }

    pub(crate) fn transpose(&mut self, x: &Value, perm: &[usize], module: &str) -> Built {
        let mut sorted = perm.to_vec();
        sorted.sort_unstable();
        if sorted != (0..x.shape.len()).collect::<Vec<_>>() {
            return Err(self.error(module, format!("permutation {:?} of {:?}", perm, x.shape)));
        }
        let perm_i64: Vec<i64> = perm.iter().map(|&p| p as i64).collect();
        let name = self.node1(
            module,
            "Transpose",
            vec![x.name.clone()],
            vec![attr_ints("perm", &perm_i64)],
        );
        Ok(Value {
            name,
            shape: perm.iter().map(|&p| x.shape[p]).collect(),
            m: x.m,
        })
    }

    /// `nn.Linear(in, out)` on a [N, in] input: `Gemm` with `transB = 1`.
    pub(crate) fn linear(&mut self, x: &Value, out: usize, module: &str) -> Built {
        let [n, cin] = x.shape[..] else {
            return Err(self.error(
                module,
                format!("linear input must be 2-D, got {:?}", x.shape),
            ));
        };
        let bound = 1.0 / (cin as f32).sqrt();
        let w = self.rng.uniform_le_bytes(out * cin, 0.0, bound);
        let b = self.rng.uniform(out, 0.0, bound);
        self.stats.params += (out * cin + out) as u64;
        let macs = (cin * n * out) as u64;
        self.stats.macs_thop += macs;
        self.stats.macs_graph += macs;
        let inputs = vec![
            x.name.clone(),
            self.initializer_le(module, "weight", &[out, cin], w)?,
            self.initializer(module, "bias", &[out], &b)?,
        ];
        let attrs = vec![
            attr_float("alpha", 1.0),
            attr_float("beta", 1.0),
            attr_int("transB", 1),
        ];
        let name = self.node1(module, "Gemm", inputs, attrs);
        // Var(w) = 1 / (3 * in): the output's mean square is a third of the input's.
        Ok(Value {
            name,
            shape: vec![n, out],
            m: Moments {
                mean: 0.0,
                ms: x.m.ms / 3.0,
            },
        })
    }

    /// `nn.Hardswish` as torch exports it below opset 14: `HardSigmoid(alpha = 1/6, beta = 1/2)`
    /// then `Mul` with its input.
    pub(crate) fn hard_swish(&mut self, x: &Value, module: &str) -> Built {
        let attrs = vec![attr_float("alpha", 1.0 / 6.0), attr_float("beta", 0.5)];
        let gate = self.node1(module, "HardSigmoid", vec![x.name.clone()], attrs);
        // Near 0 the gate is 1/2 + x/6, so x * gate is about x/2.
        let g = Value {
            name: gate,
            shape: x.shape.clone(),
            m: Moments {
                mean: 0.5 + x.m.mean / 6.0,
                ms: 0.25 + x.m.mean / 6.0 + x.m.ms / 36.0,
            },
        };
        self.mul(x, &g, module)
    }

    /// `F.interpolate(x, scale_factor=s, mode="nearest")` at opset 13: `Resize` with an empty
    /// roi and constant scales [1, 1, s, s].
    pub(crate) fn resize_nearest(&mut self, x: &Value, scale: usize, module: &str) -> Built {
        let [n, c, h, w] = x.shape[..] else {
            return Err(self.error(
                module,
                format!("resize input must be 4-D, got {:?}", x.shape),
            ));
        };
        if scale == 0 {
            return Err(self.error(module, "resize by 0".to_string()));
        }
        let roi = {
            let value = attr_tensor("value", tensor_f32("", &[0], &[]));
            self.node1(module, "Constant", vec![], vec![value])
        };
        let scales = {
            let s = scale as f32;
            let value = attr_tensor("value", tensor_f32("", &[4], &[1.0, 1.0, s, s]));
            self.node1(module, "Constant", vec![], vec![value])
        };
        let attrs = vec![
            attr_string("coordinate_transformation_mode", "asymmetric"),
            attr_float("cubic_coeff_a", -0.75),
            attr_string("mode", "nearest"),
            attr_string("nearest_mode", "floor"),
        ];
        let name = self.node1(module, "Resize", vec![x.name.clone(), roi, scales], attrs);
        Ok(Value {
            name,
            shape: vec![n, c, h * scale, w * scale],
            m: x.m,
        })
    }

    /// `x @ W` with a constant `[K, out]` weight (no bias): `MatMul` on the last axis.
    pub(crate) fn matmul_const(&mut self, x: &Value, out: usize, module: &str) -> Built {
        let Some(&k) = x.shape.last() else {
            return Err(self.error(module, "matmul of a scalar".to_string()));
        };
        if k == 0 || out == 0 {
            return Err(self.error(module, format!("matmul of {:?} to {out}", x.shape)));
        }
        let bound = 1.0 / (k as f32).sqrt();
        let w = self.rng.uniform_le_bytes(k * out, 0.0, bound);
        self.stats.params += (k * out) as u64;
        let rows: u64 = x.shape[..x.shape.len() - 1]
            .iter()
            .map(|&d| d as u64)
            .product();
        let macs = rows * k as u64 * out as u64;
        self.stats.macs_thop += macs;
        self.stats.macs_graph += macs;
        let weight = self.initializer_le(module, "weight", &[k, out], w)?;
        let name = self.node1(module, "MatMul", vec![x.name.clone(), weight], vec![]);
        let mut shape = x.shape.clone();
        if let Some(last) = shape.last_mut() {
            *last = out;
        }
        Ok(Value {
            name,
            shape,
            m: Moments {
                mean: 0.0,
                ms: x.m.ms / 3.0,
            },
        })
    }
}
