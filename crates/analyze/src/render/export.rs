//! `--export parquet`: the dataset as three Apache Parquet tables that DuckDB, pandas or polars
//! read: `runs.parquet` (one row per bench run: a header, its board and roofs),
//! `models.parquet` (one row per model measured on a board) and `ops.parquet` (one row per
//! executed op, the export's selection of [`super::ops`]). Columns are documented in
//! docs/analysis.md ("Parquet export").
//!
//! Built only with the cargo feature `parquet` (the `parquet` crate without arrow, its
//! low-level column writer, no compression codecs): without it, [`check_available`] says which
//! feature to build with. The tables are [`Table`]s of typed, nullable columns, ops in row
//! groups of [`OPS_PER_ROW_GROUP`] rows so that the export holds one row group at a time.

use super::names;
use super::ops::run_ids;
use crate::compute::Analysis;
use crate::compute::bounds::{Level, Roofs};
use crate::compute::fleet::class_name;
use crate::compute::{governor, thermal_drift_c};
use crate::error::AnalyzeError;
use crate::load::{Dataset, Device, ModelRun};
use crate::table::{Cell, Column, Def, Kind, Table};
use std::path::{Path, PathBuf};

/// What `--export` can write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Parquet,
}

/// Ops per row group of ops.parquet.
pub const OPS_PER_ROW_GROUP: usize = 1 << 17;

fn i(v: impl TryInto<u64>) -> Cell {
    Cell::Int(v.try_into().ok())
}

fn oi(v: Option<impl TryInto<u64>>) -> Cell {
    Cell::Int(v.and_then(|x| x.try_into().ok()))
}

fn f(v: f64) -> Cell {
    Cell::Float(Some(v))
}

fn of(v: Option<f64>) -> Cell {
    Cell::Float(v)
}

fn s(v: impl ToString) -> Cell {
    Cell::Text(Some(v.to_string()))
}

fn os(v: Option<impl ToString>) -> Cell {
    Cell::Text(v.map(|v| v.to_string()))
}

/// A column of the raw outputs (`nullable`: it may be null) with its cell of a row.
fn col<T>(name: &str, kind: Kind, nullable: bool, cell: fn(&T) -> Cell) -> Def<T> {
    let column = Column {
        nullable,
        ..Column::raw(name, kind)
    };
    Def { column, cell }
}

/// One bench run: its first model run, its board, roofs and number of models.
struct RunRow<'a> {
    id: usize,
    run: &'a ModelRun,
    device: &'a Device,
    roofs: Option<Roofs>,
    models: usize,
}

impl RunRow<'_> {
    fn context(&self) -> &crate::record::Context {
        &self.run.header.context
    }

    /// The roofs' last memory level: DRAM.
    fn dram(&self) -> Option<&Level> {
        self.roofs.as_ref().and_then(|r| r.levels.last())
    }
}

/// The runs table.
pub fn runs_table(data: &Dataset) -> Table {
    use Kind::*;
    let defs: [Def<RunRow>; 29] = [
        col("run_id", Int, false, |r| i(r.id)),
        col("board", Text, false, |r| s(&r.device.label)),
        col("class", Text, false, |r| {
            s(names::class(&class_name(&r.run.header.context)))
        }),
        col("board_model", Text, true, |r| {
            os(r.context().device_model.as_ref())
        }),
        col("cpu_model", Text, true, |r| {
            os(r.context().cpu_model.as_ref())
        }),
        col("cpu_part", Text, true, |r| {
            os(r.context().cpu_part.as_ref())
        }),
        col("arch", Text, false, |r| s(&r.context().arch)),
        col("hostname", Text, true, |r| {
            os(r.context().hostname.as_ref())
        }),
        col("kernel_release", Text, true, |r| {
            os(r.context().kernel_release.as_ref())
        }),
        col("cpu_count", Int, false, |r| i(r.context().cpu_count)),
        col("memory_total_bytes", Int, true, |r| {
            oi(r.context().memory_total_bytes)
        }),
        col("log", Text, false, |r| s(r.run.log.display())),
        col("timestamp", Text, false, |r| s(&r.run.header.timestamp)),
        col("tool_version", Text, false, |r| {
            s(&r.run.header.tool_version)
        }),
        col("tract_version", Text, false, |r| {
            s(&r.run.header.tract_version)
        }),
        col("optimize", Text, false, |r| {
            s(&r.run.header.options.optimize)
        }),
        col("threads", Int, false, |r| i(r.run.header.options.threads)),
        col("runs", Int, false, |r| i(r.run.header.options.runs)),
        col("warmup", Int, false, |r| i(r.run.header.options.warmup)),
        col("schedule", Text, false, |r| {
            s(&r.run.header.options.schedule)
        }),
        col("governor", Text, true, |r| os(governor(r.run))),
        col("models", Int, false, |r| i(r.models)),
        col("matmul_kernel", Text, true, |r| {
            os(r.roofs.as_ref().map(|r| &r.kernel))
        }),
        col("peak_macs_per_s", Float, true, |r| {
            of(r.roofs.as_ref().map(|r| r.peak_macs_per_s))
        }),
        col("int8_matmul_kernel", Text, true, |r| {
            os(r.roofs
                .as_ref()
                .and_then(|r| r.int8.as_ref())
                .map(|i| &i.kernel))
        }),
        col("int8_peak_macs_per_s", Float, true, |r| {
            of((r.roofs.as_ref().and_then(|r| r.int8.as_ref())).map(|i| i.peak_macs_per_s))
        }),
        col("dram_read_bytes_per_s", Float, true, |r| {
            of(r.dram().map(|l| l.read_bytes_per_s))
        }),
        col("dram_write_bytes_per_s", Float, true, |r| {
            of(r.dram().map(|l| l.write_bytes_per_s))
        }),
        col("floor_ns", Float, true, |r| {
            of(r.roofs.as_ref().map(|r| r.floor_ns))
        }),
    ];
    let (ids, firsts) = run_ids(data);
    let mut models = vec![0; firsts.len()];
    for &id in &ids {
        models[id] += 1;
    }
    let rows = firsts.iter().enumerate().map(|(id, &first)| {
        let run = &data.runs[first];
        RunRow {
            id,
            run,
            device: &data.devices[run.device],
            roofs: Roofs::of(&run.header).ok(),
            models: models[id],
        }
    });
    Table::of(&defs, rows)
}

/// One model run, with its ids and where the fleet puts it.
struct ModelRow<'a> {
    model_id: usize,
    run_id: usize,
    run: &'a ModelRun,
    device: &'a Device,
    fleet: Fleet,
}

/// A model run in the fleet: its class's median latency, its robust z against it, whether it
/// is an outlier.
#[derive(Debug, Clone, Copy, Default)]
struct Fleet {
    class_median_ns: Option<f64>,
    robust_z: Option<f64>,
    outlier: bool,
}

/// The models table (one row per `Dataset::runs` entry; `model_id` is its index).
pub fn models_table(a: &Analysis, data: &Dataset) -> Table {
    use Kind::*;
    let defs: [Def<ModelRow>; 39] = [
        col("model_id", Int, false, |r| i(r.model_id)),
        col("run_id", Int, false, |r| i(r.run_id)),
        col("board", Text, false, |r| s(&r.device.label)),
        col("class", Text, false, |r| {
            s(names::class(&class_name(&r.device.context)))
        }),
        col("model", Text, false, |r| s(&r.run.model.model)),
        col("source", Text, false, |r| s(&r.run.model.source)),
        col("optimize", Text, false, |r| s(&r.run.model.optimize)),
        col("input_shape", Text, false, |r| {
            let shape: Vec<String> = r
                .run
                .model
                .input_shape
                .iter()
                .map(|d| d.to_string())
                .collect();
            s(shape.join("x"))
        }),
        col("source_nodes", Int, false, |r| i(r.run.model.source_nodes)),
        col("executed_nodes", Int, false, |r| {
            i(r.run.model.executed_nodes)
        }),
        col("op_records", Int, false, |r| i(r.run.ops.len())),
        col("params", Int, false, |r| i(r.run.model.cost.params)),
        col("macs", Int, false, |r| i(r.run.model.cost.macs)),
        col("flops", Int, false, |r| i(r.run.model.cost.flops)),
        col("bytes_read", Int, false, |r| i(r.run.model.cost.bytes_read)),
        col("weight_bytes", Int, false, |r| {
            i(r.run.model.cost.weight_bytes)
        }),
        col("bytes_written", Int, false, |r| {
            i(r.run.model.cost.bytes_written)
        }),
        col("latency_min_ns", Int, false, |r| {
            i(r.run.model.latency_ns.min)
        }),
        col("latency_median_ns", Int, false, |r| {
            i(r.run.model.latency_ns.median)
        }),
        col("latency_p90_ns", Int, false, |r| {
            i(r.run.model.latency_ns.p90)
        }),
        col("latency_p99_ns", Int, false, |r| {
            i(r.run.model.latency_ns.p99)
        }),
        col("latency_max_ns", Int, false, |r| {
            i(r.run.model.latency_ns.max)
        }),
        col("latency_mean_ns", Float, false, |r| {
            f(r.run.model.latency_ns.mean)
        }),
        col("latency_stddev_ns", Float, false, |r| {
            f(r.run.model.latency_ns.stddev)
        }),
        col("runs", Int, false, |r| i(r.run.model.runs)),
        col("warmup", Int, false, |r| i(r.run.model.warmup)),
        col("sum_op_wall_median_ns", Int, false, |r| {
            i(r.run.model.sum_op_wall_median_ns)
        }),
        col("profiled_latency_median_ns", Int, false, |r| {
            i(r.run.model.profiled_latency_median_ns)
        }),
        col("unattributed_median_ns", Int, true, |r| {
            oi(r.run.model.unattributed_median_ns)
        }),
        col("counter_read_median_ns", Int, true, |r| {
            oi(r.run.model.counter_read_median_ns)
        }),
        col("profiled_over_clean", Float, true, |r| {
            of(r.run
                .model
                .paired
                .as_ref()
                .map(|p| p.profiled_over_clean.median))
        }),
        col("governor", Text, true, |r| os(governor(r.run))),
        col("thermal_drift_c", Float, true, |r| {
            of(thermal_drift_c(r.run))
        }),
        col("warning_count", Int, false, |r| {
            i(r.run.model.warnings.len())
        }),
        col("warnings", Text, true, |r| {
            let kinds: Vec<&str> = r
                .run
                .model
                .warnings
                .iter()
                .map(|w| w.kind.as_str())
                .collect();
            os((!kinds.is_empty()).then(|| kinds.join(",")))
        }),
        col("peak_rss_bytes", Int, true, |r| {
            oi(r.run.model.peak_rss_bytes)
        }),
        col("fleet_class_median_ns", Float, true, |r| {
            of(r.fleet.class_median_ns)
        }),
        col("fleet_robust_z", Float, true, |r| of(r.fleet.robust_z)),
        col("fleet_outlier", Bool, false, |r| {
            Cell::Bool(Some(r.fleet.outlier))
        }),
    ];
    let (ids, _) = run_ids(data);
    let mut fleet = vec![Fleet::default(); data.runs.len()];
    if let Some(fl) = &a.fleet {
        for sp in &fl.models {
            for &(_, run, lat) in &sp.boards {
                fleet[run] = Fleet {
                    class_median_ns: Some(sp.median_ns),
                    robust_z: Some(sp.robust_z(lat)),
                    outlier: false,
                };
            }
            for o in &sp.outliers {
                fleet[o.run].outlier = true;
            }
        }
    }
    let rows = data.runs.iter().enumerate().map(|(ix, run)| ModelRow {
        model_id: ix,
        run_id: ids[ix],
        run,
        device: &data.devices[run.device],
        fleet: fleet[ix],
    });
    Table::of(&defs, rows)
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

/// The files [`write`](fn@write) writes.
pub fn file_names(format: ExportFormat) -> &'static [&'static str] {
    match format {
        ExportFormat::Parquet => &["runs.parquet", "models.parquet", "ops.parquet"],
    }
}

/// Writes ops.parquet, models.parquet and runs.parquet into `dir` (claimed by the caller);
/// returns their paths.
pub fn write(
    format: ExportFormat,
    a: &Analysis,
    data: &Dataset,
    dir: &Path,
) -> Result<Vec<PathBuf>, AnalyzeError> {
    check_available(format)?;
    write_parquet(a, data, dir)
}

#[cfg(feature = "parquet")]
fn write_parquet(a: &Analysis, data: &Dataset, dir: &Path) -> Result<Vec<PathBuf>, AnalyzeError> {
    use super::ops::{Output, Selection, row_groups};
    let runs = dir.join("runs.parquet");
    let rt = runs_table(data);
    parquet_io::write_tables(&runs, "runs", &rt, |emit| emit(&rt))?;
    let models = dir.join("models.parquet");
    let mt = models_table(a, data);
    parquet_io::write_tables(&models, "models", &mt, |emit| emit(&mt))?;
    let ops = dir.join("ops.parquet");
    let sel = Selection::new(Output::Export, data);
    parquet_io::write_tables(&ops, "ops", &sel.schema, |emit| {
        row_groups(a, data, &sel, OPS_PER_ROW_GROUP, emit).map(|_| ())
    })?;
    Ok(vec![runs, models, ops])
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
