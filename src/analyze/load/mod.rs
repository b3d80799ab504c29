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

pub use self::accuracy::AccuracyEntry;
pub use self::device::{Device, device_label, slug};
pub use self::file::read_file;
pub use self::note::SkipNote;
use self::op::Interner;
pub use self::op::{Counters, Name, Op};
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

/// Where each (device, model) run is in `Dataset::runs`, and the runs a later measurement of
/// the same model replaced (dropped once every file is read): finding the earlier run is a
/// lookup, not a scan, so loading stays linear in the number of models.
#[derive(Default)]
struct RunIndex {
    at: HashMap<(usize, String), usize>,
    replaced: HashSet<usize>,
    /// Names, shapes and event lists of the ops, each held once.
    interner: Interner,
    /// Per model name, the distinct node lists seen (a fleet has one per model).
    node_lists: HashMap<String, Vec<Rc<[NodeRecord]>>>,
}

impl RunIndex {
    /// `nodes` as a shared list: an equal one seen before, else a new one.
    fn nodes(&mut self, model: &str, nodes: Vec<NodeRecord>) -> Rc<[NodeRecord]> {
        let lists = self.node_lists.entry(model.to_string()).or_default();
        if let Some(same) = lists.iter().find(|l| ***l == *nodes) {
            return Rc::clone(same);
        }
        let list: Rc<[NodeRecord]> = Rc::from(nodes);
        // A few distinct lists per model are kept for sharing; beyond that (every run its own
        // model), a new list is used as it is.
        if lists.len() < MAX_NODE_LISTS_PER_MODEL {
            lists.push(Rc::clone(&list));
        }
        list
    }
}

/// Distinct node lists per model name that [`RunIndex::nodes`] compares a new list with.
const MAX_NODE_LISTS_PER_MODEL: usize = 4;

/// Models of the current run that have node/op records but no model record yet.
#[derive(Default)]
struct Pending {
    first_line: usize,
    nodes: Vec<NodeRecord>,
    ops: Vec<Op>,
}

struct ActiveRun {
    header: Rc<Header>,
    device: usize,
    line: usize,
    pending: BTreeMap<String, Pending>,
    models_done: usize,
}

enum State {
    NoRun,
    Active(ActiveRun),
    /// Lines of a run whose header was rejected: (first line, last line, count, why).
    Skipping {
        first: usize,
        last: usize,
        count: usize,
        why: String,
    },
}

struct FileReader<'a> {
    path: &'a Path,
    data: &'a mut Dataset,
    runs: &'a mut RunIndex,
    state: State,
    /// Lines that are not JSON at all (a serial capture with the kernel console on it).
    console_lines: (usize, usize),
}

impl<'a> FileReader<'a> {
    fn new(path: &'a Path, data: &'a mut Dataset, runs: &'a mut RunIndex) -> Self {
        FileReader {
            path,
            data,
            runs,
            state: State::NoRun,
            console_lines: (0, 0),
        }
    }

    fn note(&mut self, line: usize, reason: impl Into<String>) {
        self.data.notes.push(SkipNote {
            file: self.path.to_path_buf(),
            line,
            reason: reason.into(),
        });
    }

    /// Reads the lines of `bytes`; `records[i]` is line i parsed ([`parse_line`]), if it was.
    fn read(self, bytes: &[u8], records: Vec<Parsed>) {
        let ends_with_newline = bytes.last() == Some(&b'\n');
        let lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
        let count = lines.len();
        let mut records = records.into_iter();
        let numbered = lines.into_iter().enumerate().map(|(ix, raw)| {
            let is_last = ix + 1 == count || (ix + 2 == count && ends_with_newline);
            let record = records.next().unwrap_or(Parsed::No);
            (ix + 1, raw, is_last && !ends_with_newline, record)
        });
        self.read_lines(numbered, count, bytes.is_empty());
    }

    /// Reads (line number, bytes, unterminated last line, the line parsed if it was) in
    /// order; `count` is the file's last line number.
    fn read_lines<'b>(
        mut self,
        lines: impl Iterator<Item = (usize, &'b [u8], bool, Parsed)>,
        count: usize,
        empty: bool,
    ) {
        for (number, raw, unterminated, parsed) in lines {
            match parsed {
                _ if matches!(self.state, State::Skipping { .. }) => {
                    self.line(number, raw, unterminated)
                }
                Parsed::Op(model, op) => self.op(number, model, op),
                Parsed::Record(r) => self.record(number, *r),
                Parsed::No => self.line(number, raw, unterminated),
            }
        }
        self.finish_run(count);
        if let (n @ 1.., first) = self.console_lines {
            self.note(
                first,
                format!("{n} console line(s) (text, not records: kernel messages on the serial line?) ignored, the first here"),
            );
        }
        if self.data.runs.is_empty() && self.data.notes.is_empty() && empty {
            self.note(0, "empty file");
        }
    }

    fn line(&mut self, number: usize, raw: &[u8], unterminated_last: bool) {
        let Ok(text) = std::str::from_utf8(raw) else {
            return self.note(number, "corrupted line: not UTF-8; ignored");
        };
        let text = text.trim();
        if text.is_empty() {
            return;
        }
        let value: Value = match serde_json::from_str(text) {
            Ok(v) => v,
            Err(e) if e.is_eof() && unterminated_last => {
                return self.note(
                    number,
                    "truncated last line (no newline at the end: the run was cut short, e.g. by \
                     a power cut); ignored",
                );
            }
            Err(e) if e.is_eof() => {
                return self.note(
                    number,
                    format!("truncated line (cut short mid-write: {e}); ignored"),
                );
            }
            // Text that is not a damaged record: kernel or init messages on a serial capture.
            Err(_) if !text.starts_with('{') && !text.contains(|c: char| c.is_control()) => {
                if self.console_lines.0 == 0 {
                    self.console_lines.1 = number;
                }
                self.console_lines.0 += 1;
                return;
            }
            Err(e) => return self.note(number, format!("corrupted line: not JSON ({e}); ignored")),
        };
        let kind = value
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("")
            .to_string();
        if kind == "header" {
            return self.header(number, value);
        }
        if let State::Skipping { last, count, .. } = &mut self.state {
            *last = number;
            *count += 1;
            return;
        }
        let record: Record = match serde_json::from_value(value) {
            Ok(r) => r,
            Err(e) if kind.is_empty() => {
                return self.note(
                    number,
                    format!("not a record (no \"type\" field: {e}); ignored"),
                );
            }
            Err(e) if !KNOWN_TYPES.contains(&kind.as_str()) => {
                return self.note(
                    number,
                    format!("unknown record type `{kind}` ({e}; written by a newer hiddencost?); ignored"),
                );
            }
            Err(e) => return self.note(number, format!("invalid `{kind}` record: {e}; ignored")),
        };
        self.record(number, record);
    }

    fn header(&mut self, number: usize, value: Value) {
        self.finish_run(number);
        let version = value.get("schema_version").and_then(Value::as_u64);
        if version != Some(u64::from(SCHEMA_VERSION)) {
            let found = version.map_or("none".to_string(), |v| v.to_string());
            let why = format!(
                "schema_version {found}, this hiddencost reads {SCHEMA_VERSION}: analyze that run \
                 with the hiddencost version that wrote it"
            );
            self.note(number, format!("header skipped: {why}"));
            self.state = State::Skipping {
                first: number + 1,
                last: number,
                count: 0,
                why,
            };
            return;
        }
        match serde_json::from_value::<Record>(value) {
            Ok(Record::Header(header)) => {
                let device = self.device_for(&header);
                self.state = State::Active(ActiveRun {
                    header: Rc::new(header),
                    device,
                    line: number,
                    pending: BTreeMap::new(),
                    models_done: 0,
                });
            }
            Ok(_) | Err(_) => {
                let why = "invalid header (fields missing or of the wrong type)".to_string();
                self.note(
                    number,
                    format!("{why}; the records of this run are skipped"),
                );
                self.state = State::Skipping {
                    first: number + 1,
                    last: number,
                    count: 0,
                    why,
                };
            }
        }
    }

    fn record(&mut self, number: usize, record: Record) {
        if let Some(why) = plausible::implausible(&record) {
            return self.note(number, format!("{why}: the record is skipped"));
        }
        let State::Active(run) = &mut self.state else {
            return self.note(
                number,
                "record before any header line: ignored (was the start of the log lost?)",
            );
        };
        match record {
            // Headers are dispatched by `line` before records are parsed.
            Record::Header(_) => {}
            Record::Node(node) => {
                let p = run
                    .pending
                    .entry(node.model.clone())
                    .or_insert_with(Pending::default);
                p.first_line = if p.first_line == 0 {
                    number
                } else {
                    p.first_line
                };
                p.nodes.push(node);
            }
            Record::Op(op) => {
                let model = self.runs.interner.name(&op.model);
                let op = self.runs.interner.op(op);
                self.op(number, model, op);
            }
            Record::Model(model) => {
                let p = run.pending.remove(&model.model).unwrap_or_default();
                let new = ModelRun {
                    device: run.device,
                    log: self.path.to_path_buf(),
                    line: number,
                    header: Rc::clone(&run.header),
                    nodes: self.runs.nodes(&model.model, p.nodes),
                    ops: p.ops,
                    model,
                };
                run.models_done += 1;
                self.add_run(new);
            }
            Record::Error(err) => {
                let device = run.device;
                run.pending.remove(&err.model);
                self.data.failed.push(FailedModel {
                    device,
                    model: err.model.clone(),
                    message: err.message.clone(),
                    log: self.path.to_path_buf(),
                    line: number,
                });
                self.note(
                    number,
                    format!("model `{}` failed in the bench: {}", err.model, err.message),
                );
            }
            Record::ModelCost(_) => self.note(
                number,
                "model_cost record ignored (that is `hiddencost cost` output, not a bench log)",
            ),
            Record::End(_) => {
                self.drop_pending(number);
                self.state = State::NoRun;
            }
        }
    }

    /// A plausible op record, made compact.
    fn op(&mut self, number: usize, model: Name, op: Op) {
        let State::Active(run) = &mut self.state else {
            return self.note(
                number,
                "record before any header line: ignored (was the start of the log lost?)",
            );
        };
        if !run.pending.contains_key(model.as_str()) {
            run.pending.insert(model.to_string(), Pending::default());
        }
        let Some(p) = run.pending.get_mut(model.as_str()) else {
            return;
        };
        p.first_line = if p.first_line == 0 {
            number
        } else {
            p.first_line
        };
        p.ops.push(op);
    }

    fn add_run(&mut self, new: ModelRun) {
        let key = (new.device, new.model.model.clone());
        let same = self.runs.at.insert(key, self.data.runs.len());
        if let Some(ix) = same {
            self.runs.replaced.insert(ix);
            let old = &self.data.runs[ix];
            let label = self.data.devices[new.device].label.clone();
            self.data.notes.push(SkipNote {
                file: old.log.clone(),
                line: old.line,
                reason: format!(
                    "model `{}` on {label} measured again at {}:{}; the later measurement is used",
                    old.model.model,
                    new.log.display(),
                    new.line
                ),
            });
        }
        self.data.runs.push(new);
    }

    /// Notes models left without a model record when a run ends or is cut short.
    fn drop_pending(&mut self, at_line: usize) {
        let State::Active(run) = &mut self.state else {
            return;
        };
        let pending = std::mem::take(&mut run.pending);
        for (model, p) in pending {
            self.note(
                p.first_line,
                format!(
                    "model `{model}`: {} node and {} op records without a model record before \
                     line {at_line} (measurement cut short); ignored",
                    p.nodes.len(),
                    p.ops.len()
                ),
            );
        }
    }

    /// Closes the current run at a new header or at the end of the file.
    fn finish_run(&mut self, next_line: usize) {
        match std::mem::replace(&mut self.state, State::NoRun) {
            State::NoRun => {}
            State::Skipping {
                first,
                last,
                count,
                why,
            } => {
                if count > 0 {
                    self.note(
                        first,
                        format!("lines {first}-{last}: {count} records skipped ({why})"),
                    );
                }
            }
            State::Active(run) => {
                let (line, done) = (run.line, run.models_done);
                self.state = State::Active(run);
                self.drop_pending(next_line);
                self.state = State::NoRun;
                self.note(
                    line,
                    format!(
                        "run has no end record: it was cut short; its {done} complete model(s) are used"
                    ),
                );
            }
        }
    }

    fn device_for(&mut self, header: &Header) -> usize {
        let ctx = &header.context;
        let same = |d: &Device| {
            d.context.device_model == ctx.device_model
                && d.context.cpu_model == ctx.cpu_model
                && d.context.hostname == ctx.hostname
                && d.context.arch == ctx.arch
        };
        if let Some(ix) = self.data.devices.iter().position(same) {
            return ix;
        }
        let base = device_label(ctx);
        let taken = |l: &str, devices: &[Device]| devices.iter().any(|d| d.label == l);
        let mut label = base.clone();
        if taken(&label, &self.data.devices)
            && let Some(host) = ctx.hostname.as_deref().map(slug).filter(|h| !h.is_empty())
        {
            label = format!("{base}-{host}");
        }
        let mut n = 2;
        while taken(&label, &self.data.devices) {
            label = format!("{base}-{n}");
            n += 1;
        }
        self.data.devices.push(Device {
            label,
            context: ctx.clone(),
            events: header.events.clone(),
        });
        self.data.devices.len() - 1
    }
}

const KNOWN_TYPES: [&str; 7] = [
    "header",
    "node",
    "model_cost",
    "op",
    "model",
    "error",
    "end",
];
