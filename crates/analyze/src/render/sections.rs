//! The report's tables of models, shares, devices, Figure 2 and the latency model, each built
//! from the analysis alone: formatted for reading ([`Table::to_text`], [`Table::to_markdown`])
//! or raw for CSV (full-precision numbers, units in the column names, empty cells where nothing
//! was measured). The tables of the "why" section are in [`super::why`].

use super::table::{Table, ms, or_na, pct};
use crate::compute::bounds::ModelBounds;
use crate::compute::correlate::{Correlation, PAIRS};
use crate::compute::metrics::ModelMetrics;
use crate::compute::metrics::fraction;
use crate::compute::{
    Analysis, View, gmacs, governor, latency_by_device, ratio_of, thermal_drift_c,
};
use crate::load::{Dataset, ModelRun};
use crate::record::{ModelRecord, Paired};
use crate::table::{Cell, Column, Def, Kind, Read, Unit};

/// One model run and what its row of the models table reads beside it.
struct ModelRow<'a> {
    data: &'a Dataset,
    run: &'a ModelRun,
    metrics: &'a ModelMetrics,
    bounds: Option<&'a ModelBounds>,
}

impl ModelRow<'_> {
    fn model(&self) -> &ModelRecord {
        &self.run.model
    }

    fn paired(&self, f: fn(&Paired) -> f64) -> Cell {
        Cell::Float(self.model().paired.as_ref().map(f))
    }

    fn bound(&self, f: fn(&ModelBounds) -> f64) -> Cell {
        Cell::Float(self.bounds.map(f))
    }
}

fn int(v: impl Into<u64>) -> Cell {
    Cell::Int(Some(v.into()))
}

fn def<'a>(column: Column, cell: fn(&ModelRow<'a>) -> Cell) -> Def<ModelRow<'a>> {
    Def { column, cell }
}

/// The models table: one row per model run. For reading (terminal, report) the labelled
/// columns, formatted; models.csv every named column, raw.
pub fn models_table(a: &Analysis, data: &Dataset) -> Table {
    use Kind::{Float, Int, Text};
    let raw = |name: &str, kind: Kind, unit: Unit| {
        Column::new(name, name, kind, unit, Read::Plain).raw_only()
    };
    let ns = Column::ns;
    let count = |name: &str, label: &str| Column::new(name, label, Int, Unit::Count, Read::Si);
    let share =
        |name: &str, label: &str| Column::new(name, label, Float, Unit::Fraction, Read::Pct);
    let fixed2 =
        |name: &str, label: &str, unit: Unit| Column::new(name, label, Float, unit, Read::Fixed(2));
    let ratio = |name: &str| raw(name, Float, Unit::Ratio);
    let defs = [
        def(Column::text("device"), |r| {
            Cell::text(r.data.device_label(r.run))
        }),
        def(Column::text("model"), |r| Cell::text(&r.model().model)),
        def(raw("source", Text, Unit::None), |r| {
            Cell::text(&r.model().source)
        }),
        def(ns("latency_median_ns", "median ms"), |r| {
            int(r.model().latency_ns.median)
        }),
        def(ns("latency_p90_ns", "p90 ms"), |r| {
            int(r.model().latency_ns.p90)
        }),
        def(raw("latency_min_ns", Int, Unit::Ns), |r| {
            int(r.model().latency_ns.min)
        }),
        def(
            raw("runs", Int, Unit::Count),
            |r| int(r.model().runs as u64),
        ),
        def(count("params", "params"), |r| int(r.model().cost.params)),
        def(count("macs", "MACs"), |r| int(r.model().cost.macs)),
        def(count("thop_macs", "thop MACs"), |r| {
            int(r.model().cost.thop_macs)
        }),
        def(raw("flops", Int, Unit::Count), |r| {
            int(r.model().cost.flops)
        }),
        def(fixed2("gmac_per_s", "GMAC/s", Unit::MacsPerS), |r| {
            Cell::Float(gmacs(r.run))
        }),
        def(raw("sum_op_wall_median_ns", Int, Unit::Ns), |r| {
            int(r.model().sum_op_wall_median_ns)
        }),
        def(raw("profiled_latency_median_ns", Int, Unit::Ns), |r| {
            int(r.model().profiled_latency_median_ns)
        }),
        def(
            fixed2("sum_ops_over_e2e", "sum ops/e2e", Unit::Ratio),
            |r| {
                let m = r.model();
                Cell::Float(ratio_of(m.sum_op_wall_median_ns, m.latency_ns.median))
            },
        ),
        def(Column::text("per-op/clean").reading_only(), |r| {
            Cell::Text(
                r.model()
                    .paired
                    .as_ref()
                    .map(|p| interval(&p.profiled_over_clean)),
            )
        }),
        def(raw("schedule", Text, Unit::None), |r| {
            Cell::text(
                r.model()
                    .paired
                    .as_ref()
                    .map_or("", |p| p.schedule.as_str()),
            )
        }),
        def(ratio("profiled_over_clean_median"), |r| {
            r.paired(|p| p.profiled_over_clean.median)
        }),
        def(ratio("profiled_over_clean_low"), |r| {
            r.paired(|p| p.profiled_over_clean.low)
        }),
        def(ratio("profiled_over_clean_high"), |r| {
            r.paired(|p| p.profiled_over_clean.high)
        }),
        def(ratio("sum_op_over_clean_median"), |r| {
            r.paired(|p| p.sum_op_over_clean.median)
        }),
        def(raw("paired_confidence", Float, Unit::Fraction), |r| {
            r.paired(|p| p.profiled_over_clean.confidence)
        }),
        def(share("hidden_share_executed", "hidden (exec)"), |r| {
            Cell::Float(Some(r.metrics.hidden_executed_share()))
        }),
        def(share("hidden_share_source", "hidden (src)"), |r| {
            Cell::Float(Some(r.metrics.hidden_source_share()))
        }),
        def(raw("bound_ns", Float, Unit::Ns), |r| {
            r.bound(|b| b.total.bound_ns)
        }),
        def(raw("above_roofs_ns", Float, Unit::Ns), |r| {
            r.bound(|b| b.total.above_ns)
        }),
        def(share("above_roofs_share", "above roofs"), |r| {
            r.bound(|b| b.total.above_share())
        }),
        def(raw("top1_accuracy_pct", Float, Unit::None), |r| {
            Cell::Float(r.data.accuracy_pct(r.run))
        }),
        def(Column::text("governor"), |r| Cell::Text(governor(r.run))),
        def(
            Column::new(
                "thermal_drift_c",
                "temp drift",
                Float,
                Unit::Celsius,
                Read::SignedCelsius,
            ),
            |r| Cell::Float(thermal_drift_c(r.run)),
        ),
        def(raw("source_nodes", Int, Unit::Count), |r| {
            int(r.model().source_nodes as u64)
        }),
        def(raw("executed_nodes", Int, Unit::Count), |r| {
            int(r.model().executed_nodes as u64)
        }),
        def(raw("peak_rss_bytes", Int, Unit::Bytes), |r| {
            Cell::Int(r.model().peak_rss_bytes)
        }),
    ];
    let rows =
        (data.runs.iter().zip(&a.metrics).zip(&a.bounds)).map(|((run, metrics), b)| ModelRow {
            data,
            run,
            metrics,
            bounds: b.as_ref().ok(),
        });
    Table::of(&defs, rows)
}

/// A paired ratio for reading: its median and its interval, `1.02 [1.01-1.04]`.
pub fn interval(r: &crate::record::RatioInterval) -> String {
    format!("{:.3} [{:.3}-{:.3}]", r.median, r.low, r.high)
}

pub fn shares_table(a: &Analysis, data: &Dataset, view: View) -> Table {
    let cats = a.view_categories(view);
    let mut headers = vec!["device", "model"];
    headers.extend(cats.iter().map(String::as_str));
    headers.push("hidden");
    let mut t = Table::new(&headers);
    for (run, m) in data.runs.iter().zip(&a.metrics) {
        let map = view.of(m);
        let mut row = vec![data.device_label(run).to_string(), run.model.model.clone()];
        for c in &cats {
            row.push(pct(fraction(
                map.get(c).map_or(0, |x| x.wall_ns),
                m.total.wall_ns,
            )));
        }
        row.push(pct(match view {
            View::Executed => m.hidden_executed_share(),
            View::Source => m.hidden_source_share(),
        }));
        t.row(row);
    }
    t
}

/// The models whose executed view counts BatchNorm time under another category: per model,
/// the BN nodes tract fused into the next op's chain, those ops, their time and share. `None`
/// when no model has any.
pub fn fused_batchnorm_table(a: &Analysis, data: &Dataset) -> Option<Table> {
    let mut t = Table::new(&[
        "device",
        "model",
        "BN nodes fused",
        "ops holding them",
        "their ms",
        "share of op time",
    ]);
    let mut any = false;
    for (run, m) in data.runs.iter().zip(&a.metrics) {
        let f = &m.fused_batchnorm;
        if f.ops == 0 {
            continue;
        }
        any = true;
        t.row(vec![
            data.device_label(run).to_string(),
            run.model.model.clone(),
            m.fused_batchnorm_nodes.to_string(),
            f.ops.to_string(),
            ms(f.wall_ns as f64),
            pct(fraction(f.wall_ns, m.total.wall_ns)),
        ]);
    }
    any.then_some(t)
}

pub fn shares_csv(a: &Analysis, data: &Dataset) -> Table {
    let mut t = Table::new(&[
        "device", "model", "view", "category", "ops", "time_ns", "share",
    ]);
    for (run, m) in data.runs.iter().zip(&a.metrics) {
        for view in [View::Executed, View::Source] {
            for (cat, share) in m.shares(view.of(m)) {
                let agg = &view.of(m)[&cat];
                t.row(vec![
                    data.device_label(run).into(),
                    run.model.model.clone(),
                    view.name().into(),
                    cat,
                    agg.ops.to_string(),
                    agg.wall_ns.to_string(),
                    share.to_string(),
                ]);
            }
        }
    }
    t
}

/// Median latency (ms) of each model on each device, and the ratio to the first device.
pub fn devices_table(data: &Dataset) -> Table {
    let labels: Vec<&str> = data.devices.iter().map(|d| d.label.as_str()).collect();
    let mut headers = vec!["model".to_string()];
    headers.extend(labels.iter().map(|l| format!("{l} ms")));
    headers.extend(labels.iter().skip(1).map(|l| format!("{l}/{}", labels[0])));
    let refs: Vec<&str> = headers.iter().map(String::as_str).collect();
    let mut t = Table::new(&refs);
    for (model, per_device) in latency_by_device(data) {
        let mut row = vec![model];
        row.extend(per_device.iter().map(|v| v.map_or("-".into(), ms)));
        let base = per_device.first().copied().flatten();
        for v in per_device.iter().skip(1) {
            row.push(match (v, base) {
                (Some(v), Some(b)) if b > 0.0 => format!("{:.2}x", v / b),
                _ => "-".into(),
            });
        }
        t.row(row);
    }
    t
}

/// "dominated by X: without it r = ..." for a correlation one model dominates.
pub fn dominance_note(c: &Correlation) -> Option<String> {
    c.dominated_by.as_ref().map(|d| {
        format!(
            "dominated by {}: without it r = {:.2}",
            d.model, d.r_without
        )
    })
}

pub fn correlation_table(a: &Analysis, data: &Dataset) -> Table {
    let mut t = Table::new(&["device", "pair", "n", "pearson r", "spearman rho", "note"]);
    for c in &a.correlations {
        let n = c.points.len();
        let note = match (dominance_note(c), n) {
            (Some(s), _) => s,
            (None, n) if n < 3 && PAIRS[c.pair].y_label.contains("accuracy") => {
                "needs >= 3 models with accuracy".into()
            }
            (None, n) if n < 3 => "needs >= 3 models".into(),
            (None, _) => String::new(),
        };
        t.row(vec![
            data.devices[c.device].label.clone(),
            PAIRS[c.pair].title.into(),
            n.to_string(),
            or_na(c.pearson, 2),
            or_na(c.spearman, 2),
            note,
        ]);
    }
    t
}

pub fn correlations_csv(a: &Analysis, data: &Dataset) -> Table {
    let mut t = Table::new(&[
        "device",
        "pair",
        "x",
        "y",
        "n",
        "pearson_r",
        "spearman_rho",
        "note",
    ]);
    for c in &a.correlations {
        let p = &PAIRS[c.pair];
        t.row(vec![
            data.devices[c.device].label.clone(),
            p.key.into(),
            p.x_label.into(),
            p.y_label.into(),
            c.points.len().to_string(),
            or_na(c.pearson, 6),
            or_na(c.spearman, 6),
            dominance_note(c).unwrap_or_default(),
        ]);
    }
    t
}
