//! The study's Figure 2 and beyond: per device, Pearson r and Spearman rho for accuracy vs size,
//! size vs MACs, accuracy vs time, time vs MACs and time vs params, with a note when one model
//! dominates r; and the SVG files of every chart in the report.

use super::load::{Dataset, ModelRun};
use super::plots::{self, Point, Series};
use super::report::Analysis;
use super::sections::{View, latency_by_device, view_categories};
use super::stats::{leave_one_out_pearson, pearson, spearman};
use super::tables::Table;
use super::tables::or_na;

type Getter = fn(&Dataset, &ModelRun) -> Option<f64>;

/// One scatter plot of Figure 2: y against x.
pub struct Pair {
    pub key: &'static str,
    pub title: &'static str,
    pub x_label: &'static str,
    pub y_label: &'static str,
    x: Getter,
    y: Getter,
}

fn params_m(_: &Dataset, r: &ModelRun) -> Option<f64> {
    Some(r.model.cost.params as f64 / 1e6)
}
fn macs_m(_: &Dataset, r: &ModelRun) -> Option<f64> {
    Some(r.model.cost.macs as f64 / 1e6)
}
fn latency_ms(_: &Dataset, r: &ModelRun) -> Option<f64> {
    (r.model.latency_ns.median > 0).then(|| r.model.latency_ns.median as f64 / 1e6)
}
fn accuracy(d: &Dataset, r: &ModelRun) -> Option<f64> {
    d.accuracy_pct(r)
}

pub const PAIRS: [Pair; 5] = [
    Pair {
        key: "accuracy_vs_size",
        title: "accuracy vs size",
        x_label: "parameters (millions)",
        y_label: "top-1 accuracy (%)",
        x: params_m,
        y: accuracy,
    },
    Pair {
        key: "size_vs_macs",
        title: "size vs MACs",
        x_label: "MACs (millions)",
        y_label: "parameters (millions)",
        x: macs_m,
        y: params_m,
    },
    Pair {
        key: "accuracy_vs_time",
        title: "accuracy vs time",
        x_label: "median latency (ms)",
        y_label: "top-1 accuracy (%)",
        x: latency_ms,
        y: accuracy,
    },
    Pair {
        key: "time_vs_macs",
        title: "time vs MACs",
        x_label: "MACs (millions)",
        y_label: "median latency (ms)",
        x: macs_m,
        y: latency_ms,
    },
    Pair {
        key: "time_vs_params",
        title: "time vs params",
        x_label: "parameters (millions)",
        y_label: "median latency (ms)",
        x: params_m,
        y: latency_ms,
    },
];

/// One pair on one device.
#[derive(Debug, Clone, PartialEq)]
pub struct Correlation {
    pub device: String,
    /// Index into [`PAIRS`].
    pub pair: usize,
    pub pearson: Option<f64>,
    pub spearman: Option<f64>,
    pub note: Option<String>,
    pub points: Vec<Point>,
}

/// Leave-one-out change of r that makes one model "dominate" it.
pub const DOMINANCE_DELTA_R: f64 = 0.3;

/// A note when removing one point flips the sign of r or moves it by more than
/// [`DOMINANCE_DELTA_R`] (the point that moves it most is named).
pub fn dominance_note(points: &[Point], r: Option<f64>) -> Option<String> {
    let r = r?;
    let xs: Vec<f64> = points.iter().map(|p| p.x).collect();
    let ys: Vec<f64> = points.iter().map(|p| p.y).collect();
    let loo = leave_one_out_pearson(&xs, &ys);
    let (ix, r_without) = loo
        .iter()
        .enumerate()
        .filter_map(|(i, v)| v.map(|v| (i, v)))
        .max_by(|a, b| (a.1 - r).abs().total_cmp(&(b.1 - r).abs()))?;
    let flips = r * r_without < 0.0 && (r.abs() > 0.05 || r_without.abs() > 0.05);
    (flips || (r_without - r).abs() > DOMINANCE_DELTA_R).then(|| {
        format!(
            "dominated by {}: without it r = {r_without:.2}",
            points[ix].label
        )
    })
}

pub fn correlations(data: &Dataset) -> Vec<Correlation> {
    let mut out = Vec::new();
    for (d, dev) in data.devices.iter().enumerate() {
        for (p, pair) in PAIRS.iter().enumerate() {
            let points: Vec<Point> = data
                .runs
                .iter()
                .filter(|r| r.device == d)
                .filter_map(|r| {
                    Some(Point {
                        x: (pair.x)(data, r)?,
                        y: (pair.y)(data, r)?,
                        label: r.model.model.clone(),
                    })
                })
                .collect();
            let xs: Vec<f64> = points.iter().map(|p| p.x).collect();
            let ys: Vec<f64> = points.iter().map(|p| p.y).collect();
            let r = pearson(&xs, &ys);
            out.push(Correlation {
                device: dev.label.clone(),
                pair: p,
                pearson: r,
                spearman: spearman(&xs, &ys),
                note: dominance_note(&points, r),
                points,
            });
        }
    }
    out
}

pub fn correlation_table(a: &Analysis) -> Table {
    let mut t = Table::new(&["device", "pair", "n", "pearson r", "spearman rho", "note"]);
    for c in &a.correlations {
        let n = c.points.len();
        let note = match (&c.note, n) {
            (Some(s), _) => s.clone(),
            (None, n) if n < 3 && PAIRS[c.pair].y_label.contains("accuracy") => {
                "needs >= 3 models with accuracy".into()
            }
            (None, n) if n < 3 => "needs >= 3 models".into(),
            (None, _) => String::new(),
        };
        t.row(vec![
            c.device.clone(),
            PAIRS[c.pair].title.into(),
            n.to_string(),
            or_na(c.pearson, 2),
            or_na(c.spearman, 2),
            note,
        ]);
    }
    t
}

/// Every SVG of the report as (file name, content).
pub fn svg_files(a: &Analysis, data: &Dataset) -> Vec<(String, String)> {
    let mut files = Vec::new();
    for view in [View::Executed, View::Source] {
        let cats = view_categories(a, view);
        let bars: Vec<(String, Vec<(String, f64)>)> = data
            .runs
            .iter()
            .zip(&a.metrics)
            .map(|(run, m)| {
                let shares = m.shares(view.of(m));
                let parts = cats
                    .iter()
                    .filter_map(|c| shares.iter().find(|(k, _)| k == c).cloned())
                    .collect();
                (
                    format!("{} @ {}", run.model.model, data.device_label(run)),
                    parts,
                )
            })
            .collect();
        let title = format!(
            "Where the time goes ({} view: {})",
            view.name(),
            if view == View::Executed {
                "tract ops"
            } else {
                "source ONNX ops"
            }
        );
        files.push((
            format!("shares_{}.svg", view.name()),
            plots::stacked_bars(&title, &bars),
        ));
    }
    for (p, pair) in PAIRS.iter().enumerate() {
        let mine: Vec<&Correlation> = a.correlations.iter().filter(|c| c.pair == p).collect();
        let series: Vec<Series> = mine
            .iter()
            .map(|c| Series {
                name: c.device.clone(),
                points: c.points.clone(),
            })
            .collect();
        let notes: Vec<String> = mine
            .iter()
            .map(|c| {
                let extra = c
                    .note
                    .as_deref()
                    .map(|n| format!("; {n}"))
                    .unwrap_or_default();
                format!(
                    "{}: r = {}, rho = {}, n = {}{extra}",
                    c.device,
                    or_na(c.pearson, 2),
                    or_na(c.spearman, 2),
                    c.points.len()
                )
            })
            .collect();
        let title = format!("Figure 2: {}", pair.title);
        files.push((
            format!("fig2_{}.svg", pair.key),
            plots::scatter(&title, pair.x_label, pair.y_label, &series, &notes),
        ));
    }
    for (d, dev) in data.devices.iter().enumerate() {
        let mut by_cat: Vec<Series> = Vec::new();
        for run in data.runs.iter().filter(|r| r.device == d) {
            for op in &run.ops {
                let bytes = op.cost.bytes_read + op.cost.bytes_written;
                if op.cost.macs == 0 || bytes == 0 || op.wall_ns.median == 0 {
                    continue;
                }
                let ai = op.cost.macs as f64 / bytes as f64;
                let gmacs = op.cost.macs as f64 / op.wall_ns.median as f64;
                let point = Point {
                    x: ai,
                    y: gmacs,
                    label: format!("{} {} ({})", run.model.model, op.node, op.op),
                };
                match by_cat.iter_mut().find(|s| s.name == op.category) {
                    Some(s) => s.points.push(point),
                    None => by_cat.push(Series {
                        name: op.category.clone(),
                        points: vec![point],
                    }),
                }
            }
        }
        let order = super::metrics::ordered_keys(by_cat.iter().map(|s| &s.name));
        by_cat.sort_by_key(|s| order.iter().position(|o| *o == s.name));
        let title = format!(
            "Roofline ({}): achieved MAC rate of ops with MACs",
            dev.label
        );
        files.push((
            format!("roofline_{}.svg", super::svg::id_name(&dev.label)),
            plots::roofline(&title, &by_cat),
        ));
    }
    if data.devices.len() > 1 {
        let labels: Vec<String> = data.devices.iter().map(|d| d.label.clone()).collect();
        let groups: Vec<(String, Vec<Option<f64>>)> = latency_by_device(data)
            .into_iter()
            .map(|(m, v)| (m, v.into_iter().map(|x| x.map(|ns| ns / 1e6)).collect()))
            .collect();
        files.push((
            "devices.svg".into(),
            plots::grouped_bars(
                "Median latency per device",
                "median latency (ms)",
                &labels,
                &groups,
            ),
        ));
    }
    files
}
