//! The model zoo: the ten CIFAR-100 CNNs of the study, built in memory as ONNX graphs.
//!
//! Each network is written with a small graph builder (`builder`) after the CIFAR-100
//! definitions in the public repository weiaicunzai/pytorch-cifar100 (`models/*.py`), layer for
//! layer: same strides, paddings, groups, bias flags, pooling and in-place quirks. The result is
//! an ordinary `ModelProto` (opset 13, IR 7, input `input` float32 [1, 3, 32, 32], output
//! `output` [1, 100]) shaped like `torch.onnx.export`'s output, so it goes through exactly the
//! loading path of a user's file. Weights are pseudo-random from a seed, scaled like a trained
//! network's: the zoo measures speed, not accuracy. Published accuracy comes as metadata
//! ([`ZooInfo`]). See `docs/zoo.md`.
//!
//! Architecture invariant: this module knows protobuf, not tract and not the runner; it hands
//! out protos and bytes.

pub(crate) mod builder;
mod inception;
mod mobilenet;
pub(crate) mod proto;
mod resnet;
pub(crate) mod rng;
mod shufflenet;
mod vgg;
mod xception;

#[cfg(test)]
mod tests;

use builder::{GraphBuilder, Value};
use tract_onnx::pb::ModelProto;

/// The zoo's model names, in the order of the study (also the exported file stems).
pub const NAMES: [&str; 10] = [
    "vgg16",
    "inceptionv3",
    "inceptionv4",
    "resnet50",
    "seresnet50",
    "xception",
    "mobilenet",
    "mobilenetv2",
    "shufflenet",
    "shufflenetv2",
];

/// How to build a zoo model.
#[derive(Debug, Clone, Copy, Default)]
pub struct ZooOptions {
    /// Seed of the weights: the same seed gives byte-identical protos.
    pub seed: u64,
    /// Fold each BatchNorm into the convolution before it (the graph `torch.onnx.export` gives in
    /// eval mode). The default keeps BatchNormalization nodes, as the networks are defined.
    pub fold_bn: bool,
}

/// What the zoo knows about a model without building it.
#[derive(Debug, Clone)]
pub struct ZooInfo {
    /// Zoo name, e.g. `resnet50`.
    pub name: &'static str,
    /// Name for tables and plots, e.g. `ResNet50`.
    pub display_name: &'static str,
    /// Published CIFAR-100 top-1 error, in percent (pytorch-cifar100 README).
    pub top1_error: f64,
    /// Published CIFAR-100 top-5 error, in percent.
    pub top5_error: f64,
    /// The reference definition.
    pub reference: &'static str,
}

/// Counts the builder keeps while it emits a model.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ZooStats {
    /// Parameters of the PyTorch module (`sum(p.numel() for p in m.parameters())`), whatever
    /// `fold_bn` says.
    pub params: u64,
    /// MACs as thop 0.1.1 reports them for the PyTorch module. thop only sees modules, so
    /// functional calls (`F.adaptive_avg_pool2d`) count nothing; BatchNorm counts even when
    /// folded.
    pub macs_thop: u64,
    /// The same counting rules applied to every node of the emitted graph.
    pub macs_graph: u64,
}

/// Why a zoo model could not be built.
#[derive(Debug, Clone, thiserror::Error)]
pub enum ZooError {
    #[error(
        "unknown zoo model `{0}`; known: vgg16, inceptionv3, inceptionv4, resnet50, seresnet50, \
         xception, mobilenet, mobilenetv2, shufflenet, shufflenetv2"
    )]
    Unknown(String),
    /// A definition does not fit together (a bug in the zoo, not in the caller's input).
    #[error(
        "zoo model `{model}` is inconsistent at `{at}`: {reason} (a hiddencost bug; please report it)"
    )]
    Graph {
        model: &'static str,
        at: String,
        reason: String,
    },
}

type BuildFn = fn(&mut GraphBuilder, Value) -> Result<Value, ZooError>;

const fn entry(
    name: &'static str,
    display_name: &'static str,
    top1_error: f64,
    top5_error: f64,
    reference: &'static str,
    build: BuildFn,
) -> (ZooInfo, BuildFn) {
    (
        ZooInfo {
            name,
            display_name,
            top1_error,
            top5_error,
            reference,
        },
        build,
    )
}

/// Errors are the README table of weiaicunzai/pytorch-cifar100 (CIFAR-100 test set, 200 epochs).
const ZOO: [(ZooInfo, BuildFn); 10] = [
    entry(
        "vgg16",
        "VGG16",
        27.07,
        8.84,
        "weiaicunzai/pytorch-cifar100 models/vgg.py vgg16_bn()",
        vgg::vgg16_bn,
    ),
    entry(
        "inceptionv3",
        "InceptionV3",
        22.81,
        6.39,
        "weiaicunzai/pytorch-cifar100 models/inceptionv3.py inceptionv3()",
        inception::inception_v3,
    ),
    entry(
        "inceptionv4",
        "InceptionV4",
        24.14,
        6.90,
        "weiaicunzai/pytorch-cifar100 models/inceptionv4.py inceptionv4()",
        inception::inception_v4,
    ),
    entry(
        "resnet50",
        "ResNet50",
        22.61,
        6.04,
        "weiaicunzai/pytorch-cifar100 models/resnet.py resnet50()",
        resnet::resnet50,
    ),
    entry(
        "seresnet50",
        "SEResNet50",
        21.42,
        5.58,
        "weiaicunzai/pytorch-cifar100 models/senet.py seresnet50()",
        resnet::seresnet50,
    ),
    entry(
        "xception",
        "Xception",
        25.07,
        7.32,
        "weiaicunzai/pytorch-cifar100 models/xception.py xception()",
        xception::xception,
    ),
    entry(
        "mobilenet",
        "MobileNet",
        34.02,
        10.56,
        "weiaicunzai/pytorch-cifar100 models/mobilenet.py mobilenet()",
        mobilenet::mobilenet,
    ),
    entry(
        "mobilenetv2",
        "MobileNetV2",
        31.92,
        9.02,
        "weiaicunzai/pytorch-cifar100 models/mobilenetv2.py mobilenetv2()",
        mobilenet::mobilenet_v2,
    ),
    entry(
        "shufflenet",
        "ShuffleNet",
        29.94,
        8.35,
        "weiaicunzai/pytorch-cifar100 models/shufflenet.py shufflenet()",
        shufflenet::shufflenet,
    ),
    entry(
        "shufflenetv2",
        "ShuffleNetV2",
        30.49,
        8.49,
        "weiaicunzai/pytorch-cifar100 models/shufflenetv2.py shufflenetv2()",
        shufflenet::shufflenet_v2,
    ),
];

fn lookup(name: &str) -> Option<&'static (ZooInfo, BuildFn)> {
    ZOO.iter()
        .find(|(info, _)| info.name.eq_ignore_ascii_case(name.trim()))
}

/// Metadata of one model; `None` if `name` is not in [`NAMES`] (case-insensitive).
pub fn info(name: &str) -> Option<ZooInfo> {
    lookup(name).map(|(info, _)| info.clone())
}

/// Metadata of all ten, in [`NAMES`] order.
pub fn all() -> Vec<ZooInfo> {
    ZOO.iter().map(|(info, _)| info.clone()).collect()
}

/// Builds a model's ONNX proto.
pub fn build(name: &str, opts: &ZooOptions) -> Result<ModelProto, ZooError> {
    build_with_stats(name, opts).map(|(proto, _)| proto)
}

/// Builds a model's ONNX proto and returns the builder's counts with it.
pub fn build_with_stats(name: &str, opts: &ZooOptions) -> Result<(ModelProto, ZooStats), ZooError> {
    let (info, build_fn) = lookup(name).ok_or_else(|| ZooError::Unknown(name.to_string()))?;
    let mut b = GraphBuilder::new(info.name, opts);
    let input = b.input();
    let output = build_fn(&mut b, input)?;
    let doc = format!(
        "{} for CIFAR-100 after {}, built by hiddencost's zoo with seeded random weights \
         (for speed measurements, not accuracy)",
        info.display_name, info.reference
    );
    b.finish(output, &doc)
}

/// Serializes a proto to ONNX file bytes.
pub fn to_bytes(proto: &ModelProto) -> Vec<u8> {
    prost::Message::encode_to_vec(proto)
}
