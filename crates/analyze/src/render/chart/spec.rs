//! What a chart shows, apart from how it is drawn: a [`Chart`] value (its kind, title, axis
//! labels, series or bars, notes), built by the report's sections and drawn by
//! [`super::draw::draw`].

pub use crate::compute::correlate::Point;

/// One chart of the report.
#[derive(Debug, Clone, PartialEq)]
pub enum Chart {
    /// Points of each series in its own colour, with labels that never overlap (labels that
    /// find no free place are numbered and listed under the plot; over `labels::MAX_LABELS`
    /// points, only the outliers are labelled and the rest counted under it), and `notes`
    /// under the title. Each axis is logarithmic when its values span more than
    /// `points::LOG_SPAN`.
    Scatter {
        title: String,
        x_label: String,
        y_label: String,
        series: Vec<Series>,
        notes: Vec<String>,
    },
    /// Achieved GMAC/s against MACs per byte read (log-log), one series per category, under
    /// the roofs; without them, under the best observed rates (labelled as such).
    Roofline {
        title: String,
        series: Vec<Series>,
        roof: Option<Roof>,
    },
    /// Horizontal stacked bars: each bar is (label, [(category, share)]), shares in [0, 1].
    StackedBars {
        title: String,
        bars: Vec<(String, Vec<(String, f64)>)>,
    },
    /// Vertical bars: per group (a model), one bar per series (a device), values as
    /// `y_label` says.
    GroupedBars {
        title: String,
        y_label: String,
        series: Vec<String>,
        groups: Vec<(String, Vec<Option<f64>>)>,
    },
    /// Horizontal bars from 1.0 (the baseline) to each bar's ratio, grouped, with noise
    /// whiskers, coloured by whether the ratio is beyond its noise.
    RatioBars {
        title: String,
        x_label: String,
        bars: Vec<RatioBar>,
    },
}

/// Points drawn in one colour, as `<g id="series-NAME">`.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    pub name: String,
    pub points: Vec<Point>,
}

/// The machine's measured roofs for the roofline, in GMAC/s and GB/s.
#[derive(Debug, Clone, PartialEq)]
pub struct Roof {
    pub peak_gmacs: f64,
    pub peak_label: String,
    /// (level, read bandwidth in GB/s), one diagonal each.
    pub bandwidths: Vec<(String, f64)>,
    /// The integer matmul peak in GMAC/s and its label: a second horizontal line, for a device
    /// whose ops have MACs on 8-bit operands (their roof, far below the f32 one on some CPUs).
    pub int8: Option<(f64, String)>,
}

/// One bar of [`Chart::RatioBars`]: a variant's latency over its baseline's, with its noise band.
#[derive(Debug, Clone, PartialEq)]
pub struct RatioBar {
    /// Rows of one group are drawn together under its name (a design family).
    pub group: String,
    pub label: String,
    pub ratio: f64,
    /// Relative noise of the ratio: the whisker spans `ratio * (1 ± noise)`.
    pub noise: Option<f64>,
}
