//! Hand-written SVG: a document builder, axes (linear or log) with ticks and labels, and a
//! fixed palette. No plotting dependency, no fonts: text is left to the viewer. Output is
//! deterministic (fixed decimals, no timestamps or random ids) and well-formed XML; every data
//! series is a `<g id="series-NAME" class="series">` so tests and readers can find it.

use crate::compute::metrics::{CATEGORIES, UNATTRIBUTED};
use std::fmt::Write;

/// Escapes text for XML content and attribute values.
pub fn esc(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for ch in text.chars() {
        match ch {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c if (c as u32) < 0x20 && c != '\n' && c != '\t' => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// A coordinate with 2 decimals (deterministic, compact).
pub fn num(v: f64) -> String {
    if v.is_finite() {
        format!("{v:.2}")
    } else {
        "0".into()
    }
}

/// An id-safe name: letters, digits, `-` and `_`.
pub fn id_name(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

const PALETTE: [&str; 12] = [
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f",
    "#bcbd22", "#17becf", "#393b79", "#637939",
];

/// A fixed colour per known category, a palette colour for anything else.
pub fn color(key: &str, index: usize) -> &'static str {
    match CATEGORIES.iter().position(|c| *c == key) {
        Some(i) => PALETTE[i],
        None if key == UNATTRIBUTED => "#444444",
        None => PALETTE[index % PALETTE.len()],
    }
}

pub struct Svg {
    body: String,
}

impl Svg {
    pub fn new(width: f64, height: f64, title: &str) -> Self {
        let mut body = String::new();
        let _ = writeln!(
            body,
            r#"<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{h}" viewBox="0 0 {w} {h}" font-family="sans-serif" font-size="11">"#,
            w = num(width),
            h = num(height)
        );
        let _ = writeln!(body, "<title>{}</title>", esc(title));
        let _ = writeln!(
            body,
            r#"<rect x="0" y="0" width="{}" height="{}" fill="white"/>"#,
            num(width),
            num(height)
        );
        let _ = writeln!(
            body,
            r#"<text x="{}" y="18" text-anchor="middle" font-size="14">{}</text>"#,
            num(width / 2.0),
            esc(title)
        );
        Svg { body }
    }

    pub fn text(&mut self, x: f64, y: f64, anchor: &str, text: &str) {
        let _ = writeln!(
            self.body,
            r#"<text x="{}" y="{}" text-anchor="{anchor}">{}</text>"#,
            num(x),
            num(y),
            esc(text)
        );
    }

    /// Text with a class (e.g. `point-label`), so readers and tests can find it.
    pub fn text_class(&mut self, x: f64, y: f64, anchor: &str, text: &str, class: &str) {
        let _ = writeln!(
            self.body,
            r#"<text x="{}" y="{}" text-anchor="{anchor}" class="{class}">{}</text>"#,
            num(x),
            num(y),
            esc(text)
        );
    }

    pub fn text_rotated(&mut self, x: f64, y: f64, text: &str) {
        let _ = writeln!(
            self.body,
            r#"<text x="{x}" y="{y}" text-anchor="middle" transform="rotate(-90 {x} {y})">{t}</text>"#,
            x = num(x),
            y = num(y),
            t = esc(text)
        );
    }

    pub fn line(&mut self, x1: f64, y1: f64, x2: f64, y2: f64, stroke: &str, extra: &str) {
        let _ = writeln!(
            self.body,
            r#"<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{stroke}" {extra}/>"#,
            num(x1),
            num(y1),
            num(x2),
            num(y2)
        );
    }

    pub fn rect(&mut self, x: f64, y: f64, w: f64, h: f64, fill: &str, tooltip: &str) {
        let _ = writeln!(
            self.body,
            r#"<rect x="{}" y="{}" width="{}" height="{}" fill="{fill}"><title>{}</title></rect>"#,
            num(x),
            num(y),
            num(w.max(0.0)),
            num(h.max(0.0)),
            esc(tooltip)
        );
    }

    pub fn circle(&mut self, x: f64, y: f64, r: f64, fill: &str, tooltip: &str) {
        let _ = writeln!(
            self.body,
            r#"<circle cx="{}" cy="{}" r="{}" fill="{fill}" fill-opacity="0.8"><title>{}</title></circle>"#,
            num(x),
            num(y),
            num(r),
            esc(tooltip)
        );
    }

    pub fn open_series(&mut self, name: &str) {
        let _ = writeln!(
            self.body,
            r#"<g id="series-{}" class="series">"#,
            id_name(name)
        );
    }

    pub fn close_group(&mut self) {
        self.body.push_str("</g>\n");
    }

    /// A legend entry (colour swatch + label) at (x, y).
    pub fn legend_entry(&mut self, x: f64, y: f64, fill: &str, label: &str) {
        let _ = writeln!(
            self.body,
            r#"<rect x="{}" y="{}" width="10" height="10" fill="{fill}"/>"#,
            num(x),
            num(y - 9.0)
        );
        self.text(x + 14.0, y, "start", label);
    }

    pub fn finish(mut self) -> String {
        self.body.push_str("</svg>\n");
        self.body
    }
}

/// One axis: its range, scale and label (with unit).
#[derive(Debug, Clone)]
pub struct Axis {
    pub min: f64,
    pub max: f64,
    pub log: bool,
    pub label: String,
}

impl Axis {
    /// An axis covering `values` (finite ones; positive ones on a log axis), padded a little.
    pub fn covering(values: &[f64], log: bool, label: &str) -> Self {
        let usable: Vec<f64> = values
            .iter()
            .copied()
            .filter(|v| v.is_finite() && (!log || *v > 0.0))
            .collect();
        let (mut min, mut max) = usable
            .iter()
            .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
                (a.min(*v), b.max(*v))
            });
        if !min.is_finite() {
            (min, max) = if log { (1.0, 10.0) } else { (0.0, 1.0) };
        }
        if log {
            min = 10f64.powf(min.log10().floor());
            max = 10f64.powf(max.log10().ceil());
            if max <= min {
                max = min * 10.0;
            }
        } else {
            if min > 0.0 {
                min = 0.0;
            }
            if max <= min {
                max = min + 1.0;
            }
            let step = nice_step((max - min) / 5.0);
            min = (min / step).floor() * step;
            max = (max / step).ceil() * step;
        }
        Axis {
            min,
            max,
            log,
            label: label.into(),
        }
    }

    /// Position of `v` along the axis in [0, 1].
    pub fn frac(&self, v: f64) -> f64 {
        let f = if self.log {
            (v.max(f64::MIN_POSITIVE).log10() - self.min.log10())
                / (self.max.log10() - self.min.log10())
        } else {
            (v - self.min) / (self.max - self.min)
        };
        if f.is_finite() {
            f.clamp(-0.05, 1.05)
        } else {
            0.0
        }
    }

    pub fn ticks(&self) -> Vec<f64> {
        if self.log {
            let (a, b) = (
                self.min.log10().round() as i32,
                self.max.log10().round() as i32,
            );
            return (a..=b).map(|e| 10f64.powi(e)).collect();
        }
        let step = nice_step((self.max - self.min) / 5.0);
        let first = (self.min / step).ceil() as i64;
        let last = (self.max / step).floor() as i64;
        (first..=last.min(first + 20))
            .map(|i| i as f64 * step)
            .collect()
    }
}

/// 1, 2 or 5 times a power of ten, at least `raw`.
fn nice_step(raw: f64) -> f64 {
    if !(raw.is_finite() && raw > 0.0) {
        return 1.0;
    }
    let p = 10f64.powf(raw.log10().floor());
    [1.0, 2.0, 5.0, 10.0]
        .iter()
        .map(|m| m * p)
        .find(|s| *s >= raw * 0.999)
        .unwrap_or(10.0 * p)
}

/// A tick label: compact, with SI-style exponents for large or small numbers.
pub fn tick_label(v: f64) -> String {
    let a = v.abs();
    if a == 0.0 {
        "0".into()
    } else if !(1e-3..1e5).contains(&a) {
        format!("{v:.0e}")
    } else if a >= 10.0 || (v.fract() == 0.0) {
        format!("{v:.0}")
    } else {
        let s = format!("{v:.3}");
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    }
}

/// The plotting rectangle of a chart and its two axes.
pub struct Frame {
    pub left: f64,
    pub top: f64,
    pub width: f64,
    pub height: f64,
    pub x: Axis,
    pub y: Axis,
}

impl Frame {
    pub fn px(&self, v: f64) -> f64 {
        self.left + self.x.frac(v) * self.width
    }

    pub fn py(&self, v: f64) -> f64 {
        self.top + (1.0 - self.y.frac(v)) * self.height
    }

    /// Box, grid, ticks and axis labels.
    pub fn draw(&self, svg: &mut Svg) {
        let (l, t, w, h) = (self.left, self.top, self.width, self.height);
        svg.body.push_str("<g class=\"axes\">\n");
        svg.line(l, t + h, l + w, t + h, "black", "");
        svg.line(l, t, l, t + h, "black", "");
        for v in self.x.ticks() {
            let x = self.px(v);
            svg.line(x, t, x, t + h, "#dddddd", "");
            svg.text(x, t + h + 14.0, "middle", &tick_label(v));
        }
        for v in self.y.ticks() {
            let y = self.py(v);
            svg.line(l, y, l + w, y, "#dddddd", "");
            svg.text(l - 4.0, y + 4.0, "end", &tick_label(v));
        }
        svg.text(l + w / 2.0, t + h + 32.0, "middle", &self.x.label);
        svg.text_rotated(l - 44.0, t + h / 2.0, &self.y.label);
        svg.body.push_str("</g>\n");
    }
}

/// A chart's size in px; bar charts grow in height with their rows.
pub const WIDTH: f64 = 720.0;
pub const HEIGHT: f64 = 480.0;

/// The plotting frame of a chart of [`WIDTH`] x [`HEIGHT`] with `legend_rows` rows of
/// legend above it.
pub fn frame(x: Axis, y: Axis, legend_rows: usize) -> Frame {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_markup() {
        assert_eq!(esc("a<b & \"c\"'"), "a&lt;b &amp; &quot;c&quot;&apos;");
        assert_eq!(id_name("Reduce<Sum>"), "Reduce_Sum_");
    }

    #[test]
    fn axes_have_nice_ticks() {
        let a = Axis::covering(&[0.3, 7.2], false, "x");
        assert_eq!((a.min, a.max), (0.0, 8.0));
        assert_eq!(a.ticks(), vec![0.0, 2.0, 4.0, 6.0, 8.0]);
        let l = Axis::covering(&[0.03, 700.0, -1.0], true, "y");
        assert_eq!((l.min, l.max), (0.01, 1000.0));
        assert_eq!(l.ticks().len(), 6);
        let empty = Axis::covering(&[f64::NAN], false, "z");
        assert_eq!((empty.min, empty.max), (0.0, 1.0));
        assert_eq!(tick_label(2e6), "2e6");
        assert_eq!(tick_label(0.25), "0.25");
    }
}
