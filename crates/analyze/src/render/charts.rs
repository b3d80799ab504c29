//! The report's charts, built on [`super::svg`]: scatter plots (the study's Figure 2, labels
//! placed so that none overlaps another label or a point), stacked bars of time shares, the
//! roofline with the machine's measured roofs, and grouped bars comparing devices.

use super::labels::{self, Placed};
use super::svg::{Axis, Frame, Svg, color, num, tick_label};
use crate::compute::metrics::ordered_keys;

pub use crate::compute::correlate::Point;

/// Points drawn in one colour, as `<g id="series-NAME">`.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: String,
    pub points: Vec<Point>,
}

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 480.0;

fn frame(x: Axis, y: Axis, legend_rows: usize) -> Frame {
    let top = 36.0 + 14.0 * legend_rows as f64;
    Frame {
        left: 80.0,
        top,
        width: WIDTH - 110.0,
        height: HEIGHT - top - 60.0,
        x,
        y,
    }
}

/// Values spanning more than this factor get a log axis.
pub const LOG_SPAN: f64 = 20.0;

const POINT_R: f64 = 4.0;

/// An axis over `values`: logarithmic when they are all positive and span more than
/// [`LOG_SPAN`] (ten models from 40M to 2G MACs are unreadable on a linear axis).
fn auto_axis(values: &[f64], label: &str) -> Axis {
    let (min, max) = values
        .iter()
        .filter(|v| v.is_finite())
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(*v), b.max(*v))
        });
    let log = min > 0.0 && max / min > LOG_SPAN;
    let label = if log {
        format!("{label}, log scale")
    } else {
        label.to_string()
    };
    Axis::covering(values, log, &label)
}

/// A scatter plot with one series per entry, point labels that never overlap (labels that
/// find no free place are numbered and listed under the plot; over `labels::MAX_LABELS`
/// points, only the outliers are labelled and the rest counted under it), and `notes` under
/// the title.
pub fn scatter(
    title: &str,
    x_label: &str,
    y_label: &str,
    series: &[Series],
    notes: &[String],
) -> String {
    let xs: Vec<f64> = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.x))
        .collect();
    let ys: Vec<f64> = series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.y))
        .collect();
    let f = frame(
        auto_axis(&xs, x_label),
        auto_axis(&ys, y_label),
        notes.len() + 1,
    );
    let mut centers = Vec::new();
    let mut texts = Vec::new();
    for s in series {
        for p in &s.points {
            centers.push((f.px(p.x), f.py(p.y)));
            texts.push(p.label.clone());
        }
    }
    let layout = labels::place(&centers, &texts, POINT_R, &f);
    let unlabelled_row = (layout.unlabelled > 0) as usize;
    let key_rows = layout.unplaced.len().div_ceil(3) + unlabelled_row;
    let height = HEIGHT + 14.0 * key_rows as f64;
    let mut svg = Svg::new(WIDTH, height, title);
    for (i, n) in notes.iter().enumerate() {
        svg.text(WIDTH / 2.0, 34.0 + 14.0 * i as f64, "middle", n);
    }
    f.draw(&mut svg);
    let mut k = 0;
    for (i, s) in series.iter().enumerate() {
        let fill = color(&s.name, i);
        svg.legend_entry(f.left + 8.0 + 130.0 * i as f64, f.top - 4.0, fill, &s.name);
        svg.open_series(&s.name);
        for p in &s.points {
            let (x, y) = centers[k];
            svg.circle(
                x,
                y,
                POINT_R,
                fill,
                &format!("{} ({}, {})", p.label, num(p.x), num(p.y)),
            );
            if let Some(placed) = &layout.placed[k] {
                draw_label(&mut svg, placed);
            }
            k += 1;
        }
        svg.close_group();
    }
    for (row, (n, text)) in layout.unplaced.iter().enumerate() {
        svg.text_class(
            f.left + 200.0 * (row % 3) as f64,
            HEIGHT - 6.0 + 14.0 * (row / 3) as f64,
            "start",
            &format!("{n}: {text}"),
            "label-key",
        );
    }
    if layout.unlabelled > 0 {
        svg.text_class(
            f.left,
            HEIGHT - 6.0 + 14.0 * (key_rows - 1) as f64,
            "start",
            // Short enough for the chart's width; docs/analysis.md says which are labelled.
            &format!(
                "{} more points not labelled; each point's tooltip names it",
                layout.unlabelled
            ),
            "label-key",
        );
    }
    svg.finish()
}

fn draw_label(svg: &mut Svg, p: &Placed) {
    if let Some((x1, y1, x2, y2)) = p.leader {
        svg.line(x1, y1, x2, y2, "#999999", r#"class="leader""#);
    }
    svg.text_class(p.x, p.y, p.anchor, &p.text, "point-label");
}

/// Horizontal list of stacked bars: each bar is (label, [(category, share)]), shares in [0, 1].
pub fn stacked_bars(title: &str, bars: &[(String, Vec<(String, f64)>)]) -> String {
    let categories = ordered_keys(
        bars.iter()
            .flat_map(|(_, parts)| parts.iter().map(|(c, _)| c)),
    );
    let row_px = 22.0;
    let legend_rows = categories.len().div_ceil(5);
    let top = 40.0 + 16.0 * legend_rows as f64;
    let height = top + row_px * bars.len() as f64 + 50.0;
    let (left, width) = (200.0, WIDTH - 230.0);
    let mut svg = Svg::new(WIDTH, height, title);
    let axis = Axis {
        min: 0.0,
        max: 1.0,
        log: false,
        label: "share of per-op time (fraction)".into(),
    };
    let f = Frame {
        left,
        top,
        width,
        height: row_px * bars.len() as f64,
        x: axis,
        y: Axis {
            min: 0.0,
            max: 1.0,
            log: false,
            label: String::new(),
        },
    };
    svg.text(
        left + width / 2.0,
        f.top + f.height + 32.0,
        "middle",
        &f.x.label,
    );
    for v in f.x.ticks() {
        svg.line(f.px(v), f.top, f.px(v), f.top + f.height, "#dddddd", "");
        svg.text(
            f.px(v),
            f.top + f.height + 14.0,
            "middle",
            &format!("{:.0}%", v * 100.0),
        );
    }
    for (i, (label, _)) in bars.iter().enumerate() {
        svg.text(left - 6.0, top + row_px * i as f64 + 15.0, "end", label);
    }
    for (ci, cat) in categories.iter().enumerate() {
        let fill = color(cat, ci);
        svg.legend_entry(
            20.0 + 130.0 * (ci % 5) as f64,
            40.0 + 16.0 * (ci / 5) as f64,
            fill,
            cat,
        );
        svg.open_series(cat);
        for (i, (label, parts)) in bars.iter().enumerate() {
            let before: f64 = parts
                .iter()
                .take_while(|(c, _)| c != cat)
                .map(|(_, s)| s)
                .sum();
            let Some((_, share)) = parts.iter().find(|(c, _)| c == cat) else {
                continue;
            };
            let y = top + row_px * i as f64 + 3.0;
            svg.rect(
                f.px(before),
                y,
                share * width,
                row_px - 6.0,
                fill,
                &format!("{label}: {cat} {:.1}%", share * 100.0),
            );
        }
        svg.close_group();
    }
    svg.finish()
}

/// The machine's measured roofs for the roofline, in GMAC/s and GB/s.
#[derive(Debug, Clone, PartialEq)]
pub struct Roof {
    pub peak_gmacs: f64,
    pub peak_label: String,
    /// (level, read bandwidth in GB/s), one diagonal each.
    pub bandwidths: Vec<(String, f64)>,
}

/// Achieved GMAC/s against MACs per byte read (log-log), one series per category, under the
/// measured roofs; without them, under the best observed rates (labelled as such).
pub fn roofline(title: &str, series: &[Series], roof: Option<&Roof>) -> String {
    let pts: Vec<&Point> = series
        .iter()
        .flat_map(|s| s.points.iter())
        .filter(|p| p.x > 0.0 && p.y > 0.0)
        .collect();
    let xs: Vec<f64> = pts.iter().map(|p| p.x).collect();
    let mut ys: Vec<f64> = pts.iter().map(|p| p.y).collect();
    let empirical;
    let roof = match roof {
        Some(r) => r,
        None => {
            let peak = ys.iter().copied().fold(0.0f64, f64::max);
            let bandwidth = pts.iter().map(|p| p.y / p.x).fold(0.0f64, f64::max);
            empirical = Roof {
                peak_gmacs: peak,
                peak_label: format!(
                    "empirical roof: best observed {peak:.2} GMAC/s (no machine roofs in the log)"
                ),
                bandwidths: vec![("best observed".into(), bandwidth)],
            };
            &empirical
        }
    };
    ys.push(roof.peak_gmacs);
    let f = frame(
        Axis::covering(&xs, true, "arithmetic intensity (MACs per byte read)"),
        Axis::covering(&ys, true, "achieved GMAC/s"),
        2,
    );
    let mut svg = Svg::new(WIDTH, HEIGHT, title);
    f.draw(&mut svg);
    draw_roofs(&mut svg, &f, roof);
    for (i, s) in series.iter().enumerate() {
        let fill = color(&s.name, i);
        svg.legend_entry(
            f.left + 8.0 + 100.0 * (i % 6) as f64,
            f.top - 18.0 + 14.0 * (i / 6) as f64,
            fill,
            &s.name,
        );
        svg.open_series(&s.name);
        for p in s.points.iter().filter(|p| p.x > 0.0 && p.y > 0.0) {
            svg.circle(
                f.px(p.x),
                f.py(p.y),
                3.5,
                fill,
                &format!("{}: {:.3} MACs/byte, {:.3} GMAC/s", p.label, p.x, p.y),
            );
        }
        svg.close_group();
    }
    svg.finish()
}

/// The peak as a horizontal line and one diagonal per bandwidth (GMAC/s = GB/s x MACs per
/// byte), each clipped to the frame and labelled where it enters it.
fn draw_roofs(svg: &mut Svg, f: &Frame, roof: &Roof) {
    let dash = r#"stroke-dasharray="6 4""#;
    let (x0, x1, y0) = (f.x.min, f.x.max, f.y.min);
    let peak = roof.peak_gmacs;
    svg.open_series("roof");
    svg.line(f.px(x0), f.py(peak), f.px(x1), f.py(peak), "#555555", dash);
    svg.text(
        f.left + f.width - 4.0,
        f.py(peak) - 4.0,
        "end",
        &roof.peak_label,
    );
    for (i, (name, bw)) in roof.bandwidths.iter().enumerate() {
        if bw.is_nan() || *bw <= 0.0 {
            continue;
        }
        // y = bw * x, from where it enters the frame to the knee (or the frame's edge).
        let start = x0.max(y0 / bw);
        let end = x1.min(peak / bw);
        if start >= end {
            continue;
        }
        svg.line(
            f.px(start),
            f.py(bw * start),
            f.px(end),
            f.py(bw * end),
            "#888888",
            dash,
        );
        let label_y = (f.py(bw * start) - 4.0 - 12.0 * i as f64).max(f.top + 10.0);
        svg.text(
            f.px(start) + 4.0,
            label_y,
            "start",
            &format!("{name} read {bw:.1} GB/s"),
        );
    }
    svg.close_group();
}

/// Grouped vertical bars: per model, one bar per device (values in `unit`).
pub fn grouped_bars(
    title: &str,
    y_label: &str,
    devices: &[String],
    groups: &[(String, Vec<Option<f64>>)],
) -> String {
    let values: Vec<f64> = groups
        .iter()
        .flat_map(|(_, v)| v.iter().flatten().copied())
        .collect();
    let mut f = frame(
        Axis {
            min: 0.0,
            max: groups.len().max(1) as f64,
            log: false,
            label: "model".into(),
        },
        Axis::covering(&values, false, y_label),
        1,
    );
    f.height -= 20.0;
    let mut svg = Svg::new(WIDTH, HEIGHT, title);
    svg.line(
        f.left,
        f.top + f.height,
        f.left + f.width,
        f.top + f.height,
        "black",
        "",
    );
    svg.line(f.left, f.top, f.left, f.top + f.height, "black", "");
    for v in f.y.ticks() {
        svg.line(f.left, f.py(v), f.left + f.width, f.py(v), "#dddddd", "");
        svg.text(f.left - 4.0, f.py(v) + 4.0, "end", &tick_label(v));
    }
    svg.text_rotated(f.left - 44.0, f.top + f.height / 2.0, y_label);
    let slot = f.width / groups.len().max(1) as f64;
    let bar = slot * 0.8 / devices.len().max(1) as f64;
    for (g, (model, _)) in groups.iter().enumerate() {
        svg.text(
            f.left + slot * (g as f64 + 0.5),
            f.top + f.height + 14.0,
            "middle",
            model,
        );
    }
    for (d, device) in devices.iter().enumerate() {
        let fill = color("", d);
        svg.legend_entry(f.left + 8.0 + 150.0 * d as f64, f.top - 6.0, fill, device);
        svg.open_series(device);
        for (g, (model, vals)) in groups.iter().enumerate() {
            let Some(v) = vals.get(d).copied().flatten() else {
                continue;
            };
            let x = f.left + slot * g as f64 + slot * 0.1 + bar * d as f64;
            svg.rect(
                x,
                f.py(v),
                bar,
                f.top + f.height - f.py(v),
                fill,
                &format!("{model} on {device}: {v:.3}"),
            );
        }
        svg.close_group();
    }
    svg.finish()
}

/// One bar of [`ratio_bars`]: a variant's latency over its baseline's, with its noise band.
#[derive(Debug, Clone, PartialEq)]
pub struct RatioBar {
    /// Rows of one group are drawn together under its name (a design family).
    pub group: String,
    pub label: String,
    pub ratio: f64,
    /// Relative noise of the ratio: the whisker spans `ratio * (1 ± noise)`.
    pub noise: Option<f64>,
}

/// Horizontal bars from 1.0 (the baseline) to each variant's ratio, grouped, with noise
/// whiskers: green where the variant is faster beyond its noise, red where it is slower beyond
/// it, grey otherwise (`<g id="series-faster|slower|within-noise">`).
pub fn ratio_bars(title: &str, x_label: &str, bars: &[RatioBar]) -> String {
    let row_px = 18.0;
    let mut groups: Vec<&str> = Vec::new();
    for b in bars {
        if groups.last() != Some(&b.group.as_str()) {
            groups.push(&b.group);
        }
    }
    let top = 56.0;
    let rows = bars.len() + groups.len();
    let height = top + row_px * rows as f64 + 50.0;
    let (left, width) = (230.0, WIDTH - 260.0);
    let mut values: Vec<f64> = vec![1.0];
    for b in bars {
        values.push(b.ratio);
        if let Some(n) = b.noise {
            values.push(b.ratio * (1.0 + n));
            values.push(b.ratio * (1.0 - n));
        }
    }
    let f = Frame {
        left,
        top,
        width,
        height: row_px * rows as f64,
        x: Axis::covering(&values, false, x_label),
        y: Axis {
            min: 0.0,
            max: 1.0,
            log: false,
            label: String::new(),
        },
    };
    let mut svg = Svg::new(WIDTH, height, title);
    for v in f.x.ticks() {
        svg.line(f.px(v), f.top, f.px(v), f.top + f.height, "#dddddd", "");
        svg.text(f.px(v), f.top + f.height + 14.0, "middle", &tick_label(v));
    }
    svg.text(
        left + width / 2.0,
        f.top + f.height + 32.0,
        "middle",
        x_label,
    );
    let kinds = [
        ("faster", "#2ca02c", "faster beyond noise"),
        ("slower", "#d62728", "slower beyond noise"),
        ("within-noise", "#999999", "within noise"),
    ];
    for (i, (_, fill, text)) in kinds.iter().enumerate() {
        svg.legend_entry(20.0 + 170.0 * i as f64, 40.0, fill, text);
    }
    let kind_of = |b: &RatioBar| match b.noise {
        Some(n) if 1.0 - b.ratio > n => 0,
        Some(n) if b.ratio - 1.0 > n => 1,
        _ => 2,
    };
    // Row positions: a group's name, then its bars.
    let mut y_of = Vec::with_capacity(bars.len());
    let mut row = 0usize;
    let mut last: Option<&str> = None;
    for b in bars {
        if last != Some(b.group.as_str()) {
            svg.text(8.0, top + row_px * row as f64 + 13.0, "start", &b.group);
            row += 1;
            last = Some(&b.group);
        }
        y_of.push(top + row_px * row as f64);
        svg.text(
            left - 6.0,
            top + row_px * row as f64 + 13.0,
            "end",
            &b.label,
        );
        row += 1;
    }
    for (k, (name, fill, _)) in kinds.iter().enumerate() {
        svg.open_series(name);
        for (b, &y) in bars.iter().zip(&y_of).filter(|(b, _)| kind_of(b) == k) {
            let (x0, x1) = (f.px(1.0), f.px(b.ratio));
            let noise = b.noise.map_or("noise not known".to_string(), |n| {
                format!("± {:.1}%", 100.0 * n)
            });
            svg.rect(
                x0.min(x1),
                y + 3.0,
                (x1 - x0).abs().max(1.0),
                row_px - 6.0,
                fill,
                &format!(
                    "{} / {}: {:.3}x the baseline ({noise})",
                    b.group, b.label, b.ratio
                ),
            );
            if let Some(n) = b.noise {
                let (lo, hi) = (f.px(b.ratio * (1.0 - n)), f.px(b.ratio * (1.0 + n)));
                let mid = y + row_px / 2.0;
                svg.line(lo, mid, hi, mid, "black", "");
                svg.line(lo, mid - 4.0, lo, mid + 4.0, "black", "");
                svg.line(hi, mid - 4.0, hi, mid + 4.0, "black", "");
            }
        }
        svg.close_group();
    }
    svg.line(
        f.px(1.0),
        f.top,
        f.px(1.0),
        f.top + f.height,
        "black",
        "stroke-dasharray=\"4 3\"",
    );
    svg.finish()
}

#[cfg(test)]
#[path = "charts_tests.rs"]
mod tests;
