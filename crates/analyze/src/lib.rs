//! Offline analysis: the study's findings from counter logs, explained against the machine's
//! own roofs, and a latency model next to MACs alone.
//!
//! `hiddencost analyze LOG... --out DIR` reads JSON-lines logs written by `hiddencost bench`
//! (several models, devices and runs), and writes `report.md`, `report.html`, CSV tables, SVG
//! charts, `fit.json` and one Chrome/Perfetto trace per model into DIR. `hiddencost predict`
//! applies `fit.json` to the node records of `hiddencost cost`.
//!
//! Architecture invariant: analysis reads [`crate::record`] types only. Nothing here knows tract
//! or perf_event, so it runs on a laptop from logs copied off a board.
//!
//! Layers, each using only those below it (a test checks the imports):
//! 1. [`error`]: the one error type;
//! 2. [`load`]: logs in, a validated [`load::Dataset`] out (every skipped line gets a reason);
//! 3. [`compute`]: one [`Analysis`] value (metrics, bounds, correlations, fits, findings);
//! 4. [`render`]: markdown, HTML, CSV, SVG, traces and the terminal summary from that value;
//! 5. this module and [`predict`](mod@predict): the entry points that wire them together.

pub mod compute;
pub mod error;
pub mod load;
pub mod predict;
pub mod render;

use std::fmt;
use std::path::PathBuf;

/// The record types, units and tables this crate reads and writes (`hiddencost-record`).
pub use hiddencost_record as record;
use hiddencost_record::{table, units};

pub use compute::Analysis;
pub use error::{AnalyzeError, FitGap};
pub use load::SkipNote;
pub use predict::{
    Prediction, ValidationOutput, predict, predict_device, predict_kernels, read_cost_output,
    validate,
};
pub use render::export::ExportFormat;

/// What `hiddencost analyze` was asked to do.
#[derive(Debug, Clone, Default)]
pub struct AnalyzeOptions {
    /// JSON-lines logs written by `hiddencost bench`.
    pub logs: Vec<PathBuf>,
    /// Directory for report.md, *.csv, *.svg, fit.json and trace_*.json (created if missing).
    pub out_dir: PathBuf,
    /// Optional CSV with columns `model,top1_error[,top5_error]` (percent).
    pub accuracy_csv: Option<PathBuf>,
    /// Memory the process can still allocate, in bytes: loading stops with a clear error
    /// before the logs' records take more than their share of it (`None`: no check).
    pub memory_available_bytes: Option<u64>,
}

/// What `analyze` did: the key tables to print, and everything it skipped.
#[derive(Debug, Clone)]
pub struct AnalyzeSummary {
    /// Key tables as plain text, ready for the terminal.
    pub terminal: String,
    /// What to change in each model, from its measured rewrites, then its int8 form against
    /// fp32, as plain text (empty without rewrites).
    pub advice: String,
    /// Every skipped line or model, with file:line and why.
    pub skipped: Vec<SkipNote>,
    /// Files written into the output directory, in writing order.
    pub files_written: Vec<PathBuf>,
    /// Why the fit.json written cannot predict (empty when it can).
    pub fit_gaps: Vec<FitGap>,
}

impl fmt::Display for AnalyzeSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.terminal)?;
        for gap in &self.fit_gaps {
            writeln!(f, "\nLatency model: {gap}")?;
        }
        if !self.skipped.is_empty() {
            writeln!(f, "\nSkipped ({}):", self.skipped.len())?;
            for note in &self.skipped {
                writeln!(f, "  {note}")?;
            }
        }
        Ok(())
    }
}

/// Runs the whole analysis: load, compute, write DIR, return the terminal summary.
pub fn analyze(opts: &AnalyzeOptions) -> Result<AnalyzeSummary, AnalyzeError> {
    analyze_with(opts, None)
}

/// [`analyze`], then the dataset exported as tables into DIR (`--export parquet`: ops.parquet,
/// models.parquet, runs.parquet). A build that cannot write the format fails before loading.
pub fn analyze_with(
    opts: &AnalyzeOptions,
    export: Option<ExportFormat>,
) -> Result<AnalyzeSummary, AnalyzeError> {
    if let Some(format) = export {
        render::export::check_available(format)?;
    }
    if opts.logs.is_empty() {
        return Err(AnalyzeError::NoLogs);
    }
    let mut phase = render::Phase::start();
    let data = load::load_dataset(
        &opts.logs,
        opts.accuracy_csv.as_deref(),
        opts.memory_available_bytes,
    )?;
    phase.done("load");
    if data.is_empty() {
        return Err(load::no_models(opts.logs.len(), &data.notes));
    }
    let analysis = Analysis::compute(&data);
    phase.done("compute");
    let inputs: Vec<&std::path::Path> = opts
        .logs
        .iter()
        .chain(&opts.accuracy_csv)
        .map(PathBuf::as_path)
        .collect();
    let mut out = render::outdir::OutDir::open(&opts.out_dir, &inputs)?;
    let more = export.map_or(&[][..], render::export::file_names);
    let mut files_written = render::write_all(&analysis, &data, &mut out, more)?;
    if let Some(format) = export {
        let mut phase = render::Phase::start();
        files_written.extend(render::export::write(
            format,
            &analysis,
            &data,
            &opts.out_dir,
        )?);
        phase.done("export");
    }
    Ok(AnalyzeSummary {
        terminal: render::terminal(&analysis, &data),
        advice: render::advice(&analysis, &data),
        skipped: data.notes.clone(),
        files_written,
        fit_gaps: predict::fit_gaps(&analysis, &data, &opts.out_dir.join("fit.json")),
    })
}
