//! Operators tract cannot run: which they are, what to do instead (quantized contrib operators
//! have a standard form tract runs), and the static cost of the rest of the model.

use super::{ModelError, StaticModel};
use crate::cost;
use tract_hir::internal::*;
use tract_onnx::prelude::InferenceModel;

/// One operator tract cannot run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnsupportedOp {
    pub op_type: String,
    pub node: String,
}

/// The nodes of `inf` whose operator tract-onnx does not know.
pub(super) fn find(inf: &InferenceModel) -> Vec<UnsupportedOp> {
    inf.nodes()
        .iter()
        .filter_map(|n| {
            n.op_as::<tract_hir::ops::unimpl::UnimplementedOp>()
                .map(|op| UnsupportedOp {
                    op_type: op
                        .name()
                        .trim_start_matches("Unimplemented(")
                        .trim_end_matches(')')
                        .to_string(),
                    node: n.name.clone(),
                })
        })
        .collect()
}

/// Whether an op is one of onnxruntime's quantized contrib operators (the QOperator format's
/// `com.microsoft` ops: QLinearAdd, QLinearGlobalAveragePool, QGemm, QAttention, ...).
fn is_quantized_contrib(op_type: &str) -> bool {
    ["QLinear", "QGemm", "QAttention", "QOrdered"]
        .iter()
        .any(|p| op_type.starts_with(p))
        || op_type.contains("Quantize")
        || op_type.contains("IntegerToFloat")
}

/// The error for `ops`, with what to do about them.
pub(super) fn error(model: &str, ops: &[UnsupportedOp]) -> ModelError {
    let list = ops
        .iter()
        .map(|o| format!("`{}` (node `{}`)", o.op_type, o.node))
        .collect::<Vec<_>>()
        .join(", ");
    // onnxruntime's quantizer names a node it quantized after the float one, plus `_quant`;
    // `nodes_to_exclude` takes the float model's names.
    let quantized: Vec<&str> = ops
        .iter()
        .filter(|o| is_quantized_contrib(&o.op_type))
        .map(|o| o.node.strip_suffix("_quant").unwrap_or(&o.node))
        .collect();
    let hint = if quantized.is_empty() {
        "`hiddencost cost` still shows the cost of the other ops".to_string()
    } else {
        format!(
            "{} of them are onnxruntime's quantized operators (the QOperator format): quantize \
             in the QDQ format instead (onnxruntime.quantization.quantize_static(..., \
             quant_format=QuantFormat.QDQ)), which tract runs, or keep these nodes in fp32 \
             (nodes_to_exclude={:?}); `hiddencost cost` still shows the cost of the other ops",
            if quantized.len() == ops.len() {
                "all".to_string()
            } else {
                quantized.len().to_string()
            },
            quantized
        )
    };
    ModelError::Unsupported {
        model: model.to_string(),
        ops: list,
        hint,
    }
}

/// The static cost of a model some of whose operators tract cannot run: the nodes whose
/// shapes tract could still infer (those before the unsupported ops, and any not fed by
/// them), and the names of the others, whose costs are left at 0.
pub struct PartialCost {
    pub model: StaticModel,
    pub unknown: Vec<String>,
}

/// [`PartialCost`] of `src`; errors other than unsupported operators are returned as such.
pub fn load_static_partial(
    src: &super::ModelSource,
    input_shape: Option<&[usize]>,
) -> Result<PartialCost, ModelError> {
    let (inf, mut model) = super::analysed_as(src, input_shape, None, false)?;
    let mut unknown = Vec::new();
    for s in &mut model.sources {
        let known = inf.node_by_name(&s.name).is_ok_and(|n| {
            n.outputs.iter().all(|o| {
                o.fact.shape.as_concrete_finite().ok().flatten().is_some()
                    && o.fact.datum_type.concretize().is_some()
            })
        });
        if !known {
            s.cost = Default::default();
            unknown.push(s.name.clone());
        }
    }
    model.totals = cost::sum(model.sources.iter().map(|s| &s.cost));
    Ok(PartialCost { model, unknown })
}
