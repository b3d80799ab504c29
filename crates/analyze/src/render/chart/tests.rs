//! Tests of the charts.

use super::svg::WIDTH;
use super::*;

#[test]
fn a_fleet_scatter_labels_the_outliers_and_counts_the_rest_within_its_width() {
    let points: Vec<Point> = (0..400)
        .map(|i| Point {
            label: format!("model{i}"),
            x: (i % 20) as f64 + 1.0,
            y: (i / 20) as f64 + 1.0,
        })
        .collect();
    let svg = draw(&Chart::Scatter {
        title: "t".into(),
        x_label: "x".into(),
        y_label: "y".into(),
        series: vec![Series {
            name: "all".into(),
            points,
        }],
        notes: Vec::new(),
    });
    let key = format!(
        "{} more points not labelled; each point's tooltip names it",
        400 - labels::MAX_LABELS
    );
    let count = format!("{} more points not labelled;", 400 - labels::MAX_LABELS);
    assert!(svg.contains(&count), "the count of unlabelled points");
    let b = labels::text_box(80.0, 0.0, "start", &key);
    assert!(b.x1 <= WIDTH, "the key fits the chart: ends at {} px", b.x1);
    let drawn = svg.matches("class=\"point-label\"").count();
    assert!(drawn > 0 && drawn <= labels::MAX_LABELS, "{drawn} labels");
}

#[test]
fn ratio_bars_colour_by_noise_and_group_rows() {
    let bar = |group: &str, label: &str, ratio: f64, noise: Option<f64>| RatioBar {
        group: group.into(),
        label: label.into(),
        ratio,
        noise,
    };
    let bars = vec![
        bar("conv_type", "dense", 1.0, Some(0.01)),
        bar("conv_type", "depthwise", 0.5, Some(0.02)),
        bar("activation", "silu", 1.3, Some(0.05)),
        bar("activation", "relu6", 1.01, Some(0.05)),
        bar("activation", "hardswish", 1.2, None),
    ];
    let svg = draw(&Chart::RatioBars {
        title: "t".into(),
        x_label: "latency / baseline".into(),
        bars,
    });
    let series = |name: &str| {
        let start = svg.find(&format!("id=\"series-{name}\"")).unwrap();
        let end = start + svg[start..].find("</g>").unwrap();
        svg[start..end].matches("<rect").count()
    };
    assert_eq!(series("faster"), 1, "depthwise");
    assert_eq!(series("slower"), 1, "silu");
    assert_eq!(
        series("within-noise"),
        3,
        "dense, relu6 and hardswish (noise unknown)"
    );
    // Two group names and five labels.
    assert!(svg.contains(">conv_type</text>") && svg.contains(">activation</text>"));
    assert_eq!(svg.matches("(noise not known)").count(), 1);
}

#[test]
fn a_roofline_draws_the_integer_peak_only_when_given_it() {
    let roof = |int8| Roof {
        peak_gmacs: 40.0,
        peak_label: "peak 40.0 GMAC/s".into(),
        bandwidths: vec![("DRAM".into(), 15.0)],
        int8,
    };
    let series = vec![Series {
        name: "conv".into(),
        points: vec![Point {
            label: "q conv".into(),
            x: 4.0,
            y: 0.3,
        }],
    }];
    let chart = |r| {
        draw(&Chart::Roofline {
            title: "t".into(),
            series: series.clone(),
            roof: Some(r),
        })
    };
    let with = chart(roof(Some((0.5, "int8 peak 0.50 GMAC/s".into()))));
    let without = chart(roof(None));
    assert!(with.contains("int8 peak 0.50 GMAC/s") && with.contains(r#"stroke-dasharray="2 3""#));
    assert!(!without.contains("int8 peak") && !without.contains(r#"stroke-dasharray="2 3""#));
}
