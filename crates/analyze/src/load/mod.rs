//! The load layer: records in, a validated [`Dataset`] out, and a [`SkipNote`] for everything
//! left behind ([`device`] labels the machines, [`accuracy`] reads the user's accuracy table).
//!
//! A log is a sequence of runs, each `header, (node* op* (model | error))*, end`. Reading never
//! fails on content: a truncated last line (power cut), a corrupted line, a run with an unknown
//! `schema_version`, a record before any header, ops whose model record never came: each is
//! skipped with its file:line and the reason, and the rest is used. Only an unreadable file is
//! an error. When the same model was measured twice on the same device, the later measurement
//! is kept (and the earlier one noted).

pub mod accuracy;
mod dataset;
pub mod device;
pub mod file;
pub mod lava;
pub mod note;
pub mod op;
mod parse;
mod plausible;
mod reader;

pub use self::accuracy::AccuracyEntry;
pub use self::dataset::{Dataset, EAGER, FailedModel, ModelRun};
pub use self::device::{Device, device_label, slug};
pub use self::file::read_file;
pub use self::note::SkipNote;
use self::op::Interner;
pub use self::op::{Counters, Name, Op};
use self::parse::{Parsed, parse_line, without_bom};
use self::reader::{FileReader, RunIndex};
use crate::error::AnalyzeError;
use std::path::{Path, PathBuf};

/// Reads every log in order, then the optional accuracy table (`--accuracy`). Fails only when
/// a file cannot be read.
pub fn load_dataset(
    paths: &[PathBuf],
    accuracy_csv: Option<&Path>,
) -> Result<Dataset, AnalyzeError> {
    let mut data = load_logs(paths)?;
    if let Some(csv) = accuracy_csv {
        let (table, notes) = accuracy::read_csv(csv)?;
        data.notes.extend(notes);
        data.accuracy_csv = table;
    }
    Ok(data)
}

/// Notes printed with [`AnalyzeError::NoModels`]: enough to see why, few enough to read.
const NO_MODELS_NOTES: usize = 5;

/// [`AnalyzeError::NoModels`] for `files` logs, with the first of their skip notes.
pub fn no_models(files: usize, notes: &[SkipNote]) -> AnalyzeError {
    let mut text = String::new();
    if !notes.is_empty() {
        let shown = notes.len().min(NO_MODELS_NOTES);
        text = format!(". What was skipped ({shown} of {} note(s)):", notes.len());
        for note in &notes[..shown] {
            text += &format!("\n  {note}");
        }
    }
    AnalyzeError::NoModels { files, notes: text }
}

/// Threads that parse logs beside the one that reads their records in order.
const MAX_PARSERS: usize = 4;

/// One log read and its lines parsed (by [`parse_file`], on a parser thread).
struct ParsedFile {
    bytes: Vec<u8>,
    /// Per line (split at `\n`, after a byte-order mark), what [`parse_line`] made of it;
    /// empty for a LAVA log.
    records: Vec<Parsed>,
}

fn parse_file(path: &Path, names: &mut Interner) -> Result<ParsedFile, AnalyzeError> {
    let bytes = read_file(path)?;
    let text = without_bom(&bytes);
    let records = if lava::is_lava_log(text) || lava::is_block_style_lava_log(text) {
        Vec::new()
    } else {
        text.split(|&b| b == b'\n')
            .map(|raw| parse_line(raw, names))
            .collect()
    };
    Ok(ParsedFile { bytes, records })
}

/// Reads every log in order. Fails only when a file cannot be read. The files are read and
/// their lines parsed on parser threads, a file or two ahead of the records' use in order
/// here (which keeps what is in flight to a few files).
pub fn load_logs(paths: &[PathBuf]) -> Result<Dataset, AnalyzeError> {
    let mut data = Dataset::default();
    let mut runs = RunIndex::default();
    let parsers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, MAX_PARSERS);
    std::thread::scope(|scope| -> Result<(), AnalyzeError> {
        let parsed: Vec<std::sync::mpsc::Receiver<Result<ParsedFile, AnalyzeError>>> = (0..parsers)
            .map(|k| {
                let (tx, rx) = std::sync::mpsc::sync_channel(1);
                scope.spawn(move || {
                    let mut names = Interner::default();
                    for path in paths.iter().skip(k).step_by(parsers) {
                        if tx.send(parse_file(path, &mut names)).is_err() {
                            return;
                        }
                    }
                });
                rx
            })
            .collect();
        for (ix, path) in paths.iter().enumerate() {
            // A parser that stopped (it cannot, short of a bug) leaves its files to this thread.
            let file = parsed[ix % parsers]
                .recv()
                .unwrap_or_else(|_| parse_file(path, &mut Interner::default()))?;
            let bytes = without_bom(&file.bytes);
            if lava::is_lava_log(bytes) {
                read_lava(path, bytes, &mut data, &mut runs);
            } else if lava::is_block_style_lava_log(bytes) {
                data.notes.push(SkipNote {
                    file: path.to_path_buf(),
                    line: 0,
                    reason: format!("{}; ignored", lava::BLOCK_STYLE_HINT),
                });
            } else {
                FileReader::new(path, &mut data, &mut runs).read(bytes, file.records);
            }
        }
        Ok(())
    })?;
    if !runs.replaced.is_empty() {
        let mut ix = 0;
        data.runs.retain(|_| {
            ix += 1;
            !runs.replaced.contains(&(ix - 1))
        });
    }
    let (probes, models) = std::mem::take(&mut data.runs)
        .into_iter()
        .partition(|r| r.is_probe());
    data.probes = probes;
    let (rewrites, models): (Vec<ModelRun>, Vec<ModelRun>) = models
        .into_iter()
        .partition(|r| r.model.metadata.rewrite.is_some());
    data.rewrites = rewrites;
    let eager = eager_runs(&models);
    let mut ix = 0;
    let (eager, models) = models.into_iter().partition(|_| {
        ix += 1;
        eager.contains(&(ix - 1))
    });
    data.runs = models;
    data.eager = eager;
    Ok(data)
}

/// Indices of the runs that are the eager twin of another: at `--optimize none`, while the
/// same model on the same device was also measured at another level (what `study` does). A
/// model measured eager only stays a model of its own.
fn eager_runs(runs: &[ModelRun]) -> std::collections::HashSet<usize> {
    let optimized: std::collections::HashSet<(usize, &str)> = runs
        .iter()
        .filter(|r| r.model.optimize != EAGER)
        .map(|r| (r.device, r.model.model.as_str()))
        .collect();
    runs.iter()
        .enumerate()
        .filter(|(_, r)| {
            r.model.optimize == EAGER && optimized.contains(&(r.device, r.model.model.as_str()))
        })
        .map(|(ix, _)| ix)
        .collect()
}

/// A LAVA job log: the device's serial lines (`lvl: target`) are read as a serial capture,
/// with the LAVA log's own line numbers in the notes; unreadable entries are noted.
fn read_lava(path: &Path, bytes: &[u8], data: &mut Dataset, runs: &mut RunIndex) {
    let x = lava::extract(bytes);
    let file = path.to_path_buf();
    for issue in &x.issues {
        data.notes.push(SkipNote {
            file: file.clone(),
            line: issue.line,
            reason: format!("LAVA log entry unreadable ({}); ignored", issue.error),
        });
    }
    for &line in &x.too_long {
        data.notes.push(SkipNote {
            file: file.clone(),
            line,
            reason: format!(
                "LAVA replaced this serial line by `{}` (its entry was 100,000 characters or \
                 more): the record is lost in LAVA",
                lava::TOO_LONG_MARK
            ),
        });
    }
    // The device's other serial lines (kernel, shell) never start with `{`: counted, not read,
    // so that analyze reads exactly what `hiddencost lava-records` prints.
    let console: Vec<usize> = x
        .target
        .iter()
        .filter(|(_, s)| !s.starts_with('{'))
        .map(|(n, _)| *n)
        .collect();
    if let Some(&first) = console.first() {
        data.notes.push(SkipNote {
            file: file.clone(),
            line: first,
            reason: format!(
                "{} serial line(s) of the device that are not records (kernel or shell \
                 messages) ignored, the first here",
                console.len()
            ),
        });
    }
    let count = bytes.split(|&b| b == b'\n').count();
    let mut names = Interner::default();
    let lines = x
        .target
        .iter()
        .filter(|(_, s)| s.starts_with('{'))
        .map(|(n, s)| {
            (
                *n,
                s.as_bytes(),
                false,
                parse_line(s.as_bytes(), &mut names),
            )
        });
    FileReader::new(path, data, runs).read_lines(lines, count, bytes.is_empty());
}
