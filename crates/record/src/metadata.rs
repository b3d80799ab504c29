//! A model record's `metadata`: where a zoo model or a design probe comes from, typed. In the
//! JSON line it is one flat object (docs/records.md, "metadata"): the zoo's keys, the sweep's
//! `sweep.*` keys and `seed` side by side; keys this version does not know are kept as they are.

#[cfg(test)]
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Facts about a model beyond its measurement.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(JsonSchema))]
pub struct Metadata {
    /// A network of the built-in zoo: its published accuracy and reference counts.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub zoo: Option<ZooMetadata>,
    /// Published top-1 and top-5 error, percent (a zoo network's; `--accuracy` gives others').
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top1_error: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top5_error: Option<f64>,
    /// A design probe of `hiddencost sweep`.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub sweep: Option<SweepMetadata>,
    /// A model measured with one rewrite of its graph (`study`, `advise`).
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    pub rewrite: Option<RewriteMetadata>,
    /// Seed of the generated weights (zoo models and design probes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Keys of another tool or a later version, kept as they were read.
    #[serde(flatten)]
    pub other: BTreeMap<String, serde_json::Value>,
}

impl Metadata {
    pub fn is_empty(&self) -> bool {
        self.zoo.is_none()
            && self.top1_error.is_none()
            && self.top5_error.is_none()
            && self.sweep.is_none()
            && self.rewrite.is_none()
            && self.seed.is_none()
            && self.other.is_empty()
    }
}

/// A zoo network (docs/zoo.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(JsonSchema))]
pub struct ZooMetadata {
    /// Its zoo name, e.g. `resnet50`.
    pub zoo: String,
    pub display_name: String,
    /// Where the architecture and the errors come from.
    pub reference: String,
    /// Parameters and thop MACs of the reference PyTorch module.
    pub pytorch_params: u64,
    pub pytorch_thop_macs: u64,
    /// Whether BatchNorm was folded into the convolutions (exporter style).
    pub fold_bn: bool,
}

/// Whether a design probe is a variant of a design family or a single-kernel probe.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(test, derive(JsonSchema))]
#[serde(rename_all = "lowercase")]
pub enum ProbeKind {
    /// Variants at matched MACs that differ in one design choice.
    Design,
    /// One op at a sampled shape (what the kernel model is fitted on).
    Kernel,
}

impl ProbeKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ProbeKind::Design => "design",
            ProbeKind::Kernel => "kernel",
        }
    }
}

/// A design probe of `hiddencost sweep` (docs/records.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(JsonSchema))]
pub struct SweepMetadata {
    /// The family, e.g. `conv_type` (or `kernels` for the single-kernel probes).
    #[serde(rename = "sweep.family")]
    pub family: String,
    #[serde(rename = "sweep.kind")]
    pub kind: ProbeKind,
    /// The variant, unique within its family, e.g. `grouped_g4`.
    #[serde(rename = "sweep.variant")]
    pub variant: String,
    /// Whether the variant is its family's baseline (one variant per design family).
    #[serde(rename = "sweep.baseline")]
    pub baseline: bool,
    /// The design choice in words, e.g. `grouped 3x3, g = 4`.
    #[serde(rename = "sweep.choice")]
    pub choice: String,
    /// The size parameters, e.g. `c=64 h=16 w=16 k=3 g=4`.
    #[serde(rename = "sweep.params")]
    pub params: String,
    /// The family baseline's MACs, which the variant matches within 2% (design families only).
    #[serde(
        rename = "sweep.macs_target",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    pub macs_target: Option<u64>,
    /// The ONNX op a kernel probe is about, e.g. `Resize` (kernel probes only).
    #[serde(rename = "sweep.op", default, skip_serializing_if = "Option::is_none")]
    pub op: Option<String>,
}

/// A model measured with one rewrite of its graph, beside the model as it is (docs/records.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(test, derive(JsonSchema))]
pub struct RewriteMetadata {
    /// The rewrite: `as-is` and `as-is-after` (the model measured again before and after its
    /// rewrites, the reference their savings are taken against), `relu`, `max-pool`,
    /// `global-max-pool`, `fold-bn`, `no-shuffle` or `int8` (the model in onnxruntime's QDQ
    /// int8 format, measured with `study --int8`).
    #[serde(rename = "rewrite")]
    pub rewrite: String,
    /// The `model` name of the model it rewrites.
    #[serde(rename = "rewrite.of")]
    pub of: String,
    /// How many places of the graph it changed (0 for the as-is runs).
    #[serde(rename = "rewrite.places")]
    pub places: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_flat_object_read_back_as_written() {
        let line = r#"{"zoo":"resnet50","display_name":"ResNet50","top1_error":22.61,
            "top5_error":6.27,"reference":"pytorch-cifar100","pytorch_params":23705252,
            "pytorch_thop_macs":1305719808,"fold_bn":false,"seed":0,"from":"elsewhere"}"#;
        let m: Metadata = serde_json::from_str(line).unwrap();
        let zoo = m.zoo.as_ref().unwrap();
        assert_eq!((zoo.zoo.as_str(), m.top1_error), ("resnet50", Some(22.61)));
        assert_eq!((m.sweep.as_ref(), m.seed), (None, Some(0)));
        assert_eq!(m.other["from"], "elsewhere", "an unknown key is kept");
        assert!(
            !m.other.contains_key("zoo"),
            "a known key is not kept twice"
        );
        let again: Metadata = serde_json::from_str(&serde_json::to_string(&m).unwrap()).unwrap();
        assert_eq!(again, m);

        let line = r#"{"sweep.family":"conv_type","sweep.kind":"design","sweep.variant":"g4",
            "sweep.baseline":false,"sweep.choice":"grouped","sweep.params":"c=64",
            "sweep.macs_target":1000,"seed":3}"#;
        let m: Metadata = serde_json::from_str(line).unwrap();
        let sweep = m.sweep.as_ref().unwrap();
        assert_eq!(
            (sweep.kind, sweep.macs_target),
            (ProbeKind::Design, Some(1000))
        );
        assert!(m.zoo.is_none() && m.other.is_empty());
        let text = serde_json::to_string(&m).unwrap();
        assert!(!text.contains("sweep.op"), "{text}");

        let empty: Metadata = serde_json::from_str("{}").unwrap();
        assert!(empty.is_empty());
    }
}
