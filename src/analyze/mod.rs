//! Offline analysis: the study's findings from counter logs, and a latency model that beats MACs.
//!
//! `hiddencost analyze LOG... --out DIR` reads JSON-lines logs written by `hiddencost bench`
//! (several models, devices and runs), and writes `report.md`, CSV tables, SVG plots, `fit.json`
//! and one Chrome/Perfetto trace per model into DIR. `hiddencost predict` applies `fit.json` to
//! the node records of `hiddencost cost`.
//!
//! Architecture invariant: analysis reads [`crate::record`] types only. Nothing here knows tract
//! or perf_event, so it runs on a laptop from logs copied off a board.
//!
//! Code map: [`load`] reads and validates logs (every skipped line gets a reason with file:line);
//! [`metrics`] turns op records into shares and counter ratios; [`stats`] holds the numerics
//! (correlations, least squares); [`fit`] the latency models and prediction; [`tables`],
//! [`svg`], [`plots`], [`trace`] and [`report`] format; this module wires them together.

pub mod accuracy;
pub mod device;
pub mod figures;
pub mod fit;
pub mod load;
pub mod markdown;
pub mod metrics;
pub mod plots;
pub mod predict;
pub mod report;
pub mod sections;
pub mod stats;
pub mod svg;
pub mod synth;
pub mod tables;
pub mod trace;

use std::fmt;
use std::path::{Path, PathBuf};

pub use load::SkipNote;
pub use predict::{Prediction, predict, predict_device, read_cost_output};

/// What `hiddencost analyze` was asked to do.
#[derive(Debug, Clone, Default)]
pub struct AnalyzeOptions {
    /// JSON-lines logs written by `hiddencost bench`.
    pub logs: Vec<PathBuf>,
    /// Directory for report.md, *.csv, *.svg, fit.json and trace_*.json (created if missing).
    pub out_dir: PathBuf,
    /// Optional CSV with columns `model,top1_error[,top5_error]` (percent).
    pub accuracy_csv: Option<PathBuf>,
}

/// What `analyze` did: the key tables to print, and everything it skipped.
#[derive(Debug, Clone)]
pub struct AnalyzeSummary {
    /// Key tables as plain text, ready for the terminal.
    pub terminal: String,
    /// Every skipped line or model, with file:line and why.
    pub skipped: Vec<SkipNote>,
    /// Files written into the output directory, in writing order.
    pub files_written: Vec<PathBuf>,
}

impl fmt::Display for AnalyzeSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.terminal)?;
        if !self.skipped.is_empty() {
            writeln!(f, "\nSkipped ({}):", self.skipped.len())?;
            for note in &self.skipped {
                writeln!(f, "  {note}")?;
            }
        }
        Ok(())
    }
}

/// Everything that stops analysis or prediction. Bad lines inside a log are not errors: they
/// become [`SkipNote`]s and analysis goes on.
#[derive(Debug, thiserror::Error)]
pub enum AnalyzeError {
    #[error("no log given: pass one or more JSONL logs written by `hiddencost bench --out LOG`")]
    NoLogs,
    #[error("cannot read {path}: {cause}; check the path and its permissions")]
    Read {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error(
        "no usable model measurement in {files} log(s){why}; a log needs a header line and, per \
         model, a `model` record (re-run `hiddencost bench`, or check the notes above)"
    )]
    NoModels { files: usize, why: String },
    #[error("cannot write {path}: {cause}; check that --out names a writable directory")]
    Write {
        path: PathBuf,
        cause: std::io::Error,
    },
    #[error(
        "{path}: not a hiddencost fit file ({reason}); make one with `hiddencost analyze LOG \
         --out DIR` and pass DIR/fit.json"
    )]
    FitFormat { path: PathBuf, reason: String },
    #[error("no node records to predict from: pass the output of `hiddencost cost MODEL --json`")]
    NoNodes,
    #[error("{path}:{line}: {reason}; expected `hiddencost cost MODEL --json` output")]
    CostFormat {
        path: PathBuf,
        line: usize,
        reason: String,
    },
    #[error("device `{device}` is not in the fit file; it has: {available}")]
    UnknownDevice { device: String, available: String },
    #[error("the fit file has several devices ({available}): choose one with --device")]
    AmbiguousDevice { available: String },
    #[error("device `{device}` has no usable latency model: {reason}")]
    NotFitted { device: String, reason: String },
}

/// Runs the whole analysis: load, compute, write DIR, return the terminal summary.
pub fn analyze(opts: &AnalyzeOptions) -> Result<AnalyzeSummary, AnalyzeError> {
    if opts.logs.is_empty() {
        return Err(AnalyzeError::NoLogs);
    }
    let mut data = load::load_logs(&opts.logs)?;
    if let Some(csv) = &opts.accuracy_csv {
        let (table, notes) = accuracy::read_csv(csv)?;
        data.notes.extend(notes);
        data.accuracy_csv = table;
    }
    if data.runs.is_empty() {
        let why = match data.notes.first() {
            Some(first) => format!(" ({} note(s); first: {first})", data.notes.len()),
            None => String::new(),
        };
        return Err(AnalyzeError::NoModels {
            files: opts.logs.len(),
            why,
        });
    }
    let analysis = report::Analysis::compute(&data);
    let files_written = report::write_all(&analysis, &data, &opts.out_dir)?;
    Ok(AnalyzeSummary {
        terminal: report::terminal(&analysis, &data),
        skipped: data.notes.clone(),
        files_written,
    })
}

/// Creates `dir` (and parents) and writes `bytes` to `dir/name`, returning the path.
pub(crate) fn write_file(dir: &Path, name: &str, bytes: &[u8]) -> Result<PathBuf, AnalyzeError> {
    std::fs::create_dir_all(dir).map_err(|cause| AnalyzeError::Write {
        path: dir.to_path_buf(),
        cause,
    })?;
    let path = dir.join(name);
    std::fs::write(&path, bytes).map_err(|cause| AnalyzeError::Write {
        path: path.clone(),
        cause,
    })?;
    Ok(path)
}
