//! From a decoded ONNX proto to tract's analysed inference model: parsed, checked before and
//! after (`preflight`), its input shape fixed.

use super::failure::{self, Stage};
use super::{ModelError, preflight, unsupported};
use tract_hir::internal::*;
use tract_onnx::pb;
use tract_onnx::prelude::{InferenceFact, InferenceModel, InferenceModelExt};

/// Parses the ONNX graph and fixes its input shape, then analyses it. Checked before and
/// after (see `preflight`): `memory_bytes` is what the model's tensors must fit in to run it
/// (`None`: only counts that overflow are refused, and constant shapes against the memory
/// the machine has, since tract folds those while loading).
pub fn inference_model(
    proto: &pb::ModelProto,
    model: &str,
    model_dir: Option<&std::path::Path>,
    input_shape: Option<&[usize]>,
    memory_bytes: Option<u64>,
) -> Result<InferenceModel, ModelError> {
    inference(proto, model, model_dir, input_shape, memory_bytes, true)
}

/// [`inference_model`]; with `whole` false, unsupported operators are kept (tract infers no
/// facts for them) and a failed shape inference keeps the facts it reached.
pub(super) fn inference(
    proto: &pb::ModelProto,
    model: &str,
    model_dir: Option<&std::path::Path>,
    input_shape: Option<&[usize]>,
    memory_bytes: Option<u64>,
    whole: bool,
) -> Result<InferenceModel, ModelError> {
    let tract = |what: &'static str| {
        let model = model.to_string();
        move |cause: anyhow::Error| ModelError::Tract { model, what, cause }
    };
    let refused = |reason: preflight::Refusal| ModelError::Refused {
        model: model.to_string(),
        reason,
    };
    let memory_now = crate::context::memory_available_bytes();
    preflight::graph(proto, memory_now).map_err(refused)?;
    preflight::tensor_data(proto, model_dir, memory_now).map_err(refused)?;
    // The folder external data is read from (tract checks the locations again).
    let dir =
        match model_dir {
            Some(d) => Some(d.to_str().ok_or_else(|| {
                refused(preflight::Refusal::FolderNotUtf8(d.display().to_string()))
            })?),
            None => None,
        };
    let parsed = tract_onnx::onnx()
        .parse(proto, dir)
        .map_err(tract("parsing"))?;
    if !parsed.unresolved_inputs.is_empty() {
        return Err(refused(preflight::Refusal::Unresolved(
            parsed.unresolved_inputs.join(", "),
        )));
    }
    let mut inf = parsed.model;
    let unsupported = unsupported::find(&inf);
    if whole && !unsupported.is_empty() {
        return Err(unsupported::error(model, &unsupported));
    }
    let inputs = inf.input_outlets().map_err(tract("inputs"))?.to_vec();
    for (ix, outlet) in inputs.iter().enumerate() {
        let fact = inf.outlet_fact(*outlet).map_err(tract("inputs"))?.clone();
        let dt = fact.datum_type.concretize().unwrap_or(f32::datum_type());
        let shape: Vec<usize> = match (ix, input_shape) {
            (0, Some(shape)) => {
                if shape
                    .iter()
                    .try_fold(1usize, |a, &d| a.checked_mul(d))
                    .is_none()
                {
                    return Err(refused(preflight::Refusal::InputShapeOverflow {
                        shape: shape.to_vec(),
                        input: inf.node(outlet.node).name.clone(),
                    }));
                }
                preflight::input_rank(proto, &inf.node(outlet.node).name, shape)
                    .map_err(refused)?;
                shape.to_vec()
            }
            _ => match fact.shape.as_concrete_finite().ok().flatten() {
                Some(s) => s.to_vec(),
                None => {
                    return Err(ModelError::DynamicShape {
                        model: model.into(),
                        input: inf.node(outlet.node).name.clone(),
                        shape: format!("{:?}", fact.shape),
                    });
                }
            },
        };
        if shape.contains(&0) {
            let dims: Vec<i64> = shape.iter().map(|&d| d as i64).collect();
            return Err(refused(preflight::empty_input(
                &inf.node(outlet.node).name,
                &dims,
            )));
        }
        inf.set_outlet_fact(*outlet, InferenceFact::dt_shape(dt, shape))
            .map_err(tract("setting the input shape"))?;
    }
    // A failure or a panic deep in tract's rules is explained from the facts it reached.
    let analysed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| inf.analyse(false)));
    match analysed {
        Ok(Ok(_)) => {}
        Ok(Err(_)) if !whole => {}
        Ok(Err(e)) => {
            return Err(match preflight::diagnose(proto, &inf) {
                Some(reason) => refused(reason),
                None if input_shape.is_some() && inputs.len() > 1 => {
                    refused(other_inputs(&inf, &inputs, &e))
                }
                None => {
                    let shapes = |name: &str| input_shapes(&inf, name);
                    match failure::OnnxNodes::of_proto(proto, shapes).failure(&e, Stage::Inference)
                    {
                        Some(failure) => ModelError::Node {
                            model: model.to_string(),
                            failure: Box::new(failure),
                        },
                        None => tract("shape inference")(e),
                    }
                }
            });
        }
        Err(panic) => match preflight::diagnose(proto, &inf) {
            Some(reason) => return Err(refused(reason)),
            None => std::panic::resume_unwind(panic),
        },
    }
    preflight::types(proto, &inf).map_err(refused)?;
    preflight::shapes(proto, &inf, memory_bytes).map_err(refused)?;
    Ok(inf)
}

/// A shape inference failure of a model with several inputs whose first one `--input-shape`
/// set: which inputs kept which shape, and the node where they met.
fn other_inputs(
    inf: &InferenceModel,
    inputs: &[OutletId],
    cause: &anyhow::Error,
) -> preflight::Refusal {
    let name = |o: &OutletId| inf.node(o.node).name.clone();
    let others = inputs[1..]
        .iter()
        .map(|o| {
            let shape = inf
                .outlet_fact(*o)
                .ok()
                .and_then(|f| f.shape.as_concrete_finite().ok().flatten())
                .map_or("unknown".to_string(), |s| format!("{:?}", s.as_slice()));
            format!("`{}` {shape}", name(o))
        })
        .collect::<Vec<_>>()
        .join(", ");
    // tract names the node it stopped at: `Failed analyse for node #2 "cat" ...`.
    let text = format!("{cause:#}");
    let at = text
        .split_once("node #")
        .and_then(|(_, rest)| rest.split('"').nth(1))
        .map(|n| format!(" at node `{n}`"))
        .unwrap_or_default();
    preflight::Refusal::OtherInputs {
        first: name(&inputs[0]),
        others,
        at,
    }
}

/// The shapes of the inputs of node `name` as far as shape inference reached (`1x4`, `unknown`).
fn input_shapes(inf: &InferenceModel, name: &str) -> Vec<String> {
    let Ok(node) = inf.node_by_name(name) else {
        return Vec::new();
    };
    node.inputs
        .iter()
        .map(|o| {
            let dims = inf
                .outlet_fact(*o)
                .ok()
                .and_then(|f| f.shape.as_concrete_finite().ok().flatten());
            dims.map_or("unknown".to_string(), |d| failure::dims(&d))
        })
        .collect()
}
