//! The report's charts behind one interface: a [`Chart`] says what one shows (`spec`),
//! [`draw`](fn@draw) makes it an SVG document. Drawing is split by kind (`points`: scatter plots and
//! the roofline; `bars`: stacked, grouped and ratio bars) over a hand-written SVG writer with
//! axes and the charts' frame (`svg`) and a label placer that never lets labels overlap
//! (`labels`).

pub mod bars;
pub mod draw;
pub mod labels;
pub mod points;
pub mod spec;
pub mod svg;

pub use self::draw::draw;
pub use self::spec::{Chart, Point, RatioBar, Roof, Series};

#[cfg(test)]
mod tests;
