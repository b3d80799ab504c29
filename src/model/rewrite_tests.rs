//! Rewritten models (`crate::rewrite`) through the loading path `study` measures them by.

use super::*;
use crate::rewrite::{self, Rewrite};
use crate::zoo::{self, ZooOptions};
use tract_onnx::pb::ModelProto;

fn zoo_model(name: &str) -> ModelProto {
    zoo::build(
        name,
        &ZooOptions {
            seed: 7,
            fold_bn: false,
        },
    )
    .unwrap()
}

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
        let base = source(&zoo_model(name), name);
        let shapes = load_static(&base, None).unwrap().output_shapes;
        for (rewrite, _) in rewrite::sites(&zoo_model(name)) {
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
