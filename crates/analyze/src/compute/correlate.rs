//! The study's Figure 2 as numbers: per device, Pearson r and Spearman rho for accuracy vs size,
//! size vs MACs, accuracy vs time, time vs MACs and time vs params, with a note when one model
//! dominates r.

use super::stats::{leave_one_out_pearson, pearson, spearman};
use crate::load::{Dataset, ModelRun};

/// One labelled point of a scatter plot.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    pub x: f64,
    pub y: f64,
    pub label: String,
}

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
    /// Index into [`Dataset::devices`].
    pub device: usize,
    /// Index into [`PAIRS`].
    pub pair: usize,
    pub pearson: Option<f64>,
    pub spearman: Option<f64>,
    /// The model whose removal changes r most, when that flips r's sign or moves it by more
    /// than [`DOMINANCE_DELTA_R`].
    pub dominated_by: Option<Dominance>,
    pub points: Vec<Point>,
}

/// One model that makes r what it is.
#[derive(Debug, Clone, PartialEq)]
pub struct Dominance {
    pub model: String,
    /// Pearson r without that model.
    pub r_without: f64,
}

/// Leave-one-out change of r that makes one model "dominate" it.
pub const DOMINANCE_DELTA_R: f64 = 0.3;

/// The point whose removal moves r most, when removing it flips the sign of r or moves it by
/// more than [`DOMINANCE_DELTA_R`].
pub fn dominance(points: &[Point], r: Option<f64>) -> Option<Dominance> {
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
    (flips || (r_without - r).abs() > DOMINANCE_DELTA_R).then(|| Dominance {
        model: points[ix].label.clone(),
        r_without,
    })
}

/// Every pair of [`PAIRS`] on every device.
pub fn correlations(data: &Dataset) -> Vec<Correlation> {
    let mut out = Vec::new();
    for d in 0..data.devices.len() {
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
                device: d,
                pair: p,
                pearson: r,
                spearman: spearman(&xs, &ys),
                dominated_by: dominance(&points, r),
                points,
            });
        }
    }
    out
}
