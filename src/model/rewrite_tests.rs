//! Rewritten models (`crate::rewrite`) through the loading path `study` measures them by.

use super::*;
use crate::rewrite::tests::zoo_model;
use crate::rewrite::{self, Rewrite};
use crate::zoo;
use tract_onnx::pb::ModelProto;

fn source(proto: &ModelProto, name: &str) -> ModelSource {
    ModelSource::Bytes {
        name: name.into(),
        source: name.into(),
        bytes: Arc::new(zoo::to_bytes(proto)),
    }
}

/// Every rewrite of the two smallest zoo networks loads in tract with the output shape of the
/// original, through the source that `study` measures.
#[test]
fn rewritten_models_load_with_their_shapes() {
    for name in ["mobilenetv2", "shufflenetv2"] {
        let base = source(&zoo_model(name, false), name);
        let shapes = load_static(&base, None).unwrap().output_shapes;
        for (rewrite, _) in rewrite::sites(&zoo_model(name, false)) {
            let src = ModelSource::Rewritten {
                base: Box::new(base.clone()),
                rewrite,
            };
            assert_eq!(src.name(), format!("{name}+{}", rewrite.as_str()));
            let st = load_static(&src, None).unwrap();
            assert_eq!(st.output_shapes, shapes, "{}", src.name());
        }
        let src = ModelSource::Rewritten {
            base: Box::new(base.clone()),
            rewrite: Rewrite::Relu,
        };
        if name == "shufflenetv2" {
            let err = load_static(&src, None).err().unwrap().to_string();
            assert!(
                err.ends_with("finds nothing to change in this graph"),
                "{err}"
            );
        }
    }
}

/// The int8 form of zoo network `name` loads in tract with the outputs of the fp32 form, the
/// same params (a DequantizeLinear of an int8 weight stands for the float parameter) and the
/// same MACs (QDQ convs compute in float); its quantize ops are the pairs and the weights' and
/// biases' DequantizeLinear.
fn int8_form_matches_fp32(name: &str) {
    let proto = zoo_model(name, false);
    let base = source(&proto, name);
    let fp32 = load_static(&base, None).unwrap();
    let src = ModelSource::Rewritten {
        base: Box::new(base),
        rewrite: Rewrite::Int8,
    };
    assert_eq!(src.name(), format!("{name}+int8"));
    let int8 = load_static(&src, None).unwrap();
    assert_eq!(int8.output_shapes, fp32.output_shapes, "{name}");
    assert_eq!(int8.totals.params, fp32.totals.params, "{name}");
    assert_eq!(int8.totals.macs, fp32.totals.macs, "{name}");
    let mut rewritten = proto.clone();
    let quantized = rewrite::apply(&mut rewritten, Rewrite::Int8);
    let g = rewritten.graph.as_ref().unwrap();
    let count = |op: &str| g.node.iter().filter(|n| n.op_type == op).count();
    let quantize = int8
        .sources
        .iter()
        .filter(|s| s.category == "quantize")
        .count();
    assert_eq!(
        quantize,
        count("QuantizeLinear") + count("DequantizeLinear")
    );
    assert!(quantize > 2 * quantized, "{name}: {quantize} quantize ops");
}

#[test]
fn int8_mobilenet() {
    int8_form_matches_fp32("mobilenet");
}
#[test]
fn int8_mobilenetv2() {
    int8_form_matches_fp32("mobilenetv2");
}
#[test]
fn int8_shufflenet() {
    int8_form_matches_fp32("shufflenet");
}
#[test]
fn int8_shufflenetv2() {
    int8_form_matches_fp32("shufflenetv2");
}
#[test]
#[ignore = "heavy tier: bash tests/run.sh heavy"]
fn int8_vgg16() {
    int8_form_matches_fp32("vgg16");
}
#[test]
#[ignore = "heavy tier: bash tests/run.sh heavy"]
fn int8_inceptionv3() {
    int8_form_matches_fp32("inceptionv3");
}
#[test]
#[ignore = "heavy tier: bash tests/run.sh heavy"]
fn int8_inceptionv4() {
    int8_form_matches_fp32("inceptionv4");
}
#[test]
#[ignore = "heavy tier: bash tests/run.sh heavy"]
fn int8_resnet50() {
    int8_form_matches_fp32("resnet50");
}
#[test]
#[ignore = "heavy tier: bash tests/run.sh heavy"]
fn int8_seresnet50() {
    int8_form_matches_fp32("seresnet50");
}
#[test]
#[ignore = "heavy tier: bash tests/run.sh heavy"]
fn int8_xception() {
    int8_form_matches_fp32("xception");
}
