//! What a session runs: [`Job`]s, each a model source and the facts its model record carries.
//! `zoo:NAME` is built in memory and loaded exactly as a file would be.

use crate::model::ModelSource;
use crate::rewrite::{self, Rewrite};
use crate::settings::Settings;
use crate::zoo::{self, ZooError, ZooOptions};
use std::path::PathBuf;
use std::sync::Arc;

pub use crate::record::Metadata;
use crate::record::{RewriteMetadata, ZooMetadata};

/// One model to measure.
#[derive(Debug, Clone)]
pub struct Job {
    pub source: ModelSource,
    /// The facts for its model record, or why the model could not even be prepared: it then
    /// becomes an error record.
    pub metadata: Result<Metadata, JobError>,
}

/// Why a model could not even be prepared.
#[derive(Debug, Clone, thiserror::Error)]
pub enum JobError {
    /// An unknown zoo name, or a zoo model or design probe whose graph did not build.
    #[error(transparent)]
    Zoo(#[from] ZooError),
}

impl Job {
    /// A model file, with no extra facts.
    pub fn path(path: impl Into<PathBuf>) -> Job {
        Job {
            source: ModelSource::Path(path.into()),
            metadata: Ok(Metadata::default()),
        }
    }

    /// A model that could not be prepared: `name` in the records, `label` as the user named
    /// it, `reason` its error record.
    pub fn failed(name: String, label: String, reason: JobError) -> Job {
        Job {
            source: ModelSource::Bytes {
                name,
                source: label,
                bytes: Arc::default(),
            },
            metadata: Err(reason),
        }
    }
}

/// The labels of `jobs`, the first few of a long list and how many more.
pub fn some_labels(jobs: &[Job]) -> String {
    const SHOWN: usize = 8;
    let mut names: Vec<String> = jobs.iter().take(SHOWN).map(|j| j.source.label()).collect();
    if jobs.len() > SHOWN {
        names.push(format!("and {} more", jobs.len() - SHOWN));
    }
    names.join(", ")
}

/// Builds zoo model `name` in memory: a source that goes through the same loading path as a
/// file, and the zoo's metadata (published errors, the PyTorch module's params and thop MACs).
pub fn zoo_source(name: &str, opts: &ZooOptions) -> Result<(ModelSource, Metadata), ZooError> {
    let info = zoo::info(name).ok_or_else(|| ZooError::Unknown(name.to_string()))?;
    let (proto, stats) = zoo::build_with_stats(info.name, opts)?;
    let source = ModelSource::Bytes {
        name: info.name.to_string(),
        source: format!("zoo:{}", info.name),
        bytes: Arc::new(zoo::to_bytes(&proto)),
    };
    let meta = Metadata {
        zoo: Some(ZooMetadata {
            zoo: info.name.into(),
            display_name: info.display_name.into(),
            reference: info.reference.into(),
            pytorch_params: stats.params,
            pytorch_thop_macs: stats.macs_thop,
            fold_bn: opts.fold_bn,
        }),
        top1_error: Some(info.top1_error),
        top5_error: Some(info.top5_error),
        seed: Some(opts.seed),
        ..Metadata::default()
    };
    Ok((source, meta))
}

/// The jobs of `settings.models` (the whole zoo when empty), built with its seed and
/// BatchNorm folding.
pub fn of_settings(settings: &Settings) -> Vec<Job> {
    resolve(&settings.models, &settings.zoo_options())
}

/// Turns model arguments into jobs: `zoo:NAME` is built in memory (`zoo:NAME-int8`: in its
/// int8 QDQ form, named `NAME+int8` in the records), anything else is a path; no argument at
/// all means the whole zoo. A zoo model that cannot be built is an error record
/// later, not a reason to stop.
pub fn resolve(args: &[String], opts: &ZooOptions) -> Vec<Job> {
    let zoo_all: Vec<String>;
    let args = if args.is_empty() {
        zoo_all = zoo::NAMES.iter().map(|n| format!("zoo:{n}")).collect();
        &zoo_all
    } else {
        args
    };
    args.iter()
        .map(|arg| match arg.strip_prefix("zoo:") {
            Some(name) => {
                let (name, int8) = zoo_int8_name(name);
                match zoo_source(name, opts) {
                    Ok((source, meta)) => Job {
                        source: match int8 {
                            true => ModelSource::Rewritten {
                                base: Box::new(source),
                                rewrite: Rewrite::Int8,
                            },
                            false => source,
                        },
                        metadata: Ok(meta),
                    },
                    Err(e) => Job::failed(name.into(), arg.clone(), e.into()),
                }
            }
            None => Job::path(arg),
        })
        .collect()
}

/// The zoo name in `NAME-int8` (or `NAME+int8`, the records' name) and whether it asks for the
/// int8 form ([`Rewrite::Int8`]).
pub fn zoo_int8_name(name: &str) -> (&str, bool) {
    match name
        .strip_suffix("-int8")
        .or_else(|| name.strip_suffix("+int8"))
    {
        Some(base) => (base, true),
        None => (name, false),
    }
}

/// The rewrite jobs of `jobs` (`study`'s rewrites): for each model with a place a rewrite
/// changes, the model as it is ([`Rewrite::AsIs`]), then each rewrite that changes it, in
/// [`Rewrite::CHANGES`] order (with `changes`), then its int8 form ([`Rewrite::Int8`], with
/// `int8`), then the model as it is again ([`Rewrite::AsIsAfter`]). A model that cannot be
/// read gets none (its own job says why).
pub fn rewrite_jobs(jobs: &[Job], changes: bool, int8: bool) -> Vec<Job> {
    let mut out = Vec::new();
    for job in jobs {
        let Ok(metadata) = &job.metadata else {
            continue;
        };
        let Ok(proto) = crate::model::read_proto(&job.source) else {
            continue;
        };
        let mut sites = rewrite::sites(&proto);
        drop(proto);
        sites.retain(|(r, _)| match r {
            Rewrite::Int8 => int8,
            _ => changes,
        });
        if sites.is_empty() {
            continue;
        }
        let of = job.source.name();
        let group = std::iter::once((Rewrite::AsIs, 0))
            .chain(sites)
            .chain([(Rewrite::AsIsAfter, 0)]);
        for (rewrite, places) in group {
            out.push(Job {
                source: ModelSource::Rewritten {
                    base: Box::new(job.source.clone()),
                    rewrite,
                },
                metadata: Ok(Metadata {
                    rewrite: Some(RewriteMetadata {
                        rewrite: rewrite.as_str().to_string(),
                        of: of.clone(),
                        places: places as u64,
                    }),
                    ..metadata.clone()
                }),
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `zoo:NAME-int8` (and `zoo:NAME+int8`) is the zoo model in its int8 form, named
    /// `NAME+int8` like a rewrite, with the zoo's metadata; an unknown base name fails as
    /// `zoo:NAME` does.
    #[test]
    fn zoo_names_with_int8_resolve_to_the_int8_rewrite() {
        let args = ["zoo:mobilenet-int8", "zoo:mobilenet+int8", "zoo:nope-int8"].map(String::from);
        let jobs = resolve(&args, &ZooOptions::default());
        for job in &jobs[..2] {
            assert_eq!(job.source.name(), "mobilenet+int8");
            assert_eq!(job.source.label(), "zoo:mobilenet+int8");
            assert!(matches!(
                &job.source,
                ModelSource::Rewritten {
                    rewrite: Rewrite::Int8,
                    ..
                }
            ));
            let meta = job.metadata.as_ref().unwrap();
            assert_eq!(meta.zoo.as_ref().map(|z| z.zoo.as_str()), Some("mobilenet"));
            assert!(meta.rewrite.is_none());
        }
        let err = jobs[2].metadata.as_ref().unwrap_err().to_string();
        assert!(err.starts_with("unknown zoo model `nope`"), "{err}");
        assert_eq!(zoo_int8_name("resnet50"), ("resnet50", false));
    }
}
