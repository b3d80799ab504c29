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
use crate::compute::bounds::Roofs;
use crate::compute::fleet::class_name;
use crate::compute::{governor, thermal_drift_c};
use crate::error::AnalyzeError;
use crate::load::Dataset;
use crate::table::{Cell, Column, Kind, Table};
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

fn s(v: impl Into<String>) -> Cell {
    Cell::Text(Some(v.into()))
}

fn os(v: Option<impl Into<String>>) -> Cell {
    Cell::Text(v.map(Into::into))
}

/// Columns of the raw outputs from (name, kind, nullable).
fn schema(cols: &[(&str, Kind, bool)]) -> Table {
    Table::typed(
        (cols.iter())
            .map(|&(name, kind, nullable)| Column {
                nullable,
                ..Column::raw(name, kind)
            })
            .collect(),
    )
}

/// The runs table.
pub fn runs_table(data: &Dataset) -> Table {
    use Kind::*;
    let mut t = schema(&[
        ("run_id", Int, false),
        ("board", Text, false),
        ("class", Text, false),
        ("board_model", Text, true),
        ("cpu_model", Text, true),
        ("cpu_part", Text, true),
        ("arch", Text, false),
        ("hostname", Text, true),
        ("kernel_release", Text, true),
        ("cpu_count", Int, false),
        ("memory_total_bytes", Int, true),
        ("log", Text, false),
        ("timestamp", Text, false),
        ("tool_version", Text, false),
        ("tract_version", Text, false),
        ("optimize", Text, false),
        ("threads", Int, false),
        ("runs", Int, false),
        ("warmup", Int, false),
        ("schedule", Text, false),
        ("governor", Text, true),
        ("models", Int, false),
        ("matmul_kernel", Text, true),
        ("peak_macs_per_s", Float, true),
        ("dram_read_bytes_per_s", Float, true),
        ("dram_write_bytes_per_s", Float, true),
        ("floor_ns", Float, true),
    ]);
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
            i(models[id]),
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
    let mut t = schema(&[
        ("model_id", Int, false),
        ("run_id", Int, false),
        ("board", Text, false),
        ("class", Text, false),
        ("model", Text, false),
        ("source", Text, false),
        ("optimize", Text, false),
        ("input_shape", Text, false),
        ("source_nodes", Int, false),
        ("executed_nodes", Int, false),
        ("op_records", Int, false),
        ("params", Int, false),
        ("macs", Int, false),
        ("flops", Int, false),
        ("bytes_read", Int, false),
        ("weight_bytes", Int, false),
        ("bytes_written", Int, false),
        ("latency_min_ns", Int, false),
        ("latency_median_ns", Int, false),
        ("latency_p90_ns", Int, false),
        ("latency_p99_ns", Int, false),
        ("latency_max_ns", Int, false),
        ("latency_mean_ns", Float, false),
        ("latency_stddev_ns", Float, false),
        ("runs", Int, false),
        ("warmup", Int, false),
        ("sum_op_wall_median_ns", Int, false),
        ("profiled_latency_median_ns", Int, false),
        ("unattributed_median_ns", Int, true),
        ("counter_read_median_ns", Int, true),
        ("profiled_over_clean", Float, true),
        ("governor", Text, true),
        ("thermal_drift_c", Float, true),
        ("warning_count", Int, false),
        ("warnings", Text, true),
        ("peak_rss_bytes", Int, true),
        ("fleet_class_median_ns", Float, true),
        ("fleet_robust_z", Float, true),
        ("fleet_outlier", Bool, false),
    ]);
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
            Cell::Bool(Some(fleet[ix].2)),
        ]);
    }
    t
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
