//! Design probes (`hiddencost sweep`): families of generated micro-models, each a set of
//! variants at matched MACs (within 2% of the family's baseline) that differ in one design
//! choice, plus single-kernel probes at sampled shapes; all built with the zoo's graph builder
//! ([`blocks`]), sized by [`families`], and measured by `bench`'s own measurement into the same
//! records, with `sweep.*` metadata on each model record (docs/records.md).
//! `crate::budget::runs` fits the whole sweep into `--budget` seconds; [`run`] drives it.
//!
//! Architecture: like the zoo, a variant is a `ModelProto` encoded to bytes and loaded by
//! `model::load` exactly as a file would be.

pub mod blocks;
mod draft;
pub mod families;
mod kernel_graphs;
mod kernels;
pub mod run;

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_int8;

use crate::model::ModelSource;
use crate::record::SweepMetadata;
use crate::session::Metadata;
use crate::zoo::builder::GraphBuilder;
use crate::zoo::{self, ZooError, ZooOptions};
use blocks::{Block, Size};
use std::sync::Arc;
use tract_onnx::pb::ModelProto;

pub use families::{MACS_TOLERANCE, NAMES};

/// A design family (variants at matched MACs) or the kernel probes: the kind its variants'
/// records carry.
pub use crate::record::ProbeKind as Kind;

/// A family of variants.
#[derive(Debug, Clone)]
pub struct Family {
    pub name: &'static str,
    /// The question it answers.
    pub question: &'static str,
    pub kind: Kind,
    /// The baseline first (for a design family).
    pub variants: Vec<Variant>,
}

/// One micro-model.
#[derive(Debug, Clone)]
pub struct Variant {
    pub family: &'static str,
    /// Unique within the family, e.g. `grouped_g4`.
    pub name: String,
    /// The design choice it makes, in words.
    pub choice: String,
    /// The family's reference point (the first variant of a design family).
    pub baseline: bool,
    pub block: Block,
    pub size: Size,
    /// MACs by the block's rule (the tests check them against the cost module).
    pub macs: u64,
    /// The baseline's MACs, which every variant of a design family matches.
    pub macs_target: Option<u64>,
}

impl Variant {
    /// The record's model name, e.g. `conv_type.grouped_g4`.
    pub fn model_name(&self) -> String {
        format!("{}.{}", self.family, self.name)
    }

    /// What the header lists and errors name: `sweep:conv_type.grouped_g4`.
    pub fn label(&self) -> String {
        format!("sweep:{}", self.model_name())
    }

    /// The size parameters, e.g. `c=64 h=16 w=16 k=3 g=4`.
    pub fn params(&self) -> String {
        let s = self.size;
        let mut out = match self.block {
            Block::Kernel(blocks::Kernel::MatMul | blocks::Kernel::QMatMul(_)) => {
                format!("m={} k={} n={}", s.h, s.c, s.w)
            }
            Block::Kernel(blocks::Kernel::Linear { out }) => format!("in={} out={out}", s.c),
            Block::Kernel(blocks::Kernel::Norm { .. } | blocks::Kernel::Gelu) => {
                format!("tokens={} features={}", s.h, s.c)
            }
            Block::Kernel(blocks::Kernel::EinSum) => {
                format!("heads={} tokens={} d={}", s.c, s.h, s.w)
            }
            _ => format!("c={} h={} w={}", s.c, s.h, s.w),
        };
        match self.block {
            Block::Conv { k, groups, .. } => out += &format!(" k={k} g={groups}"),
            Block::GroupedPointwise { groups, .. } => out += &format!(" g={groups}"),
            Block::Kernel(blocks::Kernel::ConvUnit(u)) => {
                out += &format!(
                    " out={} k={}x{} s={} g={}",
                    u.out, u.kh, u.kw, u.stride, u.groups
                )
            }
            Block::Kernel(blocks::Kernel::Pool { k, stride, pad, .. }) => {
                out += &format!(" k={k} s={stride} p={pad}")
            }
            Block::Kernel(blocks::Kernel::QConv { quant, k, groups }) => {
                out += &format!(" k={k} g={groups} {}", quant.as_str())
            }
            Block::Kernel(blocks::Kernel::QMatMul(quant)) => out += &format!(" {}", quant.as_str()),
            _ => {}
        }
        out
    }
}

/// Why a sweep could not be planned.
#[derive(Debug, thiserror::Error)]
pub enum SweepError {
    #[error("unknown sweep family `{0}`; known: {known} (or `all`)", known = NAMES.join(", "))]
    UnknownFamily(String),
    #[error("no sweep family selected (give `all` or names from: {known})", known = NAMES.join(", "))]
    Empty,
}

/// Every family, sized.
pub fn all() -> Vec<Family> {
    families::all()
}

/// The families a comma-separated selection names (`all`, or names from [`NAMES`]), in the
/// sweep's order, each once.
pub fn select(selection: &str) -> Result<Vec<Family>, SweepError> {
    let wanted: Vec<String> = selection
        .split(',')
        .map(|s| s.trim().to_ascii_lowercase())
        .filter(|s| !s.is_empty())
        .collect();
    if wanted.is_empty() {
        return Err(SweepError::Empty);
    }
    if let Some(unknown) = wanted
        .iter()
        .find(|w| *w != "all" && !NAMES.contains(&w.as_str()))
    {
        return Err(SweepError::UnknownFamily(unknown.clone()));
    }
    let everything = wanted.iter().any(|w| w == "all");
    Ok(all()
        .into_iter()
        .filter(|f| everything || wanted.iter().any(|w| w == f.name))
        .collect())
}

/// Builds a variant's ONNX proto with the zoo's builder (weights from `seed`).
pub fn build(v: &Variant, seed: u64) -> Result<ModelProto, ZooError> {
    let fold_bn = matches!(v.block, Block::Conv { bn: Some(true), .. });
    let opts = ZooOptions { seed, fold_bn };
    let mut b = GraphBuilder::with_input_shape(v.family, &opts, &v.block.input_shape(v.size));
    let x = b.input();
    let y = match v.block {
        Block::Kernel(k) if kernel_graphs::builds(k) => {
            kernel_graphs::build(&mut b, &x, k, v.size)?
        }
        block => block.build(&mut b, &x, v.size)?,
    };
    let doc = format!(
        "hiddencost sweep `{}`, variant `{}`: {} ({}), seeded random weights (for speed, not \
         accuracy)",
        v.family,
        v.name,
        v.choice,
        v.params()
    );
    let (proto, _) = b.finish_any(y, &v.model_name(), &doc)?;
    Ok(proto)
}

/// A variant as `bench` takes it: the encoded proto (loaded by `model::load` like a file) and
/// the `sweep.*` metadata of its model record.
pub fn source(v: &Variant, seed: u64) -> Result<(ModelSource, Metadata), ZooError> {
    let proto = build(v, seed)?;
    let src = ModelSource::Bytes {
        name: v.model_name(),
        source: v.label(),
        bytes: Arc::new(zoo::to_bytes(&proto)),
    };
    let kind = if v.macs_target.is_some() {
        Kind::Design
    } else {
        Kind::Kernel
    };
    let meta = Metadata {
        sweep: Some(SweepMetadata {
            family: v.family.into(),
            kind,
            variant: v.name.clone(),
            baseline: v.baseline,
            choice: v.choice.clone(),
            params: v.params(),
            macs_target: v.macs_target,
            op: match v.block {
                Block::Kernel(k) => Some(k.op_type().to_string()),
                _ => None,
            },
        }),
        seed: Some(seed),
        ..Metadata::default()
    };
    Ok((src, meta))
}
