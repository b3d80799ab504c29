//! Point labels that never overlap: each label is placed greedily (most crowded points first) at
//! the first free spot around its point (eight directions, then further out with a leader line),
//! avoiding every point and every label already placed, inside the plot. A label that finds no
//! spot gets a number instead (placed the same way) and goes into a key under the chart.
//!
//! At most [`MAX_LABELS`] points are labelled: with more (a fleet's thousands of models) the
//! labels would only cover each other, and placing them costs points x labels. The points
//! labelled then are those farthest from the chart's median point (the outliers a reader
//! asks about); the others keep their name in the point's tooltip, and the layout counts them.
//!
//! Text width is estimated, not measured (SVG leaves fonts to the viewer): [`CHAR_PX`] per
//! character at the charts' 11 px font, generous for common sans-serif faces. CI checks the
//! result in a real browser with real font metrics.

use super::svg::Frame;

/// Estimated advance of one character at 11 px (0.62 em).
pub const CHAR_PX: f64 = 6.8;
/// Height above and below the baseline that a line of 11 px text covers.
const ASCENT_PX: f64 = 10.0;
const DESCENT_PX: f64 = 3.0;
/// Gap kept between boxes.
const PAD_PX: f64 = 1.5;

/// An axis-aligned box in SVG pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rect {
    pub x0: f64,
    pub y0: f64,
    pub x1: f64,
    pub y1: f64,
}

impl Rect {
    pub fn overlaps(&self, o: &Rect) -> bool {
        self.x0 < o.x1 + PAD_PX
            && o.x0 < self.x1 + PAD_PX
            && self.y0 < o.y1 + PAD_PX
            && o.y0 < self.y1 + PAD_PX
    }

    fn inside(&self, bounds: &Rect) -> bool {
        self.x0 >= bounds.x0 && self.x1 <= bounds.x1 && self.y0 >= bounds.y0 && self.y1 <= bounds.y1
    }
}

/// The box a text covers at `(x, y)` (y = baseline) with an SVG `text-anchor`.
pub fn text_box(x: f64, y: f64, anchor: &str, text: &str) -> Rect {
    let w = CHAR_PX * text.chars().count() as f64;
    let x0 = match anchor {
        "end" => x - w,
        "middle" => x - w / 2.0,
        _ => x,
    };
    Rect {
        x0,
        y0: y - ASCENT_PX,
        x1: x0 + w,
        y1: y + DESCENT_PX,
    }
}

/// A label where it will be drawn.
#[derive(Debug, Clone, PartialEq)]
pub struct Placed {
    pub x: f64,
    pub y: f64,
    pub anchor: &'static str,
    pub text: String,
    /// A line from the point to the label, for labels set further out.
    pub leader: Option<(f64, f64, f64, f64)>,
    pub rect: Rect,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Layout {
    /// Parallel to the points: the label, or its number when the label found no place.
    pub placed: Vec<Option<Placed>>,
    /// (number, label) of the labels listed in the key under the chart.
    pub unplaced: Vec<(usize, String)>,
    /// Points with a text left unlabelled, over [`MAX_LABELS`].
    pub unlabelled: usize,
}

/// Most points a chart labels.
pub const MAX_LABELS: usize = 40;

/// The points to label: every one with a text, or, over [`MAX_LABELS`], the ones farthest
/// from the median point.
fn chosen(centers: &[(f64, f64)], texts: &[String]) -> Vec<usize> {
    let mut with_text: Vec<usize> = (0..centers.len())
        .filter(|&i| texts.get(i).is_some_and(|t| !t.is_empty()))
        .collect();
    if with_text.len() <= MAX_LABELS {
        return with_text;
    }
    let median = |axis: fn(&(f64, f64)) -> f64| {
        let mut v: Vec<f64> = with_text.iter().map(|&i| axis(&centers[i])).collect();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (mx, my) = (median(|c| c.0), median(|c| c.1));
    let distance = |i: usize| (centers[i].0 - mx).hypot(centers[i].1 - my);
    with_text.sort_by(|&a, &b| distance(b).total_cmp(&distance(a)).then(a.cmp(&b)));
    with_text.truncate(MAX_LABELS);
    with_text
}

/// Directions tried around a point: (dx, dy) of the anchor point per unit of distance, and the
/// text anchor that keeps the text away from the point.
const DIRECTIONS: [(f64, f64, &str); 8] = [
    (1.0, 0.35, "start"),
    (-1.0, 0.35, "end"),
    (0.0, -1.0, "middle"),
    (0.0, 1.9, "middle"),
    (0.8, -0.8, "start"),
    (0.8, 1.6, "start"),
    (-0.8, -0.8, "end"),
    (-0.8, 1.6, "end"),
];
const DISTANCES: [f64; 4] = [1.0, 2.2, 3.6, 5.0];

/// Places `texts[i]` next to `centers[i]` (points of radius `r`) inside the frame `f`.
pub fn place(centers: &[(f64, f64)], texts: &[String], r: f64, f: &Frame) -> Layout {
    let bounds = Rect {
        x0: f.left + 1.0,
        y0: f.top + 1.0,
        x1: f.left + f.width + 28.0,
        y1: f.top + f.height - 1.0,
    };
    let mut taken: Vec<Rect> = centers
        .iter()
        .map(|&(x, y)| Rect {
            x0: x - r,
            y0: y - r,
            x1: x + r,
            y1: y + r,
        })
        .collect();
    let mut order = chosen(centers, texts);
    let with_text = texts
        .iter()
        .take(centers.len())
        .filter(|t| !t.is_empty())
        .count();
    let crowd: Vec<usize> = order
        .iter()
        .map(|&i| {
            centers
                .iter()
                .filter(|c| (c.0 - centers[i].0).hypot(c.1 - centers[i].1) < 80.0)
                .count()
        })
        .collect();
    let crowd_of: std::collections::HashMap<usize, usize> =
        order.iter().copied().zip(crowd).collect();
    order.sort_by(|&a, &b| {
        crowd_of[&b]
            .cmp(&crowd_of[&a])
            .then(centers[a].0.total_cmp(&centers[b].0))
    });
    let mut layout = Layout {
        placed: vec![None; centers.len()],
        unplaced: Vec::new(),
        unlabelled: with_text - order.len(),
    };
    let mut number = 0;
    for i in order {
        let text = texts[i].clone();
        let found = try_place(centers[i], &text, r, &bounds, &taken).or_else(|| {
            number += 1;
            layout.unplaced.push((number, text.clone()));
            try_place(centers[i], &number.to_string(), r, &bounds, &taken)
        });
        if let Some(p) = found {
            taken.push(p.rect);
            layout.placed[i] = Some(p);
        }
    }
    layout.unplaced.sort();
    layout
}

fn try_place(
    (cx, cy): (f64, f64),
    text: &str,
    r: f64,
    bounds: &Rect,
    taken: &[Rect],
) -> Option<Placed> {
    let step = r + 3.0;
    for (k, d) in DISTANCES.iter().enumerate() {
        for &(dx, dy, anchor) in &DIRECTIONS {
            let (x, y) = (cx + dx * step * d, cy + dy * step * d);
            let rect = text_box(x, y, anchor, text);
            if !rect.inside(bounds) || taken.iter().any(|t| t.overlaps(&rect)) {
                continue;
            }
            let leader = (k > 0).then(|| {
                let (tx, ty) = (cx.clamp(rect.x0, rect.x1), cy.clamp(rect.y0, rect.y1));
                let len = (tx - cx).hypot(ty - cy).max(1e-9);
                (cx + (tx - cx) / len * r, cy + (ty - cy) / len * r, tx, ty)
            });
            return Some(Placed {
                x,
                y,
                anchor,
                text: text.to_string(),
                leader,
                rect,
            });
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::render::chart::svg::Axis;

    #[test]
    fn over_the_limit_the_outliers_are_labelled_and_the_rest_counted() {
        // 400 points in a tight cloud around (400, 250) and two far ones
        let mut centers: Vec<(f64, f64)> = (0..400)
            .map(|i| (400.0 + (i % 20) as f64, 250.0 + (i / 20) as f64))
            .collect();
        centers.push((100.0, 80.0));
        centers.push((650.0, 400.0));
        let texts: Vec<String> = (0..centers.len()).map(|i| format!("m{i}")).collect();
        let layout = place(&centers, &texts, 4.0, &frame());
        assert_eq!(layout.unlabelled, centers.len() - MAX_LABELS);
        // each chosen point carries its label or its number
        let labelled = layout.placed.iter().flatten().count();
        assert!(labelled > 0 && labelled <= MAX_LABELS, "{labelled}");
        for far in [400, 401] {
            let p = layout.placed[far].as_ref().expect("an outlier is labelled");
            assert_eq!(p.text, format!("m{far}"));
        }
    }

    fn frame() -> Frame {
        let axis = |label: &str| Axis {
            min: 0.0,
            max: 1.0,
            log: false,
            label: label.into(),
        };
        Frame {
            left: 80.0,
            top: 50.0,
            width: 610.0,
            height: 370.0,
            x: axis("x"),
            y: axis("y"),
        }
    }

    #[test]
    fn crowded_labels_never_overlap_each_other_or_points() {
        // Four light models almost on one spot, as in Figure 2, plus a spread of others.
        let mut centers = vec![
            (100.0, 400.0),
            (103.0, 401.0),
            (101.0, 397.0),
            (106.0, 399.0),
        ];
        centers.extend((0..6).map(|i| (200.0 + 70.0 * i as f64, 300.0 - 30.0 * i as f64)));
        let texts: Vec<String> = [
            "mobilenet",
            "mobilenetv2",
            "shufflenet",
            "shufflenetv2",
            "vgg16",
            "resnet50",
            "seresnet50",
            "xception",
            "inceptionv3",
            "inceptionv4",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        let layout = place(&centers, &texts, 4.0, &frame());
        let rects: Vec<Rect> = layout.placed.iter().flatten().map(|p| p.rect).collect();
        for (i, a) in rects.iter().enumerate() {
            for b in &rects[i + 1..] {
                assert!(!a.overlaps(b), "{a:?} overlaps {b:?}");
            }
            for &(x, y) in &centers {
                let dot = Rect {
                    x0: x - 4.0,
                    y0: y - 4.0,
                    x1: x + 4.0,
                    y1: y + 4.0,
                };
                assert!(!a.overlaps(&dot), "{a:?} covers the point at ({x}, {y})");
            }
        }
        // Every label is either placed in full or numbered and listed in the key.
        for (i, p) in layout.placed.iter().enumerate() {
            let p = p
                .as_ref()
                .expect("every point gets its label or its number");
            let listed = layout
                .unplaced
                .iter()
                .any(|(n, t)| *t == texts[i] && p.text == n.to_string());
            assert!(p.text == texts[i] || listed, "{p:?}");
        }
    }

    #[test]
    fn a_lonely_point_is_labelled_to_its_right() {
        let layout = place(&[(300.0, 200.0)], &["vgg16".into()], 4.0, &frame());
        let p = layout.placed[0].as_ref().unwrap();
        assert_eq!((p.anchor, p.leader), ("start", None));
        assert!(p.x > 300.0 && layout.unplaced.is_empty());
    }
}
