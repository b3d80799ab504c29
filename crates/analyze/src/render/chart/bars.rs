//! The bar charts: stacked shares, grouped values, and ratios to a baseline with noise
//! whiskers.

use super::spec::RatioBar;
use super::svg::{Axis, Frame, HEIGHT, Svg, WIDTH, color, frame, tick_label};
use crate::compute::metrics::ordered_keys;

/// [`super::spec::Chart::StackedBars`].
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

/// [`super::spec::Chart::GroupedBars`].
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

/// [`super::spec::Chart::RatioBars`]: green where the variant is faster beyond its noise, red where it is slower beyond
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
