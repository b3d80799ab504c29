//! Which charts the report has, from the analysis: the shares of time per model, the study's
//! Figure 2 scatter plots, one roofline per device (with its measured roofs) and the devices
//! compared. Each is a [`Chart`], drawn by [`chart::draw`](fn@chart::draw).

use super::chart::svg::id_name;
use super::chart::{self, Chart, Roof, Series};
use super::sections::dominance_note;
use super::table::or_na;
use crate::compute::bounds::Roofs;
use crate::compute::correlate::{Correlation, PAIRS, Point};
use crate::compute::metrics::ordered_keys;
use crate::compute::{Analysis, View, latency_by_device};
use crate::load::Dataset;

/// Every SVG of the report as (file name, content).
pub fn svg_files(a: &Analysis, data: &Dataset) -> Vec<(String, String)> {
    let mut files = Vec::new();
    for view in [View::Executed, View::Source] {
        let cats = a.view_categories(view);
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
            chart::draw(&Chart::StackedBars { title, bars }),
        ));
    }
    for (p, pair) in PAIRS.iter().enumerate() {
        let mine: Vec<&Correlation> = a.correlations.iter().filter(|c| c.pair == p).collect();
        let series: Vec<Series> = mine
            .iter()
            .map(|c| Series {
                name: data.devices[c.device].label.clone(),
                points: c.points.clone(),
            })
            .collect();
        let notes: Vec<String> = mine
            .iter()
            .map(|c| {
                let extra = dominance_note(c)
                    .map(|n| format!("; {n}"))
                    .unwrap_or_default();
                format!(
                    "{}: r = {}, rho = {}, n = {}{extra}",
                    data.devices[c.device].label,
                    or_na(c.pearson, 2),
                    or_na(c.spearman, 2),
                    c.points.len()
                )
            })
            .collect();
        let title = format!("Figure 2: {}", pair.title);
        files.push((
            format!("fig2_{}.svg", pair.key),
            chart::draw(&Chart::Scatter {
                title,
                x_label: pair.x_label.into(),
                y_label: pair.y_label.into(),
                series,
                notes,
            }),
        ));
    }
    for (d, dev) in data.devices.iter().enumerate() {
        let mut by_cat: Vec<Series> = Vec::new();
        // The device's highest roof: a model's fastest kernel may have raised its peak.
        let mut roofs: Option<(&Roofs, bool)> = None;
        let mut int8_ops = false;
        for (run, _, b) in a.of_device(data, d) {
            if let Ok(b) = b
                && roofs.is_none_or(|(r, _)| b.roofs.peak_macs_per_s > r.peak_macs_per_s)
            {
                roofs = Some((&b.roofs, b.peak_raised()));
            }
            for op in &run.ops {
                int8_ops |= op.cost.int8_macs > 0;
                // Intensity over every byte the op moves: plain tensors, packed constants and
                // scratch (a GEMV's 64 MiB of packed weights put it at 0.25 MAC per byte).
                let moved = op.cost.traffic_bytes();
                if op.cost.macs == 0 || moved == 0 || op.wall_ns.median == 0 {
                    continue;
                }
                let point = Point {
                    x: op.cost.macs as f64 / moved as f64,
                    y: op.cost.macs as f64 / op.wall_ns.median as f64,
                    label: format!("{} {} ({})", run.model.model, op.node, op.op),
                };
                match by_cat.iter_mut().find(|s| op.category == s.name) {
                    Some(s) => s.points.push(point),
                    None => by_cat.push(Series {
                        name: op.category.to_string(),
                        points: vec![point],
                    }),
                }
            }
        }
        if by_cat.is_empty() {
            // No op with MACs on this device (only design probes, or no model measured).
            continue;
        }
        let order = ordered_keys(by_cat.iter().map(|s| &s.name));
        by_cat.sort_by_key(|s| order.iter().position(|o| *o == s.name));
        let title = format!(
            "Roofline ({}): achieved MAC rate of ops with MACs",
            dev.label
        );
        files.push((
            format!("roofline_{}.svg", id_name(&dev.label)),
            chart::draw(&Chart::Roofline {
                title,
                series: by_cat,
                roof: roofs.map(|(r, raised)| measured_roof(r, raised, int8_ops)),
            }),
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
            chart::draw(&Chart::GroupedBars {
                title: "Median latency per device".into(),
                y_label: "median latency (ms)".into(),
                series: labels,
                groups,
            }),
        ));
    }
    files
}

/// The roofline's roofs from the machine: the peak and one read roof per level, GMAC/s and
/// GB/s (a MAC per byte read at 1 GB/s is 1 GMAC/s), and the integer peak when `int8_ops`
/// (the device ran ops with MACs on 8-bit operands) and the probe measured it.
/// `raised`: the peak is a model's fastest kernel, above the probe's.
fn measured_roof(r: &Roofs, raised: bool, int8_ops: bool) -> Roof {
    let source = if raised {
        "a model's fastest kernel, above the probe"
    } else {
        r.kernel.as_str()
    };
    Roof {
        peak_gmacs: r.peak_macs_per_s / 1e9,
        peak_label: format!(
            "peak {:.1} GMAC/s ({source}, {} thread(s))",
            r.peak_macs_per_s / 1e9,
            r.threads
        ),
        bandwidths: r
            .levels
            .iter()
            .map(|l| (l.name.clone(), l.read_bytes_per_s / 1e9))
            .collect(),
        int8: (r.int8.as_ref()).filter(|_| int8_ops).map(|i| {
            let gmacs = i.peak_macs_per_s / 1e9;
            (
                gmacs,
                format!(
                    "int8 peak {gmacs:.2} GMAC/s ({}, {} thread(s))",
                    i.kernel, r.threads
                ),
            )
        }),
    }
}
