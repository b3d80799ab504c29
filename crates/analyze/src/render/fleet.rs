//! The fleet section (the same models over many boards) and its CSV files: per model and board
//! class the median, spread and outliers; the outlier boards with what their logs say; each
//! board's roofs. The markdown stays readable at 1,000 boards: summaries and the most extreme
//! outliers; every board and every outlier is in the CSV files.

use super::doc::{Doc, Text};
use super::names;
use super::reasons;
use super::table::Table;
use crate::compute::Analysis;
use crate::compute::fleet::{
    DRIFT_REASON_C, Fleet, MIN_BOARDS_FOR_OUTLIERS, MIN_DEVIATION, OUTLIER_Z, Reason, RoofFigures,
    RoofKind, median,
};
use crate::load::Dataset;
use crate::table::{
    Cell, Column,
    Kind::{Float, Int},
    Read, Unit,
};
use crate::units::{giga_of_per_s, us_of_ns};

/// Outliers listed in the report (the most extreme first); all are in fleet_outliers.csv.
pub const MAX_OUTLIER_ROWS: usize = 25;
/// Up to this many boards the report lists each board's roofs; above it, only outlier boards.
pub const MAX_BOARD_ROWS: usize = 24;

pub const H_FLEET: &str = "9. Fleet: the same models on many boards";

fn explain() -> String {
    format!(
        "Boards are grouped by class (board model without its revision, and CPU); every \
         statistic is over the boards of one class. Per model: the boards that measured it, the \
         median of their clean median latencies, min and max, the interquartile range (IQR, \
         q3 - q1, quartiles interpolated as DuckDB's `quantile_cont`) and the median absolute \
         deviation (MAD). A board is an outlier for a model when its robust z-score, (latency - \
         median) / (1.4826 x MAD), is beyond {OUTLIER_Z} and its latency is at least {:.0}% \
         away from the median, in a class of at least {MIN_BOARDS_FOR_OUTLIERS} boards. Each \
         outlier lists what its logs say could explain it: a governor other than \
         `performance`, a temperature rise of {DRIFT_REASON_C} °C or more since the run's \
         start, the bench's noise warnings on that model, roofs at least 10% worse than the \
         class median. fleet_models.csv, fleet_outliers.csv and fleet_boards.csv hold every \
         row.",
        MIN_DEVIATION * 100.0
    )
}

/// A reason in words.
pub fn reason_text(r: &Reason) -> String {
    match r {
        Reason::Governor(g) => format!("governor {g}"),
        Reason::Drift(c) => format!("temperature +{c:.1} °C"),
        Reason::Warning(kind, message) => format!("warning {kind}: {message}"),
        Reason::Roof(RoofKind::Peak, x) => format!("matmul peak {x:.2}x the class median"),
        Reason::Roof(RoofKind::DramRead, x) => format!("DRAM read {x:.2}x the class median"),
        Reason::Roof(RoofKind::Floor, x) => {
            format!("dispatch floor {:.2}x the class median", 1.0 / x)
        }
    }
}

fn reasons_text(rs: &[Reason]) -> String {
    if rs.is_empty() {
        "none in the logs".into()
    } else {
        rs.iter().map(reason_text).collect::<Vec<_>>().join("; ")
    }
}

fn warnings_text(w: &std::collections::BTreeMap<String, usize>) -> String {
    if w.is_empty() {
        "none".into()
    } else {
        w.iter()
            .map(|(k, n)| format!("{k} x{n}"))
            .collect::<Vec<_>>()
            .join(", ")
    }
}

fn range(values: &[f64], f: fn(Option<f64>) -> String) -> String {
    let m = median(values);
    let lo = values.iter().copied().reduce(f64::min);
    let hi = values.iter().copied().reduce(f64::max);
    match (m, lo, hi) {
        (Some(m), Some(lo), Some(hi)) => {
            format!("{} ({}-{})", f(Some(m)), f(Some(lo)), f(Some(hi)))
        }
        _ => "n/a".into(),
    }
}

/// Per class: boards, governors, warnings, roofs (median and range over the boards).
pub fn classes_table(f: &Fleet) -> Table {
    let mut t = Table::new(&[
        "class",
        "boards",
        "model runs",
        "boards not on performance",
        "boards warned",
        "boards with roofs",
        "peak GMAC/s",
        "DRAM read GB/s",
        "floor us",
    ]);
    for c in &f.classes {
        let bs: Vec<_> = c.boards.iter().map(|&d| &f.boards[d]).collect();
        let vals = |g: fn(&RoofFigures) -> Option<f64>| -> Vec<f64> {
            bs.iter().filter_map(|b| g(&b.roofs)).collect()
        };
        t.row(vec![
            names::class(&c.name),
            bs.len().to_string(),
            bs.iter().map(|b| b.models).sum::<usize>().to_string(),
            bs.iter()
                .filter(|b| b.governors.iter().any(|g| g != "performance"))
                .count()
                .to_string(),
            bs.iter()
                .filter(|b| !b.warnings.is_empty())
                .count()
                .to_string(),
            bs.iter()
                .filter(|b| b.roofs.peak_macs_per_s.is_some())
                .count()
                .to_string(),
            range(&vals(|r| r.peak_macs_per_s), giga_of_per_s),
            range(&vals(|r| r.dram_read_bytes_per_s), giga_of_per_s),
            range(&vals(|r| r.floor_ns), us_of_ns),
        ]);
    }
    t
}

/// Per model and class: boards, median, spread, outliers. For reading the labelled columns
/// (in ms); fleet_models.csv every named column, full precision (in ns).
pub fn models_table(f: &Fleet) -> Table {
    let ns = |name: &str, label: &str| Column::new(name, label, Float, Unit::Ns, Read::MsOfNs);
    let raw_ns = |name: &str| ns(name, name).raw_only();
    let count = |name: &str| Column::new(name, name, Int, Unit::Count, Read::Plain);
    let reading = |label: &str, unit: Unit, read: Read| {
        Column::new("", label, Float, unit, read).reading_only()
    };
    let mut t = Table::typed(vec![
        Column::text("model"),
        Column::text("class"),
        count("boards"),
        ns("median_ns", "median ms"),
        ns("min_ns", "min ms"),
        ns("max_ns", "max ms"),
        raw_ns("q1_ns"),
        raw_ns("q3_ns"),
        ns("iqr_ns", "IQR ms"),
        reading("IQR/median", Unit::Fraction, Read::Pct),
        ns("mad_ns", "MAD ms"),
        reading("max/min", Unit::Ratio, Read::Times),
        count("outliers"),
    ]);
    for s in &f.models {
        let ns = |v: f64| Cell::Float(Some(v));
        t.push(vec![
            Cell::text(s.model.clone()),
            Cell::text(names::class(&f.classes[s.class].name)),
            Cell::Int(Some(s.boards.len() as u64)),
            ns(s.median_ns),
            ns(s.min_ns),
            ns(s.max_ns),
            ns(s.q1_ns),
            ns(s.q3_ns),
            ns(s.iqr_ns()),
            Cell::Float((s.median_ns > 0.0).then(|| s.iqr_ns() / s.median_ns)),
            ns(s.mad_ns),
            Cell::Float((s.min_ns > 0.0).then(|| s.max_ns / s.min_ns)),
            Cell::Int(Some(s.outliers.len() as u64)),
        ]);
    }
    t
}

/// Every outlier, the most extreme first over all models (`limit` rows at most).
fn outlier_rows(f: &Fleet, data: &Dataset, limit: usize) -> Table {
    let signed = |name: &str, label: &str, unit: Unit| {
        Column::new(name, label, Float, unit, Read::Signed(1))
    };
    let mut t = Table::typed(vec![
        Column::text("model"),
        Column::text("board"),
        Column::text("class"),
        Column::new("latency_ns", "latency ms", Float, Unit::Ns, Read::MsOfNs),
        Column::new(
            "class_median_ns",
            "class median ms",
            Float,
            Unit::Ns,
            Read::MsOfNs,
        ),
        Column::new("ratio", "x median", Float, Unit::Ratio, Read::Times),
        signed("robust z", "robust z", Unit::None),
        Column::text("governor"),
        signed("drift_c", "drift °C", Unit::Celsius),
        Column::text("reasons"),
    ]);
    let mut all: Vec<(&crate::compute::fleet::ModelSpread, usize)> = f
        .models
        .iter()
        .flat_map(|s| (0..s.outliers.len()).map(move |i| (s, i)))
        .collect();
    all.sort_by(|a, b| {
        let (za, zb) = (a.0.outliers[a.1].robust_z, b.0.outliers[b.1].robust_z);
        zb.abs().total_cmp(&za.abs())
    });
    for (s, i) in all.into_iter().take(limit) {
        let o = &s.outliers[i];
        let run = &data.runs[o.run];
        let gov = crate::compute::governor(run).unwrap_or_else(|| "n/a".into());
        let z = if o.robust_z.is_finite() {
            Cell::Float(Some(o.robust_z))
        } else {
            let sign = if o.robust_z > 0.0 { "+" } else { "-" };
            Cell::text(format!("{sign}inf (MAD 0)"))
        };
        t.push(vec![
            Cell::text(s.model.clone()),
            Cell::text(data.devices[o.device].label.clone()),
            Cell::text(names::class(&f.classes[s.class].name)),
            Cell::Float(Some(o.latency_ns)),
            Cell::Float(Some(s.median_ns)),
            Cell::Float(Some(o.ratio)),
            z,
            Cell::text(gov),
            Cell::Float(crate::compute::thermal_drift_c(run)),
            Cell::text(reasons_text(&o.reasons)),
        ]);
    }
    t
}

pub fn outliers_csv(f: &Fleet, data: &Dataset) -> Table {
    outlier_rows(f, data, usize::MAX)
}

/// Per board: class, what ran, governors, drift, warnings, roofs; `only` limits the rows to
/// those boards. A board without roofs says why in place of each roof (for reading).
fn boards_rows(f: &Fleet, data: &Dataset, only: Option<&[usize]>) -> Table {
    let roof = |name: &str, label: &str, unit: Unit, read: Read| {
        Column::new(name, label, Float, unit, read)
    };
    let mut t = Table::typed(vec![
        Column::text("board"),
        Column::text("class"),
        Column::text("board model"),
        Column::text("hostname"),
        Column::new("models", "models", Int, Unit::Count, Read::Plain),
        Column::text("governors"),
        roof(
            "max_drift_c",
            "max drift °C",
            Unit::Celsius,
            Read::Signed(1),
        ),
        Column::text("warnings"),
        roof(
            "peak_macs_per_s",
            "peak GMAC/s",
            Unit::MacsPerS,
            Read::GigaOfPerS,
        ),
        roof(
            "dram_read_bytes_per_s",
            "DRAM read GB/s",
            Unit::BytesPerS,
            Read::GigaOfPerS,
        ),
        roof(
            "dram_write_bytes_per_s",
            "DRAM write GB/s",
            Unit::BytesPerS,
            Read::GigaOfPerS,
        ),
        roof("floor_ns", "floor us", Unit::Ns, Read::UsOfNs),
        Column::new(
            "outlier models",
            "outlier models",
            Int,
            Unit::Count,
            Read::Plain,
        ),
    ]);
    let mut outliers = vec![0usize; f.boards.len()];
    for s in &f.models {
        for o in &s.outliers {
            outliers[o.device] += 1;
        }
    }
    for b in &f.boards {
        if only.is_some_and(|o| !o.contains(&b.device)) {
            continue;
        }
        let dev = &data.devices[b.device];
        let r = &b.roofs;
        let no_roofs = || b.no_roofs.as_ref().map_or("n/a".into(), reasons::no_roofs);
        let roof =
            |v: Option<f64>| v.map_or_else(|| Cell::Absent(no_roofs()), |v| Cell::Float(Some(v)));
        t.push(vec![
            Cell::text(dev.label.clone()),
            Cell::text(names::class(&f.classes[b.class].name)),
            Cell::text(dev.context.device_model.clone().unwrap_or_default()),
            Cell::text(dev.context.hostname.clone().unwrap_or_default()),
            Cell::Int(Some(b.models as u64)),
            Cell::text(b.governors.join("/")),
            Cell::Float(b.max_drift_c),
            Cell::text(warnings_text(&b.warnings)),
            roof(r.peak_macs_per_s),
            roof(r.dram_read_bytes_per_s),
            roof(r.dram_write_bytes_per_s),
            roof(r.floor_ns),
            Cell::Int(Some(outliers[b.device] as u64)),
        ]);
    }
    t
}

pub fn boards_csv(f: &Fleet, data: &Dataset) -> Table {
    boards_rows(f, data, None)
}

/// The CSV files of the fleet: (name, table); none without a fleet.
pub fn csv_files(a: &Analysis, data: &Dataset) -> Vec<(&'static str, Table)> {
    let Some(f) = &a.fleet else {
        return Vec::new();
    };
    vec![
        ("fleet_models.csv", models_table(f)),
        ("fleet_outliers.csv", outliers_csv(f, data)),
        ("fleet_boards.csv", boards_csv(f, data)),
    ]
}

/// The fleet section of the report (nothing without a fleet).
pub fn section(doc: &mut Doc, a: &Analysis, data: &Dataset) {
    let Some(f) = &a.fleet else {
        return;
    };
    doc.heading(2, H_FLEET);
    doc.para(explain());
    doc.heading(3, "Board classes");
    doc.table(classes_table(f));
    doc.heading(3, "Per model: median and spread across boards");
    doc.table(models_table(f));
    let total: usize = f.models.iter().map(|s| s.outliers.len()).sum();
    doc.heading(3, "Outlier boards");
    if total == 0 {
        doc.para("No board is an outlier for any model.");
    } else {
        let shown = total.min(MAX_OUTLIER_ROWS);
        doc.para(format!(
            "{total} outlier(s) (board, model); the {shown} most extreme here, every one in \
             fleet_outliers.csv."
        ));
        doc.table(outlier_rows(f, data, MAX_OUTLIER_ROWS));
    }
    doc.heading(3, "Boards and their roofs");
    if f.boards.len() <= MAX_BOARD_ROWS {
        doc.table(boards_rows(f, data, None));
    } else {
        let mut odd: Vec<usize> = f
            .models
            .iter()
            .flat_map(|s| s.outliers.iter().map(|o| o.device))
            .collect();
        odd.sort_unstable();
        odd.dedup();
        let listed = odd.len().min(MAX_BOARD_ROWS);
        odd.truncate(MAX_BOARD_ROWS);
        doc.para(Text::new().t(format!(
            "{} boards: the class table above summarises their roofs; here the {listed} \
             outlier board(s) listed first, every board in fleet_boards.csv.",
            f.boards.len()
        )));
        if !odd.is_empty() {
            doc.table(boards_rows(f, data, Some(&odd)));
        }
    }
}

/// The fleet summary for the terminal: the per-model table (none without a fleet).
pub fn terminal_table(a: &Analysis) -> Option<Table> {
    a.fleet.as_ref().map(models_table)
}
