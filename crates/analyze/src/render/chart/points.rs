//! The point charts: scatter plots (the study's Figure 2; labels placed by [`super::labels`]
//! so that none overlaps another label or a point) and the roofline under the machine's
//! measured roofs.

use super::labels::{self, Placed};
use super::spec::{Point, Roof, Series};
use super::svg::{Axis, Frame, HEIGHT, Svg, WIDTH, color, frame, num};

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

/// [`super::spec::Chart::Scatter`].
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

/// [`super::spec::Chart::Roofline`].
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
                int8: None,
            };
            &empirical
        }
    };
    ys.push(roof.peak_gmacs);
    ys.extend(roof.int8.as_ref().map(|(gmacs, _)| *gmacs));
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

/// The peak as a horizontal line (and the integer peak, dotted, when there is one) and one
/// diagonal per bandwidth (GMAC/s = GB/s x MACs per byte), each clipped to the frame and
/// labelled where it enters it.
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
    if let Some((gmacs, label)) = &roof.int8 {
        let int8_dash = r#"stroke-dasharray="2 3""#;
        svg.line(
            f.px(x0),
            f.py(*gmacs),
            f.px(x1),
            f.py(*gmacs),
            "#555555",
            int8_dash,
        );
        svg.text(f.left + f.width - 4.0, f.py(*gmacs) - 4.0, "end", label);
    }
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
