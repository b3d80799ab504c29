//! Loading an ONNX model with tract-onnx: bytes -> protobuf -> inference model with a fixed input
//! shape -> static cost of every source node -> typed model optimized to the requested level ->
//! runnable plan, plus the map from every executed node back to its source ONNX node.
//!
//! Translate time vs run time: everything here happens once per model, before any measurement.

mod failure;
mod inference;
mod preflight;
mod sources;
mod unsupported;

pub use failure::{NodeFailure, OnnxNodes, Stage, Why};
use inference::inference;
pub use inference::inference_model;
pub use preflight::bytes_text;
use sources::shape_of;
pub use sources::source_nodes;
pub use unsupported::{PartialCost, load_static_partial};

pub use crate::cost::ExecNode;
use crate::cost::{self, SourceNode};
use crate::record::Cost;
use crate::rewrite::Rewrite;
use prost::Message;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use tract_hir::internal::*;
use tract_onnx::pb;
use tract_onnx::prelude::{InferenceModel, InferenceModelExt};

/// tract version this build links (the crates are pinned with `=` in Cargo.toml).
pub const TRACT_VERSION: &str = "0.23.9";

/// How far tract transforms the graph before running it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Optimize {
    /// Typed translation only: every source op runs on its own, like PyTorch eager.
    None,
    /// Plus tract's decluttering (shape ops folded, BN folded where it can).
    Declutter,
    /// Plus codegen: the kernels tract really uses in production (default).
    Full,
}

impl Optimize {
    /// The next lower level, tried when tract fails at this one.
    pub fn lower(self) -> Option<Optimize> {
        match self {
            Optimize::Full => Some(Optimize::Declutter),
            Optimize::Declutter => Some(Optimize::None),
            Optimize::None => None,
        }
    }

    pub fn as_str(&self) -> &'static str {
        match self {
            Optimize::None => "none",
            Optimize::Declutter => "declutter",
            Optimize::Full => "full",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    #[error("{path}: cannot read: {cause}")]
    Read { path: String, cause: std::io::Error },
    #[error("{path}: not a valid ONNX file (protobuf decoding failed: {cause}); is it truncated?")]
    Decode {
        path: String,
        cause: prost::DecodeError,
    },
    #[error(
        "{path}: nested deeper than the 100 levels the protobuf decoder reads (graphs inside \
         If, Loop or Scan bodies inside others); the file may be whole, but it cannot be read: \
         flatten the model's control flow"
    )]
    TooDeep { path: String },
    #[error("{model}: unsupported ONNX operator(s) for tract {TRACT_VERSION}: {ops}; {hint}")]
    Unsupported {
        model: String,
        ops: String,
        hint: String,
    },
    #[error(
        "{model}: input `{input}` has a dynamic shape {shape}; pass --input-shape, e.g. --input-shape 1,3,32,32"
    )]
    DynamicShape {
        model: String,
        input: String,
        shape: String,
    },
    /// Refused before tract could panic or the process abort on it (see `preflight`).
    #[error("{model}: {reason}")]
    Refused {
        model: String,
        reason: preflight::Refusal,
    },
    #[error("{model}: the rewrite `{rewrite}` finds nothing to change in this graph")]
    NothingToRewrite {
        model: String,
        rewrite: &'static str,
    },
    /// tract failed at a node of the model, said in the model's terms.
    #[error("{model}: {failure}")]
    Node {
        model: String,
        failure: Box<NodeFailure>,
    },
    #[error("{model}: {what}: {cause:#}")]
    Tract {
        model: String,
        what: &'static str,
        cause: anyhow::Error,
    },
}

/// Where a model comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelSource {
    Path(PathBuf),
    /// Bytes built in memory (the zoo), with the name the records use.
    Bytes {
        name: String,
        source: String,
        bytes: Arc<Vec<u8>>,
    },
    /// Another source with one rewrite of its graph (`resnet50+fold-bn`), applied when read.
    Rewritten {
        base: Box<ModelSource>,
        rewrite: Rewrite,
    },
}

impl ModelSource {
    /// Short model name used in records: the file stem, or the zoo name.
    pub fn name(&self) -> String {
        match self {
            ModelSource::Path(p) => p
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
            ModelSource::Bytes { name, .. } => name.clone(),
            ModelSource::Rewritten { base, rewrite } => {
                format!("{}+{}", base.name(), rewrite.as_str())
            }
        }
    }

    /// What the user named: the path as given, or `zoo:NAME`.
    pub fn label(&self) -> String {
        match self {
            ModelSource::Path(p) => p.display().to_string(),
            ModelSource::Bytes { source, .. } => source.clone(),
            ModelSource::Rewritten { base, rewrite } => {
                format!("{}+{}", base.label(), rewrite.as_str())
            }
        }
    }

    /// The folder a model file's external data is read from (`None`: built in memory).
    fn folder(&self) -> Option<&std::path::Path> {
        match self {
            ModelSource::Path(p) => Some(p.parent().unwrap_or(std::path::Path::new(""))),
            ModelSource::Bytes { .. } => None,
            ModelSource::Rewritten { base, .. } => base.folder(),
        }
    }
}

/// A model ready to run: its static description, its plan, an input, and the executed nodes.
pub struct LoadedModel {
    pub info: StaticModel,
    /// The `--optimize` level the plan was built at: the one asked for, or a lower one when
    /// tract failed at it (`fallback` says why).
    pub optimize: Optimize,
    /// Why the asked level was given up, one line per level that failed (`None`: it was not).
    pub fallback: Option<String>,
    /// Executed nodes in execution order.
    pub exec: Vec<ExecNode>,
    pub plan: Arc<TypedSimplePlan>,
    pub inputs: TVec<TValue>,
}

/// Reads and decodes the protobuf.
pub fn read_proto(src: &ModelSource) -> Result<pb::ModelProto, ModelError> {
    let label = src.label();
    let decoded = match src {
        ModelSource::Path(p) => {
            let read_err = |cause| ModelError::Read {
                path: label.clone(),
                cause,
            };
            // A FIFO or a device would block the read (forever, for a FIFO nobody writes).
            let meta = std::fs::metadata(p).map_err(read_err)?;
            if !meta.is_file() {
                let kind = crate::sink::file_kind(&meta);
                let what = format!("{kind}, not a regular file");
                return Err(read_err(std::io::Error::new(
                    std::io::ErrorKind::InvalidInput,
                    what,
                )));
            }
            let bytes = std::fs::read(p).map_err(read_err)?;
            pb::ModelProto::decode(bytes.as_slice())
        }
        ModelSource::Bytes { bytes, .. } => pb::ModelProto::decode(bytes.as_slice()),
        ModelSource::Rewritten { base, rewrite } => {
            let mut proto = read_proto(base)?;
            if rewrite.changes() && crate::rewrite::apply(&mut proto, *rewrite) == 0 {
                return Err(ModelError::NothingToRewrite {
                    model: label,
                    rewrite: rewrite.as_str(),
                });
            }
            return Ok(proto);
        }
    };
    let proto = decoded.map_err(|cause| {
        if cause.to_string().contains("recursion limit reached") {
            ModelError::TooDeep {
                path: label.clone(),
            }
        } else {
            ModelError::Decode {
                path: label.clone(),
                cause,
            }
        }
    })?;
    if proto
        .graph
        .as_ref()
        .is_none_or(|g| g.node.is_empty() && g.output.is_empty())
    {
        // An empty or foreign protobuf can decode "successfully" into an empty model.
        return Err(ModelError::Tract {
            model: label,
            what: "not an ONNX model",
            cause: anyhow::anyhow!("the protobuf holds no graph (no nodes, no outputs)"),
        });
    }
    Ok(proto)
}

fn typed(inf: InferenceModel, optimize: Optimize) -> TractResult<TypedModel> {
    let typed = inf.into_typed()?;
    Ok(match optimize {
        Optimize::None => typed,
        Optimize::Declutter => typed.into_decluttered()?,
        Optimize::Full => typed.into_optimized()?,
    })
}

/// Deterministic input: values in [-1, 1) from a fixed LCG, so runs are comparable.
fn make_input(fact: &TypedFact) -> TractResult<TValue> {
    let shape = fact
        .shape
        .as_concrete()
        .context("input shape is not concrete")?
        .to_vec();
    let len: usize = shape.iter().product();
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let values: Vec<f32> = (0..len)
        .map(|_| {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            ((state >> 40) as f32 / (1u64 << 24) as f32) * 2.0 - 1.0
        })
        .collect();
    let t = tract_ndarray::ArrayD::from_shape_vec(shape, values)?.into_tensor();
    Ok(t.cast_to_dt(fact.datum_type)?.into_owned().into_tvalue())
}

/// A model's static description: what `hiddencost cost` prints, no run needed.
pub struct StaticModel {
    pub name: String,
    pub source: String,
    pub input_shape: Vec<usize>,
    pub output_shapes: Vec<Vec<usize>>,
    pub sources: Vec<SourceNode>,
    pub totals: Cost,
}

fn analysed(
    src: &ModelSource,
    input_shape: Option<&[usize]>,
    memory_bytes: Option<u64>,
) -> Result<(InferenceModel, StaticModel), ModelError> {
    analysed_as(src, input_shape, memory_bytes, true)
}

/// [`analysed`]; `whole` false keeps unsupported operators (see [`inference`]).
fn analysed_as(
    src: &ModelSource,
    input_shape: Option<&[usize]>,
    memory_bytes: Option<u64>,
    whole: bool,
) -> Result<(InferenceModel, StaticModel), ModelError> {
    let label = src.label();
    let proto = read_proto(src)?;
    let dir = src.folder();
    let inf = inference(&proto, &label, dir, input_shape, memory_bytes, whole)?;
    let sources = source_nodes(&proto, &inf)?;
    let facts = |outlets: TractResult<&[OutletId]>| -> Vec<Vec<usize>> {
        let outlets = outlets.map(|o| o.to_vec()).unwrap_or_default();
        outlets
            .iter()
            .filter_map(|o| inf.outlet_fact(*o).ok())
            .map(shape_of)
            .collect()
    };
    let input_shape = facts(inf.input_outlets())
        .into_iter()
        .next()
        .unwrap_or_default();
    let output_shapes = facts(inf.output_outlets());
    let totals = cost::sum(sources.iter().map(|s| &s.cost));
    let st = StaticModel {
        name: src.name(),
        source: label,
        input_shape,
        output_shapes,
        sources,
        totals,
    };
    Ok((inf, st))
}

/// Static cost of every source node of a model, without optimizing or running it.
pub fn load_static(
    src: &ModelSource,
    input_shape: Option<&[usize]>,
) -> Result<StaticModel, ModelError> {
    analysed(src, input_shape, None).map(|(_, st)| st)
}

/// Loads a model end to end: ready to run, with its static costs and node maps. A model
/// whose tensors cannot fit in the memory available is refused before any is allocated.
pub fn load(
    src: &ModelSource,
    input_shape: Option<&[usize]>,
    optimize: Optimize,
) -> Result<LoadedModel, ModelError> {
    let memory = crate::context::memory_available_bytes();
    let (inf, info) = analysed(src, input_shape, memory)?;
    let nodes = OnnxNodes::of_sources(&info.sources);
    let tract = |what: &'static str| {
        let model = info.source.clone();
        let nodes = &nodes;
        move |cause: anyhow::Error| match nodes.failure(&cause, Stage::Preparing) {
            Some(failure) => ModelError::Node {
                model,
                failure: Box::new(failure),
            },
            None => ModelError::Tract { model, what, cause },
        }
    };
    // A failure of tract's rewrites (LeViT's subsample: "Pulling Downsample over Reshape:
    // Invalid axis") leaves the lower levels working: retry there and say so.
    let mut level = optimize;
    let mut failures: Vec<String> = Vec::new();
    let mut last_cause = String::new();
    let model = loop {
        let Some(next) = level.lower() else {
            break typed(inf, level).map_err(tract("optimizing"))?;
        };
        match typed(inf.clone(), level) {
            Ok(m) => break m,
            Err(e) => {
                log::debug!(
                    "{}: tract's error at --optimize {}: {e:#}",
                    info.name,
                    level.as_str()
                );
                let cause = nodes.rename(format!("{e:#}").lines().next().unwrap_or_default());
                let said = if cause == last_cause {
                    "the same error".to_string()
                } else {
                    cause.clone()
                };
                failures.push(format!("at --optimize {} ({said})", level.as_str()));
                last_cause = cause;
                level = next;
            }
        }
    };
    let fallback = (!failures.is_empty()).then(|| {
        format!(
            "tract failed to optimize it {}; ran it at --optimize {} instead (pass --optimize {} \
             to skip the retries)",
            failures.join(", then "),
            level.as_str(),
            level.as_str()
        )
    });
    let inputs = model
        .input_outlets()
        .map_err(tract("inputs"))?
        .iter()
        .map(|o| model.outlet_fact(*o).and_then(make_input))
        .collect::<TractResult<TVec<_>>>()
        .map_err(tract("making inputs"))?;
    let plan = SimplePlan::new(model).map_err(tract("planning"))?;
    let by_name: HashMap<&str, usize> = info
        .sources
        .iter()
        .enumerate()
        .map(|(i, s)| (s.name.as_str(), i))
        .collect();
    let exec = crate::cost::exec_nodes(&plan, &info.sources, &by_name).map_err(tract("costing"))?;
    Ok(LoadedModel {
        info,
        optimize: level,
        fallback,
        exec,
        plan,
        inputs,
    })
}

#[cfg(test)]
mod tests;

// The bytes `cost::exec` gives executed ops, tested here on loaded models (model is above cost).
#[cfg(test)]
mod bytes_tests;

#[cfg(test)]
mod rewrite_tests;
