//! The load layer: records in, a validated [`Dataset`] out, and a [`SkipNote`] for everything
//! left behind ([`device`] labels the machines, [`accuracy`] reads the user's accuracy table).
//!
//! A log is a sequence of runs, each `header, (node* op* (model | error))*, end`. Reading never
//! fails on content: a truncated last line (power cut), a corrupted line, a run with an unknown
//! `schema_version`, a record before any header, ops whose model record never came: each is
//! skipped with its file:line and the reason, and the rest is used; a file that cannot be read
//! to its end gives the lines before. Only a file that cannot be opened, and logs that need
//! more memory than there is (`memory`), are errors. When the same model was measured twice
//! on the same device, the later measurement is kept (and the earlier one noted).

pub mod accuracy;
mod chunks;
mod dataset;
pub mod device;
pub mod file;
pub mod lava;
mod memory;
pub use self::memory::peak_resident_bytes;
pub mod note;
pub mod op;
mod parse;
mod plausible;
mod reader;

pub use self::accuracy::AccuracyEntry;
use self::chunks::{Chunk, Chunks};
pub use self::dataset::{Dataset, EAGER, FailedModel, ModelRun};
pub use self::device::{Device, device_label, slug};
pub use self::file::read_file;
pub use self::note::SkipNote;
use self::op::Interner;
pub use self::op::{Counters, Name, Op};
use self::parse::{Parsed, parse_line};
use self::reader::{FileReader, RunIndex};
use crate::error::AnalyzeError;
use std::path::{Path, PathBuf};

/// Reads every log in order ([`load_logs_within`]), then the optional accuracy table
/// (`--accuracy`).
pub fn load_dataset(
    paths: &[PathBuf],
    accuracy_csv: Option<&Path>,
    memory_available_bytes: Option<u64>,
) -> Result<Dataset, AnalyzeError> {
    let mut data = load_logs_within(paths, memory_available_bytes)?;
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

/// Chunks a parser thread may have parsed ahead of their use.
const CHUNKS_AHEAD: usize = 2;

/// What a parser thread sends of one log, in order.
enum Piece {
    /// Lines of the log, and each line parsed ([`parse_line`]).
    Lines(Chunk, Vec<Parsed>),
    /// A LAVA job log, whole, from its first chunk on (read by [`read_lava`]); a block-style
    /// one, its first chunk only.
    Lava(Vec<u8>),
    /// The rest of the log could not be read (a compressed file cut short, an I/O error).
    Cut(std::io::Error),
}

type PieceSender = std::sync::mpsc::SyncSender<Result<Piece, AnalyzeError>>;

/// Reads one log as a stream and sends its pieces; `false` once the receiver is gone.
fn send_file(path: &Path, names: &mut Interner, tx: &PieceSender) -> bool {
    let mut chunks = match file::open(path) {
        Ok(stream) => Chunks::new(stream),
        Err(e) => return tx.send(Err(e)).is_ok(),
    };
    let mut first = true;
    loop {
        let chunk = match chunks.next_chunk() {
            Ok(Some(chunk)) => chunk,
            Ok(None) => return true,
            Err(e) => return tx.send(Ok(Piece::Cut(e))).is_ok(),
        };
        if std::mem::take(&mut first) {
            if lava::is_block_style_lava_log(&chunk.bytes) {
                return tx.send(Ok(Piece::Lava(chunk.bytes))).is_ok();
            }
            if lava::is_lava_log(&chunk.bytes) {
                return tx.send(whole_lava_log(path, chunk, &mut chunks)).is_ok();
            }
        }
        let mut too_long = chunk.too_long.iter().peekable();
        let records = chunk
            .lines()
            .enumerate()
            .map(|(ix, raw)| match too_long.next_if(|(at, _)| *at == ix) {
                Some(&(_, bytes)) => Parsed::TooLong(bytes),
                None => parse_line(raw, names),
            })
            .collect();
        let last = chunk.last;
        if tx.send(Ok(Piece::Lines(chunk, records))).is_err() {
            return false;
        }
        if last {
            return true;
        }
    }
}

/// A LAVA job log read whole from its first chunk on, up to [`file::MAX_WHOLE_FILE_BYTES`].
fn whole_lava_log<R: std::io::BufRead>(
    path: &Path,
    first: Chunk,
    chunks: &mut Chunks<R>,
) -> Result<Piece, AnalyzeError> {
    let mut bytes = first.bytes;
    loop {
        if bytes.len() as u64 > file::MAX_WHOLE_FILE_BYTES {
            return Err(file::too_large(
                path,
                "and a LAVA job log is read whole: split it at line ends (`split -l 1000000 \
                 LOG part.`) and analyze the parts together",
            ));
        }
        match chunks.next_chunk() {
            Ok(Some(chunk)) => bytes.extend_from_slice(&chunk.bytes),
            Ok(None) => return Ok(Piece::Lava(bytes)),
            Err(e) => return Ok(Piece::Cut(e)),
        }
    }
}

/// Reads every log in order, without a memory check ([`load_logs_within`]).
pub fn load_logs(paths: &[PathBuf]) -> Result<Dataset, AnalyzeError> {
    load_logs_within(paths, None)
}

/// Reads every log in order. Fails only when a file cannot be opened, or when its records
/// need more than their share of `memory_available_bytes` (the memory the process can still
/// allocate, `None` for no check). The logs are read as streams and their lines parsed on
/// parser threads, a few chunks ahead of the records' use in order here: what is in memory
/// besides the records kept is a few chunks, not the logs.
pub fn load_logs_within(
    paths: &[PathBuf],
    memory_available_bytes: Option<u64>,
) -> Result<Dataset, AnalyzeError> {
    let mut data = Dataset::default();
    let mut runs = RunIndex::default();
    let memory = memory::MemoryGuard::new(memory_available_bytes);
    let parsers = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .clamp(1, MAX_PARSERS);
    std::thread::scope(|scope| -> Result<(), AnalyzeError> {
        let parsed: Vec<std::sync::mpsc::Receiver<Result<Piece, AnalyzeError>>> = (0..parsers)
            .map(|k| {
                let (tx, rx) = std::sync::mpsc::sync_channel(CHUNKS_AHEAD);
                scope.spawn(move || {
                    let mut names = Interner::default();
                    for path in paths.iter().skip(k).step_by(parsers) {
                        if !send_file(path, &mut names, &tx) {
                            return;
                        }
                    }
                });
                rx
            })
            .collect();
        for (ix, path) in paths.iter().enumerate() {
            read_pieces(path, &parsed[ix % parsers], &memory, &mut data, &mut runs)?;
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

/// The pieces of one log, from its parser thread, used in order.
fn read_pieces(
    path: &Path,
    pieces: &std::sync::mpsc::Receiver<Result<Piece, AnalyzeError>>,
    memory: &memory::MemoryGuard,
    data: &mut Dataset,
    runs: &mut RunIndex,
) -> Result<(), AnalyzeError> {
    // The parser thread ends only when this receiver is gone, or by a bug that panics it
    // (which the scope then reports).
    let next = || {
        pieces.recv().map_err(|_| AnalyzeError::Read {
            path: path.to_path_buf(),
            cause: std::io::Error::other("the thread reading it stopped"),
        })
    };
    let mut piece = next()??;
    if let Piece::Lava(bytes) = &piece {
        if lava::is_block_style_lava_log(bytes) {
            data.notes.push(SkipNote {
                file: path.to_path_buf(),
                line: 0,
                reason: format!("{}; ignored", lava::BLOCK_STYLE_HINT),
            });
        } else {
            read_lava(path, bytes, data, runs);
        }
        return memory.check(path, 0, bytes.len() as u64);
    }
    let mut reader = FileReader::new(path, data, runs);
    let (mut line, mut read_bytes) = (1, 0u64);
    loop {
        match piece {
            // Only ever a log's first piece.
            Piece::Lava(_) => {}
            Piece::Lines(chunk, records) => {
                read_bytes += chunk.bytes.len() as u64;
                line = reader.read_chunk(&chunk, records, line);
                if chunk.last {
                    reader.finish(line - 1, chunk.empty);
                    return Ok(());
                }
                memory.check(path, line - 1, read_bytes)?;
            }
            Piece::Cut(e) => {
                reader.note(
                    line,
                    format!(
                        "the file could not be read from here on ({e}); the {} line(s) before \
                         are used",
                        line - 1
                    ),
                );
                reader.finish(line - 1, false);
                return Ok(());
            }
        }
        piece = next()??;
    }
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
