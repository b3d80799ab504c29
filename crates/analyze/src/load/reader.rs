//! Reading one log's records in order: the runs (header, node, op, model or error, end), the
//! models they complete, and a skip note for every line left behind.

use super::chunks::Chunk;
use super::dataset::{Dataset, FailedModel, ModelRun};
use super::device::device_index;
use super::note::SkipNote;
use super::op::{Interner, Name, Op};
use super::parse::Parsed;
use super::plausible;
use crate::record::{Header, MIN_SCHEMA_VERSION, NodeRecord, Record, SCHEMA_VERSION};
use serde_json::Value;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::Path;
use std::rc::Rc;

/// Where each (device, model, optimize level) run is in `Dataset::runs`, and the runs a later
/// measurement of the same model at the same level replaced (dropped once every file is read): finding the earlier run is a
/// lookup, not a scan, so loading stays linear in the number of models.
#[derive(Default)]
pub(super) struct RunIndex {
    pub(super) at: HashMap<(usize, String, String), usize>,
    pub(super) replaced: HashSet<usize>,
    /// Names, shapes and event lists of the ops, each held once.
    pub(super) interner: Interner,
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

pub(super) struct FileReader<'a> {
    path: &'a Path,
    data: &'a mut Dataset,
    runs: &'a mut RunIndex,
    state: State,
    /// Lines that are not JSON at all (a serial capture with the kernel console on it).
    console_lines: (usize, usize),
}

impl<'a> FileReader<'a> {
    pub(super) fn new(path: &'a Path, data: &'a mut Dataset, runs: &'a mut RunIndex) -> Self {
        FileReader {
            path,
            data,
            runs,
            state: State::NoRun,
            console_lines: (0, 0),
        }
    }

    pub(super) fn note(&mut self, line: usize, reason: impl Into<String>) {
        self.data.notes.push(SkipNote {
            file: self.path.to_path_buf(),
            line,
            reason: reason.into(),
        });
    }

    /// Reads the lines of one chunk of the log ([`Chunk::lines`]), `records[i]` the i-th line
    /// parsed (if it was), the chunk's first line being line `first_line` of the file. Returns
    /// the number of the line after the chunk's last.
    pub(super) fn read_chunk(
        &mut self,
        chunk: &Chunk,
        records: Vec<Parsed>,
        first_line: usize,
    ) -> usize {
        let mut records = records.into_iter();
        let mut number = first_line;
        let mut lines = chunk.lines().peekable();
        while let Some(raw) = lines.next() {
            let unterminated = chunk.last && lines.peek().is_none() && !chunk.ends_with_newline;
            self.feed(
                number,
                raw,
                unterminated,
                records.next().unwrap_or(Parsed::No),
            );
            number += 1;
        }
        number
    }

    /// Reads (line number, bytes, unterminated last line, the line parsed if it was) in
    /// order; `count` is the file's last line number.
    pub(super) fn read_lines<'b>(
        mut self,
        lines: impl Iterator<Item = (usize, &'b [u8], bool, Parsed)>,
        count: usize,
        empty: bool,
    ) {
        for (number, raw, unterminated, parsed) in lines {
            self.feed(number, raw, unterminated, parsed);
        }
        self.finish(count, empty);
    }

    /// One line of the log.
    fn feed(&mut self, number: usize, raw: &[u8], unterminated: bool, parsed: Parsed) {
        match parsed {
            _ if matches!(self.state, State::Skipping { .. }) => {
                self.line(number, raw, unterminated)
            }
            Parsed::Op(model, op) => self.op(number, model, op),
            Parsed::Record(r) => self.record(number, *r),
            Parsed::TooLong(bytes) => self.note(
                number,
                format!(
                    "a line of {bytes} bytes, more than any record (at most {} MiB): not read; \
                     ignored",
                    super::chunks::MAX_LINE_BYTES >> 20
                ),
            ),
            Parsed::No => self.line(number, raw, unterminated),
        }
    }

    /// The file read to its end (`count`: its last line number; `empty`: it held no byte).
    pub(super) fn finish(mut self, count: usize, empty: bool) {
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
        let known = u64::from(MIN_SCHEMA_VERSION)..=u64::from(SCHEMA_VERSION);
        if !version.is_some_and(|v| known.contains(&v)) {
            let found = version.map_or("none".to_string(), |v| v.to_string());
            let why = format!(
                "schema_version {found}, this hiddencost reads {MIN_SCHEMA_VERSION} to \
                 {SCHEMA_VERSION}: analyze that run with the hiddencost version that wrote it"
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
                let device = device_index(&mut self.data.devices, &header);
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
            // The model's node and op records go with its model record, not "cut short".
            let dropped = match (&record, &mut self.state) {
                (Record::Model(m), State::Active(run)) => run.pending.remove(&m.model),
                _ => None,
            };
            let with = dropped.map_or(String::new(), |p| {
                format!(
                    ", with the model's {} node and {} op records",
                    p.nodes.len(),
                    p.ops.len()
                )
            });
            return self.note(number, format!("{why}: the record is skipped{with}"));
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
        let key = (
            new.device,
            new.model.model.clone(),
            new.model.optimize.clone(),
        );
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
