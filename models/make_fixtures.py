#!/usr/bin/env python3
"""Writes the small ONNX test fixtures of models/ (committed; re-run to regenerate).

    python3 models/make_fixtures.py [OUT_DIR]     # default: models/

with onnx==1.23.2 and numpy==2.4.6 (in target/test-venv, which tests/run.sh makes; or see
models/README.md).

Weights come from numpy's seeded generator, so the bytes are the same on every run with the
same onnx and numpy versions. Shapes are tiny so the tests run in milliseconds.
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HERE = sys.argv[1] if len(sys.argv) > 1 else os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(1234)


def init(name, *shape, scale=0.1):
    return numpy_helper.from_array((rng.standard_normal(shape) * scale).astype(np.float32), name)


def const_i64(name, values):
    return numpy_helper.from_array(np.array(values, dtype=np.int64), name)


def save(model, name):
    onnx.checker.check_model(model, full_check=True)
    path = os.path.join(HERE, name)
    onnx.save(model, path)
    print(f"wrote {name}: {os.path.getsize(path)} bytes")


def tiny_cnn(batch):
    """Conv+BN+ReLU stem, a depthwise/pointwise residual block, a Concat branch, pools, Gemm.

    Input 1x3x8x8 (or Nx3x8x8 with a symbolic batch), 10 classes. Every category of the
    profiler (conv, batchnorm, activation, concat, add, pool, linear, tensor) appears once.
    """
    nodes = [
        helper.make_node("Conv", ["input", "c1.w", "c1.b"], ["c1"], name="stem/conv",
                         kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("BatchNormalization", ["c1", "bn.s", "bn.b", "bn.m", "bn.v"], ["bn"],
                         name="stem/bn"),
        helper.make_node("Relu", ["bn"], ["r1"], name="stem/relu"),
        helper.make_node("Conv", ["r1", "dw.w"], ["dw"], name="block/dwconv",
                         kernel_shape=[3, 3], pads=[1, 1, 1, 1], group=8),
        helper.make_node("Conv", ["dw", "pw.w"], ["pw"], name="block/pwconv",
                         kernel_shape=[1, 1]),
        helper.make_node("Add", ["pw", "r1"], ["add"], name="block/add"),
        helper.make_node("Clip", ["add", "zero", "six"], ["relu6"], name="block/relu6"),
        helper.make_node("Concat", ["relu6", "r1"], ["cat"], name="cat", axis=1),
        helper.make_node("MaxPool", ["cat"], ["mp"], name="maxpool",
                         kernel_shape=[2, 2], strides=[2, 2]),
        helper.make_node("GlobalAveragePool", ["mp"], ["gap"], name="gap"),
        helper.make_node("Flatten", ["gap"], ["flat"], name="flatten", axis=1),
        helper.make_node("Gemm", ["flat", "fc.w", "fc.b"], ["output"], name="fc", transB=1),
    ]
    inits = [
        init("c1.w", 8, 3, 3, 3), init("c1.b", 8),
        numpy_helper.from_array(np.ones(8, np.float32), "bn.s"),
        numpy_helper.from_array(np.zeros(8, np.float32), "bn.b"),
        numpy_helper.from_array(np.zeros(8, np.float32), "bn.m"),
        numpy_helper.from_array(np.ones(8, np.float32), "bn.v"),
        init("dw.w", 8, 1, 3, 3), init("pw.w", 8, 8, 1, 1),
        numpy_helper.from_array(np.array(0.0, np.float32), "zero"),
        numpy_helper.from_array(np.array(6.0, np.float32), "six"),
        init("fc.w", 10, 16), init("fc.b", 10),
    ]
    graph = helper.make_graph(
        nodes, "tiny_cnn",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [batch, 3, 8, 8])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [batch, 10])],
        inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)],
                             producer_name="hiddencost-fixtures", ir_version=8)


def shuffle():
    """Tensor-op heavy: Split, channel shuffle (Reshape/Transpose/Reshape), Slice, Pad, Concat."""
    nodes = [
        helper.make_node("Split", ["input", "split"], ["a", "b"], name="chunk", axis=1),
        helper.make_node("Relu", ["b"], ["rb"], name="relu"),
        helper.make_node("Concat", ["a", "rb"], ["cat"], name="cat", axis=1),
        helper.make_node("Reshape", ["cat", "shape5"], ["r5"], name="shuffle/reshape1"),
        helper.make_node("Transpose", ["r5"], ["t5"], name="shuffle/transpose",
                         perm=[0, 2, 1, 3, 4]),
        helper.make_node("Reshape", ["t5", "shape4"], ["sh"], name="shuffle/reshape2"),
        helper.make_node("Slice", ["sh", "starts", "ends", "axes"], ["sl"], name="slice"),
        helper.make_node("Pad", ["sl", "pads"], ["output"], name="pad", mode="constant"),
    ]
    inits = [
        const_i64("split", [2, 2]), const_i64("shape5", [1, 2, 2, 6, 6]),
        const_i64("shape4", [1, 4, 6, 6]), const_i64("starts", [1]), const_i64("ends", [5]),
        const_i64("axes", [2]), const_i64("pads", [0, 0, 0, 1, 0, 0, 0, 1]),
    ]
    graph = helper.make_graph(
        nodes, "shuffle",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 4, 6, 6])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 4, 4, 8])],
        inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)],
                             producer_name="hiddencost-fixtures", ir_version=8)


def unsupported():
    """A valid ONNX file whose second node is an op no runtime knows."""
    nodes = [
        helper.make_node("Relu", ["input"], ["r"], name="relu"),
        helper.make_node("HiddenCostNoSuchOp", ["r"], ["output"], name="mystery",
                         domain="com.example"),
    ]
    graph = helper.make_graph(
        nodes, "unsupported",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 4])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 4])],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13),
                                                   helper.make_opsetid("com.example", 1)],
                             producer_name="hiddencost-fixtures", ir_version=8)


def conv(x, y, name, w, k=1):
    return helper.make_node("Conv", [x, w], [y], name=name, kernel_shape=[k, k],
                            pads=[k // 2] * 4)


def siblings():
    """Four 1x1 convs reading the same input: tract deduplicates their identical reshape and
    packing, so the kernels of b, c, d are fed by a node named after a/conv; a's and b's kernels
    are named after their fused tails (BN+ReLU, ReLU), c's after the residual Add's ReLU that
    also reads d/conv (fused as an accumulator). Output widths 4, 6, 6 (+ 6) make a wrong
    attribution visible in the MACs.

    Input 1x8x6x6, output 1x16x6x6.
    """
    nodes = [
        conv("input", "a", "a/conv", "a.w"),
        helper.make_node("BatchNormalization", ["a", "bn.s", "bn.b", "bn.m", "bn.v"], ["abn"],
                         name="a/bn"),
        helper.make_node("Relu", ["abn"], ["ar"], name="a/relu"),
        conv("input", "b", "b/conv", "b.w"),
        helper.make_node("Relu", ["b"], ["br"], name="b/relu"),
        conv("input", "c", "c/conv", "c.w"),
        conv("input", "d", "d/conv", "d.w"),
        helper.make_node("Add", ["c", "d"], ["s"], name="add"),
        helper.make_node("Relu", ["s"], ["sr"], name="add/relu"),
        helper.make_node("Concat", ["ar", "br", "sr"], ["output"], name="cat", axis=1),
    ]
    inits = [
        init("a.w", 4, 8, 1, 1),
        numpy_helper.from_array(np.ones(4, np.float32), "bn.s"),
        numpy_helper.from_array(np.zeros(4, np.float32), "bn.b"),
        numpy_helper.from_array(np.zeros(4, np.float32), "bn.m"),
        numpy_helper.from_array(np.ones(4, np.float32), "bn.v"),
        init("b.w", 6, 8, 1, 1), init("c.w", 6, 8, 1, 1), init("d.w", 6, 8, 1, 1),
    ]
    graph = helper.make_graph(
        nodes, "siblings",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 8, 6, 6])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 16, 6, 6])],
        inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)],
                             producer_name="hiddencost-fixtures", ir_version=8)


def fire():
    """A SqueezeNet fire module (squeeze 1x1, expand 1x1 and 3x3, Concat) and a 1x1 conv over
    its Concat: tract splits that conv into one kernel per concatenated input (K = 6 and 10),
    the second adding into the first.

    Input 1x8x6x6, output 1x5x6x6.
    """
    nodes = [
        conv("input", "s", "squeeze/conv", "s.w"),
        helper.make_node("Relu", ["s"], ["sr"], name="squeeze/relu"),
        conv("sr", "e1", "expand1x1/conv", "e1.w"),
        helper.make_node("Relu", ["e1"], ["e1r"], name="expand1x1/relu"),
        conv("sr", "e3", "expand3x3/conv", "e3.w", k=3),
        helper.make_node("Relu", ["e3"], ["e3r"], name="expand3x3/relu"),
        helper.make_node("Concat", ["e1r", "e3r"], ["cat"], name="cat", axis=1),
        conv("cat", "output", "next/conv", "n.w"),
    ]
    inits = [init("s.w", 4, 8, 1, 1), init("e1.w", 6, 4, 1, 1), init("e3.w", 10, 4, 3, 3),
             init("n.w", 5, 16, 1, 1)]
    graph = helper.make_graph(
        nodes, "fire",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 8, 6, 6])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 5, 6, 6])],
        inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)],
                             producer_name="hiddencost-fixtures", ir_version=8)


def exported():
    """Parameters where torch.onnx.export puts them, outside convs: a patch-embedding 1x1 conv,
    two BatchNorms whose identical default tensors the exporter deduplicated (the second
    BN's scale, shift and statistics are Identity nodes of the first one's initializers), a
    3-D nn.Linear as MatMul + Add, a cls_token through Expand and Concat, a pos_embed Add, a
    layer-scale Mul, and a literal scalar Mul (0.5, not a parameter).

    Input 1x2x4x4, output 1x17x8. torch's p.numel() sum: conv 16, bn1 16, bn2 16, linear 72,
    cls_token 8, pos_embed 136, gamma 8 = 272.
    """
    bn2 = ["bn2.weight", "bn2.bias", "bn2.running_mean", "bn2.running_var"]
    bn1 = ["bn1.weight", "bn1.bias", "bn1.running_mean", "bn1.running_var"]
    dedup = [helper.make_node("Identity", [src], [dst], name=f"/Identity_{i}")
             for i, (src, dst) in enumerate(zip([bn1[0], bn1[1], bn1[1], bn1[0]], bn2))]
    nodes = dedup + [
        helper.make_node("Conv", ["input", "patch.weight"], ["p"], name="/patch/Conv",
                         kernel_shape=[1, 1]),
        helper.make_node("BatchNormalization", ["p"] + bn1, ["b1"], name="/bn1/BatchNormalization"),
        helper.make_node("BatchNormalization", ["b1"] + bn2, ["b2"], name="/bn2/BatchNormalization"),
        helper.make_node("Reshape", ["b2", "tokens_shape"], ["r"], name="/Reshape"),
        helper.make_node("Transpose", ["r"], ["t"], name="/Transpose", perm=[0, 2, 1]),
        helper.make_node("MatMul", ["t", "onnx::MatMul_40"], ["mm"], name="/proj/MatMul"),
        helper.make_node("Add", ["proj.bias", "mm"], ["lin"], name="/proj/Add"),
        helper.make_node("Expand", ["cls_token", "cls_shape"], ["cls"], name="/Expand"),
        helper.make_node("Concat", ["cls", "lin"], ["cat"], name="/Concat", axis=1),
        helper.make_node("Add", ["cat", "pos_embed"], ["emb"], name="/Add"),
        helper.make_node("Mul", ["emb", "ls.gamma"], ["ls"], name="/ls/Mul"),
        helper.make_node("Mul", ["ls", "half"], ["output"], name="/Mul"),
    ]
    ones = numpy_helper.from_array(np.ones(8, np.float32), "bn1.weight")
    zeros = numpy_helper.from_array(np.zeros(8, np.float32), "bn1.bias")
    inits = [
        init("patch.weight", 8, 2, 1, 1), ones, zeros,
        numpy_helper.from_array(np.zeros(8, np.float32), "bn1.running_mean"),
        numpy_helper.from_array(np.ones(8, np.float32), "bn1.running_var"),
        const_i64("tokens_shape", [1, 8, 16]),
        init("onnx::MatMul_40", 8, 8), init("proj.bias", 8),
        init("cls_token", 1, 1, 8), const_i64("cls_shape", [1, 1, 8]),
        init("pos_embed", 1, 17, 8), init("ls.gamma", 8),
        numpy_helper.from_array(np.array(0.5, np.float32), "half"),
    ]
    graph = helper.make_graph(
        nodes, "exported",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 2, 4, 4])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 17, 8])],
        inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                             producer_name="hiddencost-fixtures", ir_version=8)


def normalize():
    """F.normalize(x, dim=1) as torch.onnx.export writes it (opset 17): ReduceL2 over the
    channels, Clip at eps, Expand back to x's shape, Div. tract rewrites the Div by a computed
    tensor into a reciprocal named `/Div-recip` and a Mul named `/Div`.

    Input 1x4x3x3, output the same.
    """
    nodes = [
        helper.make_node("ReduceL2", ["input"], ["l2"], name="/ReduceL2", axes=[1], keepdims=1),
        helper.make_node("Clip", ["l2", "eps", ""], ["c"], name="/Clip"),
        helper.make_node("Expand", ["c", "shape"], ["e"], name="/Expand"),
        helper.make_node("Div", ["input", "e"], ["output"], name="/Div"),
    ]
    inits = [
        numpy_helper.from_array(np.array(1e-12, np.float32), "eps"),
        const_i64("shape", [1, 4, 3, 3]),
    ]
    graph = helper.make_graph(
        nodes, "normalize",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 4, 3, 3])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 4, 3, 3])],
        inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                             producer_name="hiddencost-fixtures", ir_version=8)


def activations():
    """The activations and pools exporters write out of plain ops (EfficientNet, MobileNetV3,
    GhostNet style): a conv, SiLU as Sigmoid and Mul, a squeeze-excitation block (ReduceMean
    over H and W, two 1x1 convs, a hard-sigmoid gate written clip(x + 3, 0, 6) / 6, the scaling
    Mul), HardSwish written x * clip(x + 3, 0, 6) / 6, and HardSwish as x * HardSigmoid(x).

    Input 1x4x4x4, output the same.
    """
    nodes = [
        conv("input", "c", "/conv/Conv", "conv.w"),
        helper.make_node("Sigmoid", ["c"], ["cs"], name="/act/Sigmoid"),
        helper.make_node("Mul", ["c", "cs"], ["silu"], name="/act/Mul"),
        helper.make_node("ReduceMean", ["silu"], ["pooled"], name="/se/ReduceMean",
                         axes=[2, 3], keepdims=1),
        conv("pooled", "r", "/se/conv_reduce/Conv", "se.r.w"),
        helper.make_node("Relu", ["r"], ["rr"], name="/se/Relu"),
        conv("rr", "e", "/se/conv_expand/Conv", "se.e.w"),
        helper.make_node("Add", ["e", "three"], ["e3"], name="/se/gate/Add"),
        helper.make_node("Clip", ["e3", "zero", "six"], ["e6"], name="/se/gate/Clip"),
        helper.make_node("Div", ["e6", "six"], ["gate"], name="/se/gate/Div"),
        helper.make_node("Mul", ["silu", "gate"], ["se"], name="/se/Mul"),
        helper.make_node("Add", ["se", "three"], ["h3"], name="/hswish/Add"),
        helper.make_node("Clip", ["h3", "zero", "six"], ["h6"], name="/hswish/Clip"),
        helper.make_node("Mul", ["se", "h6"], ["hm"], name="/hswish/Mul"),
        helper.make_node("Div", ["hm", "six"], ["hs"], name="/hswish/Div"),
        helper.make_node("HardSigmoid", ["hs"], ["hg"], name="/hswish2/HardSigmoid",
                         alpha=1.0 / 6),
        helper.make_node("Mul", ["hs", "hg"], ["output"], name="/hswish2/Mul"),
    ]
    inits = [
        init("conv.w", 4, 4, 1, 1), init("se.r.w", 2, 4, 1, 1), init("se.e.w", 4, 2, 1, 1),
        numpy_helper.from_array(np.array(3.0, np.float32), "three"),
        numpy_helper.from_array(np.array(0.0, np.float32), "zero"),
        numpy_helper.from_array(np.array(6.0, np.float32), "six"),
    ]
    graph = helper.make_graph(
        nodes, "activations",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 4, 4, 4])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 4, 4, 4])],
        inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                             producer_name="hiddencost-fixtures", ir_version=8)


def preact():
    """DenseNet's pre-activation: a conv, a Concat of its input and output, then
    BatchNormalization, ReLU and a 1x1 conv. A BN after a Concat cannot fold into a conv:
    tract turns it into a Mul and an Add and fuses them with the ReLU's Max into one op named
    after the ReLU.

    Input 1x4x16x16, output the same.
    """
    nodes = [
        conv("input", "c", "/conv0/Conv", "conv0.w", k=3),
        helper.make_node("Concat", ["input", "c"], ["cat"], name="/Concat", axis=1),
        helper.make_node("BatchNormalization", ["cat", "bn.s", "bn.b", "bn.m", "bn.v"], ["bn"],
                         name="/norm1/BatchNormalization"),
        helper.make_node("Relu", ["bn"], ["r"], name="/relu1/Relu"),
        conv("r", "output", "/conv1/Conv", "conv1.w"),
    ]
    inits = [
        init("conv0.w", 4, 4, 3, 3),
        numpy_helper.from_array((1 + rng.random(8)).astype(np.float32), "bn.s"),
        init("bn.b", 8), init("bn.m", 8),
        numpy_helper.from_array((0.5 + rng.random(8)).astype(np.float32), "bn.v"),
        init("conv1.w", 4, 8, 1, 1),
    ]
    graph = helper.make_graph(
        nodes, "preact",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 4, 16, 16])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 4, 16, 16])],
        inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)],
                             producer_name="hiddencost-fixtures", ir_version=8)


def subsample():
    """LeViT's attention subsample as exported: a Linear, then
    x.view(B, R, R, C)[:, ::2, ::2].reshape(B, -1, C) (Reshape, strided Slice, Reshape). tract
    0.23.9's declutter fails on it ("Pulling Downsample over Reshape: Invalid axis") at
    --optimize full and declutter; --optimize none runs.

    Input 1x16x8, output 1x4x8.
    """
    nodes = [
        helper.make_node("MatMul", ["input", "proj.weight"], ["x"], name="/proj/MatMul"),
        helper.make_node("Reshape", ["x", "grid"], ["r"], name="/Reshape"),
        helper.make_node("Slice", ["r", "starts", "ends", "axes", "steps"], ["sl"],
                         name="/Slice"),
        helper.make_node("Reshape", ["sl", "tokens"], ["output"], name="/Reshape_1"),
    ]
    inits = [init("proj.weight", 8, 8), const_i64("grid", [1, 4, 4, 8]),
             const_i64("starts", [0, 0]), const_i64("ends", [2**62, 2**62]),
             const_i64("axes", [1, 2]), const_i64("steps", [2, 2]),
             const_i64("tokens", [1, -1, 8])]
    graph = helper.make_graph(
        nodes, "subsample",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 16, 8])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 4, 8])],
        inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)],
                             producer_name="hiddencost-fixtures", ir_version=8)


def qkv():
    """EfficientViT's qkv projection: one 1x1 conv 8->24 whose output a Split cuts in three
    (q, k, v), each into its own op. tract splits the conv into one kernel per Split output
    (`/qkv/Conv.split-over-1.0..8`, `.8..16`, `.16..24`), one of them named after q's fused ReLU.

    Input 1x8x16x16, output 1x24x16x16.
    """
    nodes = [
        conv("input", "qkv", "/qkv/Conv", "qkv.weight"),
        helper.make_node("Split", ["qkv", "sizes"], ["q", "k", "v"], name="/Split", axis=1),
        helper.make_node("Relu", ["q"], ["rq"], name="/q/Relu"),
        helper.make_node("Sigmoid", ["k"], ["rk"], name="/k/Sigmoid"),
        helper.make_node("Tanh", ["v"], ["rv"], name="/v/Tanh"),
        helper.make_node("Concat", ["rq", "rk", "rv"], ["output"], name="/Concat", axis=1),
    ]
    inits = [init("qkv.weight", 24, 8, 1, 1), const_i64("sizes", [8, 8, 8])]
    graph = helper.make_graph(
        nodes, "qkv",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 8, 16, 16])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 24, 16, 16])],
        inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)],
                             producer_name="hiddencost-fixtures", ir_version=8)


def int8(name, *shape):
    return numpy_helper.from_array(rng.integers(-127, 128, size=shape, dtype=np.int8), name)


def array(name, values, dtype):
    return numpy_helper.from_array(np.array(values, dtype=dtype), name)


def quantized(name, nodes, inits):
    graph = helper.make_graph(
        nodes, name,
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 8, 8, 8])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 10])],
        inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)],
                             producer_name="hiddencost-fixtures", ir_version=8)


def qdq():
    """onnxruntime's QDQ format: float ops between QuantizeLinear/DequantizeLinear pairs, int8
    weights (per output channel) and an int32 bias each behind a DequantizeLinear.

    Input 1x8x8x8: Q/DQ, conv 3x3 8->16 (pad 1), ReLU, Q/DQ, GlobalAveragePool, Flatten,
    MatMul 16->10 with a per-tensor int8 weight, float bias Add. 1,338 params (1,152 + 16 conv,
    160 + 10 linear), 73,888 MACs, none of them on integers: the convs compute in float.
    """
    nodes = [
        helper.make_node("QuantizeLinear", ["input", "x.s", "x.z"], ["xq"], name="in/q"),
        helper.make_node("DequantizeLinear", ["xq", "x.s", "x.z"], ["xd"], name="in/dq"),
        helper.make_node("DequantizeLinear", ["c.wq", "c.ws", "c.wz"], ["c.w"], name="c/w/dq",
                         axis=0),
        helper.make_node("DequantizeLinear", ["c.bq", "c.bs", "c.bz"], ["c.b"], name="c/b/dq",
                         axis=0),
        helper.make_node("Conv", ["xd", "c.w", "c.b"], ["c"], name="conv",
                         kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Relu", ["c"], ["r"], name="relu"),
        helper.make_node("QuantizeLinear", ["r", "x.s", "x.z"], ["rq"], name="r/q"),
        helper.make_node("DequantizeLinear", ["rq", "x.s", "x.z"], ["rd"], name="r/dq"),
        helper.make_node("GlobalAveragePool", ["rd"], ["gap"], name="gap"),
        helper.make_node("Flatten", ["gap"], ["flat"], name="flatten"),
        helper.make_node("DequantizeLinear", ["f.wq", "f.ws", "f.wz"], ["f.w"], name="fc/w/dq"),
        helper.make_node("MatMul", ["flat", "f.w"], ["mm"], name="fc"),
        helper.make_node("Add", ["mm", "f.b"], ["output"], name="fc/bias"),
    ]
    inits = [
        array("x.s", 0.05, np.float32), array("x.z", 0, np.int8),
        int8("c.wq", 16, 8, 3, 3),
        array("c.ws", rng.random(16) * 0.01 + 0.001, np.float32),
        array("c.wz", np.zeros(16), np.int8),
        array("c.bq", rng.integers(-1000, 1000, size=16), np.int32),
        array("c.bs", rng.random(16) * 1e-4, np.float32), array("c.bz", np.zeros(16), np.int32),
        int8("f.wq", 16, 10), array("f.ws", 0.01, np.float32), array("f.wz", 0, np.int8),
        init("f.b", 10),
    ]
    return quantized("qdq", nodes, inits)


def qoperator():
    """onnxruntime's QOperator format with standard ops only: QuantizeLinear (uint8), a
    QLinearConv 3x3 8->16 (int8 weights per channel, int32 bias), Reshape to 1x1024, a
    QLinearMatMul 1024->10, DequantizeLinear. 11,408 params, 83,968 MACs, all on 8-bit integers.
    """
    nodes = [
        helper.make_node("QuantizeLinear", ["input", "x.s", "x.z"], ["xq"], name="in/q"),
        helper.make_node("QLinearConv", ["xq", "x.s", "x.z", "c.wq", "c.ws", "c.wz", "y.s", "y.z",
                                         "c.bq"], ["c"], name="conv",
                         kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Reshape", ["c", "shape"], ["flat"], name="flatten"),
        helper.make_node("QLinearMatMul", ["flat", "y.s", "y.z", "f.wq", "f.ws", "f.wz", "o.s",
                                           "o.z"], ["mm"], name="fc"),
        helper.make_node("DequantizeLinear", ["mm", "o.s", "o.z"], ["output"], name="out/dq"),
    ]
    inits = [
        array("x.s", 0.05, np.float32), array("x.z", 128, np.uint8),
        int8("c.wq", 16, 8, 3, 3),
        array("c.ws", rng.random(16) * 0.01 + 0.001, np.float32),
        array("c.wz", np.zeros(16), np.int8),
        array("y.s", 0.1, np.float32), array("y.z", 128, np.uint8),
        array("c.bq", rng.integers(-1000, 1000, size=16), np.int32),
        int8("f.wq", 1024, 10), array("f.ws", 0.01, np.float32), array("f.wz", 0, np.int8),
        array("o.s", 0.2, np.float32), array("o.z", 128, np.uint8),
        const_i64("shape", [1, 1024]),
    ]
    return quantized("qoperator", nodes, inits)


def dynamic():
    """onnxruntime's dynamic quantization: DynamicQuantizeLinear of the activations, a
    ConvInteger 3x3 8->16 and a MatMulInteger 1024->10 on int8 weights, each followed by its
    Cast to float and the Mul by x_scale * w_scale. 11,408 params (1,152 + 16 float bias
    conv, 10,240 linear), 83,968 MACs, all on 8-bit integers.
    """
    nodes = [
        helper.make_node("DynamicQuantizeLinear", ["input"], ["xq", "xs", "xz"], name="in/dql"),
        helper.make_node("ConvInteger", ["xq", "c.wq", "xz", "c.wz"], ["ci"], name="conv",
                         kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("Cast", ["ci"], ["cf"], name="conv/cast", to=TensorProto.FLOAT),
        helper.make_node("Mul", ["xs", "c.ws"], ["cs"], name="conv/scale"),
        helper.make_node("Mul", ["cf", "cs"], ["cm"], name="conv/rescale"),
        helper.make_node("Add", ["cm", "c.b"], ["c"], name="conv/bias"),
        helper.make_node("Relu", ["c"], ["r"], name="relu"),
        helper.make_node("Reshape", ["r", "shape"], ["flat"], name="flatten"),
        helper.make_node("DynamicQuantizeLinear", ["flat"], ["fq", "fs", "fz"], name="fc/dql"),
        helper.make_node("MatMulInteger", ["fq", "f.wq", "fz", "f.wz"], ["mi"], name="fc"),
        helper.make_node("Cast", ["mi"], ["mf"], name="fc/cast", to=TensorProto.FLOAT),
        helper.make_node("Mul", ["fs", "f.ws"], ["fsc"], name="fc/scale"),
        helper.make_node("Mul", ["mf", "fsc"], ["output"], name="fc/rescale"),
    ]
    inits = [
        int8("c.wq", 16, 8, 3, 3), array("c.wz", 0, np.int8), array("c.ws", 0.01, np.float32),
        init("c.b", 1, 16, 1, 1),
        int8("f.wq", 1024, 10), array("f.wz", 0, np.int8), array("f.ws", 0.01, np.float32),
        const_i64("shape", [1, 1024]),
    ]
    return quantized("dynamic", nodes, inits)


def contrib():
    """onnxruntime's QOperator format with its contrib ops (domain `com.microsoft`), which tract
    does not run: QuantizeLinear, QLinearConv 3x3 8->16, QLinearAdd (a residual of the conv
    output with itself, named `add_quant` as onnxruntime names the nodes it quantizes),
    QLinearGlobalAveragePool, DequantizeLinear. Output 1x16x1x1.
    """
    ms = "com.microsoft"
    nodes = [
        helper.make_node("QuantizeLinear", ["input", "x.s", "x.z"], ["xq"], name="in/q"),
        helper.make_node("QLinearConv", ["xq", "x.s", "x.z", "c.wq", "c.ws", "c.wz", "y.s", "y.z"],
                         ["c"], name="conv", kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        helper.make_node("QLinearAdd", ["c", "y.s", "y.z", "c", "y.s", "y.z", "y.s", "y.z"],
                         ["a"], name="add_quant", domain=ms),
        helper.make_node("QLinearGlobalAveragePool", ["a", "y.s", "y.z", "y.s", "y.z"], ["g"],
                         name="gap", domain=ms, channels_last=0),
        helper.make_node("DequantizeLinear", ["g", "y.s", "y.z"], ["output"], name="out/dq"),
    ]
    inits = [
        array("x.s", 0.05, np.float32), array("x.z", 128, np.uint8),
        int8("c.wq", 16, 8, 3, 3), array("c.ws", 0.01, np.float32), array("c.wz", 0, np.int8),
        array("y.s", 0.1, np.float32), array("y.z", 128, np.uint8),
    ]
    graph = helper.make_graph(
        nodes, "contrib",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 8, 8, 8])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 16, 1, 1])],
        inits,
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13),
                                                   helper.make_opsetid(ms, 1)],
                             producer_name="hiddencost-fixtures", ir_version=8)


if __name__ == "__main__":
    save(tiny_cnn(1), "tiny_cnn.onnx")
    save(tiny_cnn("N"), "tiny_cnn_dynamic.onnx")
    save(shuffle(), "shuffle.onnx")
    model = unsupported()
    path = os.path.join(HERE, "unsupported_op.onnx")
    onnx.save(model, path)  # the checker rejects unknown domains' ops; tract must too
    print(f"wrote unsupported_op.onnx: {os.path.getsize(path)} bytes")
    data = open(os.path.join(HERE, "tiny_cnn.onnx"), "rb").read()
    with open(os.path.join(HERE, "truncated.onnx"), "wb") as f:
        f.write(data[: len(data) // 2])  # a copy cut short, as by a failed transfer
    print("wrote truncated.onnx")
    with open(os.path.join(HERE, "garbage.onnx"), "wb") as f:
        f.write(b"this is not a protobuf, just text someone renamed to .onnx\n")
    print("wrote garbage.onnx")
    # After the others: the generator's draws for the older fixtures stay the same.
    save(siblings(), "siblings.onnx")
    save(fire(), "fire.onnx")
    save(exported(), "exported.onnx")
    save(normalize(), "normalize.onnx")
    save(activations(), "activations.onnx")
    save(preact(), "preact.onnx")
    save(subsample(), "subsample.onnx")
    save(qkv(), "qkv.onnx")
    save(qdq(), "quant_qdq.onnx")
    save(qoperator(), "quant_qoperator.onnx")
    save(dynamic(), "quant_dynamic.onnx")
    model = contrib()
    path = os.path.join(HERE, "quant_contrib.onnx")
    onnx.save(model, path)  # the checker does not know onnxruntime's contrib ops either
    print(f"wrote quant_contrib.onnx: {os.path.getsize(path)} bytes")
