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
pub mod device;
pub mod file;
pub mod lava;
pub mod note;
pub mod op;
mod plausible;
mod reader;

pub use self::accuracy::AccuracyEntry;
pub use self::device::{Device, device_label, slug};
pub use self::file::read_file;
pub use self::note::SkipNote;
use self::op::Interner;
pub use self::op::{Counters, Name, Op};
use self::reader::{FileReader, RunIndex};
use crate::analyze::error::AnalyzeError;
use crate::record::{Header, ModelRecord, NodeRecord, OpRecord, Record, SCHEMA_VERSION};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::rc::Rc;

/// One model measured once on one device: its node, op and model records.
#[derive(Debug, Clone)]
pub struct ModelRun {
    /// Index into [`Dataset::devices`].
    pub device: usize,
    pub log: PathBuf,
    /// Line of the model record.
    pub line: usize,
    pub header: Rc<Header>,
    /// The node records (static costs): one list shared by the runs whose lists are equal (the
    /// same model on many boards).
    pub nodes: Rc<[NodeRecord]>,
    /// The op records, in log order, in their compact form ([`op`]).
    pub ops: Vec<Op>,
    pub model: ModelRecord,
}

impl ModelRun {
    /// Whether this is a design probe of `hiddencost sweep` rather than a model.
    pub fn is_probe(&self) -> bool {
        self.model.metadata.sweep.is_some()
    }
}

/// A model the bench could not measure (an `error` record).
#[derive(Debug, Clone)]
pub struct FailedModel {
    pub device: usize,
    pub model: String,
    pub message: String,
    pub log: PathBuf,
    pub line: usize,
}

/// Everything usable from the logs.
#[derive(Debug, Clone, Default)]
pub struct Dataset {
    pub devices: Vec<Device>,
    /// The models measured (networks, the user's or the zoo's), in log order.
    pub runs: Vec<ModelRun>,
    /// The design probes of `hiddencost sweep` (runs whose model record carries
    /// `sweep.kind`), in log order: micro-models, kept apart so that they answer RQ4 and train
    /// the kernel-level predictor without entering the models' shares, correlations and fits.
    pub probes: Vec<ModelRun>,
    pub failed: Vec<FailedModel>,
    pub notes: Vec<SkipNote>,
    /// From `--accuracy`, by model name (overrides the records' metadata).
    pub accuracy_csv: BTreeMap<String, AccuracyEntry>,
}

impl Dataset {
    /// Whether the dataset holds nothing measured: no model and no probe.
    pub fn is_empty(&self) -> bool {
        self.runs.is_empty() && self.probes.is_empty()
    }

    pub fn device_label(&self, run: &ModelRun) -> &str {
        &self.devices[run.device].label
    }

    /// Top-1 accuracy in percent: `--accuracy` CSV first, then the record's `top1_error`.
    pub fn accuracy_pct(&self, run: &ModelRun) -> Option<f64> {
        let name = &run.model.model;
        let zoo = run.model.metadata.zoo.as_ref().map(|z| z.zoo.as_str());
        let from_csv = self
            .accuracy_csv
            .get(name)
            .or_else(|| zoo.and_then(|z| self.accuracy_csv.get(z)));
        if let Some(entry) = from_csv {
            return Some(100.0 - entry.top1_error_pct);
        }
        let top1 = run.model.metadata.top1_error?;
        top1.is_finite().then_some(100.0 - top1)
    }
}

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

/// Threads that parse logs beside the one that reads their records in order.
const MAX_PARSERS: usize = 4;

/// One log read and its lines parsed (by [`parse_file`], on a parser thread).
struct ParsedFile {
    bytes: Vec<u8>,
    /// Per line (split at `\n`, after a byte-order mark), what [`parse_line`] made of it;
    /// empty for a LAVA log.
    records: Vec<Parsed>,
}

/// A line parsed ahead of its use.
#[allow(clippy::large_enum_variant)] // most lines are ops: boxing them would allocate per op
enum Parsed {
    /// A plausible op record, compact already, with its model's name.
    Op(Name, Op),
    /// Another record of [`parse_record`] (boxed: most lines are ops, and a header is large).
    Record(Box<Record>),
    /// Left to the general path ([`FileReader::line`]).
    No,
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

/// [`parse_record`], and a plausible op record made compact (the op's strings, allocated on
/// the parser's thread, are freed there too).
fn parse_line(raw: &[u8], names: &mut Interner) -> Parsed {
    match parse_record(raw) {
        Some(Record::Op(op)) if plausible::implausible_op(&op).is_none() => {
            let model = names.name(&op.model);
            Parsed::Op(model, names.op(op))
        }
        Some(record) => Parsed::Record(Box::new(record)),
        None => Parsed::No,
    }
}

/// A UTF-8 byte-order mark (an editor's) is not part of the first record.
fn without_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes)
}

/// Most lines are node and op records of a run: parsed straight into their type, with no JSON
/// value tree in between, on a parser thread. `None` for a header, a line with any error and a
/// line whose `"type"` appears more than once (the general path, [`FileReader::line`], reads
/// the last): those take the general path, which says what is wrong.
fn parse_record(raw: &[u8]) -> Option<Record> {
    let text = std::str::from_utf8(raw).ok()?.trim();
    if memchr::memmem::find_iter(text.as_bytes(), b"\"type\"")
        .take(2)
        .count()
        != 1
    {
        return None;
    }
    // Op and node records (nearly every line) straight into their struct: the record enum,
    // tagged by `"type"`, would first buffer the whole line. Their `"type"` is ignored there
    // like any other unknown key, and it is the first key, as bench writes it.
    if text.starts_with(r#"{"type":"op","#) {
        return serde_json::from_str::<OpRecord>(text).ok().map(Record::Op);
    }
    if text.starts_with(r#"{"type":"node","#) {
        return serde_json::from_str::<NodeRecord>(text)
            .ok()
            .map(Record::Node);
    }
    match serde_json::from_str::<Record>(text) {
        Ok(Record::Header(_)) | Err(_) => None,
        Ok(record) => Some(record),
    }
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
    data.runs = models;
    data.probes = probes;
    Ok(data)
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
