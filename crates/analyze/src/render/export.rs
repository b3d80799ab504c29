//! `--export parquet`: the dataset as three Apache Parquet tables that DuckDB, pandas or polars
//! read: `runs.parquet` (one row per bench run: a header, its board and roofs),
//! `models.parquet` (one row per model measured on a board) and `ops.parquet` (one row per
//! executed op). Columns are documented in docs/analysis.md ("Parquet export").
//!
//! Built only with the cargo feature `parquet` (the `parquet` crate without arrow, its
//! low-level column writer, no compression codecs): without it, [`check_available`] says which
//! feature to build with. The tables are built from [`Table`]s of typed, nullable columns, ops
//! in row groups of [`OPS_PER_ROW_GROUP`] rows so that the export holds one row group at a time.

use super::names;
use crate::compute::Analysis;
use crate::compute::bounds::Roofs;
use crate::compute::fleet::class_name;
use crate::compute::{governor, thermal_drift_c};
use crate::error::AnalyzeError;
use crate::load::Dataset;
use std::collections::{BTreeSet, HashMap};
use std::path::{Path, PathBuf};

/// What `--export` can write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Parquet,
}

/// Ops per row group of ops.parquet.
pub const OPS_PER_ROW_GROUP: usize = 1 << 17;

/// One cell of a row.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    I(Option<i64>),
    F(Option<f64>),
    S(Option<String>),
    B(Option<bool>),
}

/// Column types of the tables.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    I64,
    F64,
    Utf8,
    Bool,
}

/// A column's values, nulls as `None`.
#[derive(Debug, Clone, PartialEq)]
pub enum Values {
    I64(Vec<Option<i64>>),
    F64(Vec<Option<f64>>),
    Utf8(Vec<Option<String>>),
    Bool(Vec<Option<bool>>),
}

/// A column: its name, whether it may be null, its values.
#[derive(Debug, Clone, PartialEq)]
pub struct Column {
    pub name: String,
    pub nullable: bool,
    pub values: Values,
}

/// Rows of one table (or one row group of it), column by column.
#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub name: &'static str,
    pub columns: Vec<Column>,
    pub rows: usize,
}

impl Table {
    /// An empty table of these (name, kind, nullable) columns.
    pub fn new(name: &'static str, schema: &[(String, Kind, bool)]) -> Self {
        let columns = schema
            .iter()
            .map(|(n, k, nullable)| Column {
                name: n.clone(),
                nullable: *nullable,
                values: match k {
                    Kind::I64 => Values::I64(Vec::new()),
                    Kind::F64 => Values::F64(Vec::new()),
                    Kind::Utf8 => Values::Utf8(Vec::new()),
                    Kind::Bool => Values::Bool(Vec::new()),
                },
            })
            .collect();
        Table {
            name,
            columns,
            rows: 0,
        }
    }

    /// Appends one row; cells beyond the columns are dropped, missing ones are null, a cell of
    /// the wrong type is null.
    pub fn push(&mut self, cells: Vec<Cell>) {
        let mut cells = cells.into_iter();
        for col in &mut self.columns {
            let cell = cells.next();
            match (&mut col.values, cell) {
                (Values::I64(v), Some(Cell::I(x))) => v.push(x),
                (Values::F64(v), Some(Cell::F(x))) => v.push(x.filter(|f| f.is_finite())),
                (Values::Utf8(v), Some(Cell::S(x))) => v.push(x),
                (Values::Bool(v), Some(Cell::B(x))) => v.push(x),
                (Values::I64(v), _) => v.push(None),
                (Values::F64(v), _) => v.push(None),
                (Values::Utf8(v), _) => v.push(None),
                (Values::Bool(v), _) => v.push(None),
            }
        }
        self.rows += 1;
    }

    /// Empties the columns, keeping the schema.
    pub fn clear(&mut self) {
        for c in &mut self.columns {
            match &mut c.values {
                Values::I64(v) => v.clear(),
                Values::F64(v) => v.clear(),
                Values::Utf8(v) => v.clear(),
                Values::Bool(v) => v.clear(),
            }
        }
        self.rows = 0;
    }

    /// The Parquet schema, in the parquet crate's message syntax. A column declared required
    /// that holds a null is written as optional.
    pub fn message_type(&self) -> String {
        let mut s = format!("message {} {{\n", self.name);
        for c in &self.columns {
            let rep = if c.nullable || has_null(&c.values) {
                "OPTIONAL"
            } else {
                "REQUIRED"
            };
            let ty = match c.values {
                Values::I64(_) => "INT64",
                Values::F64(_) => "DOUBLE",
                Values::Utf8(_) => "BYTE_ARRAY",
                Values::Bool(_) => "BOOLEAN",
            };
            let annot = if matches!(c.values, Values::Utf8(_)) {
                " (UTF8)"
            } else {
                ""
            };
            s += &format!("  {rep} {ty} {}{annot};\n", c.name);
        }
        s + "}\n"
    }
}

fn has_null(v: &Values) -> bool {
    match v {
        Values::I64(v) => v.iter().any(Option::is_none),
        Values::F64(v) => v.iter().any(Option::is_none),
        Values::Utf8(v) => v.iter().any(Option::is_none),
        Values::Bool(v) => v.iter().any(Option::is_none),
    }
}

/// A counter's column name: `counter_` and the event name in lower case, every character that
/// is not a letter or digit as `_` (`cache-misses` -> `counter_cache_misses`).
pub fn counter_column(event: &str) -> String {
    let body: String = event
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    format!("counter_{body}")
}

fn i(v: impl TryInto<i64>) -> Cell {
    Cell::I(v.try_into().ok())
}

fn oi(v: Option<impl TryInto<i64>>) -> Cell {
    Cell::I(v.and_then(|x| x.try_into().ok()))
}

fn f(v: f64) -> Cell {
    Cell::F(Some(v))
}

fn of(v: Option<f64>) -> Cell {
    Cell::F(v)
}

fn s(v: impl Into<String>) -> Cell {
    Cell::S(Some(v.into()))
}

fn os(v: Option<impl Into<String>>) -> Cell {
    Cell::S(v.map(Into::into))
}

fn col(name: &str, kind: Kind, nullable: bool) -> (String, Kind, bool) {
    (name.to_string(), kind, nullable)
}

/// Run ids: each distinct header (one bench run) in first-seen order; parallel to
/// `Dataset::runs`, and the first model run of each id.
pub fn run_ids(data: &Dataset) -> (Vec<usize>, Vec<usize>) {
    let mut ids: HashMap<*const crate::record::Header, usize> = HashMap::new();
    let mut firsts = Vec::new();
    let per_run = data
        .runs
        .iter()
        .enumerate()
        .map(|(ix, r)| {
            let n = ids.len();
            *ids.entry(std::rc::Rc::as_ptr(&r.header))
                .or_insert_with(|| {
                    firsts.push(ix);
                    n
                })
        })
        .collect();
    (per_run, firsts)
}

/// The runs table.
pub fn runs_table(data: &Dataset) -> Table {
    use Kind::*;
    let schema = [
        col("run_id", I64, false),
        col("board", Utf8, false),
        col("class", Utf8, false),
        col("board_model", Utf8, true),
        col("cpu_model", Utf8, true),
        col("cpu_part", Utf8, true),
        col("arch", Utf8, false),
        col("hostname", Utf8, true),
        col("kernel_release", Utf8, true),
        col("cpu_count", I64, false),
        col("memory_total_bytes", I64, true),
        col("log", Utf8, false),
        col("timestamp", Utf8, false),
        col("tool_version", Utf8, false),
        col("tract_version", Utf8, false),
        col("optimize", Utf8, false),
        col("threads", I64, false),
        col("runs", I64, false),
        col("warmup", I64, false),
        col("schedule", Utf8, false),
        col("governor", Utf8, true),
        col("models", I64, false),
        col("matmul_kernel", Utf8, true),
        col("peak_macs_per_s", F64, true),
        col("dram_read_bytes_per_s", F64, true),
        col("dram_write_bytes_per_s", F64, true),
        col("floor_ns", F64, true),
    ];
    let mut t = Table::new("runs", &schema);
    let (ids, firsts) = run_ids(data);
    let mut models = vec![0i64; firsts.len()];
    for &id in &ids {
        models[id] += 1;
    }
    for (id, &first) in firsts.iter().enumerate() {
        let run = &data.runs[first];
        let h = &run.header;
        let c = &h.context;
        let roofs = Roofs::of(h).ok();
        let last = roofs.as_ref().and_then(|r| r.levels.last());
        t.push(vec![
            i(id),
            s(data.devices[run.device].label.clone()),
            s(names::class(&class_name(c))),
            os(c.device_model.clone()),
            os(c.cpu_model.clone()),
            os(c.cpu_part.clone()),
            s(c.arch.clone()),
            os(c.hostname.clone()),
            os(c.kernel_release.clone()),
            i(c.cpu_count),
            oi(c.memory_total_bytes),
            s(run.log.display().to_string()),
            s(h.timestamp.clone()),
            s(h.tool_version.clone()),
            s(h.tract_version.clone()),
            s(h.options.optimize.clone()),
            i(h.options.threads),
            i(h.options.runs),
            i(h.options.warmup),
            s(h.options.schedule.clone()),
            os(governor(run)),
            Cell::I(Some(models[id])),
            os(roofs.as_ref().map(|r| r.kernel.clone())),
            of(roofs.as_ref().map(|r| r.peak_macs_per_s)),
            of(last.map(|l| l.read_bytes_per_s)),
            of(last.map(|l| l.write_bytes_per_s)),
            of(roofs.as_ref().map(|r| r.floor_ns)),
        ]);
    }
    t
}

/// The models table (one row per `Dataset::runs` entry; `model_id` is its index).
pub fn models_table(a: &Analysis, data: &Dataset) -> Table {
    use Kind::*;
    let schema = [
        col("model_id", I64, false),
        col("run_id", I64, false),
        col("board", Utf8, false),
        col("class", Utf8, false),
        col("model", Utf8, false),
        col("source", Utf8, false),
        col("optimize", Utf8, false),
        col("input_shape", Utf8, false),
        col("source_nodes", I64, false),
        col("executed_nodes", I64, false),
        col("op_records", I64, false),
        col("params", I64, false),
        col("macs", I64, false),
        col("flops", I64, false),
        col("bytes_read", I64, false),
        col("weight_bytes", I64, false),
        col("bytes_written", I64, false),
        col("latency_min_ns", I64, false),
        col("latency_median_ns", I64, false),
        col("latency_p90_ns", I64, false),
        col("latency_p99_ns", I64, false),
        col("latency_max_ns", I64, false),
        col("latency_mean_ns", F64, false),
        col("latency_stddev_ns", F64, false),
        col("runs", I64, false),
        col("warmup", I64, false),
        col("sum_op_wall_median_ns", I64, false),
        col("profiled_latency_median_ns", I64, false),
        col("unattributed_median_ns", I64, true),
        col("counter_read_median_ns", I64, true),
        col("profiled_over_clean", F64, true),
        col("governor", Utf8, true),
        col("thermal_drift_c", F64, true),
        col("warning_count", I64, false),
        col("warnings", Utf8, true),
        col("peak_rss_bytes", I64, true),
        col("fleet_class_median_ns", F64, true),
        col("fleet_robust_z", F64, true),
        col("fleet_outlier", Bool, false),
    ];
    let mut t = Table::new("models", &schema);
    let (ids, _) = run_ids(data);
    // Per run: (class median, robust z, outlier).
    let mut fleet: Vec<(Option<f64>, Option<f64>, bool)> =
        vec![(None, None, false); data.runs.len()];
    if let Some(fl) = &a.fleet {
        for sp in &fl.models {
            for &(_, run, lat) in &sp.boards {
                fleet[run] = (Some(sp.median_ns), Some(sp.robust_z(lat)), false);
            }
            for o in &sp.outliers {
                fleet[o.run].2 = true;
            }
        }
    }
    for (ix, run) in data.runs.iter().enumerate() {
        let m = &run.model;
        let kinds: Vec<&str> = m.warnings.iter().map(|w| w.kind.as_str()).collect();
        let shape: Vec<String> = m.input_shape.iter().map(|d| d.to_string()).collect();
        t.push(vec![
            i(ix),
            i(ids[ix]),
            s(data.devices[run.device].label.clone()),
            s(names::class(&class_name(&data.devices[run.device].context))),
            s(m.model.clone()),
            s(m.source.clone()),
            s(m.optimize.clone()),
            s(shape.join("x")),
            i(m.source_nodes),
            i(m.executed_nodes),
            i(run.ops.len()),
            i(m.cost.params),
            i(m.cost.macs),
            i(m.cost.flops),
            i(m.cost.bytes_read),
            i(m.cost.weight_bytes),
            i(m.cost.bytes_written),
            i(m.latency_ns.min),
            i(m.latency_ns.median),
            i(m.latency_ns.p90),
            i(m.latency_ns.p99),
            i(m.latency_ns.max),
            f(m.latency_ns.mean),
            f(m.latency_ns.stddev),
            i(m.runs),
            i(m.warmup),
            i(m.sum_op_wall_median_ns),
            i(m.profiled_latency_median_ns),
            oi(m.unattributed_median_ns),
            oi(m.counter_read_median_ns),
            of(m.paired.as_ref().map(|p| p.profiled_over_clean.median)),
            os(governor(run)),
            of(thermal_drift_c(run)),
            i(m.warnings.len()),
            os((!kinds.is_empty()).then(|| kinds.join(","))),
            oi(m.peak_rss_bytes),
            of(fleet[ix].0),
            of(fleet[ix].1),
            Cell::B(Some(fleet[ix].2)),
        ]);
    }
    t
}

/// Every counter name of the ops, sorted.
pub fn counter_names(data: &Dataset) -> Vec<String> {
    let mut names: BTreeSet<&str> = BTreeSet::new();
    for r in &data.runs {
        for op in &r.ops {
            for k in op.counters.keys() {
                if !names.contains(k.as_str()) {
                    names.insert(k.as_str());
                }
            }
        }
    }
    names.into_iter().map(String::from).collect()
}

/// The ops table's schema: fixed columns, then one per counter.
pub fn ops_schema(counters: &[String]) -> Vec<(String, Kind, bool)> {
    use Kind::*;
    let mut schema = vec![
        col("model_id", I64, false),
        col("run_id", I64, false),
        col("board", Utf8, false),
        col("model", Utf8, false),
        col("node_id", I64, false),
        col("exec_order", I64, false),
        col("node", Utf8, false),
        col("op", Utf8, false),
        col("category", Utf8, false),
        col("source_node", Utf8, true),
        col("source_op", Utf8, true),
        col("source_category", Utf8, true),
        col("fused_sources", Utf8, true),
        col("params", I64, false),
        col("macs", I64, false),
        col("thop_macs", I64, false),
        col("flops", I64, false),
        col("bytes_read", I64, false),
        col("weight_bytes", I64, false),
        col("bytes_written", I64, false),
        col("wall_median_ns", I64, false),
        col("wall_min_ns", I64, false),
        col("wall_max_ns", I64, false),
        col("bound_ns", F64, true),
        col("above_bound_ns", F64, true),
        col("limiter", Utf8, true),
    ];
    schema.extend(counters.iter().map(|c| (counter_column(c), I64, true)));
    schema
}

/// Calls `emit` with each row group of the ops table, in order.
pub fn ops_row_groups(
    a: &Analysis,
    data: &Dataset,
    rows_per_group: usize,
    mut emit: impl FnMut(&Table) -> Result<(), AnalyzeError>,
) -> Result<usize, AnalyzeError> {
    let counters = counter_names(data);
    let mut t = Table::new("ops", &ops_schema(&counters));
    let (ids, _) = run_ids(data);
    let mut total = 0;
    for (ix, run) in data.runs.iter().enumerate() {
        let bounds = a.bounds.get(ix).and_then(|b| b.as_ref().ok());
        let board = &data.devices[run.device].label;
        for (k, op) in run.ops.iter().enumerate() {
            let b = bounds.and_then(|b| b.ops.get(k));
            let mut row = vec![
                i(ix),
                i(ids[ix]),
                s(board.clone()),
                s(run.model.model.clone()),
                i(op.node_id),
                i(op.order),
                s(op.node.to_string()),
                s(op.op.to_string()),
                s(op.category.to_string()),
                os(op.source_node.as_ref().map(|n| n.to_string())),
                os(op.source_op.as_ref().map(|n| n.to_string())),
                os(op.source_category.as_ref().map(|n| n.to_string())),
                os((!op.fused_sources.is_empty()).then(|| op.fused_sources.join(","))),
                i(op.cost.params),
                i(op.cost.macs),
                i(op.cost.thop_macs),
                i(op.cost.flops),
                i(op.cost.bytes_read),
                i(op.cost.weight_bytes),
                i(op.cost.bytes_written),
                i(op.wall_ns.median),
                i(op.wall_ns.min),
                i(op.wall_ns.max),
                of(b.map(|b| b.bound_ns)),
                of(b.map(|b| b.above_ns())),
                os(bounds
                    .zip(b)
                    .map(|(mb, b)| names::limiter_of(&mb.roofs, b.limiter))),
            ];
            row.extend(
                counters
                    .iter()
                    .map(|c| oi(op.counters.get(c).copied().flatten().map(|v| v.median))),
            );
            t.push(row);
            total += 1;
            if t.rows >= rows_per_group {
                emit(&t)?;
                t.clear();
            }
        }
    }
    if t.rows > 0 || total == 0 {
        emit(&t)?;
    }
    Ok(total)
}

/// Fails when this build cannot write `format`, before anything is computed.
pub fn check_available(format: ExportFormat) -> Result<(), AnalyzeError> {
    match format {
        ExportFormat::Parquet if cfg!(feature = "parquet") => Ok(()),
        ExportFormat::Parquet => Err(AnalyzeError::ExportUnavailable {
            format: "parquet",
            feature: "parquet",
        }),
    }
}

/// Writes ops.parquet, models.parquet and runs.parquet into `dir`; returns their paths.
pub fn write(
    format: ExportFormat,
    a: &Analysis,
    data: &Dataset,
    dir: &Path,
) -> Result<Vec<PathBuf>, AnalyzeError> {
    check_available(format)?;
    std::fs::create_dir_all(dir).map_err(|cause| AnalyzeError::Write {
        path: dir.to_path_buf(),
        cause,
    })?;
    write_parquet(a, data, dir)
}

#[cfg(feature = "parquet")]
fn write_parquet(a: &Analysis, data: &Dataset, dir: &Path) -> Result<Vec<PathBuf>, AnalyzeError> {
    let mut written = Vec::new();
    let runs = dir.join("runs.parquet");
    let rt = runs_table(data);
    parquet_io::write_tables(&runs, &rt, |emit| emit(&rt))?;
    written.push(runs);
    let models = dir.join("models.parquet");
    let mt = models_table(a, data);
    parquet_io::write_tables(&models, &mt, |emit| emit(&mt))?;
    written.push(models);
    let ops = dir.join("ops.parquet");
    let schema = Table::new("ops", &ops_schema(&counter_names(data)));
    // Nullable columns stay nullable whatever the first row group holds: the schema is the
    // declared one.
    parquet_io::write_tables(&ops, &schema, |emit| {
        ops_row_groups(a, data, OPS_PER_ROW_GROUP, emit).map(|_| ())
    })?;
    written.push(ops);
    Ok(written)
}

#[cfg(not(feature = "parquet"))]
fn write_parquet(_: &Analysis, _: &Dataset, _: &Path) -> Result<Vec<PathBuf>, AnalyzeError> {
    Err(AnalyzeError::ExportUnavailable {
        format: "parquet",
        feature: "parquet",
    })
}

#[cfg(feature = "parquet")]
#[path = "export_parquet.rs"]
mod parquet_io;

#[cfg(test)]
#[path = "export_tests.rs"]
mod tests;
