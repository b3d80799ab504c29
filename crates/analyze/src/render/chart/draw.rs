//! The one way a [`Chart`] becomes SVG.

use super::bars::{grouped_bars, ratio_bars, stacked_bars};
use super::points::{roofline, scatter};
use super::spec::Chart;

/// The SVG document of `chart`.
pub fn draw(chart: &Chart) -> String {
    match chart {
        Chart::Scatter {
            title,
            x_label,
            y_label,
            series,
            notes,
        } => scatter(title, x_label, y_label, series, notes),
        Chart::Roofline {
            title,
            series,
            roof,
        } => roofline(title, series, roof.as_ref()),
        Chart::StackedBars { title, bars } => stacked_bars(title, bars),
        Chart::GroupedBars {
            title,
            y_label,
            series,
            groups,
        } => grouped_bars(title, y_label, series, groups),
        Chart::RatioBars {
            title,
            x_label,
            bars,
        } => ratio_bars(title, x_label, bars),
    }
}
