//! The report's charts, built on [`super::svg`]: scatter plots (the study's Figure 2), stacked
//! bars of time shares, the roofline-style chart and grouped bars comparing devices.

use super::svg::{Axis, Frame, Svg, color, num};

/// One labelled point.
#[derive(Debug, Clone, PartialEq)]
pub struct Point {
    pub x: f64,
    pub y: f64,
    pub label: String,
}

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

/// A scatter plot with one series per entry, point labels, and `notes` under the title.
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
        Axis::covering(&xs, false, x_label),
        Axis::covering(&ys, false, y_label),
        notes.len() + 1,
    );
    let mut svg = Svg::new(WIDTH, HEIGHT, title);
    for (i, n) in notes.iter().enumerate() {
        svg.text(WIDTH / 2.0, 34.0 + 14.0 * i as f64, "middle", n);
    }
    f.draw(&mut svg);
    for (i, s) in series.iter().enumerate() {
        let fill = color(&s.name, i);
        svg.legend_entry(f.left + 8.0 + 130.0 * i as f64, f.top - 4.0, fill, &s.name);
        svg.open_series(&s.name);
        for p in &s.points {
            let (x, y) = (f.px(p.x), f.py(p.y));
            svg.circle(
                x,
                y,
                4.0,
                fill,
                &format!("{} ({}, {})", p.label, num(p.x), num(p.y)),
            );
            svg.text(x + 6.0, y - 4.0, "start", &p.label);
        }
        svg.close_group();
    }
    svg.finish()
}

/// Horizontal list of stacked bars: each bar is (label, [(category, share)]), shares in [0, 1].
pub fn stacked_bars(title: &str, bars: &[(String, Vec<(String, f64)>)]) -> String {
    let categories = super::metrics::ordered_keys(
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

/// Achieved GMAC/s against MACs per byte (log-log), one series per category, with empirical
/// ceilings: the best GMAC/s seen and the best GB/s seen (a dashed roof).
pub fn roofline(title: &str, series: &[Series]) -> String {
    let pts: Vec<&Point> = series
        .iter()
        .flat_map(|s| s.points.iter())
        .filter(|p| p.x > 0.0 && p.y > 0.0)
        .collect();
    let xs: Vec<f64> = pts.iter().map(|p| p.x).collect();
    let ys: Vec<f64> = pts.iter().map(|p| p.y).collect();
    let f = frame(
        Axis::covering(
            &xs,
            true,
            "arithmetic intensity (MACs per byte of tensor traffic)",
        ),
        Axis::covering(&ys, true, "achieved GMAC/s"),
        2,
    );
    let mut svg = Svg::new(WIDTH, HEIGHT, title);
    f.draw(&mut svg);
    let peak = ys.iter().copied().fold(0.0f64, f64::max);
    let bandwidth = pts.iter().map(|p| p.y / p.x).fold(0.0f64, f64::max);
    if peak > 0.0 && bandwidth > 0.0 {
        let knee = peak / bandwidth;
        svg.body_roof(&f, bandwidth, knee, peak);
        svg.text(
            f.left + f.width - 4.0,
            f.top + 12.0,
            "end",
            &format!("roof: best observed {peak:.2} GMAC/s, {bandwidth:.2} GB/s (MAC units)"),
        );
    }
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

impl Svg {
    fn body_roof(&mut self, f: &Frame, bandwidth: f64, knee: f64, peak: f64) {
        let x0 = f.x.min;
        let (ax, ay) = (f.px(x0), f.py(bandwidth * x0));
        let (kx, ky) = (f.px(knee), f.py(peak));
        let ex = f.px(f.x.max);
        self.open_series("roof");
        self.line(ax, ay, kx, ky, "#888888", r#"stroke-dasharray="6 4""#);
        self.line(kx, ky, ex, ky, "#888888", r#"stroke-dasharray="6 4""#);
        self.close_group();
    }
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
        svg.text(
            f.left - 4.0,
            f.py(v) + 4.0,
            "end",
            &super::svg::tick_label(v),
        );
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
        let fill = super::svg::color("", d);
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
